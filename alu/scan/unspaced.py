"""Names in scripts written without spaces: Chinese, Japanese, Korean (and Thai).

The lexical pre-screen matches word tokens, and running Chinese or Japanese text has no
word boundaries: folded to ASCII it becomes one long token. This scanner finds such names
as substrings instead: at each position of the text, one hash probe per length that some
name has (a handful: names are short), so the cost is linear in the text and flat in the
number of targets, however many names share their first characters. Spaces and the middle dots that may
separate a name's parts (林纳斯·托瓦兹, リーナス・トーバルズ, 리누스 토르발스) are ignored
on both sides.

With an index file the names are filed in it (``file_tables``) and read in place, shared by
every process mapping it (``MappedScripts``), with the changes since as a delta.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from ..targets.target import Target
from ..text import UNSPACED_LETTERS
from .base import NAME_WEIGHT, Candidate, Scanner, Signal, best_first, register_scanner
from .filetargets import FileMask
from .indexfile import IndexFile, Table, table_arrays
from .postings import Postings

UNSPACED = re.compile(f"[{UNSPACED_LETTERS}]")
_GAPS = re.compile(r"[\s·・‧•\-‐_.]+")


def normal(text: str) -> str:
    """``text`` compared as names are: NFKC, case-folded, without spaces and middle dots."""
    return _GAPS.sub("", unicodedata.normalize("NFKC", text).casefold())


def unspaced_names(target: Target) -> set[str]:
    """The target's names written in a script without spaces, normalised."""
    return {k for n in target.identity_names() if UNSPACED.search(n) and len(k := normal(n)) >= 2}


@register_scanner("unspaced-scripts")
class ScriptScanner(Scanner):
    wants_rule = f"unspaced-names-v1:{UNSPACED.pattern}"

    def wants(self, target: Target) -> bool:
        return bool(unspaced_names(target))

    def __init__(self) -> None:
        self.targets: dict[int, Target] = {}  # those with a name in such a script
        self._owners = Postings()  # name -> target ids
        self._lengths: Counter[int] = Counter()  # name length -> names that long

    def copy(self) -> ScriptScanner:
        """A copy to change while this one scans (see ``Scanner.copy``)."""
        other = copy.copy(self)
        other.targets = dict(self.targets)
        other._owners = self._owners.copy()
        other._lengths = self._lengths.copy()
        return other

    def add(self, target: Target) -> None:
        if target.id is None:
            raise ValueError("a target needs an id before it is indexed")
        self.remove(target.id)
        keys = unspaced_names(target)
        if not keys:
            return  # nothing to find: not kept (most targets, of a million)
        for key in keys:
            if key not in self._owners:
                self._lengths[len(key)] += 1
            self._owners.add(key, target.id)
        self.targets[target.id] = target

    def remove(self, target_id: int) -> None:
        target = self.targets.pop(target_id, None)
        if target is None:
            return
        for key in unspaced_names(target):
            self._owners.discard(key, target_id)
            if key not in self._owners:
                self._lengths[len(key)] -= 1
                if not self._lengths[len(key)]:
                    del self._lengths[len(key)]

    def scan(self, text: str) -> list[Candidate]:
        if not self._owners or not UNSPACED.search(text):
            return []
        return _found(normal(text), sorted(self._lengths), self._owners.get, self.targets.__getitem__)

    # -- in an index file ---------------------------------------------------------------
    def file_tables(self, targets: Mapping[int, Target]) -> tuple[dict[str, np.ndarray], dict]:
        """Every name (``names``: name -> target id), the first two characters of each
        (``starts``: where a name may begin), and the names' lengths."""
        names = [(key, tid) for tid in sorted(targets) for key in sorted(unspaced_names(targets[tid]))]
        arrays = {f"names.{p}": a for p, a in table_arrays(names, exact=True).items()}
        starts = {key[:2] for key, _ in names}
        arrays |= {f"starts.{p}": a for p, a in table_arrays(starts, exact=True, valued=False).items()}
        return arrays, {"lengths": sorted({len(key) for key, _ in names})}

    def over_file(self, file: IndexFile) -> MappedScripts | None:
        filed = file.filed.get(self.name)
        if filed is None or filed.get("rule") != self.wants_rule:
            return None
        a = file.tables(self.name)
        names = Table(a["names.k"], a["names.c"], a["names.v"])
        return MappedScripts(file, names, Table(a["starts.k"], a["starts.c"], None), filed["lengths"])


def _found(
    t: str,
    lengths: list[int],
    owners: Callable[[str, tuple], Iterable[int]],
    target: Callable[[int], Target],
) -> list[Candidate]:
    """The targets whose names ``owners`` finds at some position of the normalised text
    ``t``, one probe per name length, best first."""
    found: dict[int, Candidate] = {}
    for i in range(len(t) - 1):
        for length in lengths:
            key = t[i : i + length]
            if len(key) < length:
                break
            ids = owners(key, ())
            if not ids:
                continue
            signal = Signal("name", key, NAME_WEIGHT)
            for tid in ids:
                c = found.get(tid)
                if c is None:
                    c = found[tid] = Candidate(target(tid), 0.0)
                if c.add(signal):
                    c.named = True
    return best_first(list(found.values()))


class MappedScripts(ScriptScanner):
    """The scanner over an index file: the names it filed (shared by every process that
    maps it) less those of the targets changed or removed since (masked out), and the
    targets added or changed since indexed in this scanner's own maps (the delta), as the
    in-memory scanner indexes them. The same verdicts as that scanner over the same list.

    A text's candidate names are looked up together: the keys that start where a filed name
    may start (its first two characters), one per filed length, in one ``searchsorted``."""

    def __init__(self, file: IndexFile, names: Table, starts: Table, lengths: list[int]):
        super().__init__()
        self.file, self._names, self._starts, self._filed_lengths = file, names, starts, lengths
        self.dead = FileMask(file)  # file targets removed or changed since: masked out

    def copy(self) -> MappedScripts:
        other = super().copy()
        assert isinstance(other, MappedScripts)
        other.dead = self.dead.copy()
        return other

    def add(self, target: Target) -> None:
        if target.id is not None:
            self.dead.mark(target.id)
        super().add(target)

    def remove(self, target_id: int) -> None:
        self.dead.mark(target_id)
        super().remove(target_id)

    def scan(self, text: str) -> list[Candidate]:
        if not (len(self._names) or self._owners) or not UNSPACED.search(text):
            return []
        t = normal(text)
        starts = [t[i : i + 2] for i in range(len(t) - 1)]
        unique = list(dict.fromkeys(starts))
        filed_start = dict(zip(unique, self._starts.contains_many(unique), strict=True))
        keys = [
            t[i : i + length]
            for i, start in enumerate(starts)
            if filed_start[start]
            for length in self._filed_lengths
            if i + length <= len(t)
        ]
        keys = list(dict.fromkeys(keys))
        dead, found = self.dead, zip(keys, self._names.get_many(keys), strict=True)
        filed = {key: dead.unmasked(ids) for key, ids in found if ids}
        delta = self._owners

        def owners(key: str, default: tuple) -> list[int]:
            return [*filed.get(key, default), *delta.get(key, default)]

        lengths = sorted(set(self._filed_lengths) | set(self._lengths))
        return _found(t, lengths, owners, self._target)

    def _target(self, target_id: int) -> Target:
        """A delta target as indexed; a file's as filed (unchanged since: not masked)."""
        target = self.targets.get(target_id)
        return target if target is not None else self.file.cached(target_id)
