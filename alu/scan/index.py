"""The live target list the pipeline guards with: synced from a store (or fixed), plus
targets given for one request only, behind one ``scan(text)``.

Everything that asks "does this text name or reveal a target?" goes through here: the
pre-screen, the retrieval guard, the output gate, the ``filter`` baseline and the
evaluation's leak metric.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..deadline import DeadlineExceeded, request_remaining
from ..stores.base import Store, Watch
from ..targets.target import Target
from .base import SCANNERS, Candidate, Scanner, by_score
from .filetargets import FileTargets
from .filing import processes_for, tables_of
from .indexfile import IndexFile, IndexFileError, building, write
from .lexical import CANDIDATE_THRESHOLD, PreScreen
from .mapped import MappedScreen
from .sharedindex import SEND_FROM, Sender, take_copy

log = logging.getLogger(__name__)

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
# With an index file: targets changed since it was written past which a new file is
# written in the background and swapped in (the delta is indexed in memory, per process).
FOLD_AT = 10_000


Targets = dict[int, Target] | FileTargets


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
    lists = [found for found in per_scanner if found]
    if len(lists) == 1 and all(c.target.id is not None for c in lists[0]):
        return by_score(list(lists[0]))  # one scanner's, a target each (``Scanner.scan``)
    best: dict[int | None, Candidate] = {}
    for found in per_scanner:
        for c in found:
            if c.target.id in best:
                best[c.target.id].absorb(c)
            else:
                best[c.target.id] = c
    merged = list(best.values())
    return by_score(merged)


@dataclass
class _Snapshot:
    """One state of the list. Scans read it without a lock: its targets and scanners change
    only while no one reads it (``readers``, counted under the index's gate)."""

    targets: Targets  # a plain dict, or over an index file its records and the changes since
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
        index_file: str | Path | None = None,
        fold_at: int = FOLD_AT,
        send_from: int = SEND_FROM,
    ):
        self.store = store
        self.rebuild_at = rebuild_at
        self.index_file = Path(index_file) if index_file is not None and store is not None else None
        self.fold_at = fold_at
        self.send_from = send_from
        # Shares the index file through the store (``alu.scan.sharedindex``); None: does not.
        self.copies = Sender(store) if store is not None else None
        self._folding: threading.Thread | None = None
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

    def use_file(self, path: str | Path | None, *, share: bool = True) -> None:
        """Keep the lexical tables in the index file at ``path``, shared by every process
        that maps it (written from the store when missing or unusable), from the next
        sync on; the list is read again from the store then. ``share``: the file is shared
        through the store too (``alu.scan.sharedindex``): its copy taken rather than a file
        written, and a file this process writes sent as its copy."""
        if self.store is None:
            return
        with self._sync_lock:
            self.index_file = Path(path).expanduser() if path is not None else None
            self.copies = Sender(self.store) if share else None
            self._snapshot = _Snapshot({}, tuple(self._make_scanners()), 0)

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
            if self.index_file is not None and (current.revision == 0 or self._mapped(current) is None):
                self._snapshot = self._over_file(current)
                return
            revision, changes = self.store.changes_since(current.revision)
            if len(changes) > self.rebuild_at and self.index_file is not None:
                self._snapshot = self._over_file(current, rewrite=True)
            elif len(changes) > self.rebuild_at:
                self._snapshot = self._rebuilt(current, revision, changes)
            else:
                self._apply(revision, changes)
                self._fold_if_grown()
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
        targets, scanners = _snapshot_copies(current)
        _change(targets, scanners, changes)
        self._snapshot = _Snapshot(targets, scanners, revision)

    def _rebuilt(self, current: _Snapshot, revision: int, changes: dict[int, Target | None]) -> _Snapshot:
        """The next snapshot: a new set of scanners over the changed list."""
        targets = current.targets.copy()
        _put(targets, changes)
        scanners = self._make_scanners()
        for target in _in_order(targets):
            for scanner in scanners:
                scanner.add(target)
        return _Snapshot(targets, tuple(scanners), revision)

    # -- the index file --------------------------------------------------------------
    @staticmethod
    def _mapped(snapshot: _Snapshot) -> MappedScreen | None:
        return next((s for s in snapshot.scanners if isinstance(s, MappedScreen)), None)

    def _open_file(self) -> IndexFile:
        assert self.index_file is not None and self.store is not None
        return IndexFile(self.index_file, self.store.location)

    def _others(self) -> list[Scanner]:
        """New scanners besides the lexical one: what a file records the wanted targets of."""
        return [s for s in self._make_scanners() if not isinstance(s, PreScreen)]

    def _write(self, targets: Mapping[int, Target], revision: int, processes: int = 1) -> None:
        """The index file over ``targets`` written (its lock held), filed by ``processes``
        processes."""
        assert self.index_file is not None and self.store is not None
        arrays, scalars = tables_of(targets, self._others(), processes)
        write(self.index_file, arrays, scalars, revision=revision, store=self.store.location)

    def _write_file(
        self, targets: dict[int, Target], revision: int, refused: str | None = None
    ) -> tuple[IndexFile, bool]:
        """A new file over ``targets`` as of ``revision``, built and written under the lock:
        processes that found no usable file together (``alu serve --workers N`` starting)
        wait for the one that holds it and map what it wrote, so one file is built and all
        of them share its pages. ``refused``: the checksum of a file found not to match.
        Returns the file, and whether this process wrote it."""
        assert self.index_file is not None and self.store is not None
        with building(self.index_file):
            try:  # written by another process while this one waited for the lock?
                file = self._open_file()
                same = file.revision == revision and np.array_equal(file.ids, np.array(sorted(targets)))
                if same and file.checksum != refused:
                    return file, False
            except IndexFileError:
                pass
            # Nothing is served meanwhile: every core files a slice.
            self._write(targets, revision, processes_for(len(targets)))
            return self._open_file(), True

    def _over_file(
        self, current: _Snapshot, *, rewrite: bool = False, file: IndexFile | None = None
    ) -> _Snapshot:
        """The next snapshot, its lexical scanner over the index file: the file as found (or
        ``file``), the store's changes since its revision as the delta (``_on_file``). A
        file that cannot be used (missing, corrupt, of another version or store, not
        matching the store's targets) is replaced first: by the store's copy (``_taken``),
        or else written afresh from the store; meanwhile the index is not ready (the sync
        holding it is what readiness waits for)."""
        assert self.store is not None
        try:
            if rewrite:
                raise IndexFileError("rewritten after a large change")
            file = file or self._open_file()
            return self._on_file(current, file)
        except IndexFileError as e:
            log.info("index file: %s; writing a new one", e)
        refused = file.checksum if file is not None and not rewrite else None
        if not rewrite and self.copies is not None and (taken := self._taken(refused)) is not None:
            try:
                return self._on_file(current, taken)
            except IndexFileError as e:
                log.info("index file: %s; writing a new one", e)
                refused = taken.checksum
        revision, since_current = self.store.changes_since(current.revision)
        targets = {t.id: t for t in _in_order(current.targets) if t.id is not None}
        _put(targets, since_current)
        file, written = self._write_file(targets, revision, refused)
        del targets  # the new snapshot reads them from the file
        if file.revision != revision:
            raise IndexFileError(f"{file.path} changed while it was being read")
        snapshot = self._on_file(current, file)
        if written:  # (not a file another process on the host wrote: that one sends it)
            self._send(file)
        return snapshot

    def _taken(self, refused: str | None) -> IndexFile | None:
        """A usable file at the path, written meanwhile by another process on the host, or
        else the store's copy written there (``alu.scan.sharedindex``); None when neither
        is there. ``refused``: the checksum of a file found not to match the store."""
        assert self.index_file is not None and self.store is not None
        with building(self.index_file):
            try:
                file = self._open_file()
                if file.checksum != refused:
                    return file
            except IndexFileError:
                pass
            if not take_copy(self.store, self.index_file, refused):
                return None
            try:
                return self._open_file()
            except IndexFileError as e:
                log.warning("index file: the store's copy is unusable (%s); building one", e)
                return None

    def _send(self, file: IndexFile) -> None:
        """A copy of ``file``, which this process wrote, sent to the store in the background
        for replicas on other hosts, if the list is long enough to be worth it."""
        if self.copies is not None and len(file.ids) >= self.send_from:
            self.copies.send(file)

    def _on_file(self, current: _Snapshot, file: IndexFile) -> _Snapshot:
        """The next snapshot over ``file``: its lexical tables and its targets' records, with
        the store's changes since it was written as the delta. IndexFileError when the file
        does not describe the store's list.

        At start (revision 0) the store is not read whole: the file is checked against it
        cheaply (the store's revision not behind the file's, its count of targets and its
        first one those of the file with the changes since). A scanner that filed tables
        in the file reads them there, like the lexical one; any other is given only the
        targets the file says it wants (or, later, is the list in use's, brought up to
        date). Later (a new file swapped in) the list's ids are compared with those of the
        list in use."""
        assert self.store is not None
        if current.revision == 0:
            revision, since_file, count, first = self._since(file)
            since_current: dict[int, Target | None] = {}
        else:
            revision, since_current = self.store.changes_since(current.revision)
            if file.revision > revision:
                raise IndexFileError(f"{file.path} is newer than the store")
            later, since_file = self.store.changes_since(file.revision)
            revision = max(revision, later)
        targets = FileTargets(file)
        _put(targets, since_file)
        if current.revision == 0:
            if len(targets) != count:
                raise IndexFileError(f"{file.path} holds {len(targets)} targets, the store {count}")
            if first is not None and targets.get(first.id) != first:
                raise IndexFileError(f"{file.path} does not match the store's targets")
        else:
            expected = current.targets.copy()
            _put(expected, since_current)
            _put(expected, since_file)
            if not np.array_equal(_ids(expected), targets.ids()):
                raise IndexFileError(f"{file.path} does not match the store's targets")
        lexical = MappedScreen(file, targets)  # one list: the snapshot's, the scanner's
        filed: list[Scanner] = [lexical]
        others, unfed = [], []
        in_use = {s.name: s for s in current.scanners if current.revision and not isinstance(s, PreScreen)}
        changed = {tid: targets.get(tid) for tid in {**since_current, **since_file}} if in_use else {}
        for new in self._others():
            if (over := new.over_file(file)) is not None:
                filed.append(over)  # its tables in the file, like the lexical scanner's
                others.append(over)
            elif type(old := in_use.get(new.name)) is type(new):
                others.append(old.copy())  # the list in use's, brought up to date
                _change({}, others[-1:], changed)
            else:
                others.append(new)  # given what it wants of the file, below
                unfed.append(new)
        for tid, target in sorted(since_file.items()):
            for scanner in filed:
                if target is None:
                    scanner.remove(tid)
                else:
                    scanner.add(target)
        _feed(unfed, targets)
        return _Snapshot(targets, (lexical, *others), revision)

    def _since(self, file: IndexFile) -> tuple[int, dict[int, Target | None], int, Target | None]:
        """The store's revision, its changes since ``file``'s, its count of targets and its
        first target, read with no write between (tried again when one came)."""
        assert self.store is not None
        for _ in range(5):
            latest = self.store.revision()
            if latest < file.revision:
                raise IndexFileError(f"{file.path} is newer than the store")
            count = self.store.count()
            first = self.store.page(0, 1)
            revision, since_file = self.store.changes_since(file.revision)
            if revision == latest:
                return revision, since_file, count, first[0] if first else None
        raise IndexFileError("the store kept changing while the file was checked against it")

    def _fold_if_grown(self) -> None:
        """Past ``fold_at`` changes since the file, write a new one in the background."""
        mapped = self._mapped(self._snapshot)
        if mapped is None or mapped.delta_size <= self.fold_at:
            return
        if self._folding is not None and self._folding.is_alive():
            return
        self._folding = threading.Thread(target=self.fold, name="alu-index-fold", daemon=True)
        self._folding.start()

    def fold(self) -> bool:
        """Write the current list to a new index file (or take up a newer one another process
        wrote) and swap it in, requests going on meanwhile over the old one. False when
        another process is writing it now."""
        snapshot = self._snapshot
        mapped = self._mapped(snapshot)
        if mapped is None:
            return False
        try:
            file = self._open_file()
        except IndexFileError:
            file = None
        if file is None or file.revision <= mapped.file.revision:
            assert self.index_file is not None
            with building(self.index_file, wait=False) as mine:
                if not mine:
                    return False
                # Read as one snapshot (no change applied to it in place meanwhile), so the
                # file holds exactly the list as of the revision it records.
                with self._reading() as listing:
                    revision = listing.revision
                    listed = {t.id: t for t in _in_order(listing.targets) if t.id is not None}
                # One process: requests go on meanwhile over the old file and want the cores.
                self._write(listed, revision)
                del listed
            file = self._open_file()
            written = True
        else:
            written = False  # another process's, newer: it sent the copy
        with self._sync_lock:
            self._snapshot = self._over_file(self._snapshot, file=file)
            # Sent only if the list in use is over it: a file found not to match the store
            # (replaced meanwhile by the store's copy or a new file) must not be shared.
            in_use = self._mapped(self._snapshot)
        if written and in_use is not None and in_use.file is file:
            self._send(file)
        return True

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
            return list(_in_order(snapshot.targets))

    def scan(self, text: str, shared: dict | None = None) -> Scan:
        """What ``text`` says about the targets, read from the current snapshot, no lock held.
        ``shared``: what the scans of one request share (``TargetView``), kept per scanner
        and per snapshot revision (a change between two scans starts afresh).

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
                if shared is None:
                    found.append(scanner.scan(text))
                    continue
                # The scanner is kept beside its share: its id is not reused while it is.
                key = (id(scanner), snapshot.revision)
                _, kept = shared.setdefault(key, (scanner, {}))
                found.append(scanner.scan_sharing(text, kept))
        _within_deadline()
        return Scan(_merge(found))

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        """At most ``limit`` targets with an id above ``after``, in id order."""
        with self._reading() as snapshot:
            targets = snapshot.targets
            if isinstance(targets, FileTargets):
                ids = targets.after(after, limit)
            else:
                ids = sorted(tid for tid in targets if tid > after)[:limit]
            return [targets[tid] for tid in ids]

    def view(self, extra: Sequence[Target] = ()) -> TargetView:
        """This index plus targets that count for one request only."""
        if not extra:
            return TargetView([self])
        return TargetView([self, TargetIndex(None, extra, first_id=-1, step=-1)])


def _snapshot_copies(snapshot: _Snapshot) -> tuple[Targets, tuple[Scanner, ...]]:
    """Copies of a snapshot's list and scanners, to change while it is read. Over an index
    file the lexical scanner's copy holds the copy of the list, and the new snapshot holds
    that one: the list is shared by the two again, as in ``_on_file``."""
    scanners = tuple(s.copy() for s in snapshot.scanners)
    for old, new in zip(snapshot.scanners, scanners, strict=True):
        if isinstance(new, MappedScreen):
            assert isinstance(old, MappedScreen) and old.targets is snapshot.targets
            return new.targets, scanners
    return snapshot.targets.copy(), scanners


def _change(
    targets: MutableMapping[int, Target], scanners: Sequence[Scanner], changes: dict[int, Target | None]
) -> None:
    _put(targets, changes)
    for tid, target in changes.items():
        for scanner in scanners:
            if target is None:
                scanner.remove(tid)
            else:
                scanner.add(target)


def _put(targets: MutableMapping[int, Target], changes: dict[int, Target | None]) -> None:
    for tid, target in changes.items():
        if target is None:
            if tid in targets:
                del targets[tid]  # not ``pop``: a file's target is not decoded to be dropped
        else:
            targets[tid] = target


def _in_order(targets: Targets) -> Iterator[Target]:
    """Every target of a list, in id order (a file's decoded one by one, not cached)."""
    if isinstance(targets, FileTargets):
        return targets.each()
    return iter(sorted(targets.values(), key=lambda t: t.id or 0))


def _ids(targets: Targets) -> np.ndarray:
    """A list's ids, in order."""
    if isinstance(targets, FileTargets):
        return targets.ids()
    return np.array(sorted(targets), np.int64)


def _feed(others: Sequence[Scanner], targets: FileTargets) -> None:
    """New scanners given what they index of a list read from a file: the targets the file
    says some of them want, and those changed since it was written (only those they want,
    each). A scanner the file does not know, or that now answers ``wants`` by another rule
    (another ALU wrote the file), is given every target instead: slower, never wrong."""
    if not others:
        return
    file = targets.file
    unknown = [s for s in others if file.others_rules.get(s.name) != s.wants_rule]
    if unknown:
        log.info("index file: reading every target for %s", ", ".join(s.name for s in unknown))
        ids = None
    else:
        added = (tid for tid, t in targets.changed.items() if t is not None)
        ids = sorted({*file.others.tolist(), *added})
    for target in targets.each(ids):
        for scanner in others:
            if scanner in unknown or scanner.wants(target):
                scanner.add(target)


def _within_deadline() -> None:
    remaining = request_remaining()
    if remaining is not None and remaining <= 0:
        raise DeadlineExceeded("the screen ran past the request's deadline")


@dataclass
class TargetView:
    """Several indexes scanned as one, for one request: the stored targets and the
    request's own. Its scans share what they work out (``Scanner.scan_sharing``)."""

    indexes: list[TargetIndex]
    shared: dict = field(default_factory=dict, repr=False)

    def scan(self, text: str) -> Scan:
        found: list[Candidate] = []
        for index in self.indexes:
            found += index.scan(text, self.shared).candidates
        return Scan(by_score(found))

    def targets(self) -> list[Target]:
        return [t for index in self.indexes for t in index.targets()]
