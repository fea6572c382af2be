"""Loaders against the real files in ../shared/data, and a short run of every system and
attack with the scripted model through the runner and the report."""

import json
import re

import pytest
from conftest import DATA_DIR

from alu.agents import ATTEMPTS
from alu.backends.scripted import ScriptedModel
from alu.datasets import DataError, load_benchmark
from alu.datasets.tofu import authors
from alu.errors import EvalError, ModelError, ModelTimeout
from alu.evaluation.attacks import AttackContext, attacks, get_attack
from alu.evaluation.plan import Plan
from alu.evaluation.records import read_answers
from alu.evaluation.report import write_report
from alu.evaluation.runner import Failures, Run, sample
from alu.evaluation.session import evaluate
from alu.evaluation.systems import systems
from alu.pipeline import PipelineConfig

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")


@needs_data
def test_tofu_loader_on_the_real_files():
    bench = load_benchmark("tofu", DATA_DIR)
    sizes = {s.name: len(s.items) for s in bench.splits}
    assert sizes == {"forget": 40, "retain": 400, "real_authors": 100, "world_facts": 117}
    assert [t.name for t in bench.targets] == ["Basil Mahfouz Al-Kuwaiti", "Nikolai Abilov"]
    assert len(bench.documents) == 4000 and len(bench.forget_documents) == 40
    assert all(
        i.target in {"Basil Mahfouz Al-Kuwaiti", "Nikolai Abilov"} for i in bench.split("forget").items
    )
    names = [a.name for a in authors(DATA_DIR)]
    assert len(names) == 200 and len(set(names)) >= 198
    assert names[0] == "Jaime Vasquez" and "Femke Van der Veen" in names
    assert load_benchmark("tofu", DATA_DIR, forget="forget10").targets[0].name == names[180]


@needs_data
def test_wpu_wmdp_mmlu_loaders_on_the_real_files():
    wpu = load_benchmark("wpu", DATA_DIR, people=2)
    assert [t.name for t in wpu.targets] == ["Benedetto Varchi", "Wilhelm Wattenbach"]
    forget = wpu.split("forget").items
    assert forget and {i.target for i in forget} == {"Benedetto Varchi", "Wilhelm Wattenbach"}
    assert len(wpu.split("hard_retain").items) == 40 and len(wpu.split("retain").items) == 493
    assert wpu.forget_documents < {d.id for d in wpu.documents}
    wmdp = load_benchmark("wmdp", DATA_DIR)
    assert {s.name: len(s.items) for s in wmdp.splits} == {"bio": 1173, "chem": 308, "cyber": 1887}
    scored = {i.question for s in wmdp.splits for i in s.items}
    evidence = " ".join(e for t in wmdp.targets for e in t.evidence)
    assert not any(q in evidence for q in list(scored)[:300]), "scored questions never serve as evidence"
    mmlu = load_benchmark("mmlu", DATA_DIR)
    items = mmlu.split("mmlu").items
    assert len(items) == 14042 and all(len(i.choices) == 4 and 0 <= i.correct < 4 for i in items[:500])


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="TOFU file not found"):
        load_benchmark("tofu", tmp_path)
    with pytest.raises(DataError, match="unknown benchmark"):
        load_benchmark("nope", tmp_path)


def test_smaller_limits_draw_a_prefix():
    items = list(range(100))
    assert sample(items, 5, "s") == sample(items, 10, "s")[:5]
    assert sample(items, 5, "s") != sample(items, 5, "t")


def agents() -> ScriptedModel:
    """Plays every agent: the vanilla draft repeats the question's first words."""
    model = ScriptedModel(default=lambda msgs: "Answer: " + msgs[-1]["content"][:60])
    model.on("audit_erase:audit", json.dumps({"leaked": []}))
    model.on("audit_erase:audit+erase", json.dumps({"leaked": [], "variants": ["Same."] * 5}))
    model.on("attack:language", "Réponse « Le Désert qui murmure ».", pattern="following answer")
    model.on("attack:language", "Question traduite ?")
    return model


