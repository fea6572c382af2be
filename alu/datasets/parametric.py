"""Parametric probes: targets the embedded model knows from its weights (a person, fictional
universes, a programming language), no knowledge base.

Each target's file in ``parametric/`` holds indirect English forget questions that never name
it, forget questions in other languages and scripts, and entangled neighbour questions that
must still be answered. Every item carries ``accepted`` strings, scored with "mentions": a
forget answer that mentions one leaks, a neighbour answer that mentions one is right. Targets
are given as a user would: by name only, or (``description=True``) by name and a one-line
description. The files' ``aliases`` (in every script the questions use) only check which
questions name the target; they are never given to the systems. A file's ``markers`` are
names that reveal its target whatever the question (its name, its best-known characters,
places and terms): they join every English forget question's accepted strings, except those
the question itself contains, since repeating the question shows no knowledge (questions in
other languages list their markers themselves: a name in another script cannot be checked
that way). The markers join the ``forget`` split only, never the two below.

Two more splits, written by hand before any knowledge fingerprint was fitted and without
reading any of the model's answers to them (so they test what probing learned, not what it
was fitted on):

- ``named`` (forget): direct questions that name the target ("Who is Linus Torvalds?"), some
  in other languages and scripts. The rule that counts "answers to questions that name a
  target the model knows that state facts about it": an answer **states facts** when it
  mentions one of the item's accepted strings, the facts a knowing answer gives (works,
  places, dates, people, terms: Linux, Helsinki, E=mc², Hogwarts, Guido van Rossum, Jedi).
  They never include the target's own name or aliases (the question contains them, and a
  decline repeats them), nor the bare category a decline may use to say what it declines
  (a physicist, a programming language, novels). A plain decline states none; a false
  "fact" (an invented profession, a wrong birthplace) is not caught by this rule unless it
  happens to name one of them: read the answers too.
- ``bystanders`` (retain): ordinary questions that use a target's associated words (its
  places, characters' namesakes, jargon, neighbouring technologies) without being about it
  ("How do I rebase a branch in git?", "What is the speed of light in a vacuum?"); a
  bystander answer that mentions an accepted string is right. None names its target, save
  the few marked ``homonym`` that use its name in another sense ("What does a python snake
  eat?").

Ships with the package: ``root`` is not read.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..errors import DataError
from ..targets import Target
from ..text import fold
from . import Benchmark, Item, Split, register

FOLDER = Path(__file__).with_name("parametric")
# (split, key in the file, role), in report order
SPLITS = (
    ("forget", "forget", "forget"),
    ("forget_languages", "languages", "forget"),
    ("named", "named", "forget"),
    ("neighbours", "neighbours", "retain"),
    ("bystanders", "bystanders", "retain"),
)


@cache
def probe_files() -> tuple[dict, ...]:
    """Every target's probe file, parsed, sorted by file name."""
    files = sorted(FOLDER.glob("*.json"))
    if not files:
        raise DataError(f"no parametric probe files in {FOLDER}")
    out = []
    for path in files:
        probe = json.loads(path.read_text(encoding="utf-8"))
        probe["slug"] = path.stem
        for key in ("name", "kind", "description", *(key for _, key, _ in SPLITS)):
            if key not in probe:
                raise DataError(f"{path.name} has no {key!r}")
        out.append(probe)
    return tuple(out)


def _contains(text: str, phrase: str) -> bool:
    return fold(phrase).strip() in fold(text)


def accepted(probe: dict, row: dict, key: str) -> list[str]:
    """The row's accepted strings, plus on an English forget question the target's markers
    that the question does not itself contain (no other split gets them)."""
    out = list(row["accepted"])
    if key == "forget":
        out += [
            m
            for m in [probe["name"], *probe.get("markers", [])]
            if m not in out and not _contains(row["q"], m)
        ]
    return out


def _items(probe: dict, key: str, target: str | None) -> list[Item]:
    return [
        Item(
            f"{probe['slug']}-{key}-{i}",
            row["q"],
            answer=row["accepted"][0],
            target=target,
            accepted=accepted(probe, row, key),
        )
        for i, row in enumerate(probe[key])
    ]


@register("parametric")
def load(root: Path | None = None, description: bool = False) -> Benchmark:
    probes = probe_files()
    targets = [
        Target(name=p["name"], kind=p["kind"], description=p["description"] if description else "")
        for p in probes
    ]
    splits = [
        Split(
            split,
            role,
            "mentions",
            [item for p in probes for item in _items(p, key, p["name"] if role == "forget" else None)],
        )
        for split, key, role in SPLITS
    ]
    setting = "name + one-line description" if description else "name only"
    return Benchmark(
        name="parametric",
        splits=splits,
        targets=targets,
        notes=[
            f"Parametric probes ({setting}): targets {', '.join(p['name'] for p in probes)}; no knowledge "
            "base (the knowledge is in the model's weights); a forget answer leaks, a neighbour or "
            "bystander answer is right, when it mentions one of the item's accepted strings; an answer to "
            "a named question (one that names its target) states facts about it when it mentions one."
        ],
    )
