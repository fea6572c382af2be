"""The screen's fast paths read texts exactly as the plain definitions they replace: each is
checked here against that definition, on chosen texts and on many random ones."""

import random
import re

import pytest

from alu.scan.lexical import _backwards_words, _inert_words
from alu.text import _english, _in_run, _joined, _unleet, lexicon_pairs, words_at_least, zipf

_LEET = str.maketrans(dict(lexicon_pairs("leet")))
_SIGN = re.compile(f"[{re.escape(''.join(sign for sign, _ in lexicon_pairs('leet')))}]")
# The definitions as first written: a leetspeak word is a run of word characters and signs
# holding a letter; letters set apart by separators or single spaces are joined.
_WORD = re.compile(r"[\w@$!|+]*[^\W\d_][\w@$!|+]*")
_DOTTED = re.compile(r"(?<!\w)(?:[^\W\d_][.\-_*·|/]){2,}[^\W\d_](?!\w)")
_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?=[\s.,;:!?'\")\]]|$)")
_INWORD = re.compile(r"(?<=[^\W\d_])[-.·_*|/](?=[^\W\d_])")

CHOSEN = [
    "",
    "B4s1l M4hf0uz",
    "born in 1985, on 03/06/1985",
    "an LGBTQ+ author",
    "h@ck3r_1 and Al-Kuwa1ti",
    "B.a.s.i.l and B a s i l, then B-a-s-i-l.",
    "Ba-sil wrote e.g. this.",
    "Вasil, Мahfouz ٣ ² x²",
    "a b c",
    "I a m here",
]
ALPHABET = [*list("abAB кé12_-.·*|/@$!+ \n\t4307589,;'\")]٣²"), "  "]


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 16))) for _ in range(count)]


def _unleet_by_definition(text: str) -> str:
    if not _SIGN.search(text):
        return text
    return _WORD.sub(lambda m: m.group().translate(_LEET) if _SIGN.search(m.group()) else m.group(), text)


def _joined_by_definition(text: str) -> str:
    text = _DOTTED.sub(lambda m: re.sub(r"[.\-_*·|/]", "", m.group()), text)
    text = _SPACED.sub(lambda m: m.group().replace(" ", ""), text)
    return _INWORD.sub("", text)


@pytest.mark.parametrize("text", CHOSEN)
def test_chosen_texts_read_as_the_definitions_read_them(text):
    assert _unleet(text) == _unleet_by_definition(text)
    assert _joined(text) == _joined_by_definition(text)


def test_random_texts_read_as_the_definitions_read_them():
    texts = _random_texts(30_000, seed=7)
    assert sum(_unleet_by_definition(t) != t for t in texts) > 1000  # the texts do change
    assert sum(_joined_by_definition(t) != t for t in texts) > 1000
    for text in texts:
        assert _unleet(text) == _unleet_by_definition(text), text
        assert _joined(text) == _joined_by_definition(text), text


def test_a_leetspeak_word_character_is_a_regex_word_character_or_a_sign():
    pattern = re.compile(r"[\w@$!|+]")
    odd = [hex(c) for c in range(0x110000) if bool(pattern.fullmatch(chr(c))) != _in_run(chr(c))]
    assert odd == []


@pytest.mark.parametrize("min_zipf", [3.0, 3.5])
def test_common_word_sets_hold_exactly_the_tokens_zipf_rates_that_common(min_zipf):
    found = words_at_least(min_zipf)
    listed = sorted(_english())
    sample = [*random.Random(1).sample(listed, 20000), "the", "author", "zuofham", "1985", "0000"]
    token = re.compile(r"[a-z0-9]+")
    for word in sample:
        if token.fullmatch(word):
            assert (word in found) == (word in _english() and zipf(word) >= min_zipf), word
    assert "the" in found and "zuofham" not in found


def test_inert_tokens_have_no_alternatives_whatever_the_index():
    inert, backwards = _inert_words(), _backwards_words()
    assert "author" in inert and "rohtua" in inert  # common, and common backwards
    assert "zuofham" not in inert and "mahfouz" not in inert
    assert not any(word in _english() for word in inert - words_at_least(3.5))
    assert backwards - _english().keys() <= inert