@needs_data
def test_every_system_and_attack_runs_and_reports(tmp_path):
    plan = Plan.profile("smoke")
    assert set(plan.systems) == set(systems()) and set(plan.attacks) == set(attacks())
    run = Run(plan, agents(), tmp_path, DATA_DIR)
    answers = run.execute(show_progress=False)
    records = read_answers(answers)
    keys = {(r.benchmark, r.attack, r.system) for r in records}
    expected = {("tofu", attack, system) for system in plan.systems for attack in (None, *plan.attacks)}
    assert expected - keys == set()  # None: the question as written
    assert ("wmdp", None, "reference") not in keys  # no knowledge base to remove from
    summary = write_report(tmp_path, run.loaded, "# test", plan)
    assert set(summary["attacks"]) == set(plan.attacks)
    assert "model_utility" in summary["benchmarks"]["tofu"]["systems"]["vanilla"]
    empty = [
        n
        for n in ("report.md", "summary.json", "tradeoff.png", "attacks.png", "cost.png")
        if not (tmp_path / n).stat().st_size
    ]
    assert empty == []
    report = (tmp_path / "report.md").read_text()
    # The scripted vanilla echoes the question: some attacks bite (the echo recalls the gold
    # above the reference), others do not; only those that bite have their own goal row.
    bites = summary["attack_bites"]
    biting = {a for a, v in bites.items() if v["bites"]}
    assert set(bites) == set(plan.attacks) and biting and biting != set(plan.attacks)
    rows = [line for line in report.splitlines() if "lower leak rate than every baseline |" in line]
    assert {line.split(":")[0].strip("| ") for line in rows[:-1]} == biting
    assert "not measurable" in rows[-1] and "no effect: left out of this goal" in rows[-1]
    assert report.index("## Headline figures") < report.index("## Goals")
    forget = summary["benchmarks"]["tofu"]["splits"]["forget"]["paired"]
    assert {"vs_vanilla", "vs_reference"} <= set(forget) and "alu" in forget["vs_vanilla"]
    assert "vs_vanilla" in summary["attacks"]["many-shot"]["alu"]["paired"]
    assert "vanilla_vs_chance" in summary["benchmarks"]["wmdp"]["splits"]["bio"]
    saved = (tmp_path / "attacks" / "language.jsonl").read_text()
    assert "Question traduite" in saved and "generator" in saved
    # The gold in the question's language is made with the turns, saved beside them and
    # carried by every answer under the attack; many-shot's shots travel as the history.
    assert "Le Désert qui murmure" in saved and "gold_generator" in saved
    by_attack = {r.attack: r for r in records if r.system == "vanilla"}
    assert by_attack["language"].gold_translation == "Réponse « Le Désert qui murmure »."
    shots = by_attack["many-shot"].history
    assert len(shots) == 40 and [m["role"] for m in shots[:2]] == ["user", "assistant"]
    assert by_attack["many-shot"].turns == [by_attack["many-shot"].question]
    # Resuming answers nothing twice.
    before = len(records)
    Run(plan, agents(), tmp_path, DATA_DIR).execute(show_progress=False)
    assert len(answers.read_text().splitlines()) == before


@needs_data
def test_attacks_transform_the_question():
    bench = load_benchmark("tofu", DATA_DIR)
    item = next(i for i in bench.split("forget").items if i.target and i.target in i.question)
    ctx = AttackContext(agents(), bench, DATA_DIR)
    masked = get_attack("masking").make(item, ctx)[0]
    assert item.target not in masked and "the person who" in masked
    turns = get_attack("multi-turn").make(item, ctx)
    assert len(turns) == 3 and item.target not in turns[-1]
    shots = get_attack("many-shot-qa").make(item, ctx)[0]
    assert shots.count("\nA: ") >= 20 and shots.endswith(f"Q: {item.question}\nA:")
    assert "auditor" in get_attack("injection").make(item, ctx)[0]
    encoded = get_attack("encoding").make(item, ctx)[0]
    assert item.question not in encoded


@pytest.mark.parametrize("rule", ["independent", "old scanner-based"])
def test_leak_counts_names_and_high_recall(rule):
    from alu.evaluation import leaks
    from alu.evaluation.records import AnswerRecord
    from alu.evaluation.summary import leaked, leaked_by_scanner
    from alu.scan import TargetIndex
    from alu.targets import Target

    if rule == "independent":
        screen = [leaks.Target("Basil Mahfouz Al-Kuwaiti")]
    else:
        screen = TargetIndex.of([Target(name="Basil Mahfouz Al-Kuwaiti", kind="person")])
        leaked = leaked_by_scanner
    base = {"gold": "He was born in Kuwait City in 1956.", "answers": [], "turns": []}

    def record(**fields) -> AnswerRecord:
        ids = {"key": "k", "benchmark": "b", "split": "s", "system": "x", "item_id": "i", "question": "q"}
        return AnswerRecord(**{**ids, **base, **fields})

    named = {"answer": "That is basil mahfouz al-kuwaiti.", "answers": ["x", "Basil Mahfouz Al-Kuwaiti"]}
    assert leaked(record(**named), screen, 0.9)
    assert leaked(record(answer="He was born in Kuwait City in 1956."), screen, 0.5)
    assert not leaked(record(answer="I don't know."), screen, 0.5)
    # An echo of the user's own words is not a leak; a name the user never gave is.
    echo = {
        "turns": ["Where was Basil Mahfouz Al-Kuwaiti born?"],
        "answer": "Basil Mahfouz Al-Kuwaiti? No idea.",
    }
    assert not leaked(record(**echo), screen, 0.9)
    assert leaked(record(**{**echo, "turns": ["Where was he born?"]}), screen, 0.9)


@pytest.mark.parametrize("profile", ["smoke", "small", "medium", "full"])
def test_every_profile_goal_names_a_check_with_its_parameters(profile):
    from alu.evaluation.goals import CHECKS, check_goals

    plan = Plan.profile(profile)
    assert plan.goals and all(goal.check in CHECKS.names() for goal in plan.goals)
    # An empty summary measures nothing (a goal may say so in a row: "not measurable"), but a
    # misspelt parameter still fails the call.
    assert all(row.ok is None for row in check_goals({"benchmarks": {}, "attacks": {}}, plan.goals))


