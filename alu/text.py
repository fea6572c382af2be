"""Text normalisation shared by the pre-screen, the output gate and the metrics.

Matching has to survive case, accents, other scripts, small misspellings and deliberate
disguise, so every string is folded the same way before it is compared: control and
invisible characters dropped, pictographic symbols read as separators, transliterated to
ASCII (anyascii), case-folded and split into word tokens. ``transliteration_key`` makes the
usual spelling variants of a transliterated name agree; ``disguises`` undoes letter
separators, leetspeak, reversal and look-alike letters of another script among Latin ones
(Unicode's confusables, UTS #39). The word lists and cut-offs are data:
``alu/scan/lexicon/`` (``lexicon``).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from anyascii import anyascii

_TOKEN = re.compile(r"[a-z0-9]+")
_CASED_TOKEN = re.compile(r"[A-Za-z0-9]+")
LEXICON = Path(__file__).parent / "scan" / "lexicon"


@cache
def lexicon(name: str) -> tuple[str, ...]:
    """The entries of ``alu/scan/lexicon/<name>.txt``, whitespace-separated, comments (``#``
    lines) left out. Read from the file beside the package, so ``alu.text`` imports nothing
    of ``alu.scan``."""
    path = LEXICON / f"{name}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(w for line in lines if not line.startswith("#") for w in line.split())


def lexicon_pairs(name: str) -> list[tuple[str, str]]:
    """A lexicon file of ``a b`` lines, as pairs in file order."""
    words = lexicon(name)
    if len(words) % 2:
        raise ValueError(f"{LEXICON / name}.txt: every line needs two entries")
    return list(zip(words[::2], words[1::2], strict=True))


def cutoff(name: str) -> float:
    """A cut-off of the screen by name (``alu/scan/lexicon/cutoffs.txt``)."""
    return float(dict(lexicon_pairs("cutoffs"))[name])


# Function words never make a target recognisable on their own.
STOPWORDS = frozenset(lexicon("stopwords"))
DISTINCTIVE_ZIPF = cutoff("distinctive_zipf")


# Letters that transliterate to an apostrophe inside a word (soft and hard signs, ayin,
# modifier letters): dropped, so that "Торвальдс" folds to "torvalds", not "torval ds".
_SILENT = dict.fromkeys(map(ord, "ьЬъЪʹʺʼʻʽʾʿ"), None)
_KEEP_SPACE = frozenset("\t\n\r\x0b\x0c")


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # Cc in ASCII, but for _KEEP_SPACE


@cache
def _dropped() -> dict[int, None]:
    """The code points ``clean`` drops: every control and format character (Cc, Cf) but the
    spaces kept, and the silent letters, found once (a look-up per distinct character of a
    text, not a category look-up per character). Planes 0-2 and 14 hold every Cc and Cf
    code point."""
    points = (*range(0x30000), *range(0xE0000, 0xE1000))
    table = {c: None for c in points if unicodedata.category(chr(c)) in ("Cc", "Cf")}
    for ch in _KEEP_SPACE:
        table.pop(ord(ch), None)
    return table | _SILENT


def clean(text: str) -> str:
    """``text`` without control and invisible formatting characters (NUL, DEL, zero-width
    spaces, soft hyphens, BOM, direction marks) and without the letters that only soften."""
    if text.isascii():
        return _ASCII_CONTROL.sub("", text) if not text.isprintable() else text
    return _replaced(_ASCII_CONTROL.sub("", text), _dropped(), "")


_ASCII = frozenset(map(chr, range(128)))


def ascii_of(text: str) -> str:
    """``anyascii(text)``: each character beyond ASCII transliterated, each distinct one once
    and replaced where it stands, where anyascii walks the text a character at a time in
    Python (some 9 us for a paragraph with one curly apostrophe). A text with many distinct
    ones (Chinese, say) is left to anyascii."""
    if text.isascii():
        return text
    beyond = set(text).difference(_ASCII)
    if len(beyond) > _FEW_DISTINCT:
        return anyascii(text)
    for char in beyond:
        text = text.replace(char, anyascii(char))
    return text


_FEW_DISTINCT = 16


def _replaced(text: str, table: dict[int, str | None], by: str) -> str:
    """``text`` with each character of ``table`` replaced ``by``: the distinct characters
    beyond ASCII looked up, then replaced where found. ``str.translate`` looks up every
    character of a text that is not ASCII one by one (some 30 us for a paragraph with one
    curly apostrophe)."""
    for char in set(text).difference(_ASCII):
        if ord(char) in table:
            text = text.replace(char, by)
    return text


def fold(text: str) -> str:
    """ASCII, lower-case form of ``text`` (Cyrillic, CJK, accents all fold to ASCII)."""
    return ascii_of(clean(text)).casefold()


@cache
def _lookalikes() -> dict[str, str]:
    """Letters of other scripts and the Latin letter each imitates, from Unicode's
    confusables (UTS #39, ``confusables.txt``) as the confusable-homoglyphs package ships it:
    Cyrillic р is p, Greek Η is H, Greek χ is ꭓ (Latin chi, read x)."""
    import confusable_homoglyphs

    root = Path(confusable_homoglyphs.__file__).parent
    confusables = json.loads((root / "confusables.json").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for char, homoglyphs in confusables.items():
        if len(char) != 1 or not char.isalpha() or _latin(char):
            continue
        latin = [h["c"] for h in homoglyphs if h["c"][:1].isalpha() and all(map(_latin, h["c"]))]
        if latin:
            found[char] = min(latin, key=lambda c: (not c.isascii(), len(c), c))
    return found


def _latin(char: str) -> bool:
    """A Latin letter (ASCII or not), or a combining mark that goes with one."""
    if char.isascii():
        return char.isalpha()
    return unicodedata.name(char, "").startswith(("LATIN ", "COMBINING ")) or unicodedata.combining(char) > 0


_LETTER_RUN = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")  # letters with their combining accents


def _unmix(text: str) -> str:
    """``text``'s letter runs that mix Latin letters with look-alikes ("Сурrian"), or that are
    made only of letters imitating ASCII ones ("АС" in "АС/DС", "Норе"), read in Latin; a
    run of another script that imitates nothing whole ("Москва", "Достоевский") is kept."""
    table = _lookalikes()
    decomposed = unicodedata.normalize("NFD", text)
    if table.keys().isdisjoint(set(decomposed).difference(_ASCII)):
        return unicodedata.normalize("NFC", decomposed)  # no run holds a look-alike: none changes

    def run(match: re.Match) -> str:
        letters = match.group()
        if letters.isascii() or not any(c in table for c in letters):
            return letters
        mixed = any(_latin(c) and c.isalpha() for c in letters)
        imitates_ascii = all(table[c].isascii() if c in table else unicodedata.combining(c) for c in letters)
        if not mixed and not imitates_ascii:
            return letters
        return "".join(table.get(c, c) for c in letters)

    return unicodedata.normalize("NFC", _LETTER_RUN.sub(run, decomposed))


@cache
def _symbol_gaps() -> dict[int, str]:
    """Every pictographic or modifier symbol outside ASCII (Unicode So, Sk: ⚡, ★, ™, 😀), as
    a space: found once (the code points up to plane 2 hold them all)."""
    return {c: " " for c in range(0x80, 0x30000) if unicodedata.category(chr(c)) in ("So", "Sk")}


# Where a Latin word or number meets a script written without spaces, or a Korean particle:
# "Python是什么", "我喜欢Python编程", "Pythonとは", "Python은" hold the word "python".
UNSPACED_LETTERS = r"\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_UNSPACED = re.compile(f"[{UNSPACED_LETTERS}]")
_SCRIPT_SEAM = re.compile(
    f"(?<=[A-Za-z0-9])(?=[{UNSPACED_LETTERS}])|(?<=[{UNSPACED_LETTERS}])(?=[A-Za-z0-9])"
)


def readable(text: str) -> str:
    """``text`` cleaned (``clean``), with pictographic symbols read as the separators they
    stand for ("AC⚡DC" is AC DC), and a space where a Latin word meets Chinese, Japanese,
    Korean or Thai letters (folded to ASCII, "Python是什么" would be one word)."""
    text = clean(text)
    if text.isascii():
        return text
    text = _replaced(text, _symbol_gaps(), " ")
    return _SCRIPT_SEAM.sub(" ", text) if _UNSPACED.search(text) else text  # no seam without one


def unmixed(text: str) -> str:
    """``text``, when it holds Latin letters, with the look-alike letters of another script
    among them read as the Latin letters they imitate (Unicode's confusables, UTS #39):
    "Сурrian Нохlеу" is Cyprian Hoxley, "Who is Норе?" asks about Hope. A word of another
    script that is not made of look-alikes only ("Достоевский") is left as it is. A disguise
    (``disguises``): the text as written is read too, so a real Cyrillic or Greek name still
    transliterates, and a half-transliterated one ("Ал-Куwaitи") still matches."""
    if text.isascii() or not any(c.isascii() and c.isalpha() for c in text):
        return text
    return _unmix(text)


def words(text: str) -> list[list[str]]:
    """The word tokens of each space-separated word of ``text`` ("Basil Al-Kuwaiti":
    [basil], [al, kuwaiti]), folded once: together, ``tokens(text)``."""
    return [_TOKEN.findall(w) for w in ascii_of(readable(text)).casefold().split()]


def tokens(text: str) -> list[str]:
    """Word tokens of the text: read as ``readable`` does, folded to ASCII, lower case."""
    return _TOKEN.findall(ascii_of(readable(text)).casefold())


def cased_tokens(text: str) -> list[str]:
    """The word tokens of ``tokens``, position for position, with their case kept: whether
    the writer capitalised a word ("Boba Fett" or "boba tea")."""
    return _CASED_TOKEN.findall(ascii_of(readable(text)))


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """How common ``word`` is in general English (wordfreq Zipf scale, 0 = unseen, 7+ = 'the').

    A token as ``tokens`` gives it (lower-case letters and digits, one token to wordfreq as
    well) is looked up in wordfreq's list directly, its digits as wordfreq counts them, with
    wordfreq's rounding: the figure ``zipf_frequency`` gives, without its tokenizing (some
    10 us a word, most of the time building an index of a million names). Anything else goes
    through ``zipf_frequency``."""
    if _TOKEN.fullmatch(word):
        from wordfreq.numbers import digit_freq, smash_numbers

        smashed = smash_numbers(word) if not word.isalpha() else word
        freq = _english().get(smashed)
        if freq is None:
            return 0.0  # not listed: wordfreq's minimum, Zipf 0
        if smashed != word:
            freq *= digit_freq(word)
        freq = max(freq, 1e-9)  # wordfreq's minimum for Zipf 0
        rounded = round(freq, math.floor(-math.log(freq, 10)) + 3)  # 3 significant digits
        return round(math.log(rounded, 10) + 9, 2)
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


_WORDS: dict[str, float] | None = None  # wordfreq's English list, read at the first look-up


def _english() -> dict[str, float]:
    """wordfreq's English list (the dict ``zipf_frequency`` reads), read once into a module
    global: most of a text's tokens are looked up in it."""
    global _WORDS
    if _WORDS is None:
        from wordfreq import get_frequency_dict

        _WORDS = get_frequency_dict("en")
    return _WORDS


def listed(token: str) -> bool:
    """Whether ``token`` is in wordfreq's English list as it is: a dict look-up that tells
    most made-up and reversed words (``zipf`` 0) apart from words before ``zipf`` is asked."""
    return token in _english()


@cache
def words_at_least(min_zipf: float) -> frozenset[str]:
    """The listed tokens (``listed``, shaped as ``tokens`` gives them) whose ``zipf`` is
    ``min_zipf`` or more: one set look-up for what a text's common words asked ``listed``
    and ``zipf`` in turn. Built once per threshold from the listed words frequent enough to
    qualify (a Zipf of 3 is a frequency of 1e-6, which wordfreq's rounding moves by less
    than 0.1%; those with digits, counted otherwise, are all checked), each checked by
    ``zipf`` itself: a token is in the set exactly when ``zipf`` says so."""
    floor = 10 ** (min_zipf - 9) * 0.9
    exact = zipf.__wrapped__  # the cache is kept for the words texts ask about
    return frozenset(
        word
        for word, freq in _english().items()
        if (freq >= floor or not word.isalpha()) and _TOKEN.fullmatch(word) and exact(word) >= min_zipf
    )


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
    return zipf(token) < DISTINCTIVE_ZIPF


_KEY_STEPS = tuple(lexicon_pairs("transliteration_steps"))
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


def folded_key(text: str) -> tuple[str, ...]:
    """``text`` as the words a match compares: folded tokens, transliteration variants made
    equal (an item the model named, in any script or case)."""
    return tuple(transliteration_key(t) for t in tokens(text))


def contains_key(words: tuple[str, ...], key: tuple[str, ...]) -> bool:
    """Whether the folded words ``key`` occur in ``words`` as a run (whole words)."""
    n = len(key)
    return n > 0 and any(words[i : i + n] == key for i in range(len(words) - n + 1))


_LEET = str.maketrans(dict(lexicon_pairs("leet")))
_LEET_SIGNS = "".join(sign for sign, _ in lexicon_pairs("leet") if not sign.isalpha())
_LEET_SIGN = re.compile(f"[{re.escape(_LEET_SIGNS)}]")
# Letters set apart one by one: by dots, dashes or the like (B.a.s.i.l), or by single
# spaces (B a s i l), where a wider gap is the space between words.
_DOTTED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][.\-_*·|/]){2,}[^\W\d_](?!\w)")
_SPACED_LETTERS = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?=[\s.,;:!?'\")\]]|$)")
# What every match of the two holds (a separator, one letter, a separator; the last two of
# the spaced letters as they end): patterns that open on a character, which the regex engine
# searches for in C, where the two above try their look-behind at every position (some 5 us
# a paragraph each). Most texts hold neither, and are not searched again.
_DOTTED_HINT = re.compile(r"[.\-_*·|/][^\W\d_][.\-_*·|/]")
_SPACED_HINT = re.compile(r" [^\W\d_] [^\W\d_](?=[\s.,;:!?'\")\]]|$)")
# A separator between two letters, the letter before it checked once the separator is found
# (the same matches as a look-behind first, found four times faster).
_INWORD_SEPARATOR = re.compile(r"[-.·_*|/](?<=[^\W\d_].)(?=[^\W\d_])")


_RUN_SIGNS = "@$!|+"  # the signs a leetspeak word may hold besides word characters
_RUN_FROM = re.compile(rf"[\w{re.escape(_RUN_SIGNS)}]*")
_LETTER = re.compile(r"[^\W\d_]")


def _in_run(char: str) -> bool:
    r"""Whether ``char`` may stand in a leetspeak word: a word character, as ``re``'s ``\w``
    reads one (a letter, digit or numeral of any script, or ``_``), or a sign."""
    return char.isalnum() or char == "_" or char in _RUN_SIGNS


def _unleet(text: str) -> str:
    """``text`` with each word that holds a sign read as letters (a word as leetspeak writes
    one: a run of word characters and signs, a letter among them). The words are found
    from their signs (searched for in C) outwards: a regex for the words tried every
    position of the text, some 10 us a paragraph, though most words hold no sign."""
    pieces: list[str] = []
    done = 0  # where the text read so far ends
    for sign in _LEET_SIGN.finditer(text):
        if sign.start() < done:
            continue  # in the word just read
        start = sign.start()
        while start > done and _in_run(text[start - 1]):
            start -= 1
        end = _RUN_FROM.match(text, sign.start()).end()
        word = text[start:end]
        pieces += [text[done:start], word.translate(_LEET) if _LETTER.search(word) else word]
        done = end
    return "".join(pieces) + text[done:] if pieces else text


def joined(text: str) -> str:
    """``text`` with the separators inside words removed (B.a.s.i.l, Ba-sil, Al-Kuwaiti)."""
    return _joined(text)


def _joined(text: str) -> str:
    if _DOTTED_HINT.search(text):
        text = _DOTTED_LETTERS.sub(lambda m: re.sub(r"[.\-_*·|/]", "", m.group()), text)
    if _SPACED_HINT.search(text):
        text = _SPACED_LETTERS.sub(lambda m: m.group().replace(" ", ""), text)
    return _INWORD_SEPARATOR.sub("", text)


def disguises(text: str) -> list[str]:
    """``text`` with the usual disguises of a name undone: letters spaced or dotted apart
    (B a s i l, B.a.s.i.l, Ba-sil), leetspeak (B4s1l), reversal (lisaB) and look-alike
    letters of another script (Вasil, ``unmixed``), each alone and together. Only the forms
    that differ from ``text`` are returned."""
    return [form for form, _ in disguised_readings(text)]


def disguised_readings(text: str, read: str | None = None) -> list[tuple[str, str | None]]:
    """``disguises``, each with the reading it changes a few words of in place, the others
    kept as they are and in order (``readable(text)`` or a form listed before it), or None
    for a reversed one. ``read``: ``readable(text)``, when known."""
    read = readable(text) if read is None else read
    # Look-alikes read before clean drops the soft sign, Ь, that imitates b.
    latin = read if text.isascii() else readable(unmixed(text))
    text = read
    backwards = text[::-1]
    unleet = _unleet(text)
    forms = [
        (unleet, text),
        (_joined(unleet), unleet),
        (backwards, None),
        (_joined(_unleet(backwards)), backwards),
    ]
    if latin != text:
        forms += [(latin, text), (_joined(_unleet(latin)), latin)]
    found: dict[str, str | None] = {text: text}
    for form, source in forms:
        if form not in found:
            found[form] = source if source in found else None
    del found[text]
    return list(found.items())
