"""The target's name as the serving model writes it in other scripts.

A name in Cyrillic, Chinese, Japanese, Korean, Arabic, Greek, Hindi or Hebrew shares no
letter with the operator's spelling, and a transliteration rule reaches only part of it:
Эйнштейн is "Eynshteyn", 爱因斯坦 is "Ai Yin Si Tan". The model that would answer about
the target under that form knows the form, so it is asked, once per known target, in each
script's own language ("Как пишется «Albert Einstein» по-русски?"). A form is kept only
when the model, asked back what it is in English, names the target again: a garbled or
wrong form (another person, a word for the topic's genre) does not come back, so it never
becomes a name that would decline unrelated questions. Forms the screen already matches
(Линус Торвальдс folds to "linus torvalds") are not kept.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from ..agents.prober import Prober, Question, questions
from ..errors import AgentFailure
from ..scan.lexical import PROPER_NAME_ZIPF
from ..targets import ProbeAnswer, Target
from ..text import contains_key, folded_key, tokens, zipf
from ..trace import Trace
from .asking import Pace, exchange

FORM_TOKENS = 48  # a name and a little more (Devanagari and Hebrew take many tokens a letter)
MAX_FORM_CHARS = 48
MAX_FORM_WORDS = 6

# Which letters count as a language's script: the start of their Unicode character names.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "ru": ("CYRILLIC",),
    "uk": ("CYRILLIC",),
    "zh": ("CJK UNIFIED",),
    "ja": ("KATAKANA", "HIRAGANA", "CJK UNIFIED"),
    "ko": ("HANGUL",),
    "ar": ("ARABIC",),
    "el": ("GREEK",),
    "hi": ("DEVANAGARI",),
    "he": ("HEBREW",),
}
UNSPACED = frozenset({"zh", "ja"})  # written without spaces between words
# What may stand between the words of a name: spaces, hyphens and the middle dots that
# Chinese and Japanese write between a given name and a family name.
_JOINERS = frozenset(" -\u2010\u00b7\u30fb\u2027\u2022")
_QUOTES = '"“”„«»「」『』《》‘’'  # not the apostrophe, which is inside names (O'Brien, м'ята)
_QUOTED = re.compile(f"[{_QUOTES}]([^{_QUOTES}]+)[{_QUOTES}]")


def _in_script(ch: str, lang: str) -> bool:
    return unicodedata.name(ch, "").startswith(SCRIPTS[lang])


def _runs(text: str, lang: str) -> list[str]:
    """The runs of ``lang``'s script in ``text`` (joined by spaces, hyphens, middle dots)
    with at least two of its letters."""
    found, run = [], []
    for ch in [*text, "\n"]:
        if _in_script(ch, lang) or (run and ch in _JOINERS):
            run.append(ch)
            continue
        form = " ".join("".join(run).strip("".join(_JOINERS)).split())
        if sum(_in_script(c, lang) for c in form) >= 2:
            found.append(form)
        run = []
    return found


def form_in(answer: str, question: str, lang: str) -> str | None:
    """The name in ``lang``'s script that ``answer`` gives: the first run of that script
    inside quotes when the answer quotes ('"Star Wars"은 "스타워즈"로 씁니다'), else the
    first in its first line, leaving out a run of words the answer repeats from
    ``question``; None when there is none or it is too long to be a name."""
    line = next((ln for ln in answer.splitlines() if ln.strip()), "")
    quoted = [m.group(1) for m in _QUOTED.finditer(line)]
    for run in [r for q in quoted for r in _runs(q, lang)] if quoted else _runs(line, lang):
        form = _unechoed(run, question, unspaced=lang in UNSPACED)
        if sum(_in_script(c, lang) for c in form) < 2:
            continue  # the question's own words, echoed
        if len(form) > MAX_FORM_CHARS or len(form.split()) > MAX_FORM_WORDS:
            return None
        return form
    return None


def _unechoed(run: str, question: str, unspaced: bool) -> str:
    """``run`` without the question's words it starts or ends with: whole words in a spaced
    script, and in Chinese or Japanese, where nothing marks a word, a piece of at least two
    characters ("的中文译名是林纳斯" asked "…的中文译名是什么？")."""
    while True:
        before = run
        words = run.split()
        while words and words[0] in question:
            words.pop(0)
        while words and words[-1] in question:
            words.pop()
        run = " ".join(words)
        if unspaced:
            match = SequenceMatcher(None, run, question, autojunk=False).find_longest_match()
            if match.size >= 2 and (match.a == 0 or match.a + match.size == len(run)):
                run = (run[: match.a] + run[match.a + match.size :]).strip("".join(_JOINERS))
        if run == before:
            return run


def comes_back(answer: str, target: Target) -> bool:
    """Whether ``answer`` (the model's English for a form) names ``target``: one of the
    operator's names as whole words, or, for a person, the family name (the last word of
    the name, at least four letters)."""
    words = folded_key(answer)
    if any(contains_key(words, folded_key(name)) for name in target.names()):
        return True
    last = folded_key(target.name)[-1:]
    return target.kind == "person" and bool(last) and len(last[0]) >= 4 and contains_key(words, last)


def _family_name(form: str, target: Target, lang: str) -> list[str]:
    """A person's family name alone, as Chinese and Japanese write a foreigner's (爱因斯坦 of
    阿尔伯特·爱因斯坦): with no spaces it is no word the screen could find in the whole form,
    where a spaced script's family name is found as a part of the name. As there, only a
    rare family name (Einstein, not London or Roberts: ロンドン is the city too), and three
    characters at least: two may be a common word."""
    family = tokens(target.name)[-1:]
    if target.kind != "person" or lang not in UNSPACED or not family or zipf(family[0]) >= PROPER_NAME_ZIPF:
        return []
    parts = [p for p in re.split(f"[{re.escape(''.join(_JOINERS))}]", form) if p]
    return [parts[-1]] if len(parts) > 1 and len(parts[-1]) >= 3 else []


def _asked(facet: str) -> list[Question]:
    return [q for q in questions("written") if q.facet == facet]


def name_forms(
    prober: Prober, trace: Trace, target: Target, pace: Pace | None = None
) -> tuple[list[str], list[ProbeAnswer]]:
    """The forms of ``target``'s name in other scripts that come back as the target (one
    a language at most), and every exchange (for ``alu targets show``). A failed call
    leaves that phrasing out."""
    back = _asked("back")[0]
    # the names the screen has without any forms learned before (asked again, by --force or
    # another model, those must come back, not be taken as known already)
    known = {folded_key(n) for n in target.model_copy(update={"knowledge": None}).identity_names()}
    forms: list[str] = []
    kept: set[str] = set()  # the languages a form was kept in
    said: list[ProbeAnswer] = []

    def ask(question: Question, subject: str) -> str | None:
        try:
            answer = exchange(
                prober,
                trace,
                target,
                question,
                subject=subject,
                facet=f"written:{question.facet}",
                max_tokens=FORM_TOKENS,
                pace=pace,
            )
        except AgentFailure:
            return None
        said.append(answer)
        return answer.answer

    for question in _asked("name"):
        if question.lang in kept:
            continue  # its first phrasing gave a form
        text = ask(question, target.name)
        form = form_in(text, question.text(target.name), question.lang) if text is not None else None
        if form is None or folded_key(form) in known:
            continue
        english = ask(back, form)
        if english is not None and comes_back(english, target):
            forms.append(form)
            known.add(folded_key(form))
            kept.add(question.lang)
            # the family name alone is asked back too: a wrong form's part may be
            # another name (マーク・フィジー's フィジー is Fiji)
            for family in _family_name(form, target, question.lang):
                english = ask(back, family)
                if english is not None and comes_back(english, target):
                    forms.append(family)
    return forms, said
