"""Names in scripts written without spaces: Chinese, Japanese, Korean (and Thai).

The lexical pre-screen matches word tokens, and running Chinese or Japanese text has no
word boundaries: folded to ASCII it becomes one long token. This scanner finds such names
as substrings instead: at each position of the text, one hash probe per length that some
name has (a handful: names are short), so the cost is linear in the text and flat in the
number of targets, however many names share their first characters. Spaces and the middle dots that may
separate a name's parts (林纳斯·托瓦兹, リーナス・トーバルズ, 리누스 토르발스) are ignored
on both sides.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections import Counter

from ..targets.target import Target
from .base import NAME_WEIGHT, Candidate, Scanner, Signal, register_scanner
from .postings import Postings

UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_GAPS = re.compile(r"[\s·・‧•\-‐_.]+")


def normal(text: str) -> str:
    """``text`` compared as names are: NFKC, case-folded, without spaces and middle dots."""
    return _GAPS.sub("", unicodedata.normalize("NFKC", text).casefold())


def unspaced_names(target: Target) -> set[str]:
    """The target's names written in a script without spaces, normalised."""
    return {k for n in target.identity_names() if UNSPACED.search(n) and len(k := normal(n)) >= 2}


@register_scanner("unspaced-scripts")
class ScriptScanner(Scanner):
    def __init__(self) -> None:
        self.targets: dict[int, Target] = {}
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
        for key in unspaced_names(target):
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
        t = normal(text)
        found: dict[int, Candidate] = {}
        lengths = sorted(self._lengths)
        for i in range(len(t) - 1):
            for length in lengths:
                key = t[i : i + length]
                if len(key) < length:
                    break
                if key not in self._owners:
                    continue
                signal = Signal("name", key, NAME_WEIGHT)
                for tid in self._owners.get(key, ()):
                    c = found.setdefault(tid, Candidate(self.targets[tid], 0.0))
                    if c.add(signal):
                        c.named = True
        return sorted(found.values(), key=lambda c: (-c.score, c.target.name))
