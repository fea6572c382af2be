"""Names in scripts written without spaces: Chinese, Japanese, Korean (and Thai).

The lexical pre-screen matches word tokens, and running Chinese or Japanese text has no
word boundaries: folded to ASCII it becomes one long token. This scanner finds such names
as substrings instead, keyed by their first two characters, so that a text is read once
and the cost stays flat in the number of targets. Spaces and the middle dots that may
separate a name's parts (林纳斯·托瓦兹, リーナス・トーバルズ, 리누스 토르발스) are ignored
on both sides.
"""

from __future__ import annotations

import re
import unicodedata

from ..targets.target import Target
from .base import Candidate, Scanner
from .lexical import NAME_WEIGHT
from .postings import Postings

UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_GAPS = re.compile(r"[\s·・‧•\-‐_.]+")


def normal(text: str) -> str:
    """``text`` compared as names are: NFKC, case-folded, without spaces and middle dots."""
    return _GAPS.sub("", unicodedata.normalize("NFKC", text).casefold())


def unspaced_names(target: Target) -> set[str]:
    """The target's names written in a script without spaces, normalised."""
    return {k for n in target.identity_names() if UNSPACED.search(n) and len(k := normal(n)) >= 2}


class ScriptScanner(Scanner):
    name = "unspaced-scripts"

    def __init__(self) -> None:
        self.targets: dict[int, Target] = {}
        self._by_start = Postings()  # first two characters -> names starting so
        self._owners = Postings()  # name -> target ids

    def add(self, target: Target) -> None:
        if target.id is None:
            raise ValueError("a target needs an id before it is indexed")
        self.remove(target.id)
        for key in unspaced_names(target):
            self._by_start.add(key[:2], key)
            self._owners.add(key, target.id)
        self.targets[target.id] = target

    def remove(self, target_id: int) -> None:
        target = self.targets.pop(target_id, None)
        if target is None:
            return
        for key in unspaced_names(target):
            self._owners.discard(key, target_id)
            if key not in self._owners:
                self._by_start.discard(key[:2], key)

    def scan(self, text: str) -> list[Candidate]:
        if not self._owners or not UNSPACED.search(text):
            return []
        t = normal(text)
        found: dict[int, Candidate] = {}
        for i in range(len(t) - 1):
            for key in self._by_start.get(t[i : i + 2], ()):
                if not t.startswith(key, i):
                    continue
                signal = f"name:{key}"
                for tid in self._owners.get(key, ()):
                    c = found.setdefault(tid, Candidate(self.targets[tid], 0.0))
                    if signal not in c.weights:
                        c.weights[signal] = NAME_WEIGHT
                        c.signals.append(signal)
                        c.score += NAME_WEIGHT
                        c.named = True
        return sorted(found.values(), key=lambda c: (-c.score, c.target.name))
