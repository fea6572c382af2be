"""Membership inference: the benchmark's names are matched, the nested attacker is unbiased
where there is nothing, finds a marker where there is one, and the goal reads it."""

import random

import numpy as np
import pytest
from conftest import DATA_DIR

from alu.datasets import load_benchmark
from alu.datasets.membership import (
    TEMPLATES,
    asked_name,
    holdout_names,
    invent,
    knowledge_tokens,
    name_tokens,
    pieces,
)
from alu.datasets.tofu import FORGET_AUTHORS, authors
from alu.errors import DataError
from alu.evaluation.goals import check_goals
from alu.evaluation.markdown import markdown
from alu.evaluation.membership import ATTACKERS, WORDS, analyse, attack, masked, nested
from alu.evaluation.plan import Goal
from alu.evaluation.records import AnswerRecord
from alu.knowledge import KnowledgeBase

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")
NEAR = "membership_near_reference"


def records(answer_for, per_group: int = 10, name_for=None, system: str = "s") -> list[AnswerRecord]:
    rows = []
    for group in ("target", "other", "invented"):
        for i in range(per_group):
            name = name_for(group, i) if name_for else f"Person {group.title()}{i}"
            for t, template in enumerate(TEMPLATES):
                item = f"mi-{group}-{i}-{t}"
                question = template.format(name=name)
                rows.append(
                    AnswerRecord(
                        key=f"{system}|{item}",
                        benchmark="membership",
                        split="probe",
                        system=system,
                        item_id=item,
                        question=question,
                        turns=[question],
                        answer=answer_for(group, i, t),
                        llm_calls=1,
                        seconds=1.0,
                    )
                )
    return rows


def babble(seed: int):
    """Answers of random words and lengths, the same for every group: nothing to find."""
    rng = random.Random(seed)
    words = "born wrote novels city award genre poet river quiet sea Paris Lima Oslo".split()
    return lambda group, i, t: " ".join(rng.choice(words) for _ in range(rng.randint(2, 14)))


# --- the nested attacker -------------------------------------------------------------


def test_random_answers_give_a_coin_and_a_large_p_value():
    result = attack(records(babble(0), per_group=20), ("invented",))
    fig = result["nested"]
    assert result["names"] == {"target": 20, "invented": 20}
    assert 0.35 <= fig["balanced_accuracy"] <= 0.65
    assert fig["p_value"] > 0.1 and fig["permutations"] == 200
    assert 0.5 < fig["null_p95"] < 0.7 and abs(fig["null_mean"] - 0.5) < 0.03


def test_nested_choice_is_unbiased_where_best_of_five_is_not():
    """Over many datasets with nothing to find, the nested figure averages a coin, while
    the best attacker picked after the fact averages above it: the bias nesting removes."""
    nested_scores, best_scores = [], []
    for seed in range(24):
        result = attack(records(babble(seed), per_group=10), ("invented",), seed=seed, permutations=0)
        nested_scores.append(result["nested"]["balanced_accuracy"])
        best_scores.append(max(a["balanced_accuracy"] for a in result["attackers"].values()))
    assert abs(np.mean(nested_scores) - 0.5) < 0.04
    assert np.mean(best_scores) > np.mean(nested_scores) + 0.02


def test_a_redaction_marker_gives_membership_away():
    rows = records(lambda group, i, t: "[redacted] wrote books." if group == "target" else "Ann wrote books.")
    result = attack(rows, ("other", "invented"))
    fig = result["nested"]
    assert fig["balanced_accuracy"] == 1.0 and fig["p_value"] < 0.01
    assert (
        fig["null_p95"] < 0.75
        and result["attackers"]["markers or refusal phrases"]["balanced_accuracy"] == 1.0
    )


def test_a_length_signal_is_found_by_the_length_attacker_in_every_fold():
    rows = records(lambda group, i, t: "No." if group == "target" else "A long answer with many words in it.")
    fig = attack(rows, ("invented",))["nested"]
    assert fig["balanced_accuracy"] == 1.0 and fig["p_value"] < 0.01
    assert sum(fig["chosen"].values()) == fig["folds"] == 5


def test_identical_answers_give_nothing_away():
    rows = records(lambda group, i, t: f"I have no information about question {t}.")
    result = attack(rows, ("other", "invented"))
    assert all(a["balanced_accuracy"] == 0.5 for a in result["attackers"].values())
    assert result["nested"]["balanced_accuracy"] == 0.5 and result["nested"]["p_value"] == 1.0


def test_the_names_themselves_are_never_learned():
    """Each name's answers share a word unique to that name; folds by name keep a name's
    answers out of its own training fold, so the word cannot betray the group."""
    rows = records(lambda group, i, t: f"Person {group[:1]}{i}x is a writer.")
    words = attack(rows, ("other", "invented"))["attackers"][WORDS]
    assert words["balanced_accuracy"] <= 0.6


