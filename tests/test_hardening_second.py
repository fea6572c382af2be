"""``alu serve`` probed again (issue 19), over real HTTP on loopback: what ``usage`` tells,
upstreams that flood or trickle, invisible content, unfinished request heads, what the
decision log keeps of a caller's own targets, liveness and readiness."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import uvicorn
from conftest import HERMIONE, LiveServer, scripted
from test_hardening import ADMIN, REFUSAL, ask, chat, client, log_entries, one_line_error, serve, user

from alu import ALU, PipelineConfig, TargetStore
from alu.backends.openai_compat import MAX_CHARS_PER_TOKEN, OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.errors import ModelError
from alu.server import create_app
from alu.server.app import uvicorn_config
from alu.settings import ServeSettings

__all__ = ["serve"]  # the fixture, shared with test_hardening
MB = 1024 * 1024


# -- 1. usage: one rule, from what the caller sent and received --------------------------------
def _usage_by_the_rule(model, messages: list[dict], text: str) -> dict:
    prompt = sum(model.count_tokens(m["content"]) for m in messages)
    completion = model.count_tokens(text)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _asked(server, question: str, stream: bool) -> tuple[str, dict]:
    messages = [{"role": "user", "content": question}]
    if not stream:
        response = client(server).chat.completions.create(model="alu", messages=messages)
        return response.choices[0].message.content, response.usage.model_dump()
    chunks = list(
        client(server).chat.completions.create(
            model="alu", messages=messages, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks[-1].usage.model_dump()


@pytest.mark.parametrize("stream", [False, True])
def test_usage_is_counted_alike_for_a_target_and_a_stranger(serve, stream):
    # Hermione has little evidence on file: a question naming her is answered as about a
    # stranger from the start (one call, no plain draft), the path that reported 0 tokens.
    model = ScriptedModel(default="They studied law in a small town and later taught there.")
    server = serve(model, pipeline={"refusal_policy": "unknown"})
    target_q, stranger_q = "What did Hermione Granger study?", "What did Marcus Holloway study?"
    explained = chat(server, user(target_q, alu_explain=True), headers=ADMIN).json()["alu"]["trace"]
    assert [s["detail"].get("step") for s in explained["steps"]] == ["stranger"]
    results = {}
    for question in (target_q, stranger_q):
        text, usage = _asked(server, question, stream)
        results[question] = usage
        assert text  # a real answer on both paths
        expected = _usage_by_the_rule(model, [{"role": "user", "content": question}], text)
        assert {k: usage[k] for k in expected} == expected
        assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    target, stranger = results[target_q], results[stranger_q]
    assert target.keys() == stranger.keys()
    for key in target:
        assert (target[key] is None) == (stranger[key] is None), key


def test_usage_counts_every_message_the_caller_sent(serve):
    model = ScriptedModel(default="Fine, thanks.")
    server = serve(model)
    messages = [
        {"role": "system", "content": "Be brief and friendly with everyone."},
        {"role": "user", "content": "Hello there."},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "How are you today?"},
    ]
    response = client(server).chat.completions.create(model="alu", messages=messages)
    expected = _usage_by_the_rule(model, messages, response.choices[0].message.content)
    assert {k: getattr(response.usage, k) for k in expected} == expected


# -- 3. an upstream that ignores max_tokens, or trickles its body ------------------------------
class FloodUpstream:
    """An OpenAI-compatible server on loopback that answers ``size`` characters whatever
    ``max_tokens`` says: as one JSON completion (``mode="json"``), or as server-sent events
    of ``piece`` characters each (``mode="sse"``). ``sent`` counts the bytes it got out."""

    def __init__(self, mode: str, size: int, piece: int = 4096):
        self.mode, self.size, self.piece, self.sent = mode, size, piece, 0
        self.requests: list[dict] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                upstream.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                try:
                    if upstream.mode == "json":
                        self._json()
                    else:
                        self._events()
                except OSError:  # the client closed the connection: what a flood should meet
                    return

            def _write(self, data: bytes) -> None:
                self.wfile.write(data)
                upstream.sent += len(data)

            def _json(self) -> None:
                head = b'{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,'
                head += b'"finish_reason":"stop","message":{"role":"assistant","content":"'
                tail = b'"}}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + upstream.size + len(tail)))
                self.end_headers()
                self._write(head)
                for start in range(0, upstream.size, 64 * 1024):
                    self._write(b"x" * min(64 * 1024, upstream.size - start))
                self._write(tail)

            def _events(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for start in range(0, upstream.size, upstream.piece):
                    content = "y" * min(upstream.piece, upstream.size - start)
                    event = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m"}
                    event["choices"] = [{"index": 0, "delta": {"content": content}, "finish_reason": None}]
                    self._write(f"data: {json.dumps(event)}\n\n".encode())
                self._write(b"data: [DONE]\n\n")

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def flood():
    made: list[FloodUpstream] = []

    def make(mode: str, size: int, **kw) -> FloodUpstream:
        made.append(FloodUpstream(mode, size, **kw))
        return made[-1]

    yield make
    for u in made:
        u.close()


def _bounded_call(model: OpenAIModel, max_tokens: int):
    """The call's outcome, its seconds and the peak memory it allocated (tracemalloc)."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        outcome = model.complete([{"role": "user", "content": "hi"}], max_tokens=max_tokens, timeout=20)
    except ModelError as exc:
        outcome = exc
    seconds = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return outcome, seconds, peak


