"""Limits and malformed input at ``alu serve``: a clear one-line 4xx for bad JSON, bad fields,
bad sampling parameters, invisible or badly encoded content and bad authorization headers;
caps on bodies, on a request's own targets and on requests in flight."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from conftest import ADMIN, ask, chat, client, log_entries, one_line_error, scripted, user

from alu.backends.scripted import ScriptedModel

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


@pytest.mark.serve_defaults(**UNKNOWN)
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "messages: Field required"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "role"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, "last message must come from the user"),
        ({"messages": [{"role": "user", "content": "  "}]}, "query is empty"),
        ({"messages": [{"role": "user", "content": "x" * 20_001}]}, "limit"),
        (
            {"messages": [{"role": "user", "content": "hi"}], "alu_targets": [{"kind": "person"}]},
            "alu_targets",
        ),
    ],
)
def test_malformed_requests_get_a_clear_4xx(serve, body, message):
    server = serve(scripted())
    r = httpx.post(f"{server.url}/chat/completions", json=body)
    assert r.status_code == 400 and message in r.json()["error"]["message"]


@pytest.mark.serve_defaults(**UNKNOWN)
def test_non_json_body_is_a_4xx(serve):
    server = serve(scripted())
    r = httpx.post(
        f"{server.url}/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


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
    ("authorization", "route"),
    [
        ("Bearer sécret".encode(), "targets"),
        ("Bearer sécret".encode(), "explain"),
        (b"Bearer \xff\xfe", "targets"),  # not even UTF-8
    ],
    ids=["utf8-targets", "utf8-explain", "latin1-targets"],
)
def test_non_ascii_authorization_is_a_401(serve, authorization, route):
    server = serve(scripted())
    bad = {"Authorization": authorization}
    if route == "targets":
        one_line_error(httpx.get(f"{server.url}/targets", headers=bad), 401)
    else:
        one_line_error(chat(server, user("hi", alu_explain=True), headers=bad), 401)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
        (b'{"name": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"name": ', "not JSON"),
    ],
)
@pytest.mark.parametrize("path", ["/targets", "/targets/import", "/chat/completions"])
def test_admin_bodies_that_are_not_json_are_a_400(serve, body, message, path):
    server = serve(scripted(), targets=())
    if path == "/chat/completions":
        r = chat(server, body)  # as anyone, with the JSON content type
    else:
        r = httpx.post(f"{server.url}{path}", content=body, headers=ADMIN)
    assert message in one_line_error(r, 400)


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


@pytest.mark.serve_defaults(**UNKNOWN)
def test_requests_in_flight_beyond_the_limit_get_429(serve):
    server = serve(ScriptedModel(default="ok", delay=0.6), max_in_flight=1)
    chat_client = client(server)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: _try(chat_client), range(3)))
    assert results.count("ok") >= 1 and results.count(429) >= 1


def _try(chat_client: openai.OpenAI):
    try:
        return ask(chat_client, "hello").choices[0].message.content
    except openai.RateLimitError:
        return 429
