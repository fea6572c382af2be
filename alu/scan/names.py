"""A target's names as whole words in a text, however spaced and in any case: what the gate
and the stranger rewrite look for and replace (the screen itself reads names through
``lexical`` and ``written``)."""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from ..targets.target import Target
from ..text import tokens, transliteration_key

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")
_BETWEEN = re.compile(r"[ \t·.\-]*")  # what may stand between two words of one name


def name_pattern(name: str) -> str:
    """A regex for ``name`` as whole words, however it is spaced (match it ignoring case)."""
    return r"(?<!\w)" + r"\s+".join(re.escape(w) for w in name.split()) + r"(?!\w)"


def redact(text: str, target: Target, mask: str = "[redacted]") -> str:
    """Replace the target's names and aliases in ``text`` (case-insensitively)."""
    for name in sorted(target.names(), key=len, reverse=True):
        text = re.sub(name_pattern(name) + r"(?:'s|’s)?", mask, text, flags=re.IGNORECASE)
    return text


def _word_key(word: str) -> str:
    return transliteration_key("".join(tokens(word)))


def _alike(word: str, part: str) -> bool:
    """A word of the text and a word of a name: the same once folded and transliterated,
    or one edit apart when both are long enough for one edit to be a misspelling."""
    if not word or not part:
        return False
    if word == part:
        return True
    return min(len(word), len(part)) >= 4 and OSA.distance(word, part) <= 1


def written_forms(text: str, target: Target) -> list[str]:
    """How ``text`` writes the target's names, longest first: runs of words that each match
    a word of one of its names as the pre-screen matches them (any case, accents, another
    script transliterated, one edit), so "Linus Torvals" and "Линус Торвальдс" are found
    for Linus Torvalds. A run of one word counts only when it matches a whole one-word name
    or, for a person, the last word of a longer name (a surname)."""
    names = [[_word_key(w) for w in n.split()] for n in target.identity_names()]
    parts = {p for n in names for p in n if p}
    whole = {n[0] for n in names if len(n) == 1} | (
        {n[-1] for n in names if len(n) > 1} if target.kind == "person" else set()
    )
    words = list(_WORD.finditer(text))
    keys = [_word_key(m.group()) for m in words]
    found: list[str] = []
    i = 0
    while i < len(words):
        if not any(_alike(keys[i], p) for p in parts):
            i += 1
            continue
        j = i
        while (
            j + 1 < len(words)
            and _BETWEEN.fullmatch(text[words[j].end() : words[j + 1].start()])
            and any(_alike(keys[j + 1], p) for p in parts)
        ):
            j += 1
        if j > i or any(_alike(keys[i], p) for p in whole):
            found.append(text[words[i].start() : words[j].end()])
        i = j + 1
    return sorted(dict.fromkeys(found), key=len, reverse=True)