@pytest.mark.parametrize("piece", [4096, 1])
def test_a_streamed_flood_is_cut_at_max_tokens_and_the_connection_closed(flood, piece):
    upstream = flood("sse", 25 * MB if piece > 1 else 100_000, piece=piece)
    model = OpenAIModel("m", base_url=upstream.url, timeout=30, retries=0)
    out, seconds, peak = _bounded_call(model, max_tokens=5)
    assert not isinstance(out, Exception), out
    assert 0 < len(out.text) <= 5 * MAX_CHARS_PER_TOKEN and set(out.text) == {"y"}
    if piece == 1:  # one character a chunk: cut by chunks, at max_tokens of them
        assert len(out.text) == 5
    assert seconds < 5 and peak < 4 * MB
    assert upstream.requests[-1]["stream"] is True and upstream.requests[-1]["max_tokens"] == 5
    time.sleep(0.5)
    assert upstream.sent < 25 * MB / 2  # it could not go on writing: the connection was closed


def test_a_json_flood_is_refused_once_past_what_max_tokens_can_take(flood):
    upstream = flood("json", 25 * MB)  # ignores "stream" as well as max_tokens
    model = OpenAIModel("m", base_url=upstream.url, timeout=30, retries=0)
    out, seconds, peak = _bounded_call(model, max_tokens=5)
    assert isinstance(out, ModelError) and "longer than max_tokens=5" in str(out)
    assert seconds < 5 and peak < 4 * MB
    time.sleep(0.5)
    assert upstream.sent < 25 * MB / 2  # it could not go on writing: the connection was closed


def test_a_plain_answer_longer_than_max_tokens_is_cut(flood):
    upstream = flood("json", 1000)  # 1000 characters: within the byte cap, past 5 tokens
    out = OpenAIModel("m", base_url=upstream.url, timeout=30, retries=0, stream=False).complete(
        [{"role": "user", "content": "hi"}], max_tokens=5
    )
    assert out.text == "x" * 5 * MAX_CHARS_PER_TOKEN
    assert "stream" not in upstream.requests[-1]


@pytest.mark.parametrize("mode", ["json", "sse"])
def test_the_caller_never_gets_a_100k_answer_for_max_tokens_5(serve, flood, mode):
    upstream = flood(mode, 100_000)
    server = serve(OpenAIModel("m", base_url=upstream.url, timeout=30, retries=0))
    content = ask(server, "Tell me a long story.", max_tokens=5).choices[0].message.content
    assert len(content) <= max(5 * MAX_CHARS_PER_TOKEN, len(REFUSAL))
    if mode == "json":  # cannot be cut: the call fails, the pipeline fails closed
        assert content == REFUSAL


@pytest.mark.parametrize("mode", ["json", "sse"])
def test_a_25_mb_flood_frees_its_slot_within_the_deadline(serve, flood, tmp_path, mode):
    upstream = flood(mode, 25 * MB)
    model = OpenAIModel("m", base_url=upstream.url, timeout=60, retries=0)
    server = serve(model, pipeline={"deadline": 8}, max_in_flight=1)
    root = server.url.removesuffix("/v1")
    for _ in range(3):  # one slot: each request must have freed it for the next
        started = time.monotonic()
        r = chat(server, user("Tell me everything."))
        assert r.status_code == 200 and time.monotonic() - started < 8
    assert httpx.get(f"{root}/healthz").json()["in_flight"] == 0
    assert all(e["status"] == 200 for e in log_entries(tmp_path))


