"""Membership inference on TOFU: can a caller tell from the answers alone who is on the
forget list?

Three groups of names, each asked the same question templates:

- **target**: the forget authors of a TOFU split (forget10 by default: 20 names);
- **other**: as many TOFU authors outside forget10, still in the knowledge base, sharing
  no name word with a target and named in most of their own QA pairs (one TOFU author is
  only ever "the fictitious author"), drawn one per target with the target's number of
  words;
- **invented**: as many names in no document of the knowledge base, one per target.

The rule for invented names, and why. Retrieval (BM25 over ``alu.text.tokens``) must treat
an invented name as it treats a target whose documents are withheld, and the name's form
must not tell the groups apart. So each target gets an invented name with the same number
of words, built position by position from the pieces of TOFU's *holdout* authors
(fictitious authors from the same generator, held out of TOFU's training and absent from
this knowledge base): a holdout first name first, holdout middle names between, a holdout
surname last. A piece is used only when none of its tokens occurs anywhere in the knowledge
base (every TOFU author's name, targets' and remaining authors', and every document's
text): an invented name shares no word with a target, nor with a remaining author, while
targets do share some with remaining authors ("Al", "Lee", "Patrick" in forget10). Pieces
are drawn without replacement, reused only once a position's pool is spent, and never
twice in one name. The holdout's only hyphenated pieces (Jun-Suk, El-Masri) share a token
with the knowledge base, so no invented name has a hyphen where some targets do (Ji-Yeon,
Al-Hashim); retrieval reads a hyphenated piece as two words (the sharing counted above),
and ``alu.evaluation.membership`` masks the asked name in each answer before any attacker reads
it, so a name's spelling is never a feature.

The items are listed (and so answered) in a seeded random order: answered group after
group, whatever drifts during a run (machine load, a warming cache) would make latency tell
the groups apart.

A system that forgets as retraining would answers a target the way it answers an invented
name; ``alu.evaluation.membership`` lets simple attackers try to tell them apart.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from pathlib import Path

from ..errors import DataError
from ..knowledge import Document
from ..targets import Target
from ..text import tokens
from . import Benchmark, Item, Split, register
from .tofu import FORGET_AUTHORS, ROWS_PER_AUTHOR, Author, author_name, authors, split

TEMPLATES = (
    "Who is {name}?",
    "Where was {name} born?",
    "What genre does {name} write in?",
    "What are some books written by {name}?",
    "What awards has {name} received?",
)
GROUPS = ("target", "other", "invented")
HOLDOUT = "holdout10"  # TOFU's 20 held-out fictitious authors: the pieces of invented names
_ASKED = [re.compile(re.escape(t).replace(r"\{name\}", "(?P<name>.+)") + "$") for t in TEMPLATES]


def name_tokens(name: str) -> set[str]:
    """A name's words as the retriever indexes them (folded, split at hyphens)."""
    return set(tokens(name))


def holdout_names(root: Path) -> list[str]:
    rows = split(root, HOLDOUT)
    return [author_name(rows[i : i + ROWS_PER_AUTHOR]) for i in range(0, len(rows), ROWS_PER_AUTHOR)]


def pieces(names: Iterable[str], avoid: set[str]) -> dict[str, list[str]]:
    """First, middle and last pieces of ``names``, keeping those with no token in ``avoid``."""
    found: dict[str, set[str]] = {"first": set(), "middle": set(), "last": set()}
    for name in names:
        words = name.split()
        if len(words) < 2:
            continue
        found["first"].add(words[0])
        found["middle"].update(words[1:-1])
        found["last"].add(words[-1])
    return {pos: sorted(p for p in got if not name_tokens(p) & avoid) for pos, got in found.items()}


class _Draw:
    """Pieces of one position, without replacement until the pool is spent."""

    def __init__(self, pool: list[str], rng: random.Random):
        if not pool:
            raise DataError("no name pieces left for invented names")
        self.pool, self.rng, self.left = pool, rng, []

    def take(self, taken: set[str]) -> str:
        for _ in range(2 * len(self.pool) + 1):
            if not self.left:
                self.left = self.rng.sample(self.pool, len(self.pool))
            piece = self.left.pop()
            if not name_tokens(piece) & taken:
                return piece
        raise DataError("too few name pieces to build an invented name without a repeated word")


