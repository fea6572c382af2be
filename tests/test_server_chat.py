"""Chat and streaming through ``alu serve`` with the real ``openai`` client: an unrelated
answer passes, a leak is rewritten (streamed or not), the caller's own targets, the server's
mode, and the sampling parameters that reach the answer call only."""

from __future__ import annotations

import pytest
from conftest import ADMIN, LEAKY, REWRITE, UNSURE, ask, chat, client, one_line_error, scripted, user

from alu import ALU
from alu.backends.openai_compat import OpenAIModel
from alu.backends.scripted import ScriptedModel
from alu.models import Sampling

UNKNOWN = {"pipeline": {"refusal_policy": "unknown"}}  # the library's default refusal policy


@pytest.mark.serve_defaults(**UNKNOWN)
def test_plain_chat_passes_an_unrelated_answer(serve):
    server = serve(scripted(draft="Paris."))
    response = ask(server, "What is the capital of France?")
    assert response.choices[0].message.content == "Paris."
    assert response.usage.total_tokens > 0 and response.choices[0].finish_reason == "stop"
    assert [m.id for m in client(server).models.list().data] == ["alu"]


@pytest.mark.serve_defaults(**UNKNOWN)
def test_plain_chat_rewrites_a_leak_and_hides_the_trace(serve):
    server = serve(scripted(draft=LEAKY))
    response = ask(server, "How was Viktor Krum's experience at the Yule Ball?")
    assert "Hermione" not in response.choices[0].message.content
    assert "Hermione" not in response.model_dump_json()


@pytest.mark.serve_defaults(**UNKNOWN)
def test_streamed_chat_sends_only_the_audited_answer(serve):
    server = serve(
        scripted(draft=LEAKY, final="A clean composed answer that is long enough to split."), pipeline=REWRITE
    )
    stream = ask(server, "Yule Ball?", stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "A clean composed answer that is long enough to split."
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1
    assert chunks[-1].usage.total_tokens > 0


@pytest.mark.serve_defaults(**UNKNOWN)
def test_request_targets_field(serve):
    server = serve(scripted(draft="Ron Weasley plays chess.", leaked=("Ron Weasley",)), targets=())
    response = ask(server, "Who plays chess?", extra_body={"alu_targets": ["Ron Weasley"]})
    assert "Ron" not in response.choices[0].message.content


def test_the_mode_is_the_servers_unless_the_admin_asks(serve):
    # The paper's auditor misses the leak; paper mode would then return the draft verbatim.
    server = serve(scripted(draft=LEAKY, leaked=()))
    r = chat(server, user("Yule Ball?", alu_mode="paper"))
    assert "alu_mode needs the admin token" in one_line_error(r, 401)
    r = chat(server, user("Yule Ball?", alu_mode="paper"), headers=ADMIN)
    assert r.status_code == 200 and "Hermione" not in r.json()["choices"][0]["message"]["content"]


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

    base = scripted(draft=UNSURE)  # the auditor is asked, then the rewrite chain
    model = Recording(base.rules, default=UNSURE)
    sampling = Sampling(max_tokens=40, temperature=1.3, stop=("ZZ",))
    answer = make_alu(model, **REWRITE).ask("Yule Ball?", sampling=sampling)
    assert answer.trace.verdict == "rewritten"
    assert seen["vanilla"]["temperature"] == 1.3 and seen["vanilla"]["stop"] == ["ZZ"]
    assert seen["vanilla"]["max_tokens"] == 40
    # the plain decline for a named target (never probed: treated as known)
    assert make_alu(model).ask("Who is Hermione Granger?", sampling=sampling).trace.verdict == "refused"
    internal = ("audit_erase:audit", "audit_erase:erase", "critic", "composer", "vanilla:decline")
    sampled = {agent: (seen[agent]["temperature"], seen[agent]["stop"]) for agent in internal}
    assert sampled == dict.fromkeys(internal, (0.0, None))  # every agent that differs shows


@pytest.mark.serve_defaults(**UNKNOWN)
def test_the_openai_backend_talks_to_an_openai_compatible_server(serve):
    """The ``openai:`` backend against a real server on loopback (here, alu serve itself)."""
    server = serve(scripted(draft="Paris."))
    remote = OpenAIModel("alu", base_url=server.url, timeout=10, retries=0)
    out = remote.complete(
        [{"role": "user", "content": "Capital of France?"}], max_tokens=20, json_schema={"type": "object"}
    )
    assert out.text == "Paris." and out.prompt_tokens > 0 and out.model == "alu"
    answer = ALU(remote, []).ask("Capital of France?")
    assert answer.text == "Paris." and answer.trace.llm_calls == 1
