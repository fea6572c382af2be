"""What the serving model itself said about a target (``alu targets probe``), as evidence.

A target the model knows gives itself away less by its name than by what the model
associates with it: "Hogwarts" answers a question about a boy wizard's school without
naming Harry Potter. Probing stored those items (the knowledge fingerprint) and asked the
model about each one itself; an item the model answers by naming the target (a
*pointer*: Hogwarts, Tatooine, MINIX) is strong evidence, enough alone to count as the
target when a draft adds it (``POINTER_WEIGHT``). Items that do not lead back to the target
(Helsinki, Python's "indentation") are neighbours: the model talks about them for their own
sake, so they weigh little (``NEIGHBOUR_WEIGHT`` times their consistency), and a question
about them is answered as usual. Numbers are left out: a year alone points nowhere.

Only targets the model knows (or would not say) are indexed; a target it does not know has
no fingerprint worth guarding. Lookups are keyed by the text's folded tokens, as the
lexical pre-screen's are, so the cost does not grow with the number of targets.
"""

from __future__ import annotations

from collections import defaultdict

from ..targets.target import Target
from ..text import folded_key, tokens, transliteration_key
from .base import Candidate, Scanner, Signal, register_scanner

POINTER_WEIGHT = 2.0  # above the output gate's evidence threshold (1.5): a leak alone
NEIGHBOUR_WEIGHT = 0.4  # times the item's consistency: context, never enough alone
MAX_ITEM_TOKENS = 6
MIN_ITEM_CHARS = 3


def weight_of(points: bool | None, consistency: float) -> float:
    return POINTER_WEIGHT if points else round(NEIGHBOUR_WEIGHT * consistency, 3)


@register_scanner("knowledge")
class KnowledgeScanner(Scanner):
    def __init__(self) -> None:
        # first token -> [(key, target id, weight)]
        self._by_first: dict[str, list[tuple[tuple[str, ...], int, float]]] = defaultdict(list)
        self._keys: dict[int, list[tuple[str, ...]]] = {}
        self._targets: dict[int, Target] = {}

    @staticmethod
    def items(target: Target) -> list[tuple[tuple[str, ...], float]]:
        """The keys this scanner looks for, for ``target``, with their weights."""
        k = target.knowledge
        if k is None or k.known is False or not k.items:
            return []
        own = {transliteration_key(t) for n in target.identity_names() for t in tokens(n)}
        found: dict[tuple[str, ...], float] = {}
        for item in k.items:
            if item.kind == "number" or len(item.text) < MIN_ITEM_CHARS:
                continue
            key = folded_key(item.text)
            if not key or len(key) > MAX_ITEM_TOKENS or set(key) <= own:
                continue
            weight = weight_of(item.points, item.consistency)
            if weight > 0:
                found[key] = max(found.get(key, 0.0), weight)
        return list(found.items())

    def add(self, target: Target) -> None:
        if target.id is None:
            return
        self.remove(target.id)
        found = self.items(target)
        if not found:
            return
        self._targets[target.id] = target
        self._keys[target.id] = [key for key, _ in found]
        for key, weight in found:
            self._by_first[key[0]].append((key, target.id, weight))

    def remove(self, target_id: int) -> None:
        keys = self._keys.pop(target_id, None)
        self._targets.pop(target_id, None)
        for key in keys or ():
            entries = [e for e in self._by_first.get(key[0], ()) if e[1] != target_id]
            if entries:
                self._by_first[key[0]] = entries
            else:
                self._by_first.pop(key[0], None)

    def copy(self) -> KnowledgeScanner:
        clone = KnowledgeScanner()
        clone._by_first = defaultdict(list, {k: list(v) for k, v in self._by_first.items()})
        clone._keys = dict(self._keys)
        clone._targets = dict(self._targets)
        return clone

    def scan(self, text: str) -> list[Candidate]:
        if not self._by_first:
            return []
        toks = [transliteration_key(t) for t in tokens(text)]
        found: dict[int, Candidate] = {}
        for i, tok in enumerate(toks):
            for key, tid, weight in self._by_first.get(tok, ()):
                if tuple(toks[i : i + len(key)]) != key:
                    continue
                c = found.get(tid)
                if c is None:
                    c = found[tid] = Candidate(self._targets[tid], 0.0)
                c.add(Signal("knowledge", " ".join(key), weight))
        return sorted(found.values(), key=lambda c: (-c.score, c.target.name))
