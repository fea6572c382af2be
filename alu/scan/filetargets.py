"""The target list of an index file, read lazily: the file's records (``IndexFile.target``)
less those removed or changed since it was written, plus the targets added or changed
since, held in memory (the delta).

A replica over the file holds no ``Target`` per target: a scan decodes the few candidates
it finds (the file keeps the last thousand or so decoded, ``IndexFile.cached``), and the
list's length, its ids and membership come from the file's ``ids`` and the delta. A copy
copies the delta alone, so a change to a list of a million targets costs what the change
does.

A scanner over the file masks out what the file's tables say of the targets changed or
removed since (``FileMask``): their ids, kept per scanner, copied with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping

import numpy as np

from ..targets.target import Target
from .indexfile import IndexFile


class FileTargets(MutableMapping[int, Target]):
    """id -> target: the file's, as changed since (``changed``), decoded when read."""

    __slots__ = ("_len", "changed", "file")

    def __init__(self, file: IndexFile):
        self.file = file
        # Changed since the file was written: the target as it is now, None if removed (only
        # ids of the file are kept as None: an added target removed again is forgotten).
        self.changed: dict[int, Target | None] = {}
        self._len = len(file.ids)

    def copy(self) -> FileTargets:
        """A copy to change while this one is read: the delta copied, the file shared."""
        other = FileTargets.__new__(FileTargets)
        other.file, other._len = self.file, self._len
        other.changed = dict(self.changed)
        return other

    def __getitem__(self, target_id: int) -> Target:
        changed = self.changed
        if target_id in changed:
            target = changed[target_id]
            if target is None:
                raise KeyError(target_id)
            return target
        return self.file.cached(target_id)  # KeyError when the file holds none

    def __contains__(self, target_id: object) -> bool:
        changed = self.changed
        if target_id in changed:
            return changed[target_id] is not None
        return target_id in self.file

    def __len__(self) -> int:
        return self._len

    def __setitem__(self, target_id: int, target: Target) -> None:
        if target_id not in self:
            self._len += 1
        self.changed[target_id] = target

    def __delitem__(self, target_id: int) -> None:
        if target_id not in self:
            raise KeyError(target_id)
        self._len -= 1
        if target_id in self.file:
            self.changed[target_id] = None
        else:
            del self.changed[target_id]

    def ids(self) -> np.ndarray:
        """Every id in the list, in order (the file's less the removed, plus the added)."""
        ids = self.file.ids
        removed = [tid for tid, t in self.changed.items() if t is None]
        if removed:
            ids = ids[~np.isin(ids, removed)]
        added = [tid for tid, t in self.changed.items() if t is not None and tid not in self.file]
        return np.union1d(ids, added).astype(np.int64) if added else ids.astype(np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids().tolist())

    def after(self, after: int, limit: int) -> list[int]:
        """At most ``limit`` ids above ``after``, in order (a page)."""
        file, changed = self.file, self.changed
        removed = {tid for tid, t in changed.items() if t is None}
        start = int(np.searchsorted(file.ids, after, "right"))
        # Enough of the file's ids that ``limit`` of them are live, if there are as many.
        kept = [tid for tid in file.ids[start : start + limit + len(removed)].tolist() if tid not in removed]
        added = [tid for tid, t in changed.items() if t is not None and tid > after and tid not in file]
        return sorted(kept + added)[:limit]

    def each(self, ids: Iterator[int] | list[int] | None = None) -> Iterator[Target]:
        """The targets of ``ids`` (default: every one), in that order, decoded one by one
        without passing through the cache: what a new file or a new scanner reads."""
        changed, file = self.changed, self.file
        for tid in self if ids is None else ids:
            if tid in changed:
                target = changed[tid]
                if target is not None:
                    yield target
            elif (position := file.position(tid)) is not None:
                yield file.record(position)


class FileMask:
    """The ids of the file's targets changed or removed since it was written: what its
    tables say of them is stale, so a scanner reading them leaves these ids out (a changed
    target is found in the scanner's delta instead). An id stays masked once marked."""

    __slots__ = ("_ids", "file")

    def __init__(self, file: IndexFile):
        self.file = file
        self._ids: set[int] = set()

    def copy(self) -> FileMask:
        """A copy to change while this one is read: the ids copied, the file shared."""
        other = FileMask.__new__(FileMask)
        other.file, other._ids = self.file, set(self._ids)
        return other

    def mark(self, target_id: int) -> None:
        """``target_id`` changed or removed: masked if the file holds it (a target added
        since is in no table of the file, so there is nothing to mask)."""
        if target_id in self.file:
            self._ids.add(target_id)

    def __contains__(self, target_id: object) -> bool:
        return target_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def unmasked(self, ids: tuple[int, ...]) -> tuple[int, ...]:
        """``ids`` (a table's values) less the masked ones; ``ids`` itself when nothing is
        masked, so a scan of an unchanged file copies nothing."""
        masked = self._ids
        if not masked or not ids:
            return ids
        return tuple(i for i in ids if i not in masked)

    def any_unmasked(self, ids: Iterable[int]) -> bool:
        """Whether some of ``ids`` is not masked (stops at the first)."""
        masked = self._ids
        return any(i not in masked for i in ids)
