"""The live target list the pipeline guards with: synced from a store (or fixed), plus
targets given for one request only, behind one ``scan(text)``.

Everything that asks "does this text name or reveal a target?" goes through here: the
pre-screen, the retrieval guard, the output gate, the ``filter`` baseline and the
evaluation's leak metric.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .prescreen import CANDIDATE_THRESHOLD, PreScreen
from .scanner import Candidate, Scanner
from .store import TargetStore
from .target import Target


def default_scanners() -> list[Scanner]:
    return [PreScreen()]


@dataclass
class Scan:
    """What a text says about the targets: every candidate with any signal, best first."""

    candidates: list[Candidate]

    def above(
        self,
        threshold: float = CANDIDATE_THRESHOLD,
        limit: int | None = None,
        only: Iterable[int] | None = None,
    ) -> list[Candidate]:
        allowed = set(only) if only is not None else None
        found = [
            c for c in self.candidates if c.score >= threshold and (allowed is None or c.target.id in allowed)
        ]
        return found[:limit] if limit else found

    @property
    def named(self) -> list[Candidate]:
        """Candidates whose name or an alias appears in the text."""
        return [c for c in self.candidates if c.named]

    def by_id(self) -> dict[int, Candidate]:
        return {c.target.id: c for c in self.candidates if c.target.id is not None}


def _merge(per_scanner: list[list[Candidate]]) -> list[Candidate]:
    """One candidate per target (the strongest scanner's), best first."""
    best: dict[int | None, Candidate] = {}
    for found in per_scanner:
        for c in found:
            key = c.target.id
            if key not in best or c.score > best[key].score:
                best[key] = c
    merged = list(best.values())
    merged.sort(key=lambda c: -c.score)
    return merged


class TargetIndex:
    """Targets and their scanners. With a store, ``sync`` picks up what any process changed
    since the last look; without one, the list is fixed at construction."""

    def __init__(
        self,
        store: TargetStore | None = None,
        targets: Sequence[Target] = (),
        *,
        scanners: Callable[[], list[Scanner]] = default_scanners,
        first_id: int = 1,
        step: int = 1,
    ):
        self.store = store
        self._make_scanners = scanners
        self._scanners = scanners()
        self._targets: dict[int, Target] = {}
        self._lock = threading.RLock()
        self._revision = 0
        if store is None:
            for number, target in enumerate(targets):
                self._add(target.model_copy(update={"id": first_id + step * number}))

    @classmethod
    def of(cls, targets: Sequence[Target]) -> TargetIndex:
        """A fixed index over ``targets`` (numbered from 1)."""
        return cls(None, targets)

    def _add(self, target: Target) -> None:
        self._targets[target.id] = target
        for scanner in self._scanners:
            scanner.add(target)

    def _remove(self, target_id: int) -> None:
        self._targets.pop(target_id, None)
        for scanner in self._scanners:
            scanner.remove(target_id)

    def sync(self) -> None:
        """Pick up target changes made since the last look (by anyone using the store)."""
        if self.store is None:
            return
        with self._lock:
            if self.store.revision() == self._revision:
                return
            self._revision, changes = self.store.changes_since(self._revision)
            for tid, target in changes.items():
                if target is None:
                    self._remove(tid)
                else:
                    self._add(target)

    def __len__(self) -> int:
        return len(self._targets)

    def targets(self) -> list[Target]:
        """Every target, in the order they were added."""
        with self._lock:
            return sorted(self._targets.values(), key=lambda t: t.id or 0)

    def scan(self, text: str) -> Scan:
        with self._lock:
            return Scan(_merge([s.scan(text) for s in self._scanners]))

    def view(self, extra: Sequence[Target] = ()) -> TargetView:
        """This index plus targets that count for one request only."""
        if not extra:
            return TargetView([self])
        return TargetView([self, TargetIndex(None, extra, first_id=-1, step=-1)])


@dataclass
class TargetView:
    """Several indexes scanned as one: the stored targets and a request's own."""

    indexes: list[TargetIndex]

    def scan(self, text: str) -> Scan:
        found: list[Candidate] = []
        for index in self.indexes:
            found += index.scan(text).candidates
        found.sort(key=lambda c: -c.score)
        return Scan(found)

    def targets(self) -> list[Target]:
        return [t for index in self.indexes for t in index.targets()]
