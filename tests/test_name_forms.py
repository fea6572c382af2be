"""The forms a name is written in, as data (tests/data/name_forms.jsonl): look-alike letters
of another script, joined, split by an invisible space, surname first, initials, symbols for
punctuation; and the texts that look like a target's name and are not (issue 19). A row
names its target, or not; with ``"as": "candidate"`` it only makes it a candidate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alu.scan import TargetIndex
from alu.targets import Target

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "name_forms.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['target']}: {r['text']}" for r in ROWS])
def test_a_written_form_names_the_target_or_not(row):
    index = TargetIndex.of([Target(name=row["target"], kind=row["kind"])])
    scan = index.scan(row["text"])
    found = scan.above() if row.get("as") == "candidate" else scan.naming
    assert [c.target.name for c in found] == ([row["target"]] if row["named"] else []), row["why"]


def test_the_rows_test_both_ways():
    assert {r["named"] for r in ROWS} == {True, False}
