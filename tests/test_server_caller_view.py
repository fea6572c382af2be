"""What a caller without the admin token can learn from ``alu serve``: ``usage`` counted by
one rule whether targets were involved or not, the explanation, docs and metrics behind the
admin token, the admin routes refused."""

from __future__ import annotations

import httpx
import openai
import pytest
from conftest import ADMIN, LEAKY, REWRITE, ask, chat, client, one_line_error, scripted, user

from alu.backends.scripted import ScriptedModel

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


def test_usage_does_not_tell_whether_targets_were_involved(serve):
    final = "A clean composed answer."
    model = scripted(final=final)
    model.default = lambda m: LEAKY if "Yule" in m[-1]["content"] else "X" * len(final)
    server = serve(model, pipeline=REWRITE)
    about_target = ask(server, "Yule Ball, who went?")
    unrelated = ask(server, "Rome Opera, who won?")
    assert about_target.choices[0].message.content == final  # rewritten: four LLM calls
    assert len(unrelated.choices[0].message.content) == len(final)  # passed: one call
    assert about_target.usage.model_dump() == unrelated.usage.model_dump()
    r = chat(server, user("Yule Ball, who went?", alu_explain=True), headers=ADMIN)
    assert r.json()["usage"]["total_tokens"] > about_target.usage.total_tokens
    assert r.json()["alu"]["trace"]["llm_calls"] == 4


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
    # Hermione, not known to the model (unprobed = unknown), has little evidence on file: a
    # question naming her is answered as about a stranger from the start (one call, no plain
    # draft), the path that reported 0 tokens.
    model = ScriptedModel(default="They studied law in a small town and later taught there.")
    server = serve(model, pipeline={"refusal_policy": "unknown", "unprobed": "unknown"})
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


@pytest.mark.serve_defaults(**UNKNOWN)
@pytest.mark.parametrize(
    ("method", "headers", "body"),
    [("GET", {}, None), ("GET", {"Authorization": "Bearer wrong"}, None), ("POST", {}, {"name": "X"})],
    ids=["list-no-token", "list-wrong-token", "add-no-token"],
)
def test_the_admin_routes_refuse_a_missing_or_wrong_token(serve, method, headers, body):
    server = serve(scripted())
    assert httpx.request(method, f"{server.url}/targets", headers=headers, json=body).status_code == 401


@pytest.mark.serve_defaults(**UNKNOWN)
def test_auth_refusals(serve, tmp_path):
    server = serve(scripted())
    base = server.url
    with pytest.raises(openai.AuthenticationError):
        ask(server, "hi", extra_body={"alu_explain": True})
    explained = httpx.post(
        f"{base}/chat/completions",
        headers=ADMIN,
        json={"messages": [{"role": "user", "content": "hi"}], "alu_explain": True},
    )
    assert explained.json()["alu"]["trace"]["llm_calls"] == 1
    off = serve(scripted(), admin_token=None)
    r = httpx.get(f"{off.url}/targets", headers=ADMIN)
    assert r.status_code == 404 and "admin API is off" in r.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_the_api_docs_are_off_by_default(serve, path):
    server = serve(scripted())
    one_line_error(httpx.get(server.root + path), 404)


def test_docs_and_metrics_are_off_unless_asked_for(serve):
    root = lambda s: s.url.removesuffix("/v1")  # noqa: E731
    server = serve(scripted())
    one_line_error(httpx.get(root(server) + "/metrics"), 401)
    assert httpx.get(root(server) + "/metrics", headers=ADMIN).status_code == 200
    no_admin = serve(scripted(), admin_token=None)
    one_line_error(httpx.get(root(no_admin) + "/metrics"), 404)
    public = serve(scripted(), docs=True, metrics_public=True)
    assert httpx.get(root(public) + "/openapi.json").json()["paths"]
    assert httpx.get(root(public) + "/metrics").status_code == 200
