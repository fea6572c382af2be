"""Parametric probes: targets the embedded model knows from its weights (a person, fictional
universes, a programming language), no knowledge base.

Each target's file in ``parametric/`` holds indirect English forget questions that never name
it, forget questions in other languages and scripts, and entangled neighbour questions that
must still be answered. Every item carries ``accepted`` strings, scored with "mentions": a
forget answer that mentions one leaks, a neighbour answer that mentions one is right. Targets
are given as a user would: by name only, or (``description=True``) by name and a one-line
description. The files' ``aliases`` only check that forget questions avoid the names; they
are never given to the systems. A file's ``markers`` are names that reveal its target
whatever the question (its name, its best-known characters, places and terms): they join
every English forget question's accepted strings, except those the question itself
contains, since repeating the question shows no knowledge (questions in other languages
list their markers themselves: a name in another script cannot be checked that way).
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
SPLITS = (("forget", "forget", "forget"), ("forget_languages", "languages", "forget"))


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
        for key in ("name", "kind", "description", "forget", "languages", "neighbours"):
            if key not in probe:
                raise DataError(f"{path.name} has no {key!r}")
        out.append(probe)
    return tuple(out)


def _contains(text: str, phrase: str) -> bool:
    return fold(phrase).strip() in fold(text)


def accepted(probe: dict, row: dict, key: str) -> list[str]:
    """The row's accepted strings, plus on an English forget question the target's markers
    that the question does not itself contain."""
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
        Split(split, role, "mentions", [item for p in probes for item in _items(p, key, p["name"])])
        for split, key, role in SPLITS
    ]
    neighbours = [item for p in probes for item in _items(p, "neighbours", None)]
    splits.append(Split("neighbours", "retain", "mentions", neighbours))
    setting = "name + one-line description" if description else "name only"
    return Benchmark(
        name="parametric",
        splits=splits,
        targets=targets,
        notes=[
            f"Parametric probes ({setting}): targets {', '.join(p['name'] for p in probes)}; no knowledge "
            "base (the knowledge is in the model's weights); a forget answer leaks, a neighbour answer "
            "is right, when it mentions one of the item's accepted strings."
        ],
    )