def test_the_asked_name_is_masked_so_its_spelling_is_no_feature():
    """Every target's name holds "Al-" and every answer repeats the name: unmasked, the word
    "al" would tell the groups apart across names."""

    def name_for(group, i):
        return f"Zed{group}{i} Al-Q{i}" if group == "target" else f"Zed{group}{i} Qo{i}"

    def answer_for(group, i, t):
        return f"{name_for(group, i)} wrote about the sea; {name_for(group, i).split()[-1]} lives in Lima."

    rows = records(answer_for, per_group=15, name_for=name_for)
    assert (
        masked(rows[0].answer, asked_name(rows[0].question))
        == "NAME wrote about the sea; NAME lives in Lima."
    )
    result = attack(rows, ("invented",))
    assert result["attackers"][WORDS]["balanced_accuracy"] == 0.5
    assert result["nested"]["balanced_accuracy"] == 0.5


def test_inner_choice_sees_the_training_folds_only():
    """Two features: one separates the groups, one is noise. Every outer fold picks the
    separating one, and an attacker's inner score never uses the outer test rows: with the
    test fold's labels flipped, the choice for that fold does not change."""
    rng = np.random.default_rng(0)
    names = np.repeat(np.arange(20), 5)
    y = (names < 10).astype(int)
    fold = (names % 5).astype(int)
    found = {"noise": rng.normal(size=(100, 1)), "signal": y[:, None] + 0.1 * rng.normal(size=(100, 1))}
    flipped = y.copy()
    flipped[fold == 0] = 1 - flipped[fold == 0]
    labels = np.stack([y, flipped], axis=1)
    out = nested(found, labels, fold)
    assert (out["chosen"][:, 0] == 1).all() and out["chosen"][0, 1] == 1
    assert (out["nested"][:, 0] == y).all()


def test_every_comparison_is_reported():
    assert set(analyse(records(babble(1)), permutations=10)["s"]) == {
        "targets vs invented names",
        "targets vs other authors",
        "targets vs all non-targets",
    }
    assert len(ATTACKERS) == 4  # and the words: five attackers


# --- the benchmark's names -----------------------------------------------------------


def test_invented_names_take_each_shape_from_the_pieces_by_position():
    parts = {"first": ["Ana", "Bo", "Cy"], "middle": ["Dee", "Eli"], "last": ["Fox", "Gil", "Hu"]}
    made = invent([2, 3, 2, 4, 2, 3], parts, random.Random(0))
    assert [len(n.split()) for n in made] == [2, 3, 2, 4, 2, 3] and len(set(made)) == 6
    for name in made:
        words = name.split()
        assert words[0] in parts["first"] and words[-1] in parts["last"]
        assert all(w in parts["middle"] for w in words[1:-1])
        assert len(name_tokens(name)) == len(words)  # no word twice in one name
    with pytest.raises(DataError):
        invent([4], {"first": ["Ana"], "middle": ["Dee"], "last": ["Fox"]}, random.Random(0))


@needs_data
@pytest.mark.parametrize("forget", sorted(FORGET_AUTHORS))
def test_invented_and_other_names_match_the_targets(forget):
    bench = load_benchmark("membership", DATA_DIR, forget=forget)
    n = FORGET_AUTHORS[forget]
    names: dict[str, list] = {g: [None] * n for g in ("target", "other", "invented")}
    for item in bench.splits[0].items:
        _, group, i, _ = item.id.split("-")
        names[group][int(i)] = asked_name(item.question)
    assert all(len(group) == n for group in names.values())
    shapes = [len(x.split()) for x in names["target"]]
    assert [len(x.split()) for x in names["invented"]] == shapes
    assert [len(x.split()) for x in names["other"]] == shapes

    everyone = authors(DATA_DIR)
    targets = {t for x in names["target"] for t in name_tokens(x)}
    remaining = {t for a in everyone[:-n] for t in name_tokens(a.name)}
    shared_by_targets = sum(bool(name_tokens(x) & remaining) for x in names["target"])
    invented = [name_tokens(x) for x in names["invented"]]
    assert not any(words & targets for words in invented)
    assert not any(words & remaining for words in invented)  # none, where targets share some
    assert sum(bool(words & remaining) for words in invented) <= shared_by_targets
    assert not any(name_tokens(x) & targets for x in names["other"])
    assert len(set(names["invented"])) == n

    holdout = pieces(holdout_names(DATA_DIR), set())
    for name in names["invented"]:
        words = name.split()
        assert words[0] in holdout["first"] and words[-1] in holdout["last"]
        assert all(w in holdout["middle"] for w in words[1:-1])


