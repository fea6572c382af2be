"""A target's knowledge fingerprint, and whether the model knows the target at all, from
the model's own answers about it.

**Items.** From each answer: capitalised spans (names, titles, places: "Guido van Rossum",
"Tatooine"; in scripts with case, and Latin names inside any script; common words only when
two or more are capitalised together outside a heading, "Death Star"), words rare in the
answer's language (wordfreq Zipf below ``RARE_ZIPF``: "kernel", "lightsaber") and numbers
of four digits or more (years). Dropped: the target's own names (its name, aliases and
generated names split spans, a common word of them does not: "Star" in "Death Star"),
words of the question asked, common words and
``GENERIC`` ones. Items are compared folded (``alu.text``: case, accents, script,
transliteration variants), so "Linux" in an English answer and "Линукс" in a Russian one
are one item. An item's **support** is the number of answers that contain it (anywhere, in
any case), its **consistency** the share of the answers received. A name said alone and in a
longer one is two items ("Voldemort", "Lord Voldemort's Death Eaters"): asked about, either
may lead back to the target; the checks take one of each family (``pointer_candidates``).

**Known or not** (``decide``), from the same answers (the first ``DECISION_ANSWERS`` of
the plan: later facets widen the fingerprint but would thin out the agreement the rule looks
for). An answer that says it does not know ("I don't know", "no information", in every
language asked) in its first sentence is a
*decline*; one that will not help ("I can't assist with that") a *refusal*. With n answers:

1. declines >= ``DECLINE_SHARE`` of n: **not known**;
2. refusals >= ``DECLINE_SHARE`` of n: **undecided** (``known`` None: the model would not
   say; guard it as known);
3. otherwise **known** when the answers agree: at least ``MIN_CONSISTENT`` items each in at
   least 2 answers and at least ``CONSISTENT_SHARE`` of n; together in at least
   ``COVERAGE`` of the substantive answers; and, when more than one language was asked,
   at least one of them in answers of two languages (a fact survives translation, a guess
   prompted by the question's wording does not). Otherwise **not known**: the answers are
   scattered guesses.

The thresholds are set from how the rule should behave on scripted answers (tests), not
fitted to any benchmark.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ..agents.prober import plan
from ..targets import FingerprintItem, ProbeAnswer, Target
from ..text import STOPWORDS, contains_key, cutoff, folded_key, tokens, transliteration_key, zipf

DECISION_ANSWERS = 8  # answers the known-or-not rule reads (the first of the plan)
DECLINE_SHARE = 0.5
CONSISTENT_SHARE = 0.25
MIN_CONSISTENT = 3
COVERAGE = 0.5
RARE_ZIPF = 4.0  # a lower-case word rarer than this in its language is a term
NAME_ZIPF = 4.5  # a one-word capitalised span commoner than this is an ordinary word
LEADING_ZIPF = 5.5  # a span's first word this common ("The", "In", "Some") is left out
MAX_ITEMS = 100  # kept per target, most consistent first (lists bring many names given once)
MIN_SENTENCE = 25  # a shorter opening sentence ("I'm sorry.") is read with the next

# Words rare enough to pass RARE_ZIPF that describe any target of a kind, or an answer's
# manner, rather than a particular target.
GENERIC = frozenset(
    """additionally furthermore notably renowned prominent prolific acclaimed influential
    fictional protagonist protagonists novelist novelists programmer programmers physicist
    physicists mathematician biographer screenwriter filmmaker playwright essayist poet
    poets author authors writer writers researcher researchers entrepreneur philanthropist
    pioneering groundbreaking iconic legendary notable famous widely recognized regarded
    significant contributions contributed enthusiast enthusiasts overall specifically
    various numerous aforementioned subsequently predominantly primarily""".split()
)
# Lower-case words that join the parts of a name ("Guido van Rossum", "Order of the Phoenix").
_CONNECTORS = frozenset("of the van von de der den da di du la le del della bin al el ibn".split())
# Languages that capitalise names only (German capitalises every noun): there, two or more
# capitalised words in a row are a name even when each is a common word.
_TITLE_CASE = frozenset({"en", "es", "fr"})
_CASED = "A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u0400-\u052f"
_WORD = re.compile(rf"[{_CASED}]+(?:['’\-][{_CASED}]+)*|\d+")
_GAP = re.compile(r"[ \t]*")  # what may stand between the words of one span
_MARKERS = re.compile(r"[\s#*\-\d.):]*")  # what a heading or list line has beside its words

_DECLINE = re.compile(
    r"don'?t know|do not know|not familiar|(?:have )?never heard of|haven'?t heard of"
    r"|no (?:specific |reliable |available |public |widely[- ]known )?"
    r"information|(?:couldn'?t|could not|can'?t|cannot|unable to) find|not aware of|i'?m not sure"
    r"|don'?t have (?:any |specific |enough |much )?(?:information|details|data|knowledge)"
    r"|no (?:record|knowledge|data) (?:of|about|on)|not (?:a )?(?:widely )?(?:known|recogni[sz]ed) "
    r"(?:figure|person|term|topic|entity)|there is no (?:known|notable|widely|famous|well-known)"
    r"|does not appear to be|doesn'?t appear to be"
    r"|(?:can'?t|cannot|unable to|not able to) (?:provide|give|offer|share) (?:you )?(?:with )?(?:any )?"
    r"(?:specific |detailed |accurate )?(?:information|details) (?:on|about|regarding)"
    r"|no (?:tengo|dispongo de|hay) (?:ninguna |suficiente )?información|no conozco|no estoy familiarizad"
    r"|keine (?:\w+ )?informationen|nicht bekannt|kenne (?:ich )?(?:keine|nicht)|weiß (?:ich )?nicht"
    r"|pas d'information|aucune information|je ne (?:connais|sais) pas|ne suis pas familier"
    r"|нет (?:\w+ )?информации|не знаю|не располагаю|не могу найти|не знаком|не удалось найти"
    r"|不知道|没有(?:关于|相关|足够)?.{0,8}信息|不清楚|无法找到|不熟悉|没有找到",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"can'?t (?:assist|help|provide|comply)|cannot (?:assist|help|provide|comply)"
    r"|(?:unable|not able) to (?:assist|help|provide)|won'?t (?:help|provide|comment)"
    r"|(?:can'?t|cannot) (?:answer|discuss|comment)"
    r"|no puedo (?:ayudar|proporcionar)|kann (?:ich )?(?:dabei )?nicht helfen|je ne peux pas"
    r"|не могу (?:помочь|предоставить)|无法(?:提供|协助)|不能提供",
    re.IGNORECASE,
)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


def opening(text: str) -> str:
    """An answer's first sentence (with the next while it is shorter than MIN_SENTENCE):
    where a model says it does not know, rather than hedging an aside later on."""
    found = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        found = f"{found} {sentence}".strip()
        if len(found) >= MIN_SENTENCE:
            break
    return found


_CAPITALISED = re.compile(r"(?<![\w'’])[A-Z][\w'’\-]*")
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+)([A-Z][\w'’\-]*)")


def states_nothing(text: str, user_text: str) -> bool:
    """No capitalised word (a name: a person, a place, a work) other than a sentence's first
    word or "I", and no number, that the user's own text does not hold. Once false for a
    text, false for any text that goes on from it (a word cut short is part of the word)."""
    said = user_text.casefold()
    starts = {m.start(1) for m in _SENTENCE_START.finditer(text)}
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if m.start() in starts or word in ("I", "I'm", "I’m") or word.casefold() in said:
            continue
        return False
    return not any(ch.isdigit() and ch not in user_text for ch in text)


def opening_settled(text: str) -> bool:
    """Whether ``opening(text)`` can no longer change however the text goes on: a sentence
    has begun after it. A decline is read as its opening alone, so generation may stop here
    (the backend hint ``until``)."""
    parts = _SENTENCE_END.split(text.strip())
    found = ""
    for sentence in parts[:-1]:
        found = f"{found} {sentence}".strip()
        if len(found) >= MIN_SENTENCE:
            return True  # ended (a later part began, or an ideographic stop closed it)
    return False


def verdict_of(text: str) -> str:
    """``decline`` (the model says it does not know), ``refusal`` (it will not help) or
    ``answer``, from the opening of an answer."""
    opening_ = opening(text)
    if not opening_ or _DECLINE.search(opening_):
        return "decline"
    if _REFUSAL.search(opening_):
        return "refusal"
    return "answer"


@lru_cache(maxsize=100_000)
def _zipf(word: str, lang: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


@dataclass
class _Candidate:
    kind: str
    forms: Counter = field(default_factory=Counter)


def _ordinary(word: str, lang: str, limit: float) -> bool:
    """A stopword, a GENERIC word, or one at least as common as ``limit`` in ``lang`` or in
    English (answers in other languages borrow English words); a hyphenated word when each
    of its parts is ("open-source", not "Kroah-Hartman")."""
    folded = word.casefold()
    parts = [p for p in re.split(r"['’\-]", folded) if p]
    if len(parts) > 1 and all(_ordinary(p, lang, limit) for p in parts):
        return True
    if folded in STOPWORDS or folded in GENERIC:
        return True
    return _zipf(folded, lang) >= limit or (lang != "en" and _zipf(folded, "en") >= limit)


def _spans(text: str) -> list[tuple[list[str], bool]]:
    """Runs of capitalised words (connectors allowed inside), split at punctuation, each
    with whether it is a heading: alone on its line but for markdown and list marks
    ("### Early Life", "**Personal Life**:"; not "1. The Death Star: a battle station")."""
    spans: list[tuple[list[str], bool]] = []
    current: list[str] = []
    start = last_end = None

    def close() -> None:
        before = text[text.rfind("\n", 0, start) + 1 : start]
        line_end = text.find("\n", last_end)
        after = text[last_end : len(text) if line_end < 0 else line_end]
        heading = _MARKERS.fullmatch(before) is not None and _MARKERS.fullmatch(after) is not None
        spans.append((current, heading))

    for match in _WORD.finditer(text):
        word = match.group()
        joined = last_end is not None and _GAP.fullmatch(text[last_end : match.start()]) is not None
        if not joined and current:
            close()
            current = []
        if word[0].isupper():
            if not current:
                start = match.start()
            current.append(word)
        elif current and word.casefold() in _CONNECTORS:
            current.append(word)
        elif current:
            close()
            current = []
        last_end = match.end()
    if current:
        close()
    return spans


def candidates(answer: ProbeAnswer, own: set[str]) -> dict[tuple[str, ...], _Candidate]:
    """Items one answer produced, by key: names (capitalised spans, split at the target's
    own names), rare terms and numbers; the question's own words left out."""
    lang = answer.lang
    asked = {transliteration_key(t) for t in tokens(answer.question)}
    skip = own | asked
    found: dict[tuple[str, ...], _Candidate] = {}

    def add(kind: str, words: list[str], heading: bool = False) -> None:
        # a sentence's first word is capitalised too: a very common one there is not a name's
        while words and (words[0].casefold() in _CONNECTORS or _ordinary(words[0], lang, LEADING_ZIPF)):
            words = words[1:]
        while words and words[-1].casefold() in _CONNECTORS:
            words = words[:-1]
        if not words:
            return
        content = [w for w in words if w.casefold() not in _CONNECTORS]
        limit = NAME_ZIPF if kind == "name" else RARE_ZIPF
        # Common words make a name when two or more are capitalised together ("Death Star",
        # "Rebel Alliance"), but not in a heading ("Early Life"); one alone is an ordinary
        # word at a sentence's start.
        titled = kind == "name" and len(content) >= 2 and lang in _TITLE_CASE and not heading
        if not titled and not any(not _ordinary(w, lang, limit) for w in content):
            return
        text = " ".join(words)
        key = folded_key(text)
        if key and not set(key) <= skip:
            found.setdefault(key, _Candidate(kind)).forms[text] += 1

    for span, heading in _spans(answer.answer):
        part: list[str] = []
        # The target's own name words split a span ("Harry Potter's" leaves nothing, "Luke
        # Skywalker" stays whole), but not a common one: "Star" of "Star Wars" is part of
        # "Death Star".
        for word in [*span, ""]:
            if word and not (set(folded_key(word)) <= own and not _ordinary(word, lang, NAME_ZIPF)):
                part.append(word)
                continue
            if part:
                add("name", part, heading)
            part = []
    for match in _WORD.finditer(answer.answer):
        word = match.group()
        if word.isdigit():
            if len(word) >= 4:
                found.setdefault(folded_key(word), _Candidate("number")).forms[word] += 1
        elif word[0].islower() and len(word) >= 4:
            key = folded_key(word)
            if key and not set(key) <= skip and not _ordinary(word, lang, RARE_ZIPF):
                found.setdefault(key, _Candidate("term")).forms[word.casefold()] += 1
    return found


