"""Enrichment: the Enricher agent, the checks a draft must pass, batches (resumable, cost,
failures) and the operator's own edits, on the scripted model."""

import json

import pytest

from alu.agents import AgentFailure
from alu.agents.enricher import Enricher
from alu.backends.scripted import ScriptedModel
from alu.enrichment import Context, edit_enrichment, enrich_targets, remove_enrichment
from alu.enrichment.checks import MAX_TARGETS_PER_TERM, checked
from alu.scan import TargetIndex
from alu.stores import TargetStore
from alu.targets import Enrichment, Target, TargetError
from alu.trace import Trace

TORVALDS = Target(name="Linus Torvalds", kind="person", aliases=["Torvalds"])
ENRICH = "enricher"


def reply(names=None, terms=(), description="A software engineer.") -> str:
    return json.dumps({"names": names or {}, "terms": list(terms), "description": description})


GOOD = reply(
    {
        "latin": ["Linus Benedict Torvalds"],
        "cyrillic": ["Линус Торвальдс"],
        "chinese": ["林纳斯·托瓦兹"],
        "korean": ["리누스 토르발스"],
    },
    ["Linux kernel", "Transmeta", "Git"],
)


def test_the_enricher_asks_by_script_and_flattens_what_passes():
    model = ScriptedModel().on(ENRICH, GOOD)
    draft = Enricher(model).draft(Trace(mode="enrich"), TORVALDS)
    prompt = model.calls[0][0]["content"]
    assert "Linus Torvalds" in prompt and "cyrillic" in prompt and "works, roles" in prompt
    assert draft.names["cyrillic"] == ["Линус Торвальдс"]
    enrichment = checked(draft, TORVALDS, Context(), model="scripted", created="now")
    assert enrichment.names == [
        "Linus Benedict Torvalds",
        "Линус Торвальдс",
        "林纳斯·托瓦兹",
        "리누스 토르발스",
    ]
    assert enrichment.terms == ["Linux kernel", "Transmeta", "Git"]
    assert enrichment.description == "A software engineer." and enrichment.dropped == []


def test_the_enricher_accepts_a_loose_shape_and_retries_malformed_output_once():
    loose = json.dumps({"names": {"Cyrillic": "Линус Торвальдс", "greek": None}, "terms": "Transmeta"})
    model = ScriptedModel().on(ENRICH, "Sure! Here it is:", times=1).on(ENRICH, loose)
    trace = Trace(mode="enrich")
    draft = Enricher(model).draft(trace, TORVALDS)
    assert draft.names == {"cyrillic": ["Линус Торвальдс"], "greek": []} and draft.terms == ["Transmeta"]
    assert trace.llm_calls == 2
    with pytest.raises(AgentFailure, match="enricher: malformed output"):
        Enricher(ScriptedModel(default="no JSON here")).draft(Trace(mode="enrich"), TORVALDS)


@pytest.mark.parametrize(
    ("script", "name", "reason"),
    [
        ("cyrillic", "Linus B. Torvalds", "not Cyrillic script"),  # listed under the wrong script
        ("latin", "Линус", "not Latin script"),
        ("latin", "Linus", "one word of the name alone"),  # a first name would name every Linus
        ("latin", "Will", "a common word"),
        ("latin", "The Penguin Man", "not a form of the name"),  # a nickname, not a spelling
        ("chinese", "林", "too short"),
        ("latin", "Ada Lovelace", "another target's name"),
        ("arabic", "البيت", "a common Arabic-script word"),  # "the house", not a transliteration
        ("cyrillic", "дом", "a common Cyrillic-script word"),
    ],
)
def test_generated_names_that_would_name_something_else_are_dropped_with_why(script, name, reason):
    from alu.agents.enricher import Draft

    context = Context.of([Target(name="Ada Lovelace", id=2), TORVALDS.model_copy(update={"id": 1})])
    target = TORVALDS.model_copy(update={"id": 1})
    enrichment = checked(Draft(names={script: [name]}), target, context, model="m", created="c")
    assert enrichment.names == [] and enrichment.dropped == [f"{name} ({reason})"]


@pytest.mark.parametrize(
    ("term", "reason"),
    [
        ("1991", "digits only"),
        ("OS", "too short"),
        ("of the", "only function words"),
        ("computer", "a common word"),
        ("operating system", "common words"),
        ("Torvalds", "a name of the target"),
        ("Ada Lovelace", "another target's name"),
        ("!!!", "no letter or digit"),
    ],
)
def test_generated_terms_that_would_match_most_text_are_dropped_with_why(term, reason):
    from alu.agents.enricher import Draft

    context = Context.of([Target(name="Ada Lovelace", id=2)])
    target = TORVALDS.model_copy(update={"id": 1})
    enrichment = checked(Draft(terms=[term, "Transmeta"]), target, context, model="m", created="c")
    assert enrichment.terms == ["Transmeta"] and enrichment.dropped == [f"{term} ({reason})"]


def test_a_name_also_listed_as_a_term_is_a_term():
    from alu.agents.enricher import Draft

    draft = Draft(names={"latin": ["Torvalds Linux"]}, terms=["Torvalds Linux"])
    enrichment = checked(draft, TORVALDS, Context(), model="m", created="c")
    assert enrichment.names == [] and "Torvalds Linux (also a term)" in enrichment.dropped


