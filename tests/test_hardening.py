"""``alu serve`` probed as an attacker and a careless operator would (issue 8), over real
HTTP: the ``openai`` client, httpx and raw sockets against a live server on loopback."""

from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import httpx
import openai
import pytest
from conftest import HERMIONE, LiveServer, scripted

from alu import ALU, PipelineConfig, Target, TargetStore
from alu.backends.openai_compat import OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.errors import ModelError
from alu.models import Sampling
from alu.server import create_app
from alu.settings import ServeSettings

TOKEN = "s3cret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
LEAKY = "Hermione Granger went to the Yule Ball with Viktor Krum."
REFUSAL = "I'm sorry, but I can't help with that."


@pytest.fixture
def serve(tmp_path):
    """Start a live server: ``serve(model, targets=..., pipeline={...}, **serve_settings)``."""
    servers = []

    def start(model, targets=(HERMIONE,), pipeline=None, **settings):
        store = TargetStore(tmp_path / "t.db")
        for t in targets:
            store.add(t, replace=True)
        config = {"timeout": 30, "refusal_policy": "refuse", **(pipeline or {})}
        alu = ALU(model, store, config=PipelineConfig(**config))
        admin_token = settings.pop("admin_token", TOKEN)
        settings.setdefault("log", tmp_path / "log.jsonl")
        server = LiveServer(create_app(alu, ServeSettings(**settings), admin_token=admin_token)).__enter__()
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.__exit__()


def client(server, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0, timeout=timeout)


def ask(server, text, **kw):
    return client(server).chat.completions.create(
        model="alu", messages=[{"role": "user", "content": text}], **kw
    )


def chat(server, body: dict | bytes, headers: dict | None = None) -> httpx.Response:
    if isinstance(body, bytes):
        headers = {"content-type": "application/json", **(headers or {})}
        return httpx.post(f"{server.url}/chat/completions", content=body, headers=headers, timeout=30)
    return httpx.post(f"{server.url}/chat/completions", json=body, headers=headers, timeout=30)


def one_line_error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    message = r.json()["error"]["message"]
    assert "\n" not in message and r.json()["error"]["code"] == status
    return message


def log_entries(tmp_path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]


