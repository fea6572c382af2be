"""What a scanner is: one way of finding which targets a text names or reveals.

Scanners are kept in step with the target list by :class:`~alu.scan.index.TargetIndex`,
which applies them all, in a loop, to every text it is asked about (as LLM Guard applies
its scanners). The lexical pre-screen is the first; a scanner is one module of this
package that registers itself (``register_scanner``), and every index runs it beside the
others.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from ..registry import Registry
from ..targets.target import Target

SignalKind = Literal["name", "fuzzy-name", "name-part", "phrase", "term", "learned", "knowledge"]
NAMING_KINDS: frozenset[SignalKind] = frozenset({"name", "fuzzy-name"})  # a name or alias as written
NAME_WEIGHT = 3.0  # a name or alias found as written: enough alone to make a target a candidate


@dataclass(frozen=True)
class Signal:
    """One piece of evidence that a text is about a target: what kind of match (``kind``),
    what matched, folded (``key``), and how much it counts (``weight``). Written
    ``kind:key`` in traces."""

    kind: SignalKind
    key: str
    weight: float

    @property
    def names(self) -> bool:
        """A name or alias of the target, exact or misspelled (not a part of one)."""
        return self.kind in NAMING_KINDS

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"


@dataclass
class Candidate:
    """A target the text may be about, and why."""

    target: Target
    score: float
    named: bool = False
    signals: list[Signal] = field(default_factory=list)
    partial: bool = False  # a distinctive part of a person's name (a surname) was found

    def add(self, signal: Signal) -> bool:
        """Count ``signal`` unless the same match (kind and key) is counted already."""
        if any(s.kind == signal.kind and s.key == signal.key for s in self.signals):
            return False
        self.signals.append(signal)
        self.score += signal.weight
        return True

    def absorb(self, other: Candidate, kinds: Collection[SignalKind] | None = None) -> None:
        """Add ``other``'s signals (only those of ``kinds``, when given) for the same target."""
        for signal in other.signals:
            if kinds is not None and signal.kind not in kinds:
                continue
            if self.add(signal):
                self.named = self.named or signal.names
                self.partial = self.partial or signal.kind == "name-part"

    @property
    def names_it(self) -> bool:
        """Named, or, for a person, a surname found: what the output gate counts as naming."""
        return self.named or (self.partial and self.target.kind == "person")

    def novel_evidence(self, known: Candidate | None) -> float:
        """Evidence weight of signals that ``known`` (the same target found in another text,
        such as the question) does not have: what this text adds, beyond names."""
        seen = {(s.kind, s.key) for s in known.signals} if known else set()
        return sum(s.weight for s in self.signals if (s.kind, s.key) not in seen and not s.names)

    def brief(self) -> dict:
        return {
            "name": self.target.name,
            "score": round(self.score, 3),
            "named": self.named,
            "signals": [str(s) for s in self.signals[:8]],
        }


_SCORE, _NAME = attrgetter("score"), attrgetter("target.name")


def best_first(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` sorted in place as by the key (-score, name): by name, then by score
    from the highest, both sorts stable and keyed in C (a text's eighty candidates took some
    15 us with a key function written in Python)."""
    candidates.sort(key=_NAME)
    candidates.sort(key=_SCORE, reverse=True)
    return candidates


def by_score(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` sorted in place by score from the highest, stable: as by the key -score."""
    candidates.sort(key=_SCORE, reverse=True)
    return candidates


class Scanner(ABC):
    """Finds targets in text. Maintained incrementally: targets come and go by id."""

    name = "scanner"
    # What ``wants`` answers by, named (change it with ``wants``): an index file records it
    # beside the ids of the targets its scanners wanted when it was written, and a replica
    # whose scanner of this name answers by another rule (another ALU) feeds it every target.
    wants_rule = "every target"

    def wants(self, target: Target) -> bool:
        """Whether ``add(target)`` may index anything. A replica starting over an index file
        decodes and adds only the targets some scanner wants: most targets give a scanner
        other than the lexical one nothing, and a million records need not be read to find
        the few it keeps. It must depend on the target alone (a file written by one process
        serves every other) and may say yes to more than ``add`` keeps: no is a promise that
        ``add`` would index nothing. The default wants every target."""
        return True

    def file_tables(self, targets: Mapping[int, Target]) -> tuple[dict[str, Any], dict] | None:
        """What this scanner indexes of ``targets`` (every one) as numpy arrays for the
        index file, and scalars for its header, so that every process mapping the file
        shares them (``over_file`` reads them); the rule they are made by is
        ``wants_rule``. None (the default): the file records the ids of the targets this
        scanner ``wants`` instead, and a replica gives it those at start."""
        return None

    def over_file(self, file: Any) -> Scanner | None:
        """A new scanner of this kind over the tables ``file_tables`` filed in ``file`` (an
        ``alu.scan.indexfile.IndexFile``), the changes since then ``add``-ed and ``remove``-d;
        None when the file holds none made by this scanner's ``wants_rule``."""
        return None

    @abstractmethod
    def add(self, target: Target) -> None:
        """Index ``target`` (it has an id); a target with the same id is replaced."""

    @abstractmethod
    def remove(self, target_id: int) -> None:
        """Forget the target with this id, if indexed."""

    @abstractmethod
    def scan(self, text: str) -> list[Candidate]:
        """Every target with any signal in ``text``, best first."""

    def scan_sharing(self, text: str, shared: dict) -> list[Candidate]:
        """``scan``, for one of the texts a request screens: ``shared`` is what this scanner
        kept from the request's earlier scans, as it was then (empty at first), to add to.
        The question comes back inside question-plus-draft, and the draft alone after it,
        so what was worked out for their words need not be again. By default nothing is."""
        return self.scan(text)

    def copy(self) -> Scanner:
        """A copy to change while this one goes on scanning, unchanged: the index applies a
        change to copies of the scanners in use and swaps them in. Scanners override this
        with a cheaper copy that shares what the change will not touch."""
        return copy.deepcopy(self)


# Every scanner of this package, by name: a scanner is one module here that registers its
# class, and every index runs them all, in the order of their names.
SCANNERS: Registry[type[Scanner]] = Registry("scanner", __package__)


def register_scanner(name: str):
    """Class decorator: ``@register_scanner("lexical")`` makes every new index run it."""

    def wrap(cls: type[Scanner]) -> type[Scanner]:
        cls.name = name
        return SCANNERS.register(name)(cls)

    return wrap
