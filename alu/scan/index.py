"""The live target list the pipeline guards with: synced from a store (or fixed), plus
targets given for one request only, behind one ``scan(text)``.

Everything that asks "does this text name or reveal a target?" goes through here: the
pre-screen, the retrieval guard, the output gate, the ``filter`` baseline and the
evaluation's leak metric.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from ..deadline import DeadlineExceeded, request_remaining
from ..stores.base import Store, Watch
from ..targets.target import Target
from .base import SCANNERS, Candidate, Scanner
from .lexical import CANDIDATE_THRESHOLD

# A sync that brings more changes than this indexes the whole list afresh; fewer are applied
# to copies of the scanners in use. Either way scans go on, on the list as it was, meanwhile.
REBUILD_AT = 1_000
# A change set this small, arriving while nothing reads the list, is applied to the list in
# use instead (copying the scanners costs some 3.5 ms per 1,000 targets, seconds at a
# million); a scan starting meanwhile waits the milliseconds it takes.
IN_PLACE_AT = 10
# The longest text the screen reads (characters). Its cost is linear in the text, some
# 25 us a character at most on one core, so a screen at the bound takes about a second; a
# question is held to PipelineConfig.max_query_chars, at most half of this, so that the
# question and a draft as long are screened together.
MAX_SCREEN_CHARS = 40_000


class TextTooLong(ValueError):
    """A text over ``MAX_SCREEN_CHARS``: not screened, so whatever carries it fails closed."""


def default_scanners() -> list[Scanner]:
    """One of each registered scanner (``alu.scan.base.register_scanner``)."""
    return [SCANNERS.get(name)() for name in sorted(SCANNERS.names())]


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
    return [replace(c, signals=list(c.signals)) for c in candidates]


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


@dataclass
class _Snapshot:
    """One state of the list. Scans read it without a lock: its targets and scanners change
    only while no one reads it (``readers``, counted under the index's gate)."""

    targets: dict[int, Target]
    scanners: tuple[Scanner, ...]
    revision: int
    readers: int = 0


class TargetIndex:
    """Targets and their scanners. With a store, ``sync`` picks up what any process changed
    since the last look; without one, the list is fixed at construction.

    Scans read an immutable snapshot of the list and take no lock, so a long text screened
    on one thread holds up no other request. A change makes the next snapshot and swaps it
    in: a change set is applied to copies of the scanners in use (each shares what the
    change leaves alone), a large one (an import) indexes the whole list afresh, and a
    very small one, while nothing reads the list, is applied to it in place. What
    only reads the list (paging through it) goes on meanwhile; a request, which syncs
    first, waits for the new list."""

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
        self._sync_lock = threading.Lock()  # one change at a time
        self._gate = threading.Lock()  # held briefly: to start or end reading, to change in place
        self._watch: Watch | None = None
        first = scanners()
        numbered: dict[int, Target] = {}
        if store is None:
            for number, target in enumerate(targets):
                target = target.model_copy(update={"id": first_id + step * number})
                numbered[target.id] = target
                for scanner in first:
                    scanner.add(target)
        self._snapshot = _Snapshot(numbered, tuple(first), 0)

    @classmethod
    def of(cls, targets: Sequence[Target]) -> TargetIndex:
        """A fixed index over ``targets`` (numbered from 1)."""
        return cls(None, targets)

    def _remove(self, target_id: int) -> None:
        """Forget one target now (a fixed index has no store to bring the change)."""
        with self._sync_lock:
            self._apply(self._snapshot.revision, {target_id: None})

    def sync(self) -> None:
        """Pick up target changes made since the last look (by anyone using the store).

        While another thread applies changes or builds a new index beside this one, waits for
        it: a target takes effect on the next request, never a request later (a server that
        just started with a long list must not answer against an empty one). A request that
        waits past its deadline fails closed (DeadlineExceeded)."""
        if self.store is None or self.store.revision() == self._snapshot.revision:
            return
        remaining = request_remaining()
        if not self._sync_lock.acquire(timeout=-1 if remaining is None else max(remaining, 0.0)):
            raise DeadlineExceeded("the target list was still being updated at the request's deadline")
        try:
            current = self._snapshot
            if self.store.revision() == current.revision:
                return  # another thread applied it while this one waited
            revision, changes = self.store.changes_since(current.revision)
            if len(changes) > self.rebuild_at:
                self._snapshot = self._rebuilt(current, revision, changes)
            else:
                self._apply(revision, changes)
        finally:
            self._sync_lock.release()

    def _apply(self, revision: int, changes: dict[int, Target | None]) -> None:
        """``changes`` applied in place while nothing reads the list, if few; else to copies
        of the scanners in use, swapped in when done."""
        current = self._snapshot
        if len(changes) <= IN_PLACE_AT:
            with self._gate:
                if current.readers == 0:
                    _change(current.targets, current.scanners, changes)
                    current.revision = revision
                    return
        targets, scanners = dict(current.targets), tuple(s.copy() for s in current.scanners)
        _change(targets, scanners, changes)
        self._snapshot = _Snapshot(targets, scanners, revision)

    def _rebuilt(self, current: _Snapshot, revision: int, changes: dict[int, Target | None]) -> _Snapshot:
        """The next snapshot: a new set of scanners over the changed list."""
        targets = dict(current.targets)
        for tid, target in changes.items():
            if target is None:
                targets.pop(tid, None)
            else:
                targets[tid] = target
        scanners = self._make_scanners()
        for target in sorted(targets.values(), key=lambda t: t.id or 0):
            for scanner in scanners:
                scanner.add(target)
        return _Snapshot(targets, tuple(scanners), revision)

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
        return self._snapshot.revision

    @contextlib.contextmanager
    def _reading(self) -> Iterator[_Snapshot]:
        """The list as it is now, kept unchanged while read (no lock is held meanwhile)."""
        with self._gate:
            snapshot = self._snapshot
            snapshot.readers += 1
        try:
            yield snapshot
        finally:
            with self._gate:
                snapshot.readers -= 1

    def __len__(self) -> int:
        return len(self._snapshot.targets)

    def targets(self) -> list[Target]:
        """Every target, in the order they were added."""
        with self._reading() as snapshot:
            return sorted(snapshot.targets.values(), key=lambda t: t.id or 0)

    def scan(self, text: str) -> Scan:
        """What ``text`` says about the targets, read from the current snapshot, no lock held.

        Fails closed rather than answer unscreened: a text over ``MAX_SCREEN_CHARS`` raises
        TextTooLong, and a screen still running at the request's deadline raises
        DeadlineExceeded (checked before and after each scanner: the bound on the text
        bounds how far past the deadline the last one can run)."""
        if len(text) > MAX_SCREEN_CHARS:
            raise TextTooLong(f"{len(text)} characters to screen; the limit is {MAX_SCREEN_CHARS}")
        found = []
        with self._reading() as snapshot:
            for scanner in snapshot.scanners:
                _within_deadline()
                found.append(scanner.scan(text))
        _within_deadline()
        return Scan(_merge(found))

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        """At most ``limit`` targets with an id above ``after``, in id order."""
        with self._reading() as snapshot:
            ids = sorted(tid for tid in snapshot.targets if tid > after)[:limit]
            return [snapshot.targets[tid] for tid in ids]

    def view(self, extra: Sequence[Target] = ()) -> TargetView:
        """This index plus targets that count for one request only."""
        if not extra:
            return TargetView([self])
        return TargetView([self, TargetIndex(None, extra, first_id=-1, step=-1)])


def _change(
    targets: dict[int, Target], scanners: Sequence[Scanner], changes: dict[int, Target | None]
) -> None:
    for tid, target in changes.items():
        if target is None:
            targets.pop(tid, None)
            for scanner in scanners:
                scanner.remove(tid)
        else:
            targets[tid] = target
            for scanner in scanners:
                scanner.add(target)


def _within_deadline() -> None:
    remaining = request_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlineExceeded("the screen ran past the request's deadline")


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
