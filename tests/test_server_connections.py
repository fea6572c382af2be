"""Connection handling of ``alu serve``: concurrent requests kept apart, a body or a request
head that arrives too slowly cut off (408, closed) while keep-alive clients and slow but
finished heads keep their time."""

from __future__ import annotations

import http.client
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from conftest import ask, client, log_entries, scripted, user

from alu.backends.scripted import ScriptedModel

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


@pytest.mark.serve_defaults(**UNKNOWN)
def test_concurrent_requests_do_not_mix(serve):
    model = ScriptedModel(default=lambda m: "echo " + m[-1]["content"], delay=0.05)
    server = serve(model, max_in_flight=16)
    chat_client = client(server)
    questions = [f"question number {i}" for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda q: ask(chat_client, q).choices[0].message.content, questions))
    assert answers == [f"echo {q}" for q in questions]


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


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:  # reset: closed too
        return True


@pytest.mark.serve_defaults(as_cli=True, admin_token=None, **UNKNOWN)
def test_a_partial_head_sent_byte_by_byte_is_closed_after_the_head_timeout(serve):
    server = serve(scripted(draft="Paris."), header_timeout=1.0)
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


@pytest.mark.serve_defaults(as_cli=True, admin_token=None, **UNKNOWN)
def test_a_keep_alive_client_keeps_its_connection_and_a_slow_request_its_time(serve):
    server = serve(scripted(draft="Paris."), header_timeout=1.0, body_timeout=5)
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
