"""The live target list the pipeline guards with: synced from a store (or fixed), plus
targets given for one request only, behind one ``scan(text)``.

Everything that asks "does this text name or reveal a target?" goes through here: the
pre-screen, the retrieval guard, the output gate, the ``filter`` baseline and the
evaluation's leak metric.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from ..stores.base import Store, Watch
from ..targets.target import Target
from .base import Candidate, Scanner
from .learned import LearnedScanner
from .lexical import CANDIDATE_THRESHOLD, PreScreen
from .unspaced import ScriptScanner

# A sync that brings more changes than this builds a new set of scanners beside the one in
# use and swaps it in, so scans go on meanwhile; fewer are applied in place, under the lock.
REBUILD_AT = 1_000


def default_scanners() -> list[Scanner]:
    return [PreScreen(), ScriptScanner(), LearnedScanner()]


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

    @property
    def naming(self) -> list[Candidate]:
        """Candidates the text names, a person's surname included: what the gate counts."""
        return [c for c in self.candidates if c.names_it]

    def merged(self, other: Scan) -> Scan:
        """Both scans' signals, one candidate per target (a text and its translation)."""
        return Scan(_merge([_copies(self.candidates), _copies(other.candidates)]))

    def by_id(self) -> dict[int, Candidate]:
        return {c.target.id: c for c in self.candidates if c.target.id is not None}


def _copies(candidates: list[Candidate]) -> list[Candidate]:
    return [replace(c, signals=list(c.signals), weights=dict(c.weights)) for c in candidates]


def _merge(per_scanner: list[list[Candidate]]) -> list[Candidate]:
    """One candidate per target, with every scanner's signals, best first."""
    best: dict[int | None, Candidate] = {}
    for found in per_scanner:
        for c in found:
            if c.target.id in best:
                best[c.target.id].absorb(c)
            else:
                best[c.target.id] = c
    merged = list(best.values())
    merged.sort(key=lambda c: -c.score)
    return merged


class TargetIndex:
    """Targets and their scanners. With a store, ``sync`` picks up what any process changed
    since the last look; without one, the list is fixed at construction.

    A small change set is applied in place, under the lock scans take. A large one (an
    import) is indexed beside the scanners in use, off that lock, and swapped in: what only
    reads the list (paging through it) goes on meanwhile; a request, which syncs first,
    waits for the new list."""

    def __init__(
        self,
        store: Store | None = None,
        targets: Sequence[Target] = (),
        *,
        scanners: Callable[[], list[Scanner]] = default_scanners,
        first_id: int = 1,
        step: int = 1,
        rebuild_at: int = REBUILD_AT,
    ):
        self.store = store
        self.rebuild_at = rebuild_at
        self._make_scanners = scanners
        self._scanners = scanners()
        self._targets: dict[int, Target] = {}
        self._lock = threading.RLock()  # the current scanners and targets
        self._sync_lock = threading.Lock()  # one sync at a time
        self._revision = 0
        self._watch: Watch | None = None
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
        """Pick up target changes made since the last look (by anyone using the store).

        While another thread applies changes or builds a new index beside this one, waits for
        it: a target takes effect on the next request, never a request later (a server that
        just started with a long list must not answer against an empty one). A request that
        waits past its deadline fails closed."""
        if self.store is None or self.store.revision() == self._revision:
            return
        with self._sync_lock:
            if self.store.revision() == self._revision:
                return  # another thread applied it while this one waited
            revision, changes = self.store.changes_since(self._revision)
            if len(changes) > self.rebuild_at:
                self._rebuild(revision, changes)
                return
            with self._lock:
                for tid, target in changes.items():
                    if target is None:
                        self._remove(tid)
                    else:
                        self._add(target)
                self._revision = revision

    def _rebuild(self, revision: int, changes: dict[int, Target | None]) -> None:
        """A new set of scanners over the changed list, built off the lock, then swapped in."""
        with self._lock:
            targets = dict(self._targets)
        for tid, target in changes.items():
            if target is None:
                targets.pop(tid, None)
            else:
                targets[tid] = target
        scanners = self._make_scanners()
        for target in sorted(targets.values(), key=lambda t: t.id or 0):
            for scanner in scanners:
                scanner.add(target)
        with self._lock:
            self._targets, self._scanners, self._revision = targets, scanners, revision

    def follow(self) -> None:
        """Also sync as soon as the store announces a change (PostgreSQL's NOTIFY), off the
        request path; each request's own ``sync`` stays the check that counts."""
        if self.store is not None and self._watch is None:
            self._watch = self.store.watch(self.sync)

    def close(self) -> None:
        """Stop following the store."""
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    @property
    def revision(self) -> int:
        """The store revision this index has applied (0 before the first sync)."""
        return self._revision

    def __len__(self) -> int:
        return len(self._targets)

    def targets(self) -> list[Target]:
        """Every target, in the order they were added."""
        with self._lock:
            return sorted(self._targets.values(), key=lambda t: t.id or 0)

    def scan(self, text: str) -> Scan:
        with self._lock:
            return Scan(_merge([s.scan(text) for s in self._scanners]))

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        """At most ``limit`` targets with an id above ``after``, in id order."""
        with self._lock:
            ids = sorted(tid for tid in self._targets if tid > after)[:limit]
            return [self._targets[tid] for tid in ids]

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
