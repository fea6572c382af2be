"""What a scanner is: one way of finding which targets a text names or reveals.

Scanners are kept in step with the target list by :class:`~alu.scan.index.TargetIndex`,
which applies them all, in a loop, to every text it is asked about (as LLM Guard applies
its scanners). The lexical pre-screen is the first; scanners for other scripts, enriched
terms or embeddings plug in beside it.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from ..targets.target import Target


@dataclass
class Candidate:
    """A target the text may be about, and why."""

    target: Target
    score: float
    named: bool = False
    signals: list[str] = field(default_factory=list)
    weights: dict[str, float] = field(default_factory=dict, repr=False)  # signal -> weight
    partial: bool = False  # a distinctive part of a person's name (a surname) was found

    def absorb(self, other: Candidate, kinds: tuple[str, ...] | None = None) -> None:
        """Add ``other``'s signals (only those of ``kinds``, when given) for the same target."""
        for signal, weight in other.weights.items():
            if signal in self.weights or (kinds is not None and signal.partition(":")[0] not in kinds):
                continue
            self.weights[signal] = weight
            self.signals.append(signal)
            self.score += weight
            kind = signal.partition(":")[0]
            self.named = self.named or kind in ("name", "fuzzy-name")
            self.partial = self.partial or kind == "name-part"

    @property
    def names_it(self) -> bool:
        """Named, or, for a person, a surname found: what the output gate counts as naming."""
        return self.named or (self.partial and self.target.kind == "person")

    def novel_evidence(self, known: Candidate | None) -> float:
        """Evidence weight of signals that ``known`` (the same target found in another text,
        such as the question) does not have: what this text adds, beyond names."""
        seen = known.weights if known else {}
        return sum(
            w
            for s, w in self.weights.items()
            if s not in seen and s.partition(":")[0] not in ("name", "fuzzy-name")
        )

    def brief(self) -> dict:
        return {
            "name": self.target.name,
            "score": round(self.score, 3),
            "named": self.named,
            "signals": self.signals[:8],
        }


class Scanner(ABC):
    """Finds targets in text. Maintained incrementally: targets come and go by id."""

    name = "scanner"

    @abstractmethod
    def add(self, target: Target) -> None:
        """Index ``target`` (it has an id); a target with the same id is replaced."""

    @abstractmethod
    def remove(self, target_id: int) -> None:
        """Forget the target with this id, if indexed."""

    @abstractmethod
    def scan(self, text: str) -> list[Candidate]:
        """Every target with any signal in ``text``, best first."""

    def copy(self) -> Scanner:
        """A copy to change while this one goes on scanning, unchanged: the index applies a
        change to copies of the scanners in use and swaps them in. Scanners override this
        with a cheaper copy that shares what the change will not touch."""
        return copy.deepcopy(self)
