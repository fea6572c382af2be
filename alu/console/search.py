"""The targets list the console pages and searches: every target's id, name, kind and
alias count, and one folded line of its name and aliases, kept in memory and brought up to
date from the store's change log (``changes_since``) before each use, so a page at 100,000
targets is a slice and a search is one pass of substring tests over short strings.

Search folds the query as the screen folds text (:func:`alu.text.fold`: accents, case and
scripts to ASCII), so ``zoe`` finds ``Zoë`` and ``ЛЕНИН`` finds ``Lenin``.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from dataclasses import dataclass

from ..stores import Store
from ..targets import Target
from ..text import fold


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    kind: str
    aliases: int
    enriched: bool


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    total: int  # matching targets, all pages together
    page: int
    pages: int


def _haystack(target: Target) -> str:
    return "\n".join(fold(n) for n in (target.name, *target.aliases))


class TargetList:
    """The store's targets as the console lists them (see the module's docstring)."""

    def __init__(self, store: Store):
        self.store = store
        self.revision = -1
        self._ids: list[int] = []  # sorted
        self._rows: dict[int, Row] = {}
        self._folded: dict[int, str] = {}
        # Every folded line joined (records apart by NUL) and where each record starts:
        # one C-level find per match instead of a Python test per target. Rebuilt after a change.
        self._blob: str | None = None
        self._starts: list[int] = []
        self._lock = threading.Lock()

    def _put(self, target: Target) -> None:
        self._blob = None
        target_id = target.id or 0
        if target_id not in self._rows:
            if not self._ids or target_id > self._ids[-1]:
                self._ids.append(target_id)
            else:
                bisect.insort(self._ids, target_id)
        self._rows[target_id] = Row(
            target_id, target.name, target.kind, len(target.aliases), target.enrichment is not None
        )
        self._folded[target_id] = _haystack(target)

    def _drop(self, target_id: int) -> None:
        self._blob = None
        if self._rows.pop(target_id, None) is not None:
            del self._folded[target_id]
            del self._ids[bisect.bisect_left(self._ids, target_id)]

    def refresh(self) -> None:
        """Catch up with the store (everything on the first call, what changed after)."""
        with self._lock:
            if self.revision < 0:
                revision = self.store.revision()
                for target in self.store.iterate(5000):
                    self._put(target)
                self.revision = revision
                _, changes = self.store.changes_since(revision)  # written while we read
            else:
                if self.store.revision() == self.revision:
                    return
                revision, changes = self.store.changes_since(self.revision)
            for target_id, target in changes.items():
                if target is None:
                    self._drop(target_id)
                else:
                    self._put(target)
            self.revision = max(self.revision, revision)

    def row(self, target_id: int) -> Row | None:
        """The listed target with this id (after catching up with the store)."""
        self.refresh()
        return self._rows.get(target_id)

    def _matching(self, needle: str) -> list[int]:
        """The ids, in order, of the targets one of whose folded names contains ``needle``."""
        if self._blob is None:
            lines = [self._folded[i] for i in self._ids]
            self._starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
            self._blob = "\0".join(lines)
        blob, starts, ids = self._blob, self._starts, self._ids
        found: list[int] = []
        at = blob.find(needle)
        while at >= 0:
            record = bisect.bisect_right(starts, at) - 1
            found.append(ids[record])
            if record + 1 == len(starts):
                break
            at = blob.find(needle, starts[record + 1])  # the next record: each target once
        return found

    def __len__(self) -> int:
        return len(self._ids)

    def page(self, query: str = "", page: int = 1, size: int = 50) -> Page:
        """One page (1-based) of the targets, in the order they were added, whose name or an
        alias contains ``query`` (folded); every target when the query is empty."""
        self.refresh()
        needle = " ".join(fold(query).split())  # one line: it never spans two names
        with self._lock:
            ids = self._matching(needle) if needle else self._ids
            total = len(ids)
            pages = max(1, -(-total // size))
            page = min(max(1, page), pages)
            rows = [self._rows[i] for i in ids[(page - 1) * size : page * size]]
        return Page(rows, total, page, pages)
