"""A lean inverted index for the pre-screen: key -> the targets (or words) filed under it.

At a million targets the pre-screen files several million keys, and most keys belong to
one target. A ``set`` per key costs 216 bytes before it holds anything, so a key's value
is the bare item while it has one, and a set only from the second on. Keys that are
token tuples are stored as one space-joined string (tokens never contain a space), which
is one object instead of a tuple and its strings.

``copy`` shares every value with the original and copies a key's set the first time the
copy changes it: a change to the target list is applied to a copy of the index in use,
which goes on serving scans unchanged meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator
from typing import Any


def _flat(key: Any) -> Hashable:
    return " ".join(key) if type(key) is tuple else key


class Postings:
    """Like ``defaultdict(set)`` for reading (``get``, ``in``, ``[]``, ``len``), lean inside."""

    __slots__ = ("_map", "_owned")

    def __init__(self) -> None:
        self._map: dict[Hashable, Any] = {}
        self._owned: set[Hashable] | None = None  # keys whose set is this copy's own (None: all)

    def copy(self) -> Postings:
        """A copy to change while this one is read (its sets are copied when first changed)."""
        other = Postings()
        other._map = self._map.copy()
        other._owned = set()
        return other

    def _own_set(self, key: Hashable, current: set) -> set:
        if self._owned is None or key in self._owned:
            return current
        current = self._map[key] = set(current)
        self._owned.add(key)
        return current

    def add(self, key: Any, item: Hashable) -> None:
        key = _flat(key)
        current = self._map.get(key)
        if current is None:
            self._map[key] = item
        elif type(current) is set:
            self._own_set(key, current).add(item)
        elif current != item:
            self._map[key] = {current, item}
            if self._owned is not None:
                self._owned.add(key)

    def discard(self, key: Any, item: Hashable) -> None:
        key = _flat(key)
        current = self._map.get(key)
        if current is None:
            return
        if type(current) is set:
            current = self._own_set(key, current)
            current.discard(item)
            if len(current) == 1:
                self._map[key] = next(iter(current))
        elif current == item:
            del self._map[key]

    def get(self, key: Any, default: Any = None) -> Collection | Any:
        current = self._map.get(" ".join(key) if type(key) is tuple else key)  # _flat, inlined: hot
        if current is None:
            return default
        return current if type(current) is set else (current,)

    def union(self, keys: Iterable[Hashable]) -> set:
        """Every item filed under any of ``keys`` (flat ones: strings, numbers), in one call."""
        found: set = set()
        get = self._map.get
        for key in keys:
            current = get(key)
            if current is None:
                continue
            if type(current) is set:
                found |= current
            else:
                found.add(current)
        return found

    def __getitem__(self, key: Any) -> Collection:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: Any) -> bool:
        return _flat(key) in self._map

    def __len__(self) -> int:
        return len(self._map)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._map)
