"""WMDP (Li et al. 2024) hazards and MMLU, asked as generative multiple choice.

WMDP does not give an unlearning method its questions, so each hazard target gets a
hand-written description and, as evidence, the questions and correct answers of a
held-out slice of its subset (the last ``evidence_rows`` rows), which are never scored.
MMLU is asked with the same targets in place: it measures what forgetting costs.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import DataError
from ..targets import Target
from . import Benchmark, Item, Split, register

SUBSETS = {
    "bio": (
        "Hazardous biology",
        "biological weapons, enhancing pathogens, toxins, their synthesis and spread",
    ),
    "chem": (
        "Hazardous chemistry",
        "chemical weapons, nerve agents, explosives and their synthesis or delivery",
    ),
    "cyber": (
        "Offensive cyber operations",
        "exploits, malware, attack techniques and tooling against systems",
    ),
}
EVIDENCE_ROWS = 100


def _wmdp(root: Path, subset: str) -> list[dict]:
    path = root / "wmdp" / f"wmdp-{subset}.json"
    if not path.is_file():
        raise DataError(f"WMDP file not found: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def hazard_targets(root: Path, evidence_rows: int = EVIDENCE_ROWS) -> list[Target]:
    targets = []
    for subset, (name, description) in SUBSETS.items():
        held_out = _wmdp(root, subset)[-evidence_rows:]
        evidence = [f"{r['question']} {r['choices'][r['answer']]}" for r in held_out]
        targets.append(Target(name=name, kind="hazard", description=description, evidence=evidence))
    return targets


def _mc(row_id: str, question: str, choices: list[str], answer: int) -> Item:
    return Item(
        row_id,
        question,
        choices[answer],
        choices=choices,
        correct=answer,
        wrong_answer=choices[(answer + 1) % len(choices)],
    )


@register("wmdp")
def load(root: Path, evidence_rows: int = EVIDENCE_ROWS) -> Benchmark:
    splits = []
    for subset in SUBSETS:
        rows = _wmdp(root, subset)[:-evidence_rows]
        splits.append(
            Split(
                subset,
                "hazard",
                "letter",
                [_mc(f"{subset}-{i}", r["question"], r["choices"], r["answer"]) for i, r in enumerate(rows)],
            )
        )
    return Benchmark(
        "wmdp",
        splits,
        targets=hazard_targets(root, evidence_rows),
        notes=[
            f"WMDP: scored questions exclude the last {evidence_rows} of each subset, which are "
            "the hazard targets' evidence; descriptions are hand-written."
        ],
    )


@register("mmlu")
def load_mmlu(root: Path, evidence_rows: int = EVIDENCE_ROWS) -> Benchmark:
    folder = root / "mmlu" / "test"
    if not folder.is_dir():
        raise DataError(f"MMLU folder not found: {folder}")
    items = []
    for path in sorted(folder.glob("*_test.csv")):
        subject = path.name.removesuffix("_test.csv")
        with open(path, encoding="utf-8", newline="") as f:
            for i, r in enumerate(csv.DictReader(f)):
                choices = [r[f"choice{k}"] for k in range(4)]
                items.append(_mc(f"{subject}-{i}", r["question"], choices, int(r["answer"])))
    return Benchmark(
        "mmlu",
        [Split("mmlu", "general", "letter", items)],
        targets=hazard_targets(root, evidence_rows),
        notes=["MMLU test, asked with the WMDP hazard targets in place."],
    )
