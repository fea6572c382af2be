"""Benchmarks as data: each loader, registered by name, turns files into splits of items,
the targets to forget, and the knowledge base the answering model retrieves from.

Data is read from a folder: ``--data-dir``, else ``$ALU_DATA_DIR``, else ``../shared/data``
beside the working directory or the checkout, when it exists; failing that, from the
Hugging Face hub when the ``datasets`` package and a network are there (see ``hub.py``).
Adding a benchmark is adding one module here that calls ``register``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import DataError
from ..knowledge import Document
from ..paths import cache_dir
from ..registry import Registry
from ..targets import Target

Role = Literal["forget", "retain", "hazard", "general", "membership"]
# "kept": no gold answer; an answer counts when it went out as drafted (not refused,
# rewritten or redacted): a question that must be answered as vanilla answers it
Scoring = Literal["rouge", "option", "letter", "mentions", "membership", "kept"]


@dataclass
class Item:
    id: str
    question: str
    answer: str = ""  # gold text (ROUGE) or the correct option's text
    choices: list[str] | None = None  # multiple choice, shown as A-D (scoring "letter")
    correct: int | None = None
    target: str | None = None  # the forget target the item is about
    wrong_answer: str = ""  # a plausible wrong answer (in-context unlearning shots)
    # scoring "mentions": a forget answer leaks, a retain answer is right, when it mentions one
    accepted: list[str] = field(default_factory=list)
    subject: str = ""  # the part of the source it comes from (an MMLU subject), where it has one


@dataclass
class Split:
    name: str
    role: Role
    scoring: Scoring
    items: list[Item]
    # a split pooling a few subjects that are each judged (mmlu_hard): the summary also gives
    # every figure per item subject
    by_subject: bool = False


@dataclass
class Benchmark:
    name: str
    splits: list[Split]
    targets: list[Target] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    forget_documents: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    # The targets are people no model learned in training (TOFU's fictitious authors): a
    # pipeline may treat them as unknown to the model without probing ([pipeline] unprobed).
    invented_targets: bool = False

    def split(self, name: str) -> Split:
        for s in self.splits:
            if s.name == name:
                return s
        raise DataError(f"{self.name} has no split {name!r}: {', '.join(s.name for s in self.splits)}")


Loader = Callable[..., Benchmark]
_LOADERS: Registry[Loader] = Registry("benchmark", __name__, DataError)
register = _LOADERS.register


def benchmarks() -> list[str]:
    return sorted(_LOADERS.names())


def loader(name: str) -> Loader:
    """The loader registered as ``name``; an unknown name is a one-line DataError."""
    return _LOADERS.get(name)


def load_benchmark(name: str, root: Path, **options) -> Benchmark:
    return loader(name)(root, **options)


def data_dir(explicit: str | Path | None = None) -> Path:
    if explicit is not None:
        if not Path(explicit).is_dir():
            raise DataError(f"data folder not found: {explicit}")
        return Path(explicit)
    candidates = [
        os.environ.get("ALU_DATA_DIR"),
        Path.cwd().parent / "shared" / "data",
        Path(__file__).resolve().parents[3] / "shared" / "data",
    ]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    try:
        import datasets  # noqa: F401
    except ImportError:
        raise DataError(
            "no data folder: pass --data-dir or set ALU_DATA_DIR (looked for ../shared/data)"
        ) from None
    from .hub import materialize

    fetched = cache_dir() / "data"
    return fetched if (fetched / "tofu" / "full.json").is_file() else materialize(fetched)
