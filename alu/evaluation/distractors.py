"""Distractor targets: a long forget list that is not the benchmark's, for measuring how
answer quality holds as the list grows (the ``distractors`` setting of a plan).

Realistic people first: WPU's 100 forget names (real people, with a line of their own
Wikipedia passage), then invented people from several locales (Faker, seeded), each with
an alias and a line of evidence, and every so often a topic or a hazard. None is one of
the benchmark's own people (its targets or the people it asks about); sharing a surname or
a city with them is allowed, and is the point.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from ..targets import Target
from ..text import fold

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL", "tr_TR", "nl_NL", "pt_BR", "sv_SE")
TOPIC_EVERY, HAZARD_EVERY = 25, 50
_HAZARD_WORDS = (
    "aerosolised toxin",
    "pathogen enhancement",
    "nerve agent precursor",
    "ransomware payload",
    "uranium enrichment cascade",
    "botnet command channel",
    "spore drying",
    "exploit chain",
)


def _wpu_people(root: Path) -> list[Target]:
    names = json.loads((root / "wpu_partial" / "wpu_forget100_names_with_replacements.json").read_text())
    passages = {}
    people = root / "wpu_partial" / "whpplus_whp_names.json"
    if people.is_file():
        passages = {p["name"]: p.get("passage", "") for p in json.loads(people.read_text())}
    out = []
    for name in names:
        line = re.split(r"(?<=[.!?])\s", passages.get(name, "").strip())[0][:300]
        out.append(Target(name=name, kind="person", evidence=[line] if line else []))
    return out


def _pools(seed: int) -> dict[str, list[str]]:
    """Names, jobs, cities and phrases drawn once from Faker (several locales, seeded), to
    be combined quickly: a hundred thousand distractors in about a second."""
    from faker import Faker

    fake = Faker(list(LOCALES))
    fake.seed_instance(seed)
    draw = {
        "first": fake.first_name,
        "last": fake.last_name,
        "job": lambda: fake.job().lower(),
        "city": fake.city,
        "topic": fake.catch_phrase,
    }
    return {key: sorted({make() for _ in range(3000)}) for key, make in draw.items()}


def _invented(rng: random.Random) -> Iterator[Target]:
    pool = _pools(rng.randrange(2**31))
    i = 0
    while True:
        i += 1
        city = rng.choice(pool["city"])
        if i % HAZARD_EVERY == 0:
            word = rng.choice(_HAZARD_WORDS)
            description = f"{word} techniques attributed to the {city} programme"
            yield Target(
                name=f"{rng.choice(pool['last'])} {word} {i}", kind="hazard", description=description
            )
        elif i % TOPIC_EVERY == 0:
            topic = rng.choice(pool["topic"])
            yield Target(name=f"{topic} {i}", kind="topic", evidence=[f"{topic} was launched in {city}."])
        else:
            first, last = rng.choice(pool["first"]), rng.choice(pool["last"])
            born = rng.randint(1920, 2005)
            fact = f"{first} {last} is a {rng.choice(pool['job'])} from {city}, born in {born}."
            yield Target(
                name=f"{first} {last}", kind="person", aliases=[f"{first[0]}. {last}"], evidence=[fact]
            )


def distractors(n: int, root: Path, exclude: set[str], seed: int = 0) -> list[Target]:
    """``n`` distractor targets, none named as one of ``exclude`` (folded), no name twice."""
    taken = {" ".join(fold(name).split()) for name in exclude}
    out: list[Target] = []
    rng = random.Random(f"distractors-{seed}")
    for target in [*_wpu_people(root), *_take(_invented(rng), n)]:
        key = " ".join(fold(target.name).split())
        if key in taken:
            continue
        taken.add(key)
        out.append(target)
        if len(out) == n:
            break
    return out


def _take(targets: Iterator[Target], n: int) -> Iterator[Target]:
    for _ in range(n * 2):  # enough even when many collide
        yield next(targets)