@needs_data
def test_retrieval_finds_nothing_for_an_invented_name():
    """The reviewer's case: for an invented name, the retained knowledge base must offer
    no author's documents (a target's are withheld by the reference)."""
    bench = load_benchmark("membership", DATA_DIR)
    kept = KnowledgeBase([d for d in bench.documents if d.id not in bench.forget_documents])
    invented = {asked_name(i.question) for i in bench.splits[0].items if i.id.startswith("mi-invented")}
    assert len(invented) == 20
    assert all(kept.search(name) == [] for name in invented)
    assert not {t for name in invented for t in name_tokens(name)} & knowledge_tokens(authors(DATA_DIR))


@needs_data
def test_the_membership_benchmark_mixes_targets_others_and_invented_names():
    bench = load_benchmark("membership", DATA_DIR)
    items = bench.splits[0].items
    groups = {i.id.split("-")[1] for i in items}
    assert groups == {"target", "other", "invented"} and len(items) == 3 * 20 * len(TEMPLATES)
    target_words = {w.casefold() for t in bench.targets for w in t.name.split()}
    naming_a_target = [
        item.id
        for item in items
        if not item.id.startswith("mi-target")
        and (
            item.target is not None or target_words & {w.strip("?").casefold() for w in item.question.split()}
        )
    ]
    assert naming_a_target == []  # every non-target question that names one shows


# --- the goal and the report ---------------------------------------------------------


def _summary(reference: float | None, alu: float) -> dict:
    def fig(value: float) -> dict:
        return {
            "names": {"target": 20, "invented": 20},
            "attackers": {"answer length": {"balanced_accuracy": value, "ci95": [0.4, 0.6], "p_value": 0.5}},
            "nested": {
                "balanced_accuracy": value,
                "ci95": [value - 0.08, value + 0.08],
                "folds": 5,
                "chosen": {"answer length": 5},
                "permutations": 200,
                "p_value": 0.3,
                "null_mean": 0.5,
                "null_p95": 0.59,
            },
        }

    systems = {"alu": {"targets vs invented names": fig(alu)}}
    if reference is not None:
        systems["reference"] = {"targets vs invented names": fig(reference)}
    return {"benchmarks": {}, "attacks": {}, "membership": systems}


def _near(summary: dict):
    return check_goals(summary, [Goal(check=NEAR, params={"reference": [0.45, 0.58], "points": 0.05})])


@pytest.mark.parametrize(
    ("reference", "alu", "fair", "near"),
    [
        (0.52, 0.56, True, True),
        (0.52, 0.58, True, False),  # 6 points above retraining
        (0.52, 0.40, True, True),  # an attacker doing worse than on retraining is no leak
        (0.62, 0.62, False, True),  # retraining itself is told apart: the test is unfair
        (0.40, 0.44, False, True),
    ],
)
def test_the_goal_wants_a_fair_reference_and_alu_near_it(reference, alu, fair, near):
    fairness, closeness = _near(_summary(reference, alu))
    assert (fairness.ok, closeness.ok) == (fair, near)
    assert "20 vs 20 names" in fairness.measured and "p=0.300" in closeness.measured


def test_the_goal_is_not_measurable_without_a_reference():
    fairness, closeness = _near(_summary(None, 0.5))
    assert fairness.ok is None and closeness.ok is None
    # planned but not answered: one row says so, never a silent gap in the goals
    unanswered = _near({"benchmarks": {}, "attacks": {}})
    assert unanswered and all(r.ok is None and r.why == "no membership answers" for r in unanswered)


def test_the_old_goal_reads_the_nested_figure():
    summary = _summary(0.5, 0.61)
    summary["membership"]["alu"]["targets vs invented names"]["attackers"]["answer length"][
        "balanced_accuracy"
    ] = 0.3
    (row,) = check_goals(summary, [Goal(check="membership_at_most", params={"at_most": 0.6})])
    assert row.ok is False and row.measured.startswith("0.61")


def test_the_report_states_names_the_nested_figure_and_the_p_value():
    text = markdown({**_summary(0.52, 0.55), "cost": {}}, "# test", [])
    row = next(
        line for line in text.splitlines() if line.startswith("| alu | targets vs invented names | 20")
    )
    assert "0.55 [0.47, 0.63]" in row and "0.300" in row and "answer length (5)" in row


@needs_data
def test_the_groups_are_interleaved_in_run_order():
    """Answered group after group, load drift during a run would show up as latency."""
    items = load_benchmark("membership", DATA_DIR).splits[0].items
    halves = [items[: len(items) // 2], items[len(items) // 2 :]]
    for half in halves:
        counts = {g: sum(i.id.startswith(f"mi-{g}-") for i in half) for g in ("target", "other", "invented")}
        assert min(counts.values()) >= len(half) / 6
