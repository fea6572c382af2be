"""The symmetric-delete index behind the pre-screen's one-edit name matching, stored in
two numpy arrays instead of a dict of strings.

Every name token of five letters or more is filed under itself and each of its one-letter
deletes; a text token finds its neighbours by looking up its own deletes. That is about
ten keys per token: as Python strings in a dict, some 900 bytes per target at a million
targets. Here a key is the 64-bit hash of the delete (8 bytes) beside the token's number
(4 bytes), in arrays sorted by key. Hash collisions only add candidates, and every
candidate is checked by edit distance afterwards, so they never change a match.

New tokens wait in a small dict and are merged into the arrays in batches; removed tokens
are retired at once (their number maps to None) and their entries dropped at the next
merge once they are many.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .postings import Postings

MERGE_EVERY = 100_000  # entries waiting before they are merged into the arrays


def deletes(token: str) -> set[str]:
    """Every form of ``token`` with one letter left out."""
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


class DeleteIndex:
    def __init__(self) -> None:
        self._words: list[str | None] = []  # number -> token (None once retired)
        self._numbers: dict[str, int] = {}  # live token -> number
        self._keys = np.empty(0, np.int64)  # sorted hashes of tokens and their deletes
        self._values = np.empty(0, np.int32)  # the token number of each key
        self._waiting = Postings()  # hash -> token numbers, not merged yet
        self._waiting_entries = 0
        self._retired_entries = 0

    def copy(self) -> DeleteIndex:
        """A copy to change while this one is read: the arrays are never changed in place
        (a merge makes new ones), so they are shared."""
        other = DeleteIndex.__new__(DeleteIndex)
        other.__dict__.update(self.__dict__)
        other._words = list(self._words)
        other._numbers = dict(self._numbers)
        other._waiting = self._waiting.copy()
        return other

    def __len__(self) -> int:
        """Live tokens."""
        return len(self._numbers)

    def __contains__(self, token: str) -> bool:
        """Whether ``token`` is filed (and not retired)."""
        return token in self._numbers

    def add(self, token: str) -> None:
        if token in self._numbers:
            return
        number = len(self._words)
        self._words.append(token)
        self._numbers[token] = number
        for variant in deletes(token) | {token}:
            self._waiting.add(hash(variant), number)
            self._waiting_entries += 1
        if self._waiting_entries >= MERGE_EVERY:
            self._merge()

    def discard(self, token: str) -> None:
        number = self._numbers.pop(token, None)
        if number is None:
            return
        self._words[number] = None
        self._retired_entries += len(token) + 1
        if not self._numbers:
            self.__init__()  # empty again: start afresh
        elif self._retired_entries > max(MERGE_EVERY, len(self._keys) // 4):
            self._merge()

    def lookup(self, variants: Iterable[str]) -> set[str]:
        """Live tokens filed under any of ``variants`` (plus, rarely, a hash collision)."""
        return self.lookup_each([variants])[0]

    def lookup_each(self, groups: list[Iterable[str]]) -> list[set[str]]:
        """``lookup`` for each group of variants, in one search of the arrays: a text's
        rare tokens are looked up together (the search's own cost is most of a lookup's)."""
        hashes = [[hash(v) for v in variants] for variants in groups]
        starts = ends = None  # a short list's tokens all wait in the dict: no arrays to search
        if len(self._keys):
            flat = np.fromiter((h for group in hashes for h in group), np.int64)
            starts = np.searchsorted(self._keys, flat, "left").tolist()
            ends = np.searchsorted(self._keys, flat, "right").tolist()
        found, at = [], 0
        for group in hashes:
            numbers = self._waiting.union(group) if self._waiting else set()
            if starts is not None and ends is not None:
                for a, b in zip(starts[at : at + len(group)], ends[at : at + len(group)], strict=True):
                    if b > a:
                        numbers.update(self._values[a:b].tolist())
            at += len(group)
            found.append({w for n in numbers if (w := self._words[n]) is not None})
        return found

    def _merge(self) -> None:
        """Fold the waiting entries into the sorted arrays; drop retired tokens' entries."""
        pairs = [(h, n) for h in self._waiting for n in self._waiting.get(h, ())]
        keys = np.fromiter((h for h, _ in pairs), np.int64, len(pairs))
        values = np.fromiter((n for _, n in pairs), np.int32, len(pairs))
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        at = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, at, keys)
        self._values = np.insert(self._values, at, values)
        if self._retired_entries:
            live = np.fromiter((w is not None for w in self._words), bool, len(self._words))
            keep = live[self._values]
            self._keys, self._values = self._keys[keep], self._values[keep]
            self._retired_entries = 0
        self._waiting = Postings()
        self._waiting_entries = 0
