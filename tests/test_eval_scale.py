"""The distractors setting: realistic targets beside a benchmark's own, imported into a
store; the paper's mode stops where its prompt no longer fits; plans run system by system."""

import json

import pytest
from conftest import DATA_DIR

from alu.backends.scripted import ScriptedModel
from alu.datasets import load_benchmark
from alu.evaluation.distractors import distractors
from alu.evaluation.plan import BenchmarkPlan, Plan
from alu.evaluation.records import read_answers
from alu.evaluation.runner import Run
from alu.text import fold

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")


@needs_data
def test_distractors_are_many_kinds_and_never_the_benchmarks_people():
    bench = load_benchmark("tofu", DATA_DIR, forget="forget05")
    people = {t.name for t in bench.targets} | {d.meta["author"] for d in bench.documents}
    found = distractors(600, DATA_DIR, people)
    assert len(found) == 600
    assert {t.kind for t in found} == {"person", "topic", "hazard"}
    folded = {" ".join(fold(p).split()) for p in people}
    assert not any(" ".join(fold(t.name).split()) in folded for t in found)
    assert len({t.name for t in found}) == 600
    assert found == distractors(600, DATA_DIR, people)  # seeded: the same list every time
    assert any(t.aliases for t in found) and all(t.evidence or t.description for t in found[100:])


@needs_data
def test_a_run_with_distractors_imports_them_and_the_paper_mode_steps_aside(tmp_path):
    plan = Plan(
        systems=["vanilla", "alu", "alu-paper"],
        benchmarks={"real_authors": BenchmarkPlan(limits={"forget": 2, "retain": 2})},
        distractors=500,
    )
    model = ScriptedModel(default="I am not sure.")
    Run(plan, model, tmp_path, DATA_DIR).execute(show_progress=False)
    records = read_answers(tmp_path / "answers.jsonl")
    assert {r.system for r in records} == {"vanilla", "alu"}  # 520 targets do not fit the paper's prompt
    listing = (tmp_path / "distractors-real_authors.jsonl").read_text()
    listed = [json.loads(line) for line in listing.splitlines()]  # JSON Lines: one target a line
    assert len(listed) == 520 and all(r["name"] for r in listed)  # 20 authors, 500 distractors


@needs_data
def test_system_order_runs_each_system_over_every_benchmark_first(tmp_path):
    plan = Plan(
        systems=["alu", "vanilla"],
        benchmarks={"real_authors": BenchmarkPlan(limits={"forget": 2, "retain": 2})},
        order="system",
    )
    run = Run(plan, ScriptedModel(), tmp_path, DATA_DIR)
    run.load()
    systems = [job.system for job in run.jobs({})]
    assert systems == ["alu"] * 4 + ["vanilla"] * 4


@needs_data
def test_a_system_is_built_only_where_it_answers_and_when_its_turn_comes(tmp_path):
    """alu-probed probes every target of a benchmark when it is built (dozens of calls a
    target): on a benchmark where it answers nothing it is never built, and with ``order:
    system`` the systems before it answer before its probing starts."""
    plan = Plan(
        systems=["vanilla", "reference", "alu-probed"],
        benchmarks={
            "tofu": BenchmarkPlan(
                limits={"forget": 2, "retain": 2}, system_limits={"alu-probed": {"forget": 0, "retain": 0}}
            ),
            "mmlu": BenchmarkPlan(limits={"mmlu": 2}),
        },
        order="system",
    )
    model = ScriptedModel(default="I am not sure.")
    run = Run(plan, model, tmp_path, DATA_DIR)
    built: list[tuple[str, str, int]] = []  # benchmark, system, answers stored before its build
    responders = run.responders

    def watched():
        found = responders()
        make = found._build

        def build(benchmark, system):
            answered = (
                len(read_answers(tmp_path / "answers.jsonl")) if (tmp_path / "answers.jsonl").exists() else 0
            )
            built.append((benchmark, system, answered))
            return make(benchmark, system)

        found._build = build
        return found

    run.responders = watched
    run.execute(show_progress=False)
    records = read_answers(tmp_path / "answers.jsonl")
    assert {(r.benchmark, r.system) for r in records} == {
        ("tofu", "vanilla"),
        ("tofu", "reference"),
        ("mmlu", "vanilla"),
        ("mmlu", "alu-probed"),  # no knowledge base on MMLU: no reference there
    }
    pairs = [(b, s) for b, s, _ in built]
    assert ("tofu", "alu-probed") not in pairs  # nothing to answer: never probed
    assert pairs.count(("mmlu", "reference")) == 1  # not applicable: asked once, skipped
    probed_after = next(n for b, s, n in built if s == "alu-probed")
    assert probed_after == 10  # every vanilla and reference answer came before its probing
