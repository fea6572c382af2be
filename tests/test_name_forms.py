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


# -- how a text writes a target's name (the stranger rewrite swaps these out) --------------
TORVALDS = Target(name="Linus Torvalds", kind="person")


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("Who is Linus Torvalds?", ["Linus Torvalds"]),
        ("Who is Linus Torvals?", ["Linus Torvals"]),  # one edit
        ("Who is Linuss Torvalds?", ["Linuss Torvalds"]),
        ("Кто такой Линус Торвальдс?", ["Линус Торвальдс"]),  # another script
        ("WHO IS LINUS TORVALDS", ["LINUS TORVALDS"]),
        ("What did Torvalds write?", ["Torvalds"]),  # a person's surname alone
        ("Linus·Torvalds and torvalds", ["Linus·Torvalds", "torvalds"]),  # longest first
    ],
)
def test_written_forms_finds_the_name_however_it_is_written(text, forms):
    from alu.scan.names import written_forms

    assert written_forms(text, TORVALDS) == forms


@pytest.mark.parametrize(
    "text",
    [
        "Is Linus Pauling a chemist?",  # another person sharing the given name
        "Linus wrote it.",  # the given name alone
        "Who is Lina Tarvolds?",  # two edits in each word
        "Torvaldsson",  # not one edit
    ],
)
def test_written_forms_leaves_other_people_alone(text):
    from alu.scan.names import written_forms

    assert written_forms(text, TORVALDS) == []


def test_written_forms_takes_a_one_word_name_of_a_topic_but_no_part_of_a_longer_one():
    from alu.scan.names import written_forms

    topic = Target(name="Hogwarts School", kind="topic", aliases=["Hogwarts"])
    assert written_forms("Is Hogwats real?", topic) == ["Hogwats"]
    assert written_forms("A school of magic", topic) == []
    assert written_forms("The School board", Target(name="Hogwarts School", kind="topic")) == []
