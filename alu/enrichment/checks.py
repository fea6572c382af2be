"""Checks on what the Enricher wrote, before any of it is used.

A generated name *names* the target wherever it is found (the pre-screen and the gate treat
it as the operator's own), and a generated term is *evidence* of it. A wrong name therefore
costs false "leaks" on unrelated answers, and a vague term costs noise; so a draft is cut
down by simple, deterministic rules, and everything cut is kept in ``Enrichment.dropped``
as "text (reason)" for the operator to read.

Names (each must stay a name of *this* target):

* written in another script than the one it was listed under (a Latin name under
  "cyrillic") - a small model mixes them up;
* fewer than two letters, or three once folded to ASCII: it would match inside ordinary text;
* one word that is a common English word (wordfreq Zipf >= 4.0, as the pre-screen counts
  "distinctive"): "Will", "Rose" would name the target in every other sentence; likewise
  a one-word name that is common in its script's language (Russian, Greek, Arabic,
  Persian, Hebrew, Hindi): a small model writes "Python" as Arabic "the house";
* for a person, one word of the operator's multi-word name alone (a first name): the
  pre-screen already finds a rare surname on its own;
* Latin variants sharing no word (nor transliteration key) with the operator's names:
  a nickname or a title, not a spelling of the name;
* another target's name or alias (it names that one), or one of the generated terms
  (a term listed twice is a term, not a name).

Terms (each must point at the target, and at little else):

* no letter or digit, digits only (a bare year), under three letters folded, only
  function words: they match most text;
* one common English word (Zipf >= 4.0), or two words neither of which is rare: the
  pre-screen would not use them either (it keeps three-word titles of common words);
* a name of the target itself (already a name) or another target's name or alias;
* shared: generated for more than ``MAX_TARGETS_PER_TERM`` targets, it says nothing about
  which one is meant. Counted over the store as it is enriched, then once more when a
  batch ends (``drop_shared_terms``), so the order targets were enriched in does not matter.

The checks take no model call and need the other targets' names and terms only
(``Context``), so a batch costs one LLM call per target and nothing more.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..agents.enricher import MAX_TERMS, NAMES_PER_SCRIPT, Draft
from ..targets import Enrichment, Target
from ..targets.target import check_name
from ..text import STOPWORDS, tokens, transliteration_key, zipf

COMMON_ZIPF = 4.0  # wordfreq's Zipf scale: at or above this a word is everyday English
MAX_TARGETS_PER_TERM = 5
MAX_NAMES = 24

# The Unicode character-name prefixes of the letters each script slot may hold.
SCRIPT_LETTERS = {
    "latin": ("LATIN",),
    "cyrillic": ("CYRILLIC",),
    "greek": ("GREEK",),
    "arabic": ("ARABIC",),
    "persian": ("ARABIC",),
    "hebrew": ("HEBREW",),
    "devanagari": ("DEVANAGARI",),
    "chinese": ("CJK",),
    "japanese": ("CJK", "HIRAGANA", "KATAKANA"),
    "korean": ("HANGUL",),
}
_CJK_SCRIPTS = ("chinese", "japanese", "korean")
# The language whose word frequencies tell an everyday word of a script from a name (a small
# model transliterates "Python" as Arabic "the house"). Chinese and Japanese would need a
# word segmenter, Korean names are rarely everyday words: those are not checked.
SCRIPT_LANGUAGE = {
    "cyrillic": "ru",
    "greek": "el",
    "arabic": "ar",
    "persian": "fa",
    "hebrew": "he",
    "devanagari": "hi",
}


def _common_in(word: str, language: str) -> bool:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, language) >= COMMON_ZIPF


_SHARED = re.compile(r"(.+) \(shared by \d+ targets\)")


def key(text: str) -> str:
    """What two strings must share to be the same name or term: their folded words."""
    return " ".join(tokens(text))


def _letters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch).startswith("L")]


def in_script(text: str, script: str) -> bool:
    """Whether every letter of ``text`` belongs to ``script`` (unknown slots: any)."""
    prefixes = SCRIPT_LETTERS.get(script)
    if prefixes is None:
        return True
    return all(unicodedata.name(ch, "").startswith(prefixes) for ch in _letters(text))


def _common(word: str) -> bool:
    return word in STOPWORDS or zipf(word) >= COMMON_ZIPF


def _rare(word: str) -> bool:
    """Rare enough to point at something: a rare word of four letters or more, a rare
    three-letter one (Git), a year or longer number."""
    if word.isdigit():
        return len(word) >= 4
    return len(word) >= 3 and not _common(word)


@dataclass
class Context:
    """What the checks know of the other targets: their names (folded) and which targets
    keep each generated term."""

    names: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    # term key -> the targets it was generated for: kept, or dropped as shared only
    term_targets: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    titles: dict[int, str] = field(default_factory=dict)  # id -> name, to write back shared terms
    generated: dict[int, set[str]] = field(default_factory=dict)  # id -> its term keys above
    unnumbered: dict[str, int] = field(default_factory=dict)  # name -> id, for targets without one

    @classmethod
    def of(cls, targets: Iterable[Target]) -> Context:
        context = cls()
        for target in targets:
            context.add(target)
        return context

    def add(self, target: Target) -> None:
        """Take in ``target`` (again, after its enrichment changed)."""
        tid = self._id(target)
        if tid is None:  # a target no store has numbered (an evaluation's): numbered here
            tid = self.unnumbered[target.name] = -len(self.unnumbered) - 1
        self.titles[tid] = target.name
        for name in target.names():
            self.names[key(name)].add(tid)
        for term in self.generated.pop(tid, ()):
            self.term_targets[term].discard(tid)
        terms = list(target.associated_terms())
        if target.enrichment is not None:
            terms += [m.group(1) for m in map(_SHARED.fullmatch, target.enrichment.dropped) if m]
        self.generated[tid] = {key(term) for term in terms}
        for term in self.generated[tid]:
            self.term_targets[term].add(tid)

    def _id(self, target: Target) -> int | None:
        return target.id if target.id is not None else self.unnumbered.get(target.name)

    def others_named(self, text: str, target: Target) -> bool:
        return bool(self.names.get(key(text), set()) - {self._id(target)})

    def sharing(self, term: str, target: Target) -> int:
        """For how many targets ``term`` was generated, ``target`` included."""
        return len(self.term_targets.get(key(term), set()) - {self._id(target)}) + 1


def name_problem(name: str, script: str, target: Target, context: Context) -> str | None:
    """Why a generated ``name`` listed under ``script`` cannot name ``target``, or None."""
    try:
        check_name(name)
    except ValueError:
        return "unusable"
    if not in_script(name, script):
        return f"not {script.title()} script"
    words = tokens(name)
    if len(_letters(name)) < 2 or (script not in _CJK_SCRIPTS and len("".join(words)) < 3):
        return "too short"
    if len(words) == 1 and _common(words[0]):
        return "a common word"
    language = SCRIPT_LANGUAGE.get(script)
    if language and len(parts := re.findall(r"\w+", name)) == 1 and _common_in(parts[0], language):
        return f"a common {script.title()}-script word"
    own = [tokens(n) for n in target.names()]
    if target.kind == "person" and len(words) == 1 and any(len(n) > 1 and words[0] in n for n in own):
        return "one word of the name alone"
    if context.others_named(name, target):
        return "another target's name"
    if script == "latin":
        keys = {transliteration_key(w) for n in own for w in n}
        if not any(transliteration_key(w) in keys for w in words):
            return "not a form of the name"
    return None


def term_problem(term: str, target: Target, context: Context, own_names: set[str]) -> str | None:
    """Why a generated ``term`` cannot stand as evidence of ``target``, or None."""
    words = tokens(term)
    if not words:
        return "no letter or digit"
    if all(w.isdigit() for w in words):
        return "digits only"
    if len("".join(words)) < 3:
        return "too short"
    if all(w in STOPWORDS for w in words):
        return "only function words"
    if len(words) == 1 and not _rare(words[0]):
        return "a common word"
    if len(words) == 2 and not any(_rare(w) for w in words):
        return "common words"
    if key(term) in own_names:
        return "a name of the target"
    if context.others_named(term, target):
        return "another target's name"
    shared = context.sharing(term, target)
    if shared > MAX_TARGETS_PER_TERM:
        return f"shared by {shared} targets"
    return None


def checked(draft: Draft, target: Target, context: Context, *, model: str, created: str) -> Enrichment:
    """The enrichment ``draft`` leaves once checked: what passed, and what did not, with why."""
    dropped: list[str] = []
    own = {key(n) for n in target.names()}
    term_keys = {key(t) for t in draft.terms}
    names: list[str] = []
    seen = {n.casefold() for n in target.names()}
    for script, listed in draft.names.items():
        for name in listed[:NAMES_PER_SCRIPT]:
            name = " ".join(name.split())
            if name.casefold() in seen or (script == "latin" and key(name) in own):
                continue  # the name itself again (a Latin one differing in case or accents only)
            reason = name_problem(name, script, target, context)
            if reason is None and key(name) in term_keys:
                reason = "also a term"
            if reason is None and len(names) >= MAX_NAMES:
                reason = "over the limit"
            if reason:
                dropped.append(f"{name} ({reason})")
                continue
            names.append(name)
            seen.add(name.casefold())
    own_names = own | {key(n) for n in names}
    terms: list[str] = []
    kept_keys: set[str] = set()
    for term in draft.terms:
        term = " ".join(term.split())
        if key(term) in kept_keys:
            continue
        reason = term_problem(term, target, context, own_names)
        if reason is None and len(terms) >= MAX_TERMS:
            reason = "over the limit"
        if reason:
            dropped.append(f"{term} ({reason})")
            continue
        terms.append(term)
        kept_keys.add(key(term))
    description = draft.description.split("\n")[0].strip()
    description = "".join(ch for ch in description if unicodedata.category(ch) not in ("Cc", "Cs"))
    return Enrichment(
        names=names, terms=terms, description=description, dropped=dropped, model=model, created=created
    )


def shared_terms(context: Context) -> dict[int, dict[str, int]]:
    """Target id -> {term key: for how many targets it was generated} for the terms
    generated for more than ``MAX_TARGETS_PER_TERM`` targets."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    for term, ids in context.term_targets.items():
        if len(ids) > MAX_TARGETS_PER_TERM:
            for tid in ids:
                found[tid][term] = len(ids)
    return found


def without_shared(enrichment: Enrichment, shared: dict[str, int]) -> Enrichment:
    """``enrichment`` with the ``shared`` terms (by key) moved to ``dropped``."""
    kept = [t for t in enrichment.terms if key(t) not in shared]
    gone = [f"{t} (shared by {shared[key(t)]} targets)" for t in enrichment.terms if key(t) in shared]
    return enrichment.model_copy(update={"terms": kept, "dropped": [*enrichment.dropped, *gone]})
