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


LEXICON = Path(__file__).parents[1] / "alu" / "scan" / "lexicon"


@pytest.mark.parametrize("path", sorted(LEXICON.glob("*.txt")), ids=lambda p: p.name)
def test_every_lexicon_file_says_where_it_comes_from_and_ships(path):
    import tomllib

    head = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any("Source:" in line for line in head), f"{path.name} has no '# ... Source:' line"
    config = tomllib.loads((LEXICON.parents[2] / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["alu.scan"]
    assert any(path.match(g.split("/")[-1]) and g.startswith("lexicon/") for g in globs)
