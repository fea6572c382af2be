"""Deadlines and upstream faults behind ``alu serve`` and the ``openai:`` backend: an upstream
that is down, slow, answers garbage, trickles its answer a byte at a time or floods past
``max_tokens`` gets the caller a refusal (never the draft) in time, and frees its slot."""

from __future__ import annotations

import json
import time
import tracemalloc

import httpx
import pytest
from conftest import LEAKY, REFUSAL, UNSURE, ask, chat, client, log_entries, user
from upstreams import TrickleUpstream

from alu.backends.openai_compat import MAX_CHARS_PER_TOKEN, OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.errors import ModelError

MB = 1024 * 1024


def test_backend_down_yields_a_refusal(serve):
    dead = OpenAIModel("x", base_url="http://127.0.0.1:9/v1", timeout=2, retries=0)
    server = serve(dead, pipeline={"refusal_policy": "refuse"})
    response = ask(server, "Yule Ball?")
    assert response.choices[0].message.content == REFUSAL


def test_slow_backend_yields_a_refusal(serve):
    server = serve(
        ScriptedModel(default=LEAKY, delay=0.5), pipeline={"timeout": 0.1, "refusal_policy": "refuse"}
    )
    assert ask(server, "Yule Ball?").choices[0].message.content == REFUSAL


def test_garbage_from_the_backend_yields_a_refusal_never_the_draft(serve, tmp_path):
    # Every agent gets the draft text back: malformed JSON for the auditor, which is asked
    # because the draft adds some of the target's evidence (not enough to be sure).
    model = ScriptedModel(default=UNSURE)
    server = serve(model, pipeline={"refusal_policy": "refuse"})
    response = ask(server, "Yule Ball?")
    assert response.choices[0].message.content == REFUSAL
    entry = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert entry["verdict"] == "failed_closed" and "query" not in entry and "answer" not in entry


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