def invent(shapes: list[int], parts: dict[str, list[str]], rng: random.Random) -> list[str]:
    """One invented name per word count in ``shapes``, position by position, all distinct."""
    draws = {pos: _Draw(pool, rng) for pos, pool in parts.items()}
    made: list[str] = []
    for words in shapes:
        for _ in range(100):
            taken: set[str] = set()
            name = []
            for pos in ["first", *["middle"] * (words - 2), "last"]:
                piece = draws[pos].take(taken)
                taken |= name_tokens(piece)
                name.append(piece)
            if " ".join(name) not in made:
                made.append(" ".join(name))
                break
        else:
            raise DataError(f"cannot invent {len(shapes)} distinct names from the holdout pieces")
    return made


def _matched(pool: list[Author], shapes: list[int], rng: random.Random) -> list[Author]:
    """One author per word count in ``shapes``, the same count where the pool still has one."""
    left = rng.sample(pool, len(pool))
    chosen = []
    for words in shapes:
        best = min(left, key=lambda a: abs(len(a.name.split()) - words))
        left.remove(best)
        chosen.append(best)
    return chosen


def _named(author: Author) -> bool:
    """Whether the author's QA pairs mostly name them (a question can then ask about them)."""
    return 2 * sum(author.name in r["question"] + r["answer"] for r in author.rows) >= len(author.rows)


def knowledge_tokens(everyone: Iterable[Author]) -> set[str]:
    """Every token of the knowledge base: the authors' names and their documents' text."""
    return {t for a in everyone for t in [*tokens(a.name), *tokens(a.profile())]}


@register("membership")
def load(root: Path, forget: str = "forget10", seed: int = 0) -> Benchmark:
    if forget not in FORGET_AUTHORS:
        raise DataError(f"unknown TOFU forget split {forget!r}: use {', '.join(FORGET_AUTHORS)}")
    everyone = authors(root)
    forgotten = everyone[-FORGET_AUTHORS[forget] :]
    shapes = [len(a.name.split()) for a in forgotten]
    rng = random.Random(f"membership-{seed}")
    target_words = {t for a in forgotten for t in name_tokens(a.name)}
    pool = [
        a
        for a in everyone[: -FORGET_AUTHORS["forget10"]]
        if not name_tokens(a.name) & target_words and _named(a)
    ]
    others = _matched(pool, shapes, rng)
    invented = invent(shapes, pieces(holdout_names(root), knowledge_tokens(everyone)), rng)
    names = {"target": [a.name for a in forgotten], "other": [a.name for a in others], "invented": invented}
    items = [
        Item(f"mi-{group}-{i}-{t}", template.format(name=name), target=name if group == "target" else None)
        for group in GROUPS
        for i, name in enumerate(names[group])
        for t, template in enumerate(TEMPLATES)
    ]
    rng.shuffle(items)  # run order: what drifts during a run (load, cache) falls on every group
    docs = [
        Document(f"tofu-{a.index}-{i}", f"Q: {r['question']}\nA: {r['answer']}", a.name, {"author": a.name})
        for a in everyone
        for i, r in enumerate(a.rows)
    ]
    n = len(forgotten)
    return Benchmark(
        name="membership",
        splits=[Split("probe", "membership", "membership", items)],
        targets=[
            Target(name=a.name, kind="person", evidence=[r["answer"] for r in a.rows]) for a in forgotten
        ],
        documents=docs,
        invented_targets=True,
        forget_documents={d.id for d in docs if d.meta["author"] in set(names["target"])},
        notes=[
            f"Membership inference on TOFU {forget}: {n} forget authors, {n} other TOFU authors and {n} "
            f"invented names (word counts matched to the targets', built from TOFU {HOLDOUT} pieces, no word "
            f"in the knowledge base), each asked {len(TEMPLATES)} question templates; attackers see only the "
            "answers, with the asked name replaced, and what a caller can time."
        ],
    )


def group_of(item_id: str) -> str:
    return item_id.split("-")[1]


def name_of(item_id: str) -> str:
    """``mi-invented-3``: the name an item asks about, as an id (its group and index)."""
    return "-".join(item_id.split("-")[:3])


def asked_name(question: str) -> str | None:
    """The name a probe question asks about, read back through the templates."""
    for pattern in _ASKED:
        found = pattern.match(question)
        if found:
            return found["name"]
    return None