def test_targets_no_store_numbered_are_not_mistaken_for_each_other():
    """An evaluation's targets have no store id: a target's own name in another script is
    its name, not "another target's", and another target's name still is."""
    from alu.agents.enricher import Draft

    ivan = Target(name="Ivan Petrov", kind="person")
    context = Context.of([TORVALDS, ivan])
    draft = Draft(names={"cyrillic": ["Линус Торвальдс", "Иван Петров"]})
    enrichment = checked(draft, TORVALDS, context, model="m", created="c")
    assert enrichment.names == ["Линус Торвальдс"]
    assert "Иван Петров (another target's name)" in enrichment.dropped
    context.add(TORVALDS.model_copy(update={"enrichment": enrichment}))  # again, enriched
    assert not context.others_named("Linus Torvalds", TORVALDS)


@pytest.fixture
def store(tmp_path):
    return TargetStore(tmp_path / "t.db")


def people(n: int) -> list[Target]:
    return [Target(name=f"Wizard Number{i}", kind="person") for i in range(n)]


def test_a_batch_writes_each_target_skips_enriched_ones_and_counts_its_cost(store):
    store.add_many([TORVALDS, Target(name="Ada Lovelace", kind="person")])
    model = ScriptedModel().on(ENRICH, GOOD, pattern="Linus").on(ENRICH, reply({"cyrillic": ["Ада Лавлейс"]}))
    cost = enrich_targets(store, Enricher(model), show_progress=False)
    assert (cost.done, cost.failed, cost.skipped, cost.llm_calls) == (2, 0, 0, 2)
    assert cost.prompt_tokens > 0 and cost.completion_tokens > 0
    assert store.get("Linus Torvalds").enrichment.terms == ["Linux kernel", "Transmeta", "Git"]
    assert store.get("Ada Lovelace").enrichment.names == ["Ада Лавлейс"]
    assert store.get("Ada Lovelace").enrichment.model == "scripted"
    index = TargetIndex(store)
    index.sync()
    assert [c.target.name for c in index.scan("林纳斯托瓦兹是谁？").named] == ["Linus Torvalds"]
    again = enrich_targets(store, Enricher(model), show_progress=False)
    assert (again.done, again.skipped, again.llm_calls, len(model.calls)) == (0, 2, 0, 2)
    forced = enrich_targets(store, Enricher(model), ["Torvalds"], force=True, show_progress=False)
    assert (forced.done, forced.skipped, len(model.calls)) == (1, 0, 3)
    summary = cost.summary()
    assert summary["per_target"]["llm_calls"] == 1.0 and summary["per_target"]["names"] == 2.5


def test_a_failure_keeps_the_previous_enrichment_records_why_and_does_not_block(store):
    store.add_many([TORVALDS, Target(name="Ada Lovelace", kind="person")])
    before = Enrichment(names=["Линус Торвальдс"], model="earlier", created="2024")
    store.set_enrichment("Linus Torvalds", before)
    model = (
        ScriptedModel().on(ENRICH, "not json", pattern="Linus").on(ENRICH, reply({"greek": ["Άντα Λάβλεϊς"]}))
    )
    cost = enrich_targets(store, Enricher(model), force=True, show_progress=False)
    assert (cost.done, cost.failed) == (1, 1) and cost.llm_calls == 3  # the failure was retried once
    kept = store.get("Linus Torvalds").enrichment
    assert kept.names == before.names and kept.model == "earlier" and "malformed output" in kept.error
    assert cost.failures[0][0] == "Linus Torvalds"
    assert (
        store.get("Ada Lovelace").enrichment.names == ["Άντα Λάβλεϊς"]
        and store.get("Ada Lovelace").enrichment.error is None
    )
    # The failed one is tried again on the next run (it is not "enriched"); the other is not.
    model.rules[0].reply = GOOD
    again = enrich_targets(store, Enricher(model), show_progress=False)
    assert (again.done, again.skipped) == (1, 1) and store.get("Linus Torvalds").enrichment.error is None


def test_an_interrupted_batch_keeps_what_it_finished_and_resumes(store):
    store.add_many(people(4))

    def third_interrupts(messages):
        if "Number2" in messages[0]["content"]:
            raise KeyboardInterrupt
        return reply({"cyrillic": ["Визард"]})

    model = ScriptedModel().on(ENRICH, third_interrupts)
    with pytest.raises(KeyboardInterrupt):
        enrich_targets(store, Enricher(model), show_progress=False)
    assert [t.enrichment is not None for t in store.list()] == [True, True, False, False]
    model.rules[0].reply = reply({"cyrillic": ["Визард"]})
    cost = enrich_targets(store, Enricher(model), show_progress=False)
    assert (cost.done, cost.skipped) == (2, 2) and all(t.enrichment for t in store.list())


