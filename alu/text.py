"""Text normalisation shared by the pre-screen, the output gate and the metrics.

Matching has to survive case, accents, other scripts, small misspellings and deliberate
disguise, so every string is folded the same way before it is compared: control and
invisible characters dropped, transliterated to ASCII (anyascii), case-folded and split
into word tokens. ``transliteration_key`` makes the usual spelling variants of a
transliterated name agree; ``disguises`` undoes letter separators, leetspeak and reversal.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_TOKEN = re.compile(r"[a-z0-9]+")

# Function words never make a target recognisable on their own.
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her
    hers him his how i if in into is it its me my no not of on or our she so than that the
    their them then there these they this those to was we were what when where which who
    whom whose why will with would you your about also after all any before being both
    each few more most other over own same some such through under until very while""".split()
)


# Letters that transliterate to an apostrophe inside a word (soft and hard signs, ayin,
# modifier letters): dropped, so that "Торвальдс" folds to "torvalds", not "torval ds".
_SILENT = dict.fromkeys(map(ord, "ьЬъЪʹʺʼʻʽʾʿ"), None)
_KEEP_SPACE = frozenset("\t\n\r\x0b\x0c")


def clean(text: str) -> str:
    """``text`` without control and invisible formatting characters (NUL, DEL, zero-width
    spaces, soft hyphens, BOM, direction marks) and without the letters that only soften."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        ch
        for ch in text.translate(_SILENT)
        if ch in _KEEP_SPACE or unicodedata.category(ch) not in ("Cc", "Cf")
    )


def fold(text: str) -> str:
    """ASCII, lower-case form of ``text`` (Cyrillic, CJK, accents all fold to ASCII)."""
    return anyascii(clean(text)).casefold()


def tokens(text: str) -> list[str]:
    """Word tokens of the folded text."""
    return _TOKEN.findall(fold(text))


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """How common ``word`` is in general English (wordfreq Zipf scale, 0 = unseen, 7+ = 'the')."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def is_distinctive(token: str) -> bool:
    """A token rare enough in ordinary English to point at a particular target.

    Years and other long numbers count; short numbers and common words do not.
    """
    if token in STOPWORDS:
        return False
    if token.isdigit():
        return len(token) >= 4
    if len(token) < 4:
        return False
    return zipf(token) < 4.0


_KEY_STEPS = (
    ("tch", "ch"),
    ("sch", "sh"),
    ("kh", "h"),
    ("ck", "k"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
    ("q", "k"),
    ("x", "ks"),
)
_DOUBLE = re.compile(r"(.)\1+")
_GLIDE = re.compile(r"(?<=[aeo])i(?=[aeou])")


@lru_cache(maxsize=200_000)
def transliteration_key(token: str) -> str:
    """A folded token with the usual transliteration variants made equal: Dostoevsky,
    Dostoyevsky and Достоевский (Dostoevskiy) share a key, as do Tchaikovsky and Чайковский,
    Mahfouz and Mahfuz."""
    for a, b in _KEY_STEPS:
        token = token.replace(a, b)
    token = _GLIDE.sub("", token)
    return _DOUBLE.sub(r"\1", token)


_LEET = str.maketrans(
    {
        "4": "a",
        "@": "a",
        "3": "e",
        "1": "i",
        "!": "i",
        "0": "o",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
        "6": "g",
        "|": "l",
    }
)
_LEET_WORD = re.compile(r"[\w@$!|+]*[^\W\d_][\w@$!|+]*")
# Letters set apart one by one: by dots, dashes or the like (B.a.s.i.l), or by single
# spaces (B a s i l), where a wider gap is the space between words.
_DOTTED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][.\-_*·|/]){2,}[^\W\d_](?!\w)")
_SPACED_LETTERS = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?=[\s.,;:!?'\")\]]|$)")
_INWORD_SEPARATOR = re.compile(r"(?<=[^\W\d_])[-.·_*|/](?=[^\W\d_])")


def _unleet(text: str) -> str:
    def word(match: re.Match) -> str:
        w = match.group()
        return w.translate(_LEET) if any(ch in "4@31!05$7+896|" for ch in w) else w

    return _LEET_WORD.sub(word, text)


def joined(text: str) -> str:
    """``text`` with the separators inside words removed (B.a.s.i.l, Ba-sil, Al-Kuwaiti)."""
    return _joined(text)


def _joined(text: str) -> str:
    text = _DOTTED_LETTERS.sub(lambda m: re.sub(r"[.\-_*·|/]", "", m.group()), text)
    text = _SPACED_LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    return _INWORD_SEPARATOR.sub("", text)


def disguises(text: str) -> list[str]:
    """``text`` with the usual disguises of a name undone: letters spaced or dotted apart
    (B a s i l, B.a.s.i.l, Ba-sil), leetspeak (B4s1l) and reversal (lisaB), each alone and
    together. Only the forms that differ from ``text`` are returned."""
    text = clean(text)
    backwards = text[::-1]
    forms = [_unleet(text), _joined(_unleet(text)), backwards, _joined(_unleet(backwards))]
    return [f for f in dict.fromkeys(forms) if f != text]