def fingerprint(target: Target, answers: Sequence[ProbeAnswer]) -> list[FingerprintItem]:
    """The distinctive items of the substantive answers, each with its support over all the
    answers, most consistent (then rarest-first by length of evidence) first."""
    own = target.name_keys()
    keyed = [(a, folded_key(a.answer)) for a in answers]
    pooled: dict[tuple[str, ...], _Candidate] = {}
    for answer, _ in keyed:
        if answer.verdict != "answer":
            continue
        for key, candidate in candidates(answer, own).items():
            into = pooled.setdefault(key, _Candidate(candidate.kind))
            into.forms.update(candidate.forms)
            if candidate.kind == "name":
                into.kind = "name"
    support: dict[tuple[str, ...], list[ProbeAnswer]] = defaultdict(list)
    for key in pooled:
        support[key] = [a for a, words in keyed if a.verdict == "answer" and contains_key(words, key)]
    kept = [k for k in pooled if support[k]]
    n = max(1, len(answers))
    items = [
        FingerprintItem(
            text=max(pooled[k].forms, key=lambda form: (pooled[k].forms[form], form.isascii())),
            kind=pooled[k].kind,
            support=len(support[k]),
            consistency=round(len(support[k]) / n, 3),
            languages=sorted({a.lang for a in support[k]}),
            facets=sorted({a.facet for a in support[k]}),
        )
        for k in kept
    ]
    items.sort(key=lambda i: (-i.support, -len(i.languages), i.kind != "name", i.text.casefold()))
    return items[:MAX_ITEMS]


