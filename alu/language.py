"""Is this text English? Decided without a model call, in well under a millisecond.

A text written mostly in a non-Latin script is not English. A Latin-script text is
classified by py3langid (a naive Bayes model over byte n-grams, deterministic, bundled in
its wheel); it is taken as another language only when the classifier is fairly sure and
the text has at least two words, since a lone name or term ("Linux", "Tolkien") says
nothing about the language. ``benchmarks/language_id.py`` measures speed and accuracy on
short texts against other libraries.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache

CONFIDENT = 0.5  # probability above which a non-English label is believed
_lock = threading.Lock()


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    with _lock:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def non_latin_share(text: str) -> float:
    """The share of letters outside the Latin script."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    return sum("LATIN" not in unicodedata.name(ch, "") for ch in letters) / len(letters)


def language_of(text: str) -> tuple[str, float]:
    """py3langid's best guess (ISO 639-1) and its probability."""
    lang, prob = _identifier().classify(text)
    return lang, float(prob)


def is_english(text: str) -> bool:
    if non_latin_share(text) >= 0.2:
        return False
    if len(text.split()) < 2:
        return True
    lang, prob = language_of(text)
    return lang == "en" or prob < CONFIDENT
