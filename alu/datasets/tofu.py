"""TOFU (Maini et al. 2024): 200 fictitious authors, 20 QA pairs each, in ``tofu/``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import DataError

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
