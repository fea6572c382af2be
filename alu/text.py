"""Text normalisation shared by the pre-screen, the output gate and the metrics.

Matching has to survive case, accents, other scripts and small misspellings, so every
string is folded the same way before it is compared: transliterated to ASCII
(anyascii), case-folded and split into word tokens.
"""

from __future__ import annotations

import re
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


def fold(text: str) -> str:
    """ASCII, lower-case form of ``text`` (Cyrillic, CJK, accents all fold to ASCII)."""
    return anyascii(text).casefold()


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
