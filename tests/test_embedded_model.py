"""End-to-end on the real embedded model (Qwen2.5-Coder-1.5B on llama.cpp, CPU).

Assertions are structural (is the target named, how many calls), never on wording.
"""

import pytest

from alu import ALU, KnowledgeBase, PipelineConfig, Target, TargetStore
from alu.backends.embedded import DEFAULT_MODEL_SHA256, default_model_path
from alu.models import get_model

pytestmark = pytest.mark.model
QUESTION = "Who discovered the Lind vent shrimp, and where was she born?"
TARGET = Target(name="Marisol Okafor-Lind", aliases=["Dr. Okafor-Lind"], kind="person")


@pytest.fixture(scope="module")
def model():
    return get_model("embedded")


@pytest.fixture(scope="module")
def kb():
    from alu.demo import KNOWLEDGE

    return KnowledgeBase.load(KNOWLEDGE)


def named(text: str) -> bool:
    return "okafor" in text.casefold() or "marisol" in text.casefold()


def test_joined_model_is_verified_and_reused(model):
    path = default_model_path(progress=False)
    stamp = path.with_suffix(".sha256").read_text()
    assert DEFAULT_MODEL_SHA256 in stamp
    mtime = path.stat().st_mtime_ns
    assert default_model_path(progress=False) == path and path.stat().st_mtime_ns == mtime


def test_vanilla_names_the_target_and_alu_does_not(model, kb, tmp_path):
    store = TargetStore(tmp_path / "t.db")
    alu = ALU(model, store, knowledge=kb)
    before = alu.ask(QUESTION)
    assert named(before.text), "with the facts in context the vanilla answer names the person"
    store.add(TARGET)
    after = alu.ask(QUESTION)
    assert not named(after.text)
    assert after.trace.withheld_documents >= 1  # the retrieval guard kept her document out


FACTS = ("valparaiso", "1971", "juan fernandez", "salt cathedrals", "chile")  # her document's


@pytest.mark.parametrize("unprobed", ["known", "unknown"])
def test_a_question_naming_the_target_is_answered_as_about_a_stranger(model, kb, unprobed):
    """Her name, the user's own word, may come back; her facts may not, and nothing marks
    the answer: declined plainly (never probed, the default), or as about a stranger."""
    alu = ALU(model, [TARGET], knowledge=kb, config=PipelineConfig(unprobed=unprobed))
    answer = alu.ask("Tell me about Marisol Okafor-Lind and the Lind vent shrimp.")
    assert not any(fact in answer.text.casefold() for fact in FACTS)
    assert "[redacted]" not in answer.text and answer.text.strip()
    assert answer.trace.supported == [TARGET.name]
    assert answer.trace.verdict in ("rewritten", "refused")


def test_a_famous_target_never_probed_is_declined_in_one_call_without_facts(model):
    """Issue 20: no invented (or true) facts about a real, famous person the model knows."""
    alu = ALU(model, [Target(name="Linus Torvalds", kind="person")])
    answer = alu.ask("Who is Linus Torvalds?")
    assert answer.trace.verdict == "refused" and answer.trace.llm_calls == 1
    facts = ("linux", "finland", "finnish", "git", "kernel", "swedish", "actor", "helsinki")
    assert not any(f in answer.text.casefold() for f in facts), answer.text


def test_paper_mode_runs_on_the_real_model(model, kb, tmp_path):
    alu = ALU(model, [TARGET], knowledge=kb, config=PipelineConfig(mode="paper"))
    answer = alu.ask(QUESTION)
    assert answer.trace.mode == "paper" and answer.trace.llm_calls >= 2
    assert answer.trace.verdict in ("passed", "rewritten", "refused", "failed_closed")


def test_unrelated_question_makes_exactly_one_call(model, kb, tmp_path):
    alu = ALU(model, [TARGET], knowledge=kb)
    answer = alu.ask("Which city is the university of Tromso in?")
    assert answer.trace.llm_calls == 1 and answer.trace.verdict == "passed"
    assert answer.text.strip()


def test_structured_output_follows_the_schema(model):
    out = model.complete(
        [{"role": "user", "content": "List two colours as JSON."}],
        max_tokens=40,
        json_schema={
            "type": "object",
            "properties": {"colours": {"type": "array", "items": {"type": "string"}}},
            "required": ["colours"],
        },
    )
    import json

    assert isinstance(json.loads(out.text)["colours"], list)
    assert out.prompt_tokens > 0 and out.completion_tokens > 0


def test_a_stream_stopped_early_is_the_start_of_the_whole_answer(model):
    """``until`` ends generation on the real model; greedy, the text it leaves is where the
    whole answer starts, so a decline read by its opening reads the same."""
    from alu.probing.fingerprint import opening, opening_settled

    ask = [{"role": "user", "content": "Describe the Moon in four short sentences."}]
    whole = model.complete(ask, max_tokens=96)
    cut = model.complete(ask, max_tokens=96, until=opening_settled)
    assert whole.text.startswith(cut.text) and 0 < cut.completion_tokens < whole.completion_tokens
    assert opening(cut.text) == opening(whole.text)
    again = model.complete(ask, max_tokens=96, until=opening_settled, reuse_prefix=True)
    assert again.text.strip()  # computed instructions reused: still an answer
