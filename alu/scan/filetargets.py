"""The target list of an index file, read lazily: the file's records (``IndexFile.target``)
less those removed or changed since it was written, plus the targets added or changed
since, held in memory (the delta).

A replica over the file holds no ``Target`` per target: a scan decodes the few candidates
it finds (the file keeps the last thousand or so decoded, ``IndexFile.cached``), and the
list's length, its ids and membership come from the file's ``ids`` and the delta. A copy
copies the delta alone, so a change to a list of a million targets costs what the change
does.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

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
