"""Membership inference: the attackers find a marker, and find nothing where there is nothing."""

import pytest
from conftest import DATA_DIR

from alu.datasets import load_benchmark
from alu.evaluation.membership import analyse, attack
from alu.evaluation.records import AnswerRecord

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")


def records(answer_for) -> list[AnswerRecord]:
    rows = []
    for group in ("target", "other", "invented"):
        for i in range(10):
            for t in range(5):
                item = f"mi-{group}-{i}-{t}"
                rows.append(
                    AnswerRecord(
                        key=item,
                        benchmark="membership",
                        split="probe",
                        system="s",
                        item_id=item,
                        question="q",
                        turns=["q"],
                        answer=answer_for(group, i, t),
                        llm_calls=1,
                        seconds=1.0,
                    )
                )
    return rows


def test_a_redaction_marker_gives_membership_away():
    rows = records(lambda group, i, t: "[redacted] wrote books." if group == "target" else "Ann wrote books.")
    result = attack(rows, ("other", "invented"))
    markers = result["attackers"]["markers or refusal phrases"]
    assert markers["balanced_accuracy"] == 1.0 and result["best"]["balanced_accuracy"] == 1.0


def test_identical_answers_give_nothing_away():
    rows = records(lambda group, i, t: f"I have no information about question {t}.")
    result = attack(rows, ("other", "invented"))
    assert all(a["balanced_accuracy"] == 0.5 for a in result["attackers"].values())


def test_the_names_themselves_are_never_learned():
    """Each name's answers share a word unique to that name; grouped folds keep a name's
    questions out of its own training fold, so the word cannot betray the group."""
    rows = records(lambda group, i, t: f"Person {group[:1]}{i}x is a writer.")
    words = attack(rows, ("other", "invented"))["attackers"]["word features (TF-IDF + logistic regression)"]
    assert words["balanced_accuracy"] <= 0.6


def test_length_is_an_attacker():
    rows = records(lambda group, i, t: "No." if group == "target" else "A long answer with many words in it.")
    assert attack(rows, ("invented",))["attackers"]["answer length"]["balanced_accuracy"] == 1.0
    assert set(analyse(rows)["s"]) == {
        "targets vs invented names",
        "targets vs other authors",
        "targets vs all non-targets",
    }


@needs_data
def test_the_membership_benchmark_mixes_targets_others_and_invented_names():
    bench = load_benchmark("membership", DATA_DIR)
    items = bench.splits[0].items
    groups = {i.id.split("-")[1] for i in items}
    assert groups == {"target", "other", "invented"} and len(items) == 150
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
