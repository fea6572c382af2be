"""The real ``openai`` client against ``alu serve`` on a free loopback port."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from conftest import HERMIONE, LiveServer, scripted

from alu import ALU, PipelineConfig, TargetStore
from alu.backends.openai_compat import OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.server import create_app
from alu.settings import ServeSettings

TOKEN = "s3cret"
LEAKY = "Hermione Granger went to the Yule Ball with Viktor Krum."


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(model, targets=(HERMIONE,), **config):
        store = TargetStore(tmp_path / "t.db")
        for t in targets:
            store.add(t, replace=True)
        timeout = config.pop("timeout", 30)
        policy = config.pop("refusal_policy", "unknown")
        alu = ALU(model, store, config=PipelineConfig(timeout=timeout, refusal_policy=policy))
        admin_token = config.pop("admin_token", TOKEN)
        settings = ServeSettings(log=tmp_path / "log.jsonl", **config)
        server = LiveServer(create_app(alu, settings, admin_token=admin_token)).__enter__()
        servers.append(server)
        client = openai.OpenAI(base_url=server.url, api_key="anything", max_retries=0, timeout=30)
        return server, client

    yield start
    for s in servers:
        s.__exit__()


def ask(client, text, **kw):
    return client.chat.completions.create(model="alu", messages=[{"role": "user", "content": text}], **kw)


def test_plain_chat_passes_an_unrelated_answer(serve):
    _, client = serve(scripted(draft="Paris."))
    response = ask(client, "What is the capital of France?")
    assert response.choices[0].message.content == "Paris."
    assert response.usage.total_tokens > 0 and response.choices[0].finish_reason == "stop"
    assert [m.id for m in client.models.list().data] == ["alu"]


def test_plain_chat_rewrites_a_leak_and_hides_the_trace(serve):
    _, client = serve(scripted(draft=LEAKY))
    response = ask(client, "How was Viktor Krum's experience at the Yule Ball?")
    assert "Hermione" not in response.choices[0].message.content
    assert "Hermione" not in response.model_dump_json()


def test_streamed_chat_sends_only_the_audited_answer(serve):
    _, client = serve(scripted(draft=LEAKY, final="A clean composed answer that is long enough to split."))
    stream = ask(client, "Yule Ball?", stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "A clean composed answer that is long enough to split."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[-1].usage.total_tokens > 0


def test_target_added_through_the_admin_api_applies_to_the_next_request(serve):
    server, client = serve(scripted(draft="Ron Weasley plays chess.", leaked=("Ron Weasley",)), targets=())
    assert "Ron" in ask(client, "Who plays chess?").choices[0].message.content
    base = server.url
    headers = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{base}/targets", json={"name": "Ron Weasley", "kind": "person"}, headers=headers)
    assert r.status_code == 201
    assert "Ron" not in ask(client, "Who plays chess?").choices[0].message.content
    listed = httpx.get(f"{base}/targets", headers=headers).json()["data"]
    assert [t["name"] for t in listed] == ["Ron Weasley"]
    r = httpx.post(f"{base}/targets/import", json={"format": "txt", "content": "Ada\nBob\n"}, headers=headers)
    assert r.json() == {"imported": 2}
    assert httpx.delete(f"{base}/targets/Ron%20Weasley", headers=headers).status_code == 200
    assert "Ron" in ask(client, "Who plays chess?").choices[0].message.content


def test_request_targets_field(serve):
    _, client = serve(scripted(draft="Ron Weasley plays chess.", leaked=("Ron Weasley",)), targets=())
    response = ask(client, "Who plays chess?", extra_body={"alu_targets": ["Ron Weasley"]})
    assert "Ron" not in response.choices[0].message.content


def test_auth_refusals(serve, tmp_path):
    server, client = serve(scripted())
    base = server.url
    assert httpx.get(f"{base}/targets").status_code == 401
    assert httpx.get(f"{base}/targets", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.post(f"{base}/targets", json={"name": "X"}).status_code == 401
    with pytest.raises(openai.AuthenticationError):
        ask(client, "hi", extra_body={"alu_explain": True})
    explained = httpx.post(
        f"{base}/chat/completions",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"messages": [{"role": "user", "content": "hi"}], "alu_explain": True},
    )
    assert explained.json()["alu"]["trace"]["llm_calls"] == 1
    off, _ = serve(scripted(), admin_token=None)
    r = httpx.get(f"{off.url}/targets", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and "admin API is off" in r.json()["error"]["message"]


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
    server, _ = serve(scripted())
    r = httpx.post(f"{server.url}/chat/completions", json=body)
    assert r.status_code == 400 and message in r.json()["error"]["message"]


def test_non_json_body_is_a_4xx(serve):
    server, _ = serve(scripted())
    r = httpx.post(
        f"{server.url}/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


def test_backend_down_yields_a_refusal(serve):
    dead = OpenAIModel("x", base_url="http://127.0.0.1:9/v1", timeout=2, retries=0)
    _, client = serve(dead, refusal_policy="refuse")
    response = ask(client, "Yule Ball?")
    assert response.choices[0].message.content == "I'm sorry, but I can't help with that."


def test_slow_backend_yields_a_refusal(serve):
    _, client = serve(ScriptedModel(default=LEAKY, delay=0.5), timeout=0.1, refusal_policy="refuse")
    assert ask(client, "Yule Ball?").choices[0].message.content == "I'm sorry, but I can't help with that."


def test_garbage_from_the_backend_yields_a_refusal_never_the_draft(serve, tmp_path):
    model = ScriptedModel(default=LEAKY)  # every agent gets the draft text back: malformed JSON
    _, client = serve(model, refusal_policy="refuse")
    response = ask(client, "Yule Ball?")
    assert response.choices[0].message.content == "I'm sorry, but I can't help with that."
    entry = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert entry["verdict"] == "failed_closed" and "query" not in entry and "answer" not in entry


def test_requests_in_flight_beyond_the_limit_get_429(serve):
    _, client = serve(ScriptedModel(default="ok", delay=0.6), max_in_flight=1)
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: _try(client), range(3)))
    assert results.count("ok") >= 1 and results.count(429) >= 1


def _try(client):
    try:
        return ask(client, "hello").choices[0].message.content
    except openai.RateLimitError:
        return 429


def test_concurrent_requests_do_not_mix(serve):
    model = ScriptedModel(default=lambda m: "echo " + m[-1]["content"], delay=0.05)
    _, client = serve(model, max_in_flight=16)
    questions = [f"question number {i}" for i in range(12)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda q: ask(client, q).choices[0].message.content, questions))
    assert answers == [f"echo {q}" for q in questions]


def test_health_metrics_and_decision_log(serve, tmp_path):
    server, client = serve(scripted(draft=LEAKY), log_text=True)
    ask(client, "Yule Ball?")
    root = server.url.removesuffix("/v1")
    assert httpx.get(f"{root}/healthz").json()["status"] == "ok"
    metrics = httpx.get(f"{root}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert (
        'alu_requests_total{status="200"} 1.0' in metrics
        and 'alu_verdicts_total{verdict="rewritten"}' in metrics
    )
    entry = json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    assert entry["verdict"] == "rewritten" and entry["matched"] == ["Hermione Granger"]
    assert (
        entry["query"] == "Yule Ball?"
        and entry["llm_calls"] == 5
        and entry["request_id"].startswith("chatcmpl-")
    )


def test_the_openai_backend_talks_to_an_openai_compatible_server(serve):
    """The ``openai:`` backend against a real server on loopback (here, alu serve itself)."""
    server, _ = serve(scripted(draft="Paris."))
    remote = OpenAIModel("alu", base_url=server.url, timeout=10, retries=0)
    out = remote.complete(
        [{"role": "user", "content": "Capital of France?"}], max_tokens=20, json_schema={"type": "object"}
    )
    assert out.text == "Paris." and out.prompt_tokens > 0 and out.model == "alu"
    answer = ALU(remote, []).ask("Capital of France?")
    assert answer.text == "Paris." and answer.trace.llm_calls == 1