def user(text: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": text}], **extra}


# -- 1. no caller can weaken the guard ------------------------------------------------------
def test_the_mode_is_the_servers_unless_the_admin_asks(serve):
    # The paper's auditor misses the leak; paper mode would then return the draft verbatim.
    server = serve(scripted(draft=LEAKY, leaked=()))
    r = chat(server, user("Yule Ball?", alu_mode="paper"))
    assert "alu_mode needs the admin token" in one_line_error(r, 401)
    r = chat(server, user("Yule Ball?", alu_mode="paper"), headers=ADMIN)
    assert r.status_code == 200 and "Hermione" not in r.json()["choices"][0]["message"]["content"]


# -- 3. names that can never match, names that must be deletable ----------------------------
@pytest.mark.parametrize("name", ["!!!", "@#$%", "Ba\x00sil Mahfouz", "\x1b[31mRed"])
def test_targets_that_cannot_be_matched_or_hold_control_characters_are_refused(serve, name):
    server = serve(scripted(), targets=())
    r = httpx.post(f"{server.url}/targets", json={"name": name}, headers=ADMIN)
    message = one_line_error(r, 400)
    assert "no letter or digit" in message or "control character" in message
    assert httpx.get(f"{server.url}/targets", headers=ADMIN).json()["data"] == []


@pytest.mark.parametrize("name", ["AC/DC Band", "100% Pure Orange", "Zoë Ñandú", "a/b/../c", "What? #1 Fan"])
def test_any_name_accepted_can_be_deleted_by_the_same_name(serve, name):
    server = serve(scripted(), targets=())
    for how in ("path", "query"):
        assert httpx.post(f"{server.url}/targets", json={"name": name}, headers=ADMIN).status_code == 201
        if how == "path":
            r = httpx.delete(f"{server.url}/targets/{quote(name, safe='')}", headers=ADMIN)
        else:
            r = httpx.delete(f"{server.url}/targets", params={"name": name}, headers=ADMIN)
        assert r.status_code == 200 and r.json() == {"removed": name}
        assert httpx.get(f"{server.url}/targets", headers=ADMIN).json()["data"] == []
    r = httpx.delete(f"{server.url}/targets/{quote(name, safe='')}", headers=ADMIN)
    one_line_error(r, 404)


# -- 4. 4xx where a 500 was, and every request recorded ---------------------------------------
def test_non_ascii_authorization_is_a_401(serve):
    server = serve(scripted())
    bad = {"Authorization": "Bearer sécret".encode()}
    one_line_error(httpx.get(f"{server.url}/targets", headers=bad), 401)
    one_line_error(chat(server, user("hi", alu_explain=True), headers=bad), 401)
    latin1 = {"Authorization": b"Bearer \xff\xfe"}
    one_line_error(httpx.get(f"{server.url}/targets", headers=latin1), 401)


@pytest.mark.parametrize("stream", [False, True])
def test_a_lone_surrogate_is_a_400_before_any_byte_is_streamed(serve, tmp_path, stream):
    server = serve(scripted(draft="Paris."))
    body = b'{"messages": [{"role": "user", "content": "hello \\ud800 world"}], "stream": %s}' % (
        b"true" if stream else b"false"
    )
    r = chat(server, body)
    assert "surrogate" in one_line_error(r, 400)
    assert r.headers["content-type"].startswith("application/json")
    assert log_entries(tmp_path)[-1]["status"] == 400
    # A well-formed pair (an emoji written as two escapes) is fine.
    ok = chat(server, b'{"messages": [{"role": "user", "content": "hi \\ud83d\\ude00"}]}')
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
        (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"name": ', "not JSON"),
    ],
)
def test_admin_bodies_that_are_not_json_are_a_400(serve, body, message):
    server = serve(scripted(), targets=())
    for path in ("/targets", "/targets/import"):
        r = httpx.post(f"{server.url}{path}", content=body, headers=ADMIN)
        assert message in one_line_error(r, 400)
    r = chat(server, body)
    assert message in one_line_error(r, 400)


def test_every_request_good_or_bad_is_logged_and_counted_under_its_status(serve, tmp_path):
    server = serve(ScriptedModel(default="ok"), max_body_bytes=2048)
    assert chat(server, user("hello")).status_code == 200
    one_line_error(chat(server, {"messages": []}), 400)
    one_line_error(chat(server, user("hi", alu_explain=True)), 401)
    one_line_error(httpx.get(f"{server.url}/nowhere"), 404)
    one_line_error(chat(server, user("x" * 4000)), 413)
    one_line_error(httpx.get(f"{server.url}/targets"), 401)
    statuses = [(e["endpoint"], e["status"]) for e in log_entries(tmp_path)]
    assert statuses == [
        ("/v1/chat/completions", 200),
        ("/v1/chat/completions", 400),
        ("/v1/chat/completions", 401),
        ("other", 404),
        ("/v1/chat/completions", 413),
        ("/v1/targets", 401),
    ]
    assert all(e["request_id"] for e in log_entries(tmp_path))
    metrics = httpx.get(server.url.removesuffix("/v1") + "/metrics", headers=ADMIN).text
    for status in (200, 400, 401, 413):
        assert f'alu_requests_total{{status="{status}"}} 1.0' in metrics
    assert 'alu_http_requests_total{endpoint="other",status="404"} 1.0' in metrics


