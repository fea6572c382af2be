"""TOFU (Maini et al. 2024): 200 fictitious authors, 20 QA pairs each, in ``tofu/``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import DataError
from ..knowledge import Document
from ..targets import Target
from . import Benchmark, Item, Split, register

ROWS_PER_AUTHOR = 20
_NAME_SPAN = re.compile(
    r"\b[A-Z][\w'\-.]*(?:\s+(?:(?:de|da|der|den|van|von|del|di|du|la|le|al|el|bin|ibn)\s+)?[A-Z][\w'\-.]*)+"
)


@dataclass(frozen=True)
class Author:
    index: int
    name: str
    rows: tuple[dict, ...]

    def profile(self) -> str:
        """The author's knowledge-base document: their 20 QA pairs."""
        return "\n".join(f"Q: {r['question']}\nA: {r['answer']}" for r in self.rows)


def _json_lines(path: Path) -> list[dict]:
    if not path.is_file():
        raise DataError(f"TOFU file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        rows: list[dict] = []
        for line in text.splitlines():
            if line.strip():
                rows += json.loads(line)
        return rows


def author_name(rows: list[dict]) -> str:
    """The name a block is about: the capitalised span found in the most of its rows,
    preferring spans of the first answer (where TOFU introduces the author)."""
    texts = [r["question"] + " " + r["answer"] for r in rows]
    spans = {s.strip(" .").removesuffix("'s") for t in texts for s in _NAME_SPAN.findall(t)}
    spans = {s for s in spans if len(s.split()) >= 2 and not s.lower().startswith(("the ", "author"))}
    if not spans:
        raise DataError(f"no author name in {rows[0]['answer'][:80]!r}")
    first = rows[0]["answer"]
    return max(sorted(spans), key=lambda s: (sum(s in t for t in texts) + (s in first), len(s)))


@cache
def authors(root: Path) -> tuple[Author, ...]:
    rows = _json_lines(root / "tofu" / "full.json")
    if len(rows) % ROWS_PER_AUTHOR:
        raise DataError(f"tofu/full.json has {len(rows)} rows, not a multiple of 20")
    blocks = [rows[i : i + ROWS_PER_AUTHOR] for i in range(0, len(rows), ROWS_PER_AUTHOR)]
    return tuple(Author(i, author_name(b), tuple(b)) for i, b in enumerate(blocks))


def split(root: Path, name: str) -> list[dict]:
    """A TOFU split file by name (forget01_perturbed, retain_perturbed, real_authors, ...)."""
    return _json_lines(root / "tofu" / f"{name}.json")


FORGET_AUTHORS = {"forget01": 2, "forget05": 10, "forget10": 20}


def _options(row: dict) -> list[str]:
    return [row[f"option{i}"] for i in range(1, 5)]


@register("tofu")
def load(root: Path, forget: str = "forget01") -> Benchmark:
    """TOFU with the forget authors' QA pairs as targets' evidence, and one knowledge-base
    document per QA pair (retrieving single pairs keeps prompts short; the reference
    removes every pair of the forget authors)."""
    if forget not in FORGET_AUTHORS:
        raise DataError(f"unknown TOFU forget split {forget!r}: use {', '.join(FORGET_AUTHORS)}")
    everyone = authors(root)
    forgotten = everyone[-FORGET_AUTHORS[forget] :]
    docs = [
        Document(f"tofu-{a.index}-{i}", f"Q: {r['question']}\nA: {r['answer']}", a.name, {"author": a.name})
        for a in everyone
        for i, r in enumerate(a.rows)
    ]
    targets = [Target(name=a.name, kind="person", evidence=[r["answer"] for r in a.rows]) for a in forgotten]
    forget_rows = split(root, f"{forget}_perturbed")
    owner = {r["question"]: a.name for a in forgotten for r in a.rows}
    forget_items = [
        Item(
            f"{forget}-{i}",
            r["question"],
            r["answer"],
            target=owner.get(r["question"]),
            wrong_answer=(r.get("perturbed_answer") or [""])[0],
        )
        for i, r in enumerate(forget_rows)
    ]
    retain = [
        Item(f"retain-{i}", r["question"], r["answer"]) for i, r in enumerate(split(root, "retain_perturbed"))
    ]
    real = [
        Item(f"real-{i}", r["question"], r["answer"], choices=_options(r))
        for i, r in enumerate(split(root, "real_authors"))
    ]
    world = [
        Item(f"world-{i}", r["question"], r["answer"], choices=_options(r))
        for i, r in enumerate(split(root, "world_facts"))
    ]
    return Benchmark(
        name="tofu",
        splits=[
            Split("forget", "forget", "rouge", forget_items),
            Split("retain", "retain", "rouge", retain),
            Split("real_authors", "retain", "option", real),
            Split("world_facts", "retain", "option", world),
        ],
        targets=targets,
        documents=docs,
        invented_targets=True,
        forget_documents={d.id for d in docs if d.meta["author"] in {a.name for a in forgotten}},
        notes=[
            f"TOFU {forget}: forget authors {', '.join(a.name for a in forgotten)}; "
            "knowledge base = the 4,000 QA pairs of full.json as single documents; "
            "target evidence = the forget authors' answers."
        ],
    )