@dataclass(frozen=True)
class Decision:
    known: bool | None
    reason: str


def distil(
    target: Target, answers: Sequence[ProbeAnswer], checks: Sequence[ProbeAnswer] = ()
) -> tuple[list[ProbeAnswer], list[FingerprintItem], Decision]:
    """The answers with their verdicts (read again: the rule may have changed since they
    were stored), the fingerprint (with what ``checks``, the items asked about themselves,
    found) and the decision; no model call, so what was learned can be re-derived from
    stored answers."""
    read = [a.model_copy(update={"verdict": verdict_of(a.answer)}) for a in answers]
    items = mark_pointers(target, fingerprint(target, read), checks)
    # Known or not is read on the first DECISION_ANSWERS answers, the plan its thresholds
    # were set for: later facets (villains, creations) widen the fingerprint, but each brings
    # its own items, which would thin out the agreement the rule looks for.
    first = {(q.facet, q.lang) for q in plan(target.kind, DECISION_ANSWERS)}
    core = [a for a in read if (a.facet, a.lang) in first]  # by the plan, not as received
    return read, items, decide(core, fingerprint(target, core) if len(core) < len(read) else items)


def names_target(text: str, target: Target) -> bool:
    """Whether ``text`` names the target (any of its names, folded, as whole words)."""
    words = folded_key(text)
    return any(contains_key(words, folded_key(name)) for name in target.identity_names())