def test_429_is_logged_and_counted(serve, tmp_path):
    release = threading.Event()
    model = ScriptedModel(default=lambda _: release.wait(20) and "ok")
    server = serve(model, max_in_flight=1)
    first = threading.Thread(target=lambda: chat(server, user("first")))
    first.start()
    try:
        for _ in range(200):  # until the first request holds the only slot
            if httpx.get(server.url.removesuffix("/v1") + "/healthz").json()["in_flight"]:
                break
            threading.Event().wait(0.02)
        one_line_error(chat(server, user("second")), 429)
    finally:
        release.set()
        first.join(30)
    assert sorted(e["status"] for e in log_entries(tmp_path)) == [200, 429]


# -- 5. a deadline, whatever the backend does -------------------------------------------------
class FakeUpstream:
    """A real OpenAI-compatible HTTP server on loopback. ``trickle``: the answer comes one
    byte every 50 ms (each read is quick, so a per-read timeout never fires). Otherwise it
    answers ``reply`` at once. Every request body is kept in ``requests``."""

    def __init__(self, reply: str = "Paris.", trickle: bool = False):
        self.reply, self.trickle, self.requests = reply, trickle, []
        self.stop = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append(body)
                data = json.dumps(
                    {
                        "id": "x",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": upstream.reply},
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for i in range(len(data)):
                        if upstream.trickle and upstream.stop.wait(0.05):
                            return
                        self.wfile.write(data[i : i + 1] if upstream.trickle else data[i:])
                        self.wfile.flush()
                        if not upstream.trickle:
                            return
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


@pytest.fixture
def upstream():
    made = []

    def make(**kw) -> FakeUpstream:
        made.append(FakeUpstream(**kw))
        return made[-1]

    yield make
    for u in made:
        u.close()


def test_the_openai_backend_gives_up_on_a_trickling_answer_at_its_timeout(upstream):
    slow = upstream(trickle=True)  # a byte every 50 ms: no single read ever times out
    model = OpenAIModel("slow", base_url=slow.url, timeout=60, retries=0)
    with pytest.raises(ModelError, match=r"took longer than 0\.5 s"):
        model.complete([{"role": "user", "content": "hi"}], timeout=0.5)


def test_a_trickling_upstream_gets_the_refusal_within_the_agent_deadline(serve, upstream, tmp_path):
    slow = upstream(trickle=True)  # its 300-byte answer would take 15 s
    model = OpenAIModel("slow", base_url=slow.url, timeout=60, retries=0)
    server = serve(model, pipeline={"timeout": 1.0, "deadline": 60})
    response = client(server, timeout=10).chat.completions.create(
        model="alu", messages=[{"role": "user", "content": "Capital of France?"}]
    )
    assert response.choices[0].message.content == REFUSAL
    entry = log_entries(tmp_path)[-1]
    assert entry["verdict"] == "failed_closed" and entry["error"] == "vanilla: timed out"


def test_a_trickling_upstream_gets_the_refusal_within_the_request_deadline(serve, upstream):
    slow = upstream(trickle=True)
    model = OpenAIModel("slow", base_url=slow.url, timeout=60, retries=0)
    server = serve(model, pipeline={"timeout": 60, "deadline": 1.0})
    response = client(server, timeout=10).chat.completions.create(
        model="alu", messages=[{"role": "user", "content": "Capital of France?"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in response if c.choices) == REFUSAL


# -- 6. caps and paging ----------------------------------------------------------------------
def test_request_targets_are_capped_in_count_and_bytes(serve):
    server = serve(scripted(), max_request_targets=3, max_request_target_bytes=200)
    assert chat(server, user("hi", alu_targets=["A b", "C d", "E f"])).status_code == 200
    assert "at most 3 targets" in one_line_error(
        chat(server, user("hi", alu_targets=["A", "B", "C", "D"])), 400
    )
    big = [{"name": "Someone", "description": "x" * 300}]
    assert "bytes" in one_line_error(chat(server, user("hi", alu_targets=big)), 400)


def test_bodies_are_capped_and_the_admin_gets_a_larger_cap(serve):
    server = serve(scripted(), targets=(), max_body_bytes=2048, max_admin_body_bytes=1 << 20)

    def chunked():
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}]}'

    one_line_error(chat(server, user("x" * 5000)), 413)
    r = httpx.post(
        f"{server.url}/chat/completions", content=chunked(), headers={"content-type": "application/json"}
    )
    one_line_error(r, 413)
    names = "\n".join(f"Person Number{i}" for i in range(300))
    r = httpx.post(f"{server.url}/targets/import", json={"format": "txt", "content": names}, headers=ADMIN)
    assert r.status_code == 201 and r.json() == {"imported": 300}
    r = httpx.post(
        f"{server.url}/targets/import",
        json={"format": "txt", "content": names},
        headers={"Authorization": "Bearer wrong"},
    )
    one_line_error(r, 413)  # the small cap: the body is not read for a non-admin


def test_a_body_that_arrives_too_slowly_gets_a_408(serve, tmp_path):
    server = serve(scripted(), body_timeout=0.5)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"messages'
        )
        reply = b""
        while not reply.endswith(b"}}"):  # the whole response: headers, then the JSON error
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408") and b'"code":408' in reply
    assert log_entries(tmp_path)[-1]["status"] == 408


