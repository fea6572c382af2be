"""What the serving model itself said about a target (``alu targets probe``), as evidence.

A target the model knows gives itself away less by its name than by what the model
associates with it: "Hogwarts" answers a question about a boy wizard's school without
naming Harry Potter. Probing stored those items (the knowledge fingerprint) and asked the
model about each one itself; an item the model answers by naming the target (a
*pointer*: Hogwarts, Tatooine, MINIX) is strong evidence, enough alone to count as the
target when a draft adds it (``POINTER_WEIGHT``). Items that do not lead back to the
target (Helsinki, Python's "indentation") are neighbours: the model talks about them for
their own sake, so they weigh little (``NEIGHBOUR_WEIGHT`` times their consistency), and a
question about them is answered as usual.

Two ways an item points without being a pointer itself. A word of a pointer's name that is
rare in English stands for it alone ("Leia" for "Leia Organa", "Skywalker"; not "Lucas" or
"Solo"), as written and capitalised ("Fett", not "fet" or "boba tea"): people write a
character's name in part. And a person is described without being named by what they made:
a thing the model gave consistently, in answers to what the person made, right after a
maker's role ("the creator of the Linux kernel", "who wrote the Linux kernel":
``lexicon/maker_roles.txt``), points at the person (target masking). The other way round, a
pointer of one common word ("Luke", which the model reads as Luke Skywalker) weighs as a
neighbour: it names too much else. Numbers are left out: a year alone points nowhere.

Only targets the model knows (or would not say) are indexed; a target it does not know has
no fingerprint worth guarding. Lookups are keyed by the text's folded tokens, as the
lexical pre-screen's are, so the cost does not grow with the number of targets.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from ..targets.target import Target
from ..text import (
    STOPWORDS,
    cased_tokens,
    cutoff,
    folded_key,
    is_distinctive,
    lexicon_pairs,
    tokens,
    transliteration_key,
    zipf,
)
from .base import Candidate, Scanner, Signal, best_first, register_scanner

POINTER_WEIGHT = 2.0  # above the output gate's evidence threshold (1.5): a leak alone
NEIGHBOUR_WEIGHT = 0.4  # times the item's consistency: context, never enough alone
MAX_ITEM_TOKENS = 6
MIN_ITEM_CHARS = 3
PART_ZIPF = cutoff("pointer_part_zipf")  # a pointer's name word this rare points alone
MIN_PART_CHARS = 4
MAKERS = dict(lexicon_pairs("maker_roles"))  # word -> "noun" (before "of") or "verb" (after "who")
MAKER_SUPPORT = 2  # a thing the model gave at least this often (its best-known works)
MAKER_GAP = 3  # words at most between the role and the thing ("of the", "of his")
# The probe's facets (alu/agents/probe.txt) that ask a person what they made.
MAKER_FACETS = frozenset({"works", "creations", "output"})


def weight_of(points: bool | None, consistency: float) -> float:
    return POINTER_WEIGHT if points else round(NEIGHBOUR_WEIGHT * consistency, 3)


def _made(target: Target) -> set[tuple[str, ...]]:
    """The keys of things a person target is best known for making: given consistently,
    in answers to what the person made, distinctive, and not pointers already (those point
    without a role). Items fingerprinted before facets were kept have none: such a target
    needs ``alu targets probe --force`` for this."""
    k = target.knowledge
    if target.kind != "person" or k is None:
        return set()
    return {
        folded_key(i.text)
        for i in k.items
        if i.kind != "number"
        and not i.points
        and i.support >= MAKER_SUPPORT
        and MAKER_FACETS & set(i.facets)
        and any(is_distinctive(t) for t in tokens(i.text))
    }


def _after_maker(toks: list[str], i: int) -> bool:
    """Whether the words before position ``i`` are a maker's role, with at most
    ``MAKER_GAP`` stopwords between: a noun before "of" ("the creator of the", "der
    Erfinder des"), a verb after "who" ("who wrote the")."""
    for j in range(i - 1, max(-1, i - 2 - MAKER_GAP), -1):
        role = _MAKER_KEYS.get(toks[j])
        if role == "noun":
            return j + 1 < i and toks[j + 1] in _OFS
        if role == "verb":
            return j > 0 and toks[j - 1] == _WHO
        if toks[j] not in _STOP_KEYS:
            return False
    return False


def _stands_alone(word: str, part: str, own: set[str]) -> bool:
    """Whether one word of a pointer's name (``part``: its key) is rare enough to stand for
    the name."""
    return (
        len(word) >= MIN_PART_CHARS
        and part not in own
        and word not in STOPWORDS
        and not word.isdigit()
        and zipf(word) < PART_ZIPF
    )


def _key(word: str) -> str:
    """A lexicon word as ``scan`` sees the text's words: folded as ``tokens`` does, then keyed."""
    return transliteration_key(tokens(word)[0])


_MAKER_KEYS = {_key(w): role for w, role in MAKERS.items()}
# "of" in the languages whose maker nouns the lexicon holds, and the articles that may
# stand between it and the thing ("des", "du", "della", "van het").
_OFS = frozenset(
    _key(w) for w in "of des der von de du del della dello delle dei degli di do da dos das van".split()
)
_ARTICLES = "the le la les l el los las il lo gli i o a os as het die das dem den".split()
_STOP_KEYS = frozenset(transliteration_key(w) for w in STOPWORDS) | _OFS | {_key(w) for w in _ARTICLES}
_WHO = transliteration_key("who")


class _Entry(NamedTuple):
    key: tuple[str, ...]
    target_id: int
    weight: float
    made: bool  # a thing the person made: a maker's role before it points at them
    word: str | None  # a pointer's name word standing alone: as written, capitalised


@register_scanner("knowledge")
class KnowledgeScanner(Scanner):
    wants_rule = "knowledge-items-v1"

    def wants(self, target: Target) -> bool:
        """Targets probed with items the model knows (or would not say): ``items`` and
        ``parts`` find nothing in any other."""
        k = target.knowledge
        return k is not None and k.known is not False and bool(k.items)

    def __init__(self) -> None:
        self._by_first: dict[str, list[_Entry]] = defaultdict(list)  # by the key's first token
        self._keys: dict[int, list[tuple[str, ...]]] = {}
        self._targets: dict[int, Target] = {}

    @staticmethod
    def items(target: Target) -> list[tuple[tuple[str, ...], float]]:
        """The keys this scanner looks for, for ``target``, with their weights."""
        k = target.knowledge
        if k is None or k.known is False or not k.items:
            return []
        own = target.name_keys()
        found: dict[tuple[str, ...], float] = {}
        for item in k.items:
            if item.kind == "number" or len(item.text) < MIN_ITEM_CHARS:
                continue
            key = folded_key(item.text)
            if not key or len(key) > MAX_ITEM_TOKENS or set(key) <= own:
                continue
            # One common word ("Luke", asked alone, is Luke Skywalker to the model) names
            # too many other things to point by itself.
            words = [t for t in tokens(item.text) if len(t) > 1]  # "Luke's" is "Luke"
            alone_common = len(words) == 1 and not is_distinctive(words[0])
            weight = weight_of(item.points and not alone_common, item.consistency)
            if weight > 0:
                found[key] = max(found.get(key, 0.0), weight)
        return list(found.items())

    @staticmethod
    def parts(target: Target) -> dict[str, float]:
        """Words of the target's pointer names rare enough to stand for them alone, as
        written (lower case), with their weight."""
        k = target.knowledge
        if k is None or k.known is False:
            return {}
        own = target.name_keys()
        found: dict[str, float] = {}
        for item in k.items:
            words = tokens(item.text)
            if item.points and item.kind == "name" and len(words) > 1:
                for word in words:
                    if _stands_alone(word, transliteration_key(word), own):
                        found[word] = POINTER_WEIGHT
        return found

    def add(self, target: Target) -> None:
        if target.id is None:
            return
        self.remove(target.id)
        found = self.items(target)
        indexed = {key for key, _ in found}
        parts = {
            w: weight for w, weight in self.parts(target).items() if (transliteration_key(w),) not in indexed
        }
        if not found and not parts:
            return
        made = _made(target)
        entries = [_Entry(key, target.id, weight, key in made, None) for key, weight in found]
        entries += [
            _Entry((transliteration_key(w),), target.id, weight, False, w) for w, weight in parts.items()
        ]
        self._targets[target.id] = target
        self._keys[target.id] = [e.key for e in entries]
        for entry in entries:
            self._by_first[entry.key[0]].append(entry)

    def remove(self, target_id: int) -> None:
        keys = self._keys.pop(target_id, None)
        self._targets.pop(target_id, None)
        for key in keys or ():
            entries = [e for e in self._by_first.get(key[0], ()) if e.target_id != target_id]
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
        raw = tokens(text)
        toks = [transliteration_key(t) for t in raw]
        cased: list[str] | None = None  # read only when a name word alone is found
        raised: set[tuple[int, int]] = set()  # (target, position) a maker's role raised
        found: dict[int, Candidate] = {}
        for i, tok in enumerate(toks):
            for key, tid, weight, made, word in self._by_first.get(tok, ()):
                if tuple(toks[i : i + len(key)]) != key:
                    continue
                if word is not None:
                    # As written and capitalised: "Fett" is Boba Fett, "fet" and "boba tea" are not.
                    cased = cased if cased is not None else cased_tokens(text)
                    if raw[i] != word or i >= len(cased) or not cased[i][:1].isupper():
                        continue
                if made and (tid, i) not in raised and _after_maker(toks, i):
                    weight = POINTER_WEIGHT  # "the creator of Linux": the person, described
                    raised.add((tid, i))
                c = found.get(tid)
                if c is None:
                    c = found[tid] = Candidate(self._targets[tid], 0.0)
                c.add(Signal("knowledge", " ".join(key), weight))
        return best_first(list(found.values()))