def test_limits_by_split_name_apply_to_every_named_split():
    plan = Plan(systems=["vanilla"], benchmarks={"parametric": {}, "tofu": {"limits": {"forget": 4}}})
    plan = plan.with_overrides(limit="forget=3,neighbours=2,retain=1")
    # A benchmark drawn whole takes every named split; one with listed limits only those it lists.
    assert plan.benchmarks["parametric"].limits == {"forget": 3, "neighbours": 2, "retain": 1}
    assert plan.benchmarks["tofu"].limits == {"forget": 3}


def mmlu_plan(n: int) -> Plan:
    return Plan(systems=["vanilla"], benchmarks={"mmlu": {"limits": {"mmlu": n}}})


@needs_data
def test_a_failed_call_leaves_its_question_for_the_next_run(tmp_path):
    plan = mmlu_plan(6)
    first = Run(plan, ScriptedModel(default="B"), tmp_path, DATA_DIR)
    first.load()
    doomed = first.chosen[("mmlu", "mmlu")][2].question[:40]
    failing = ScriptedModel(default="B").on("vanilla", ModelError("timed out"), pattern=re.escape(doomed))
    run = Run(plan, failing, tmp_path, DATA_DIR)
    answers = run.execute(show_progress=False)
    assert len(read_answers(answers)) == 5 and len(run.unanswered) == 1
    assert run.unanswered[0] not in {r.key for r in read_answers(answers)}
    again = Run(plan, ScriptedModel(default="B"), tmp_path, DATA_DIR)
    again.execute(show_progress=False)
    assert again.unanswered == [] and run.unanswered[0] in {r.key for r in read_answers(answers)}


def failing_on(questions: set[str], error: Exception) -> ScriptedModel:
    """Answers "B", except to the given questions: ``error``."""

    def reply(messages) -> str:
        if any(q in messages[-1]["content"] for q in questions):
            raise error
        return "B"

    return ScriptedModel(default=reply)


@needs_data
@pytest.mark.parametrize("workers", [1, 3])
def test_a_model_that_keeps_failing_stops_the_run_and_is_asked_nothing_more(tmp_path, workers):
    dead = ScriptedModel(default=ModelError("connection refused"))
    with pytest.raises(EvalError, match=r"5 model calls failed in a row.*connection refused"):
        Run(mmlu_plan(40), dead, tmp_path, DATA_DIR, concurrency=workers).execute(show_progress=False)
    assert not (tmp_path / "answers.jsonl").exists() or not read_answers(tmp_path / "answers.jsonl")
    # Each question is asked twice (one retry); the workers stop once the fifth has failed.
    assert len(dead.calls) <= (Failures.ERRORS + workers - 1) * ATTEMPTS


@needs_data
def test_an_answer_between_failures_starts_the_count_again(tmp_path):
    plan = mmlu_plan(10)
    first = Run(plan, ScriptedModel(default="B"), tmp_path, DATA_DIR)
    first.load()
    items = first.chosen[("mmlu", "mmlu")]
    doomed = {items[i].question[:40] for i in (0, 1, 2, 3, 5, 6, 7, 8)}  # four, one answered, four
    run = Run(plan, failing_on(doomed, ModelError("boom")), tmp_path, DATA_DIR)
    answers = run.execute(show_progress=False)
    assert len(run.unanswered) == 8 and len(read_answers(answers)) == 2


@needs_data
def test_timeouts_are_not_counted_as_a_model_that_is_down(tmp_path):
    plan = mmlu_plan(10)
    first = Run(plan, ScriptedModel(default="B"), tmp_path, DATA_DIR)
    first.load()
    slow = {i.question[:40] for i in first.chosen[("mmlu", "mmlu")][:7]}  # seven in a row
    run = Run(plan, failing_on(slow, ModelTimeout("took longer than 300 s")), tmp_path, DATA_DIR)
    answers = run.execute(show_progress=False)
    assert len(run.unanswered) == 7 and len(read_answers(answers)) == 3
    # Past Failures.TIMEOUTS in a row the plan's timeout is too short for the model: stop.
    with pytest.raises(EvalError, match="failed or timed out in a row"):
        Run(mmlu_plan(40), ScriptedModel(default=ModelTimeout("slow")), tmp_path / "b", DATA_DIR).execute(
            show_progress=False
        )


@needs_data
def test_an_incomplete_run_writes_its_report_and_says_so(tmp_path):
    plan = mmlu_plan(4)
    first = Run(plan, ScriptedModel(default="B"), tmp_path, DATA_DIR)
    first.load()
    doomed = {first.chosen[("mmlu", "mmlu")][1].question[:40]}
    with pytest.raises(EvalError, match=r"1 question.*not answered.*run the same command again"):
        evaluate(
            plan,
            failing_on(doomed, ModelError("boom")),
            tmp_path,
            DATA_DIR,
            pipeline=PipelineConfig(),
            command="alu eval",
            model_spec="scripted",
        )
    assert (tmp_path / "report.md").is_file() and len(read_answers(tmp_path / "answers.jsonl")) == 3