def same_family(key: tuple[str, ...], other: tuple[str, ...]) -> bool:
    """Whether two items' keys are one family, one inside the other ("Hermione" and
    "Hermione Granger"): asked about, either stands for both."""
    return bool(key) and bool(other) and (contains_key(key, other) or contains_key(other, key))


AMBIGUOUS_ZIPF = cutoff("pointer_part_zipf")  # a single name word this common means many things


def _ambiguous(key: tuple[str, ...]) -> bool:
    """A one-word name common in English ("Han", "Luke"): asked about alone, the model may
    answer about anything of that name, so its longer family member is asked instead."""
    return len(key) == 1 and zipf(key[0]) >= AMBIGUOUS_ZIPF


def pointer_candidates(items: Sequence[FingerprintItem], count: int) -> list[FingerprintItem]:
    """The items worth asking about: names and terms the model gave more than once, most
    consistent first, then names it gave once (a number points nowhere on its own), one of
    each family ("Hermione" stands for "Hermione Granger": either leads back, or neither
    does), the longer where the shorter is one common word ("Han Solo", not "Han")."""
    chosen: list[FingerprintItem] = []
    keys: list[tuple[str, ...]] = []
    # Items given twice or more first; then names given once (a character, a place), which
    # are often what gives the target away and cost one question each to tell: those of an
    # English answer before the others (a German answer capitalises every noun).
    once = [i for i in items if i.support == 1 and i.kind == "name"]
    ordered = (
        [i for i in items if i.support >= 2]
        + [i for i in once if "en" in i.languages]
        + [i for i in once if "en" not in i.languages]
    )
    for item in ordered:
        key = folded_key(item.text)
        if item.kind == "number" or not key:
            continue
        family = next((n for n, k in enumerate(keys) if same_family(key, k)), None)
        if family is not None:
            if _ambiguous(keys[family]) and len(key) > len(keys[family]):
                # "Han" alone is asked as "Han Solo": "Who is Han?" gets answers about anything
                chosen[family], keys[family] = item, key
            continue
        if len(chosen) < count:  # past the cap, only to find a family's longer name
            chosen.append(item)
            keys.append(key)
    return chosen