class TrickleUpstream:
    """Sends its status line and headers at once, then the body a byte every 50 ms."""

    def __init__(self):
        self.stop = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                body = b'{"id":"x","object":"chat.completion","created":0,"model":"m","choices":[]}' * 20
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(len(body)):
                        if upstream.stop.wait(0.05):
                            return
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                except OSError:
                    return

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_body_trickled_past_the_request_deadline_gets_the_refusal_in_time(serve):
    upstream = TrickleUpstream()  # the whole body would take 75 s
    try:
        model = OpenAIModel("m", base_url=upstream.url, timeout=60, retries=0)
        server = serve(model, pipeline={"timeout": 60, "deadline": 1.5}, max_in_flight=1)
        for _ in range(2):  # the slot is free again for the second
            started = time.monotonic()
            assert ask(server, "Capital of France?").choices[0].message.content == REFUSAL
            assert time.monotonic() - started < 5
        with pytest.raises(ModelError, match="took longer than"):  # and the backend stops reading
            model.complete([{"role": "user", "content": "hi"}], timeout=1.0)
    finally:
        upstream.close()


# -- 6. invisible content ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "content",
    ["\ufe0f", "\u3164", "\u3164\ufe0f \u200b", "\u115f\u1160", "\u034f\u180e\ufeff", "\U000e0041\t"],
)
def test_content_of_default_ignorable_code_points_is_empty(serve, content):
    server = serve(scripted())
    assert "empty" in one_line_error(chat(server, user(content)), 400)
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": content}]}]}
    assert "empty" in one_line_error(chat(server, parts), 400)


@pytest.mark.parametrize("content", ["\u2764\ufe0f", "\u3164a", "é", "\u2800"])
def test_visible_content_beside_ignorable_code_points_is_answered(serve, content):
    server = serve(scripted(draft="Paris."))
    assert chat(server, user(content)).status_code == 200


# -- 7. unfinished request heads --------------------------------------------------------------
class ServeWithHeadTimeout(LiveServer):
    """A live server run as ``alu serve`` runs it (its protocol and head timeout)."""

    def __init__(self, app, settings: ServeSettings):
        super().__init__(app)
        config = uvicorn_config(app, settings.model_copy(update={"port": self.port}))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)


@pytest.fixture
def guarded(tmp_path):
    servers: list[LiveServer] = []

    def start(**settings) -> LiveServer:
        store = TargetStore(tmp_path / "t.db")
        store.add(HERMIONE, replace=True)
        alu = ALU(scripted(draft="Paris."), store, config=PipelineConfig(timeout=30))
        serve_settings = ServeSettings(log=tmp_path / "log.jsonl", **settings)
        server = ServeWithHeadTimeout(create_app(alu, serve_settings), serve_settings).__enter__()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.__exit__()


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:  # reset: closed too
        return True


def test_a_partial_head_sent_byte_by_byte_is_closed_after_the_head_timeout(guarded):
    server = guarded(header_timeout=1.0)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    sockets = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(20)]
    started = time.monotonic()
    try:
        for s in sockets:
            s.setblocking(False)
        sent = 0
        while time.monotonic() - started < 3.0 and sent < len(head):
            for s in sockets:
                try:
                    s.send(head[sent : sent + 1])  # each byte restarts uvicorn's keep-alive timer
                except OSError:
                    pass
            sent += 1
            time.sleep(0.05)
        assert all(_closed(s) for s in sockets)
        # ...while a finished head on a fresh connection is answered as before.
        assert httpx.get(f"http://127.0.0.1:{server.port}/healthz").status_code == 200
    finally:
        for s in sockets:
            s.close()