def test_terms_shared_by_too_many_targets_are_dropped_from_all_of_them(store):
    n = MAX_TARGETS_PER_TERM + 2
    store.add_many(people(n))
    model = ScriptedModel().on(ENRICH, reply(terms=["Hogwarts", "Gryffindor"]))
    enrich_targets(store, Enricher(model), show_progress=False)
    for target in store.list():  # the first ones kept them when enriched, the last ones did not
        assert target.enrichment.terms == []
        assert any(d.startswith("Hogwarts (shared by") for d in target.enrichment.dropped)
    assert f"Gryffindor (shared by {n} targets)" in store.list()[0].enrichment.dropped
    few = TargetStore(store.path.with_name("few.db"))
    few.add_many(people(MAX_TARGETS_PER_TERM))
    enrich_targets(few, Enricher(model), show_progress=False)
    assert all(t.enrichment.terms == ["Hogwarts", "Gryffindor"] for t in few.list())


def test_unknown_names_are_an_error_before_anything_is_done(store):
    store.add(TORVALDS)
    model = ScriptedModel().on(ENRICH, GOOD)
    with pytest.raises(TargetError, match="no target named 'Nobody'"):
        enrich_targets(store, Enricher(model), ["Linus Torvalds", "Nobody"], show_progress=False)
    assert model.calls == [] and store.get("Linus Torvalds").enrichment is None


def test_operator_edits_are_set_by_hand_kept_by_force_all_and_removable(store):
    store.add(TORVALDS)
    saved = edit_enrichment(store, "Torvalds", names=["Линус Торвальдс"], terms=["Transmeta"])
    assert saved.enrichment.model == "operator-edit" and saved.enrichment.terms == ["Transmeta"]
    saved = edit_enrichment(store, "Linus Torvalds", description="Wrote Linux.")
    assert saved.enrichment.names == ["Линус Торвальдс"] and saved.about() == "Wrote Linux."
    model = ScriptedModel().on(ENRICH, GOOD)
    assert enrich_targets(store, Enricher(model), force=True, show_progress=False).skipped == 1
    assert store.get("Linus Torvalds").enrichment.model == "operator-edit" and model.calls == []
    assert remove_enrichment(store, "Linus Torvalds").enrichment is None
    with pytest.raises(TargetError, match="no target named"):
        edit_enrichment(store, "Nobody", terms=["x"])
    with pytest.raises(TargetError, match="bad enrichment"):
        edit_enrichment(store, "Linus Torvalds", names=["!!!"])
    with pytest.raises(TargetError, match="no target named"):
        remove_enrichment(store, "Nobody")


def test_the_agents_read_an_enriched_targets_description_and_some_of_its_terms(tmp_path):
    from conftest import AUDIT, CRITIC, ERASE, scripted

    from alu import ALU, PipelineConfig
    from alu.agents.audit_erase import MAX_TERMS_SHOWN, describe
    from alu.scan import Candidate

    terms = ["Transmeta", "Linux kernel", *[f"Term{i}x" for i in range(20)]]
    enriched = TORVALDS.model_copy(
        update={"enrichment": Enrichment(terms=terms, description="Creator of the Linux kernel.")}
    )
    text = describe([Candidate(enriched, 3.0)])
    assert "Creator of the Linux kernel." in text and "Transmeta, Linux kernel" in text
    assert f"Term{MAX_TERMS_SHOWN - 3}x" in text and f"Term{MAX_TERMS_SHOWN - 2}x" not in text
    assert "Related" not in describe([Candidate(TORVALDS, 3.0)])
    assert len(describe([Candidate(enriched.model_copy(update={"description": "x" * 5000}), 3.0)])) < 1000

    store = TargetStore(tmp_path / "t.db")
    store.add(enriched)
    # Two of its terms, not its name: the screen is unsure, so the auditor is asked; it
    # confirms, and the rewrite chain (eraser, critic) answers.
    model = scripted(draft="He wrote it at Transmeta with Term1x.", leaked=("Linus Torvalds",))
    config = PipelineConfig(default={"leak_answer": "rewrite"})
    answer = ALU(model, store, config=config).ask("Who wrote the Linux kernel?")
    assert answer.trace.leaked == ["Linus Torvalds"]
    prompts = {agent: call[0]["content"] for agent, call in zip(model.agents, model.calls, strict=True)}
    without = [
        step
        for step in (AUDIT, ERASE, CRITIC)
        if not ("Creator of the Linux kernel." in prompts[step] and "Related: Transmeta" in prompts[step])
    ]
    assert without == []  # every step whose prompt lacks the enrichment shows


def test_the_cost_benchmark_runs_on_the_scripted_model(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "ALU_CONFIG": str(tmp_path / "none.toml")}
    command = [sys.executable, str(root / "benchmarks" / "enrichment_cost.py"), "--model", "scripted"]
    command += ["--names", "Ada Lovelace,Alan Turing,Grace Hopper", "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "assumes 1000 prompt tok/s and 80 completion tok/s" in result.stdout
    body = json.loads((tmp_path / "enrichment-cost-scripted.json").read_text())
    assert body["row"]["targets"] == 3 and body["row"]["failure rate"] == 0
    assert body["summary"]["llm_calls"] == 3 and body["row"]["prompt tok/target"] > 0
    assert [t["name"] for t in body["targets"]] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