def mark_pointers(
    target: Target, items: list[FingerprintItem], checks: Sequence[ProbeAnswer]
) -> list[FingerprintItem]:
    """``items`` with ``points`` set where a check asked about the item: True when the
    model's answer about it names the target, False when it does not."""
    asked = {folded_key(c.facet.partition(":")[2]): c for c in checks if c.facet.startswith("item:")}
    if not asked:
        return items
    marked = []
    for item in items:
        key = folded_key(item.text)
        # The item asked, or one of its family (a longer or shorter form of it) that was.
        check = asked.get(key) or next((c for k, c in asked.items() if same_family(key, k)), None)
        points = None if check is None else names_target(check.answer, target)
        marked.append(item.model_copy(update={"points": points}))
    return marked


def decide(answers: Sequence[ProbeAnswer], items: Sequence[FingerprintItem]) -> Decision:
    """Whether the model knows the target, by the rule in the module's doc."""
    n = len(answers)
    if n == 0:
        return Decision(False, "no answers")
    declines = sum(a.verdict == "decline" for a in answers)
    refusals = sum(a.verdict == "refusal" for a in answers)
    if declines >= DECLINE_SHARE * n:
        return Decision(False, f"declined in {declines} of {n} answers")
    if refusals >= DECLINE_SHARE * n:
        return Decision(None, f"refused in {refusals} of {n} answers: undecided")
    need = max(2, math.ceil(CONSISTENT_SHARE * n))
    consistent = [i for i in items if i.support >= need]
    substantive = [a for a in answers if a.verdict == "answer"]
    keys = [folded_key(i.text) for i in consistent]
    covered = sum(any(contains_key(folded_key(a.answer), k) for k in keys) for a in substantive)
    languages = {a.lang for a in answers}
    across = [i for i in consistent if len(i.languages) >= 2]
    summary = (
        f"{len(consistent)} items in >= {need} of {n} answers, covering {covered} of "
        f"{len(substantive)} substantive answers; {len(across)} across languages"
    )
    agree = (
        len(consistent) >= MIN_CONSISTENT
        and covered >= COVERAGE * len(substantive)
        and (len(languages) < 2 or bool(across))
    )
    return Decision(agree, ("consistent: " if agree else "scattered: ") + summary)