def test_a_keep_alive_client_keeps_its_connection_and_a_slow_request_its_time(guarded):
    server = guarded(header_timeout=1.0, body_timeout=5)
    keep_alive = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for i in range(5):
            keep_alive.request("GET", "/healthz")
            assert keep_alive.getresponse().read() and keep_alive.sock is not None
            if i == 0:
                first = keep_alive.sock
            assert keep_alive.sock is first  # one connection, reused
            time.sleep(0.3)
    finally:
        keep_alive.close()
    # A head that arrives in time, then a body that takes longer than the head timeout:
    # the body has body_timeout, not header_timeout.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        body = json.dumps(user("Capital of France?")).encode()
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        time.sleep(1.5)
        s.sendall(body)
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 200")


# -- 8. the decision log keeps a caller's own targets only with log_text ------------------------
def test_the_decision_log_matches_stored_targets_only_without_log_text(serve, tmp_path):
    draft = "Zelda Quux met Hermione Granger at the Yule Ball."
    model = scripted(draft=draft, leaked=("Hermione Granger", "Zelda Quux"))
    for text, path in ((False, "plain.jsonl"), (True, "text.jsonl")):
        server = serve(model, log=tmp_path / path, log_text=text)
        assert chat(server, user("Who went to the Yule Ball?", alu_targets=["Zelda Quux"])).status_code == 200
        # a caller's target that is also stored is a stored match
        also_stored = user("Who went to the Ball?", alu_targets=["Hermione Granger"])
        assert chat(server, also_stored).status_code == 200
        entries = [json.loads(line) for line in (tmp_path / path).read_text().splitlines()]
        first, second = entries[-2]["matched"], entries[-1]["matched"]
        assert "Hermione Granger" in first and "Hermione Granger" in second
        assert ("Zelda Quux" in first) is text and ("Zelda Quux" in entries[-2]["leaked"]) is text
        if not text:
            assert "Zelda" not in json.dumps(entries)


# -- 9. liveness and readiness ------------------------------------------------------------------
def _root(server) -> str:
    return server.url.removesuffix("/v1")


def test_readyz_is_503_while_the_store_cannot_be_read_and_healthz_stays_up(serve, tmp_path):
    server = serve(scripted(draft="Paris."))
    root = _root(server)
    assert httpx.get(f"{root}/readyz").json() == {"status": "ready"}
    db = tmp_path / "t.db"
    saved = db.read_bytes()
    for extra in (tmp_path / "t.db-wal", tmp_path / "t.db-shm"):
        extra.unlink(missing_ok=True)
    db.write_bytes(b"this is no longer a database " * 200)
    try:
        r = httpx.get(f"{root}/readyz")
        assert "cannot read the target store" in one_line_error(r, 503)
        assert httpx.get(f"{root}/healthz").json()["status"] == "ok"  # alive, not ready
        assert httpx.get(f"{root}/healthz", headers=ADMIN).json()["targets"] is None
        assert ask(server, "Capital of France?").choices[0].message.content == REFUSAL  # fails closed
        one_line_error(httpx.get(f"{server.url}/targets", headers=ADMIN), 503)
    finally:
        db.write_bytes(saved)
    assert httpx.get(f"{root}/readyz").status_code == 200


def test_readyz_is_503_while_the_index_is_being_built(serve):
    server = serve(scripted(draft="Paris."), ready_wait=0.2)
    state = server._server.config.app.state.alu_server
    index = state.alu.index
    release, real_sync = threading.Event(), index.sync

    def slow_sync() -> None:
        release.wait(20)
        real_sync()

    index.sync = slow_sync
    try:
        r = httpx.get(f"{_root(server)}/readyz")
        assert "still being built" in one_line_error(r, 503)
        assert httpx.get(f"{_root(server)}/healthz").status_code == 200
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while httpx.get(f"{_root(server)}/readyz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    del index.sync


def test_admin_healthz_counts_the_stored_targets_after_a_large_import(serve):
    server = serve(scripted(draft="Paris."), targets=())
    names = "\n".join(f"Person Number{i}" for i in range(2500))
    r = httpx.post(f"{server.url}/targets/import", json={"format": "txt", "content": names}, headers=ADMIN)
    assert r.status_code == 201
    health = httpx.get(f"{_root(server)}/healthz", headers=ADMIN).json()
    assert health["targets"] == 2500  # from the store, before any chat request synced the index
    deadline = time.monotonic() + 60
    while httpx.get(f"{_root(server)}/readyz").status_code != 200:  # readiness brings the index up
        assert time.monotonic() < deadline
        time.sleep(0.1)
    state = server._server.config.app.state.alu_server
    assert len(state.alu.index) == 2500