def test_the_target_list_comes_a_page_at_a_time(serve):
    server = serve(scripted(), targets=[Target(name=f"Person Number{i}") for i in range(250)], page_size=100)
    names, after, pages = [], 0, 0
    while True:
        page = httpx.get(f"{server.url}/targets", params={"after": after}, headers=ADMIN).json()
        names += [t["name"] for t in page["data"]]
        pages += 1
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert pages == 3 and names == [f"Person Number{i}" for i in range(250)]
    small = httpx.get(f"{server.url}/targets", params={"limit": 7}, headers=ADMIN).json()
    assert len(small["data"]) == 7 and small["has_more"]
    one_line_error(httpx.get(f"{server.url}/targets", params={"limit": 5000}, headers=ADMIN), 400)
    one_line_error(httpx.get(f"{server.url}/targets", params={"limit": "many"}, headers=ADMIN), 400)
    one_line_error(
        httpx.get(f"{server.url}/targets", params={"after": 2**70}, headers=ADMIN), 400
    )  # found by fuzzing


# -- 7. OpenAI parameters honoured or rejected --------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"n": 3}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 10**9}, "max_tokens"),
        ({"max_tokens": "5"}, "max_tokens"),
        ({"temperature": -1}, "temperature"),
        ({"temperature": 99}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": 7}, "stop"),
        ({"stream": "yes"}, "stream"),
        ({"model": "m" * 300}, "model"),
        ({"stream_options": {"include_usage": "yes"}}, "stream_options"),
    ],
)
def test_bad_sampling_parameters_and_types_are_a_400(serve, extra, field):
    server = serve(scripted(draft="Paris."))
    message = one_line_error(chat(server, user("Capital of France?", **extra)), 400)
    assert field in message


@pytest.mark.parametrize("content", ["\u200b", "\x00", "\u200b\u200d\ufeff ", "\x00\x01\x7f"])
def test_content_of_only_invisible_characters_is_empty(serve, content):
    server = serve(scripted())
    assert "empty" in one_line_error(chat(server, user(content)), 400)


def test_sampling_parameters_reach_the_answer_call_only(serve, upstream):
    fake = upstream(reply="Paris. END and more")
    server = serve(OpenAIModel("m", base_url=fake.url, timeout=10, retries=0), pipeline={"answer_tokens": 64})
    response = ask(server, "Capital of France?", max_tokens=5, temperature=0.7, stop=["END"])
    assert response.choices[0].message.content == "Paris. "
    sent = fake.requests[-1]
    assert sent["max_tokens"] == 5 and sent["temperature"] == 0.7 and sent["stop"] == ["END"]
    ask(server, "Capital of France?", max_tokens=5000)
    assert fake.requests[-1]["max_tokens"] == 64  # capped at the operator's answer length


