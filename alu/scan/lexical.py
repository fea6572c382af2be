"""Finds which targets a text may be about, without calling an LLM.

Every lookup is a hash probe keyed by the text's own tokens, so the cost of a query
depends on its length, not on how many targets there are. Signals, strongest first:

* a name or alias, the operator's or a generated one (another script, a Latin variant),
  matched on folded tokens (case, accents, other scripts), with one edit of tolerance on
  rare tokens (symmetric-delete index, checked with OSA) and with the usual
  transliteration variants made equal (``transliteration_key``);
* a distinctive token of a person's multi-word name (a surname, say);
* distinctive phrases and words of the target's description, evidence and generated
  associated terms (titles, places, awards, years, characters, jargon), weighted down
  when many targets share them.

A person's name is also found written as people write names: joined ("JaneDoe", or split
by an invisible space), surname first with a comma ("Doe, Jane"), and as initials with the
surname ("J. Doe"). Names are also looked for in the text's disguises (letters spaced or
dotted apart, leetspeak, reversal, look-alike letters of another script); a disguise only
ever adds name signals.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from rapidfuzz.distance import OSA

from ..targets.target import Target
from ..text import (
    STOPWORDS,
    _english,
    cutoff,
    disguised_readings,
    disguises,
    is_distinctive,
    joined,
    lexicon,
    listed,
    tokens,
    transliteration_key,
    words,
    words_at_least,
    zipf,
)
from .base import NAME_WEIGHT, Candidate, Scanner, Signal, SignalKind, best_first, register_scanner
from .fuzzy import DeleteIndex, deletes
from .keytokens import KeyTokens
from .postings import Postings
from .written import PARTICLES, QUOTED, Written, known_names, quoted_words

FUZZY_NAME_WEIGHT = 2.0
# A listed word this common is taken as written: never a misspelling of a name.
FUZZY_MAX_ZIPF = 3.0
# Nor, this common, another transliteration of one.
TRANSLIT_MAX_ZIPF = 3.5
PARTIAL_NAME_WEIGHT = 1.0
# A given name alone ("Edgar", "Hans") fits many people: half a name part, so it makes a
# candidate only beside other evidence.
GIVEN_NAME_SHARE = 0.5
EVIDENCE_PHRASE_WEIGHT = 1.0
EVIDENCE_TERM_WEIGHT = 0.5
CANDIDATE_THRESHOLD = 1.0
MAX_PHRASE_TOKENS = 8
FUZZY_FROM = 5  # a name word this long or longer is also found misspelt
# A term shared by more targets than this says nothing about which one is meant.
MAX_TARGETS_PER_TERM = 50
MAX_TERMS_PER_TARGET = 400
_CAPITALISED_SPAN = re.compile(
    r"\b[A-Z][\w'’\-]*(?:\s+(?:(?:"
    + "|".join(map(re.escape, lexicon("span_connectors")))
    + r")\s+)*[A-Z][\w'’\-]*)+"
)
# A name written joined ("JaneDoe") is indexed as one token from this length on, and only
# where the joined word is rare in English (RARE_NAME_ZIPF): shorter or common ones are words.
JOINED_NAME_CHARS = int(cutoff("joined_name_chars"))
LONGEST_JOINED_WORD = int(cutoff("longest_joined_word"))


_NAME_SIGNALS: tuple[SignalKind, ...] = ("name", "fuzzy-name", "name-part")
_NAME, _PHRASE = 1, 2  # what a run of tokens may still be (a bit mask)


def _trimmed(toks: list[str]) -> list[str]:
    while toks and toks[-1] in STOPWORDS:
        toks = toks[:-1]
    while toks and toks[0] in STOPWORDS:
        toks = toks[1:]
    return toks


# How common (wordfreq Zipf) a person's name part may be and still name them alone: below
# RARE_NAME_ZIPF wherever it is found (Mahfouz, Torvalds); below PROPER_NAME_ZIPF only where
# it is written as a proper noun, capitalised (Einstein, Darwin, Newton: a famous surname is
# frequent because it is famous, and "frost" or "crane" in lower case is not a name).
RARE_NAME_ZIPF = 3.5
PROPER_NAME_ZIPF = 4.0


def _surnames(target: Target, names: set[tuple[str, ...]], compound: set[str]) -> set[str]:
    """A person's family names (every word after the first), where rare enough to name
    them alone: Mahfouz and Al-Kuwaiti, Einstein when capitalised, not Martin; a compound
    one whole (Vasquez-Hollis, not Hollis: ``compound``, ``_compound_parts``)."""
    if target.kind != "person":
        return set()
    alone = {t for n in names if len(n) > 1 for t in n[1:] if len(t) >= 4 and zipf(t) < PROPER_NAME_ZIPF}
    return alone - compound


# Each of a target's names (``identity_names``) and its words, each as its tokens (``words``):
# read once per target, for every key filed from them.
Spelled = dict[str, list[list[str]]]


def _spelled(target: Target) -> Spelled:
    return {name: words(name) for name in target.identity_names()}


def _compound_parts(spelled: Spelled) -> set[str]:
    """The parts of the target's hyphenated compound names (Vasquez and Hollis in
    Vasquez-Hollis; not Kuwaiti in Al-Kuwaiti, one part beside a particle). One part standing
    alone is not the target: "Hollis" is a place, another person, a word; the compound
    written whole is theirs."""
    found: set[str] = set()
    for name, name_words in spelled.items():
        if "-" not in name:
            continue
        for word, parts in zip(name.split(), name_words, strict=False):
            parts = [t for t in parts if t not in PARTICLES and len(t) >= 2]
            if "-" in word and len(parts) >= 2:
                found.update(parts)
    return found


def _written_forms(target: Target, spelled: Spelled) -> set[tuple[str, ...]]:
    """Other ways people write the target's names, as token keys: joined into one word
    ("JaneDoe", and "Jane\u200bDoe" once the invisible space is dropped), unless that is a
    common English word or holds an initial ("A. Cross" is not "across"); for a person, the
    initials of the given names before the surname ("J. Doe", "X. L. Williams"). The surname
    first ("Doe, Jane") needs no key of its own: ``PreScreen._surname_first`` reads it."""
    found: set[tuple[str, ...]] = set()
    for name_words in spelled.values():
        words = [tuple(w) for w in name_words if w]  # the name's words as written, as tokens
        toks = [t for w in words for t in w]
        whole = "".join(toks)
        no_initial = len(toks) > 1 and min(map(len, toks)) > 1
        word_like = len(whole) <= LONGEST_JOINED_WORD and zipf(whole) >= RARE_NAME_ZIPF
        if no_initial and len(whole) >= JOINED_NAME_CHARS and not word_like:
            found.add((whole,))
        if target.kind != "person" or len(words) < 2:
            continue
        first_of_surname = len(words) - 1
        while first_of_surname > 1 and all(t in PARTICLES for t in words[first_of_surname - 1]):
            first_of_surname -= 1
        surname = tuple(t for w in words[first_of_surname:] for t in w)
        initials = tuple(w[0][0] for w in words[:first_of_surname] if w[0][0].isalpha())
        if initials:
            found |= {(initials[0], *surname), (*initials, *surname), (initials[0], *words[-1])}
    return found


def _names_someone(written: Written, i: int, part: str) -> bool | None:
    """Whether name part ``part``, found at token ``i``, names the targets that share it
    there: written as a name (rare ones always, others only capitalised), not inside another
    proper name ("Miguel de Cervantes" is not the target "Ana Cervantes", nor is "Booker
    Prize" Ann Booker) and, alone, not inside a quoted title ("Silk Sarees and Mango
    Summers"). True or False for every target sharing the part, or None where it stands
    beside other name words or in a title and each target's own words decide
    (``_names_them_beside``): asked once per part found, not once per target sharing it."""
    if zipf(part) >= RARE_NAME_ZIPF and not written.capitalised(i):
        return False
    if not written.name_neighbours(i) and not written.in_title(i):
        return True
    return None


def _names_them_beside(written: Written, i: int, own: tuple[str, ...]) -> bool:
    return not written.inside_other_name(i, own) and not (
        written.in_title(i) and not _beside_own(written, i, own)
    )


@dataclass(frozen=True, slots=True)
class NameParts:
    """What a screen asks of a target's names at each of its name parts found: the words of
    every name (``own``) and the parts that open a multi-word name and follow in none
    (``given_only``: "Jane" of "Jane Doe"). Tuples of interned words: an index keeps one
    per target, and the same given names recur across a million of them."""

    own: tuple[str, ...]
    given_only: tuple[str, ...]

    @classmethod
    def of(cls, names: Iterable[tuple[str, ...]]) -> NameParts:
        """From the tokens of each of the target's names (``identity_names``)."""
        names = [n for n in names if n]
        multi = [n for n in names if len(n) > 1]
        later = {t for n in multi for t in n[1:]}
        own = sorted({t for n in names for t in n})
        given = sorted({n[0] for n in multi} - later)
        return cls(tuple(map(sys.intern, own)), tuple(map(sys.intern, given)))

    def encoded(self) -> bytes:
        """As an index file keeps them: the words space-separated, own | given only (a
        token holds neither a space nor a bar)."""
        return f"{' '.join(self.own)}|{' '.join(self.given_only)}".encode()

    @classmethod
    def decoded(cls, data: bytes) -> NameParts:
        own, given = data.decode().split("|")
        return cls(tuple(own.split()), tuple(given.split()))


def _has_initial(path: tuple[str, ...]) -> bool:
    return any(len(t) == 1 and t.isalpha() for t in path)


def _initials_name_them(written: Written, start: int, path: tuple[str, ...], own: tuple[str, ...]) -> bool:
    """Whether a name with initials ("A. Strong"), found at ``start``, is written as that name:
    as initials, and not followed by another family name ("F. Scott" in "F. Scott Fitzgerald")."""
    return written.written_as_initials(start, path) and not written.inside_other_name(
        start + len(path) - 1, own
    )


def _beside_own(written: Written, i: int, own: tuple[str, ...]) -> bool:
    return any(written.tokens[j] in own for j, _ in written.neighbours(i))


def _short_rare(token: str) -> bool:
    """A three-letter term rare enough to point at something (Git, not 'big')."""
    return len(token) == 3 and not token.isdigit() and zipf(token) < 3.5


def _evidence_phrases(text: str) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for match in [*_CAPITALISED_SPAN.finditer(text), *QUOTED.finditer(text)]:
        span = quoted_words(match) if match.re is QUOTED else match.group(0)
        toks = tokens(span)
        while toks and toks[-1] in STOPWORDS:
            toks.pop()
        while toks and toks[0] in STOPWORDS:
            toks.pop(0)
        _keep(toks, found)
        # A sentence's first word is capitalised too: also keep the span without it.
        while toks and (toks[0] in STOPWORDS or zipf(toks[0]) >= 4.0):
            toks.pop(0)
        _keep(toks, found)
    return found


def _keep(toks: list[str], found: set[tuple[str, ...]]) -> None:
    # Titles are made of common words, so three or more words need no rare one.
    if 2 <= len(toks) <= MAX_PHRASE_TOKENS and (len(toks) >= 3 or any(is_distinctive(t) for t in toks)):
        found.add(tuple(toks))


def warm() -> None:
    """Load the tables the screen reads lazily (a second of Faker's name lists, the
    look-alike letters), once per process, as its index is built rather than during the
    first request."""
    known_names()
    listed("warm")  # wordfreq's word list, a second to read
    _inert_words()  # and the common words in it, half a second
    disguises("Wаrm-up ⚡\u200b")  # Cyrillic а, a symbol, an invisible space: every table


# How far from a token the screen's checks look (a name's neighbours, particles skipped).
CONTEXT_TOKENS = 4


def _changed(before: Written | None, after: Written) -> list[int]:
    """Where ``after`` reads otherwise than ``before``, a reading of the same words with a
    few changed in place: the tokens that differ, where the two hold as many (leetspeak
    undone, "LGBTQ+" read as "LGBTQt" at each place it stands), else those from the first
    that differs to the last (letters joined into a word). A reading can name someone
    ``before`` did not only where one of these is a name's token or a misspelling of one
    (``PreScreen.screen``). Where tokens were only dropped, those within reach of the checks
    made around a match (``CONTEXT_TOKENS``) of where they were, as the words on either
    side now meet. All of them where no token differs (only what stands between them does),
    when there is no such reading, or when it is written otherwise as a whole (in capitals,
    or transliterated), which changes how every word is read."""
    toks = after.tokens
    if before is None or (before.shouting, before.transliterated) != (after.shouting, after.transliterated):
        return list(range(len(toks)))
    other = before.tokens
    if len(toks) == len(other):  # changed in place, if at all
        differ = [i for i, (a, b) in enumerate(zip(toks, other, strict=True)) if a != b]
        return differ or list(range(len(toks)))
    n, first = min(len(toks), len(other)), 0
    while first < n and toks[first] == other[first]:
        first += 1
    last = 0
    while last < n - first and toks[-1 - last] == other[-1 - last]:
        last += 1
    if first < len(toks) - last:
        return list(range(first, len(toks) - last))
    return list(range(max(0, first - CONTEXT_TOKENS), min(len(toks), first + CONTEXT_TOKENS)))  # dropped


def _may_name(view: PreScreen, toks: list[str], known: list[bool], alternatives: list[set[str]]) -> bool:
    """Whether a reading can name a target or hold its surname (what a names-only screen
    keeps): two name tokens (or misspellings of some) side by side, one that is a whole
    name itself, or a surname. Most readings of a text backwards hold a lone name token or
    two ("a", an initial of someone's) and nothing more."""
    maybe = [k or bool(a) for k, a in zip(known, alternatives, strict=True)]
    if any(a and b for a, b in itertools.pairwise(maybe)):
        return True
    names_get, surnames_get = view._names.get, view._surnames.get
    return any(
        surnames_get(toks[i]) or any(names_get(o) for o in (toks[i], *alternatives[i]))
        for i in range(len(toks))
        if maybe[i]
    )


@cache
def _backwards_words() -> frozenset[str]:
    """The common English words read backwards: a reversed text's words ("rohtua" for
    author), which are looked up as a reversed name exactly, never as a misspelling or a
    transliteration of one (the common words written forwards are not either). Most of a
    reversed text's words are these."""
    return frozenset(word[::-1] for word in words_at_least(FUZZY_MAX_ZIPF))


@cache
def _inert_words() -> frozenset[str]:
    """The tokens that have no alternatives, whatever the index (``_alternatives``): words
    common enough that no transliteration (below TRANSLIT_MAX_ZIPF) or misspelling (below
    FUZZY_MAX_ZIPF) is looked for, and unlisted ones that are a common word backwards."""
    return words_at_least(max(TRANSLIT_MAX_ZIPF, FUZZY_MAX_ZIPF)) | (_backwards_words() - _english().keys())


_NONE: frozenset[str] = frozenset()


@register_scanner("lexical")
class PreScreen(Scanner):
    """The lexical scanner: an incrementally maintained index over the target list."""

    def __init__(self) -> None:
        warm()
        self.targets: dict[int, Target] = {}
        # What a screen asks of each target's names where a part of them is found, filed with
        # the target: read there instead of the target's names (``NameParts``).
        self._parts: dict[int, NameParts] = {}
        # Lean storage (see postings.py): a million targets must fit in a few GB. What a
        # target was filed under is not kept; ``remove`` derives it again from the target.
        self._names = Postings()  # name token tuple -> target ids
        self._partials = Postings()  # distinctive name part -> target ids
        self._surnames = Postings()  # a person's last name token -> target ids: naming them
        self._phrases = Postings()  # evidence phrase token tuple -> target ids
        self._terms = Postings()  # evidence term -> target ids
        self._vocab: Counter[str] = Counter()  # name tokens of four letters or more
        self._fuzzy_index = DeleteIndex()  # name tokens, found by their one-letter deletes
        self._translit = Postings()  # transliteration key -> name tokens
        # The tokens of the names' keys, and of the phrases': a run with any other is no key.
        self._name_tokens = KeyTokens()
        self._phrase_tokens = KeyTokens()
        self._longest = 1
        # The longest name token ever filed (never lowered): a text token longer by two or
        # more is no misspelling of any, so its deletes (quadratic in its length: a run of
        # CJK or base64 folds to one token of thousands of letters) are never made.
        self._longest_token = 0

    def __len__(self) -> int:
        return len(self.targets)

    def copy(self) -> PreScreen:
        """A copy to change while this one scans (see ``Scanner.copy``): the maps are copied,
        what they hold is shared until changed."""
        other = copy.copy(self)
        other.targets = dict(self.targets)
        other._parts = dict(self._parts)
        for attr in ("_names", "_partials", "_surnames", "_phrases", "_terms", "_translit"):
            setattr(other, attr, getattr(self, attr).copy())
        other._vocab = self._vocab.copy()
        other._fuzzy_index = self._fuzzy_index.copy()
        other._name_tokens = self._name_tokens.copy()
        other._phrase_tokens = self._phrase_tokens.copy()
        return other

    # -- maintenance ----------------------------------------------------------------
    def add(self, target: Target) -> None:
        if target.id is None:
            raise ValueError("a target needs an id before it is indexed")
        self.remove(target.id)
        tid = target.id
        keys = self.filed(target)
        for t in keys["surnames"]:
            self._surnames.add(t, tid)
        for n in keys["names"]:
            self._file(self._names, self._name_tokens, n, tid)
            self._longest = max(self._longest, min(len(n), MAX_PHRASE_TOKENS))
        for t in keys["partials"]:
            self._partials.add(t, tid)
        self._parts[tid] = keys["parts"]
        for p in keys["phrases"]:
            self._file(self._phrases, self._phrase_tokens, p, tid)
        for t in keys["terms"]:
            self._terms.add(t, tid)
        for t in keys["vocab"]:
            if self._vocab[t] == 0:
                self._longest_token = max(self._longest_token, len(t))
                if len(t) >= FUZZY_FROM:
                    self._fuzzy_index.add(t)
                self._translit.add(transliteration_key(t), t)
            self._vocab[t] += 1
        self.targets[tid] = target
        self._keep_key_tokens()

    def _parts_of(self, target_id: int) -> NameParts:
        """The target's ``NameParts``, as filed with it: a screen asks them of every target
        sharing a name part it finds (up to ``MAX_TARGETS_PER_TERM`` a part), and deriving
        them there from the target's names (seven with an enrichment, five of them in other
        scripts) was most of a scan that met targets not met lately."""
        return self._parts[target_id]

    @staticmethod
    def _file(index: Postings, key_tokens: KeyTokens, key: tuple[str, ...], tid: int) -> None:
        """File a name or phrase key, its tokens in ``key_tokens`` if the key is new."""
        if key not in index:
            key_tokens.add(key)
        index.add(key, tid)

    def _keep_key_tokens(self) -> None:
        """Build a key-token filter again when it is too full or holds many dead keys."""
        if self._name_tokens.worn(len(self._names)):
            self._name_tokens = KeyTokens.of(self._names, len(self._names))
        if self._phrase_tokens.worn(len(self._phrases)):
            self._phrase_tokens = KeyTokens.of(self._phrases, len(self._phrases))

    @staticmethod
    def filed(target: Target) -> dict[str, Any]:
        """Every key ``target`` is filed under, by map: ``names`` (token tuples, the ways its
        names are written included), ``surnames``, ``partials``, ``phrases`` (token tuples),
        ``terms`` and the fuzzy ``vocab``; and its ``parts`` (``NameParts``). A function of
        the target alone: ``remove`` derives it again, and an index file is filed from it
        (``alu.scan.filing``)."""
        spelled = _spelled(target)
        compound = _compound_parts(spelled)
        names, partials, phrases, terms, vocab, parts = PreScreen._keys_of(target, spelled, compound)
        return {
            "parts": parts,
            "names": names | _written_forms(target, spelled),
            "surnames": _surnames(target, names, compound),
            "partials": partials,
            "phrases": phrases,
            "terms": terms,
            "vocab": vocab,
        }

    @staticmethod
    def _keys_of(
        target: Target, spelled: Spelled, compound: set[str]
    ) -> tuple[set, set, set, set, set, NameParts]:
        """What ``target`` is filed under: names, partials, phrases, terms, fuzzy vocabulary,
        and its name parts; ``spelled``: its names' words, ``compound``: the parts of its
        compound names. A function of the target alone, so ``remove`` can derive it again."""
        names = {tuple(t for w in name_words for t in w) for name_words in spelled.values()} - {()}
        parts = NameParts.of(names)
        name_tokens = {t for n in names for t in n}
        # Written without the hyphens and dots inside its words, as a disguise undoes them
        # (most names have none: their tokens are in already).
        names |= {tuple(tokens(j)) for n in spelled if (j := joined(n)) != n} - {()}
        partials = set()
        if target.kind == "person":
            partials = {
                t for n in names if len(n) > 1 for t in n if len(t) >= 4 and zipf(t) < PROPER_NAME_ZIPF
            } - compound
        generated = target.enrichment.description if target.enrichment else ""
        text = "\n".join([target.description, generated, *target.evidence])
        phrases = {p for p in _evidence_phrases(text) if p not in names}
        counts = Counter(t for t in tokens(text) if t not in name_tokens and is_distinctive(t))
        for term in target.associated_terms():
            toks = _trimmed(tokens(term))
            if len(toks) > 1:
                _keep(toks, phrases)
            elif toks and toks[0] not in name_tokens and (is_distinctive(toks[0]) or _short_rare(toks[0])):
                counts[toks[0]] += MAX_TERMS_PER_TARGET  # an explicit term outranks mined ones
        phrases -= names
        terms = {t for t, _ in counts.most_common(MAX_TERMS_PER_TARGET)}
        # The tokens of its names that the fuzzy and transliterated look-ups know.
        vocab = {t for t in name_tokens if len(t) >= 4}
        return names, partials, phrases, terms, vocab, parts

    def remove(self, target_id: int) -> None:
        target = self.targets.pop(target_id, None)
        if target is None:
            return
        self._parts.pop(target_id, None)
        keys = self.filed(target)
        for t in keys["surnames"]:
            self._surnames.discard(t, target_id)
        for index, entries in (
            (self._names, keys["names"]),
            (self._partials, keys["partials"]),
            (self._phrases, keys["phrases"]),
            (self._terms, keys["terms"]),
        ):
            for key in entries:
                index.discard(key, target_id)
                if key not in index and (index is self._names or index is self._phrases):
                    (self._name_tokens if index is self._names else self._phrase_tokens).removed()
        for t in keys["vocab"]:
            self._vocab[t] -= 1
            if self._vocab[t] <= 0:
                del self._vocab[t]
                self._fuzzy_index.discard(t)
                self._translit.discard(transliteration_key(t), t)
        self._keep_key_tokens()

    # -- queries --------------------------------------------------------------------
    def _alternatives(self, toks: list[str], found: dict[str, set[str]] | None = None) -> list[set[str]]:
        """The name tokens each token may be a misspelling or another transliteration of; a
        repeated token looked up once, the rare ones searched in the delete index together.
        ``found``: what was looked up already (the text, for its disguises), added to. A token
        with none shares one empty set (most of a text's: short, common or a name's own)."""
        found = {} if found is None else found
        new = [t for t in dict.fromkeys(toks) if t not in found]
        probes: list[str] = []  # rare enough for one edit (or, unlisted, perhaps)
        inert, english = _inert_words(), _english()
        vocab, longest = self._vocab, self._longest_token + 1
        filled: list[str] = []
        for token in new:
            found[token] = _NONE
            # Common words, and common words backwards ("rohtua"), are nobody's misspelling.
            if token in inert or len(token) < 4 or token in vocab:
                continue
            fits = len(token) <= longest
            if token in english:  # ``listed``: how common it is decides whether to look
                rarity = zipf(token)
                if rarity < TRANSLIT_MAX_ZIPF and (
                    same := self._translit.get(transliteration_key(token), ())
                ):
                    found[token] = set(same)
                    filled.append(token)
                if rarity < FUZZY_MAX_ZIPF and fits:
                    probes.append(token)
            else:  # made up or reversed: look first, and ask how common only on a find
                same = self._translit.get(transliteration_key(token), ())
                if same and zipf(token) < TRANSLIT_MAX_ZIPF:
                    found[token] = set(same)
                    filled.append(token)
                if fits:
                    probes.append(token)
        if probes:
            near = self._fuzzy_index.lookup_each([deletes(t) | {t} for t in probes])
            for token, candidates in zip(probes, near, strict=True):
                close = [c for c in candidates if OSA.distance(token, c) <= 1]
                if close and (listed(token) or zipf(token) < FUZZY_MAX_ZIPF):  # listed: checked already
                    found[token] = {*found[token], *close}
                    filled.append(token)
        for token in filled:
            found[token].discard(token)  # a set of its own: filled above
        return [found[t] for t in toks]

    def _resolved(self, toks: list[str], looked_up: dict[str, set[str]], names_only: bool) -> PreScreen:
        """The index a text's screen reads: this one, whose maps answer each key at once. An
        index kept elsewhere (``alu.scan.mapped``) answers with a view of its own, its keys
        for ``toks`` looked up together beforehand."""
        return self

    def screen(
        self,
        text: str | Written,
        *,
        limit: int | None = None,
        threshold: float = CANDIDATE_THRESHOLD,
        only: Iterable[int] | None = None,
        names_only: bool = False,
        looked_up: dict[str, set[str]] | None = None,
        reading: Written | None = None,
        ordered: bool = True,
    ) -> list[Candidate]:
        """Targets ``text`` may be about, best first, those scoring at least ``threshold``;
        with ``names_only``, those it names or holds the surname of, by their names and
        name parts alone (no phrases, no terms): what a disguise's reading adds (``scan``).
        ``looked_up``: tokens' alternatives found already (by a scan, for the same index).
        ``reading`` (with ``names_only``): a reading of the same words, screened already, of
        which this text changes a few in place ("Ba-sil" read as "Basil"): what its unchanged
        words say was found there, so the text is read only when some name's token, or a
        misspelling of one, stands where it differs (``_changed``). ``ordered``: best first
        (``scan``, which orders what it merges, asks for them as found)."""
        written = text if isinstance(text, Written) else Written(text)
        toks = written.tokens
        if not toks or not self.targets:
            return []
        looked_up = {} if looked_up is None else looked_up
        known: list[bool] | None = None
        if names_only:  # every name signal holds a name's token or a misspelling of one
            changed = [toks[i] for i in _changed(reading, written)]
            view = self._resolved(changed, looked_up, names_only)  # where its keys are read
            known_changed = view._name_tokens.each(changed)
            if not any(known_changed) and not any(view._alternatives(changed, looked_up)):
                return []
            if len(changed) < len(toks):
                view = self._resolved(toks, looked_up, names_only)
            else:  # every word changed (a reversed text): the same tokens
                known = known_changed
        else:
            view = self._resolved(toks, looked_up, names_only)  # where this text's keys are read
        alternatives = view._alternatives(toks, looked_up)
        in_names, in_phrases = view._name_tokens, view._phrase_tokens
        if known is None:
            known = in_names.each(toks)  # a token of some name
        if names_only and not _may_name(view, toks, known, alternatives):
            return []
        # Each target's signals in the order credited; its score is their weights' sum in that
        # order, taken once at the end (a term often credits dozens of targets).
        signals: dict[int, list[Signal]] = defaultdict(list)
        named: set[int] = set()
        partial: set[int] = set()
        seen: set[tuple[int, tuple]] = set()

        def credit(ids: Iterable[int], signal: Signal) -> None:
            # A name and its misspelling are one match: whichever is found first counts.
            key = ("name" if signal.names else signal.kind, signal.key)
            for tid in ids:
                if (tid, key) in seen:
                    continue
                seen.add((tid, key))
                signals[tid].append(signal)

        termed: set[str] = set()

        def credit_term(token: str, ids: Collection[int]) -> None:
            # ``credit`` for a term (its ids the same wherever it is written), without checking
            # each target: a text's terms often point at dozens of targets.
            if token in termed:
                return
            termed.add(token)
            signal = Signal("term", token, EVIDENCE_TERM_WEIGHT / math.sqrt(len(ids)))
            for tid in ids:
                signals[tid].append(signal)

        # Names and aliases, exact or with one edit per token; evidence phrases, exact. A run
        # is looked up as a name only while every token of it is some name's (``_name_tokens``),
        # as a phrase only while every one is some phrase's: a bit each in a mask (NAME,
        # PHRASE), and a run with neither is extended no further.
        phrase_parts = [False] * len(toks) if names_only else in_phrases.each(toks)
        masks = [
            (_NAME if k else 0) | (_PHRASE if p else 0) for k, p in zip(known, phrase_parts, strict=True)
        ]
        names_get, phrases_get = view._names.get, view._phrases.get
        for start in range(len(toks)):
            if not masks[start] and not alternatives[start]:
                continue
            # Each run so far: its key (the tokens space-joined, as Postings files a tuple),
            # whether it holds a misspelling, and what it may still be (the mask).
            paths: list[tuple[str, bool, int]] = [("", False, _NAME | _PHRASE)]
            for end in range(start, min(len(toks), start + MAX_PHRASE_TOKENS)):
                if len(paths) == 1 and not alternatives[end]:  # one run, one way on: most runs
                    key, fuzzy, mask = paths[0]
                    if not mask & masks[end]:
                        break
                    paths = [(f"{key} {toks[end]}" if key else toks[end], fuzzy, mask & masks[end])]
                else:
                    options = [(toks[end], False, masks[end])]
                    options += [(a, True, _NAME if a in in_names else 0) for a in alternatives[end]]
                    paths = [
                        (f"{p} {o}" if p else o, fz or f, mask & m)
                        for p, fz, mask in paths
                        for o, f, m in options
                    ][:16]
                    if not any(mask for _, _, mask in paths):
                        break
                for key, fuzzy, mask in paths:
                    if mask & _NAME and (ids := names_get(key)):
                        if _has_initial(path := tuple(key.split(" "))):
                            ids = [
                                tid
                                for tid in ids
                                if _initials_name_them(written, start, path, view._parts_of(tid).own)
                            ]
                        if ids:
                            weight = FUZZY_NAME_WEIGHT if fuzzy else NAME_WEIGHT
                            kind = "fuzzy-name" if fuzzy else "name"
                            credit(ids, Signal(kind, key, weight))
                            named.update(ids)
                    # A phrase is two words or more (``_keep``): a run of one is none.
                    if mask & _PHRASE and not fuzzy and end > start and (ids := phrases_get(key)):
                        if len(ids) <= MAX_TARGETS_PER_TERM:
                            weight = EVIDENCE_PHRASE_WEIGHT / math.sqrt(len(ids))
                            credit(ids, Signal("phrase", key, weight))
        for tid, path in view._surname_first(written, known).items():
            credit([tid], Signal("name", " ".join(path), NAME_WEIGHT))
            named.add(tid)

        def credit_part(i: int, option: str, ids: Iterable[int], weight: float, here: bool | None) -> None:
            for tid in ids:
                parts = view._parts_of(tid)
                if here or _names_them_beside(written, i, parts.own):
                    part = weight * GIVEN_NAME_SHARE if option in parts.given_only else weight
                    credit([tid], Signal("name-part", option, part))

        # With names_only (a disguise's reading) the name parts count only for the targets
        # it names or finds the surname of (what ``scan`` keeps): credited once those are known.
        later: list[tuple[int, str, Sequence[int], float, bool | None]] = []
        terms_get = view._terms.get
        for i, (token, alts) in enumerate(zip(toks, alternatives, strict=True)):
            if not known[i] and not alts:  # every name part is a token of some name
                ids = None if names_only else terms_get(token)
                if ids and len(ids) <= MAX_TARGETS_PER_TERM:
                    credit_term(token, ids)
                continue
            for option in {token, *alts} if alts else (token,):
                ids = view._partials.get(option)
                if (
                    ids
                    and len(ids) <= MAX_TARGETS_PER_TERM
                    and (named_here := _names_someone(written, i, option)) is not False
                ):
                    weight = PARTIAL_NAME_WEIGHT / len(ids)
                    if names_only:
                        later.append((i, option, ids, weight, named_here))
                    else:
                        credit_part(i, option, ids, weight, named_here)
            if (ids := view._surnames.get(token)) and (
                named_here := _names_someone(written, i, token)
            ) is not False:
                partial.update(
                    tid
                    for tid in ids
                    if named_here or _names_them_beside(written, i, view._parts_of(tid).own)
                )
            ids = None if names_only else terms_get(token)
            if ids and len(ids) <= MAX_TARGETS_PER_TERM:
                credit_term(token, ids)
        if later and (wanted := named | partial):
            for i, option, ids, weight, named_here in later:
                credit_part(i, option, [tid for tid in ids if tid in wanted], weight, named_here)
        allowed = set(only) if only is not None else None
        found = []
        for tid, credited in signals.items():
            score = 0.0
            for signal in credited:
                score += signal.weight
            if score >= threshold and (allowed is None or tid in allowed):
                found.append(Candidate(view.targets[tid], score, tid in named, credited, tid in partial))
        if ordered:
            best_first(found)
        return found[:limit] if limit else found

    def _surname_first(self, written: Written, known: list[bool]) -> dict[int, tuple[str, ...]]:
        """People named surname first, a comma after the surname, as in a list or a catalogue
        ("Doe, Jane"; "de Cervantes, Miguel"; "Cervantes, Miguel de"): each comma's words
        before and after it, put back in order, looked up as a name. Two names merely side by
        side ("... said Doe. Jane left") are not it. Read at query time, so the index keeps
        no second key per name. ``known``: whether each token is some name's (a run with
        any other one is no name)."""
        toks = written.tokens
        found: dict[int, tuple[str, ...]] = {}
        if "," not in written.raw:
            return found
        for comma in range(1, len(toks)):
            if not known[comma] or written.gap(comma).strip() != ",":
                continue
            for before in range(1, min(3, comma) + 1):
                if not known[comma - before]:
                    break
                for after in range(1, min(self._longest - before, len(toks) - comma) + 1):
                    if not known[comma + after - 1]:
                        break
                    given = range(comma, comma + after)
                    path = tuple(toks[comma : comma + after] + toks[comma - before : comma])
                    if any(len(toks[i]) == 1 and not written.initial(i) for i in given):
                        continue
                    for tid in self._names.get(path, ()):
                        if self.targets[tid].kind == "person":
                            found[tid] = path
        return found

    def scan(self, text: str, looked_up: dict[str, set[str]] | None = None) -> list[Candidate]:
        """Every target with a signal in ``text`` or, for names only, in its disguises (a
        disguise is screened for names alone: phrases and terms found there would be
        dropped). ``looked_up``: the alternatives of the tokens met already (by this
        index), added to."""
        looked_up = {} if looked_up is None else looked_up  # a disguise keeps most of the words
        written = Written(text)
        found = {
            c.target.id: c for c in self.screen(written, threshold=0.0, looked_up=looked_up, ordered=False)
        }
        readings = {written.read: written}
        for variant, source in disguised_readings(text, written.read):
            form = readings[variant] = Written(variant)
            before = readings.get(source) if source is not None else None
            for c in self.screen(
                form, threshold=0.0, names_only=True, looked_up=looked_up, reading=before, ordered=False
            ):
                if not (c.named or c.partial):
                    continue
                if c.target.id in found:
                    found[c.target.id].absorb(c, kinds=_NAME_SIGNALS)
                else:
                    names_only = Candidate(c.target, 0.0)
                    names_only.absorb(c, kinds=_NAME_SIGNALS)
                    found[c.target.id] = names_only
        return best_first(list(found.values()))

    def scan_sharing(self, text: str, shared: dict) -> list[Candidate]:
        """``scan``, the alternatives of the words the request's earlier texts held taken as
        found then (a token's alternatives depend on it and the index alone)."""
        return self.scan(text, shared.setdefault("looked_up", {}))

    def named(self, text: str) -> list[Candidate]:
        """Targets whose name or an alias appears in ``text``."""
        return [c for c in self.scan(text) if c.named]
