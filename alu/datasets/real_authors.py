"""Real authors, parametric: TOFU's ``real_authors.json`` asked open-ended, the knowledge in
the model's weights. 20 authors (drawn with a fixed seed) are forgotten, given by name only,
as a right-to-be-forgotten request would; a forget answer leaks when it names one of them
(folded, the surname counts), a retain answer is right when it names its author."""

from __future__ import annotations

import random
from pathlib import Path

from ..targets import Target
from ..text import fold
from . import Benchmark, Item, Split, register
from .tofu import split as tofu_split

NOT_PEOPLE = {"Colombia", "Ireland", "Russia"}  # answers of the set that are places


def _names(answer: str) -> list[str]:
    """The ways an answer names its author: each full name and its surname."""
    found: list[str] = []
    for name in (part.strip() for part in answer.split("/")):
        words = name.split()
        found += [name] if len(words) == 1 else [name, words[-1]]
    return found


def _person(answer: str) -> str:
    """One key per person: 'Tolkien' and 'J.R.R. Tolkien', 'Márquez' and 'Marquez' agree."""
    return fold(_names(answer)[-1])


@register("real_authors")
def load(root: Path, forget: int = 20, seed: int = 0) -> Benchmark:
    rows = tofu_split(root, "real_authors")
    spellings: dict[str, list[str]] = {}
    for r in rows:
        if r["answer"] not in NOT_PEOPLE:
            spellings.setdefault(_person(r["answer"]), []).append(r["answer"])
    chosen = set(random.Random(seed).sample(sorted(spellings), forget))
    target_of: dict[str, Target] = {}
    for key in sorted(chosen):
        written = sorted({n for a in spellings[key] for n in a.split(" / ")}, key=len, reverse=True)
        target_of[key] = Target(name=written[0], kind="person", aliases=written[1:])
    targets = list(target_of.values())
    leak_names = [n for key in sorted(chosen) for a in sorted(set(spellings[key])) for n in _names(a)]
    forget_items, retain_items = [], []
    for i, r in enumerate(rows):
        if r["answer"] not in NOT_PEOPLE and _person(r["answer"]) in chosen:
            target = target_of[_person(r["answer"])].name
            forget_items.append(
                Item(f"real-forget-{i}", r["question"], r["answer"], target=target, accepted=leak_names)
            )
        else:
            retain_items.append(
                Item(f"real-retain-{i}", r["question"], r["answer"], accepted=_names(r["answer"]))
            )
    forgotten = [t.name for t in targets]
    return Benchmark(
        name="real_authors",
        splits=[
            Split("forget", "forget", "mentions", forget_items),
            Split("retain", "retain", "mentions", retain_items),
        ],
        targets=targets,
        notes=[
            f"Real authors (TOFU real_authors.json, open-ended, no knowledge base): {len(forgotten)} authors "
            f"forgotten by name only ({', '.join(forgotten)}); leak = the answer names one of them (folded, "
            "surname counts); retain = the answer names its author. No exact retrained reference exists "
            "here: compare with vanilla."
        ],
    )