def test_internal_agents_stay_greedy(make_alu):
    seen: dict[str, dict] = {}

    class Recording(ScriptedModel):
        def complete(self, messages, **kw):
            seen[kw["agent"]] = kw
            return super().complete(messages, **kw)

    base = scripted(draft=LEAKY)
    model = Recording(base.rules, default=LEAKY)
    answer = make_alu(model).ask(
        "Yule Ball?", sampling=Sampling(max_tokens=40, temperature=1.3, stop=("ZZ",))
    )
    assert answer.trace.verdict == "rewritten"
    assert seen["vanilla"]["temperature"] == 1.3 and seen["vanilla"]["stop"] == ["ZZ"]
    assert seen["vanilla"]["max_tokens"] == 40
    for agent in ("audit_erase:audit", "audit_erase:erase", "critic", "composer"):
        assert seen[agent]["temperature"] == 0.0 and seen[agent]["stop"] is None


# -- 9. what a non-admin can learn ------------------------------------------------------------
def test_usage_does_not_tell_whether_targets_were_involved(serve):
    final = "A clean composed answer."
    model = scripted(final=final)
    model.default = lambda m: LEAKY if "Yule" in m[-1]["content"] else "X" * len(final)
    server = serve(model)
    about_target = ask(server, "Yule Ball, who went?")
    unrelated = ask(server, "Rome Opera, who won?")
    assert about_target.choices[0].message.content == final  # rewritten: five LLM calls
    assert len(unrelated.choices[0].message.content) == len(final)  # passed: one call
    assert about_target.usage.model_dump() == unrelated.usage.model_dump()
    r = chat(server, user("Yule Ball, who went?", alu_explain=True), headers=ADMIN)
    assert r.json()["usage"]["total_tokens"] > about_target.usage.total_tokens
    assert r.json()["alu"]["trace"]["llm_calls"] == 5


def test_upstream_error_text_is_logged_only_with_log_text(serve, tmp_path):
    model = ScriptedModel(default=ModelError("upstream: cannot discuss Hermione Granger"))
    server = serve(model)
    assert ask(server, "Yule Ball?").choices[0].message.content == REFUSAL
    entry = log_entries(tmp_path)[-1]
    assert entry["error"] == "vanilla: failed" and "Hermione" not in json.dumps(entry)
    texty = serve(model, log_text=True, log=tmp_path / "text.jsonl")
    ask(texty, "Yule Ball?")
    entry = json.loads((tmp_path / "text.jsonl").read_text().splitlines()[-1])
    assert "Hermione Granger" in entry["error"] and entry["query"] == "Yule Ball?"


def test_the_decision_log_is_private_and_rotates_by_size(serve, tmp_path):
    server = serve(ScriptedModel(default="ok"), log_max_bytes=1024, log_backups=2)
    for i in range(20):
        ask(server, f"question {i}")
    log = tmp_path / "log.jsonl"
    files = [log, log.with_name("log.jsonl.1"), log.with_name("log.jsonl.2")]
    assert all(f.exists() for f in files) and not log.with_name("log.jsonl.3").exists()
    assert all(os.stat(f).st_mode & 0o777 == 0o600 for f in files)
    assert all(f.stat().st_size <= 1024 + 400 for f in files)


def test_docs_and_metrics_are_off_unless_asked_for(serve):
    root = lambda s: s.url.removesuffix("/v1")  # noqa: E731
    server = serve(scripted())
    for path in ("/docs", "/redoc", "/openapi.json"):
        one_line_error(httpx.get(root(server) + path), 404)
    one_line_error(httpx.get(root(server) + "/metrics"), 401)
    assert httpx.get(root(server) + "/metrics", headers=ADMIN).status_code == 200
    no_admin = serve(scripted(), admin_token=None)
    one_line_error(httpx.get(root(no_admin) + "/metrics"), 404)
    public = serve(scripted(), docs=True, metrics_public=True)
    assert httpx.get(root(public) + "/openapi.json").json()["paths"]
    assert httpx.get(root(public) + "/metrics").status_code == 200
