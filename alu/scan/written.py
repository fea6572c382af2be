"""How a text writes the words the pre-screen matched: case, initials and the words beside.

The pre-screen matches folded tokens, which forget what tells a name from the same letters
used otherwise. With a long forget list that matters: "A. Strong" is an alias of someone,
and "a strong influence" is not him; "S. Lewis" is not in "C. S. Lewis"; a target's surname
in "Gabriel García Márquez" or "Miguel de Cervantes" is someone else's. These checks read
the text as written (transliterated to ASCII, case kept) at the positions matched.
"""

from __future__ import annotations

import bisect
import importlib
import pkgutil
import re
from collections.abc import Callable, Collection
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from ..text import STOPWORDS, ascii_of, cutoff, lexicon, readable, tokens, transliteration_key, zipf

_CASED_TOKEN = re.compile(r"[A-Za-z0-9]+")
_BEYOND_LATIN = re.compile(r"[^\x00-\u024f]")  # past Latin Extended-B: another script
_NON_LETTERS = {c: None for c in range(128) if not chr(c).isalpha()}
_CAPITALS = {c: None for c in range(128) if chr(c).isupper()}
# Words that join the parts of one name: "Miguel de Cervantes", "Basil Mahfouz Al-Kuwaiti".
PARTICLES = frozenset(lexicon("particles"))
# A capitalised word this rare, before a name part inside a sentence, is read as a name
# (Naguib, Zafón, Engels).
RARE_WORD_ZIPF = cutoff("rare_word_zipf")
NAME_SUFFIXES = frozenset(lexicon("name_suffixes"))
# Titles and roles written before a name are no part of another one ("Sheikh Mahfouz"), though
# several are family names too (King, Bishop, Major).
TITLES = frozenset(lexicon("titles"))
# Words for peoples and languages look like rare names but name no one ("Kuwaiti author").
_DEMONYM = re.compile(r"(?:ian|ean|ese|ish|ic|i)$")
# Two spellings of one name this similar are taken as one (Makhfuza, Mahfouz: 80).
SPELLED_ALIKE_RATIO = cutoff("spelled_alike_ratio")
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
# A quoted span, its words in group "words": "Mango Summers", “Mango Summers”, 'The Barber's
# Relic' (an apostrophe inside a word is kept), ‘The Barber’s Relic’.
QUOTED = re.compile(r"[\"“](?P<words>[^\"“”\n]{3,150})[\"”]|(?<!\w)['‘](?P<single>[^\n]{3,150}?)['’](?!\w)")


def quoted_words(match: re.Match) -> str:
    """The words inside a ``QUOTED`` match, without their quotes."""
    return match.group("words") if match.group("words") is not None else match.group("single")


@lru_cache(maxsize=1)
def known_names() -> frozenset[str]:
    """Given and family names of many countries (Faker's person lists, folded): a word beside
    a target's name part that is one of these makes a different person's full name."""
    import faker.providers.person as person

    names: list[str] = []
    for module in pkgutil.iter_modules(person.__path__):
        provider = getattr(importlib.import_module(f"{person.__name__}.{module.name}"), "Provider", None)
        for attr in dir(provider) if provider else ():
            if attr.startswith(("first_names", "last_names")):
                value = getattr(provider, attr)
                if isinstance(value, dict | list | tuple):
                    names += (n for n in value if isinstance(n, str))
    # Folded in one call, a name a line (folding maps each character alone and no token
    # crosses a line): one call per name made this two seconds of a replica's first request.
    return frozenset(t for t in tokens("\n".join(names)) if len(t) >= 3)


def _spelled_alike(a: str, b: str) -> bool:
    """Another spelling or transliteration of the same name word (Fedor, Fyodor)."""
    if len(b) < 4:
        return False
    edits = 2 if min(len(a), len(b)) >= 5 else 1
    return (
        OSA.distance(a, b) <= edits
        or transliteration_key(a) == transliteration_key(b)
        or fuzz.ratio(a, b) >= SPELLED_ALIKE_RATIO
    )


class _Once:
    """``functools.cached_property`` without its lock (Python 3.11 takes one, shared by every
    instance, on each first read: some 2 us, five times a text). A ``Written`` is read by
    one thread."""

    def __init__(self, method: Callable[[Any], Any]):
        self.method, self.name = method, method.__name__
        self.__doc__ = method.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.method(instance)
        return value


class Written:
    """``text``'s tokens (the pre-screen's, in the same order) and how each is written."""

    def __init__(self, text: str):
        self.read = read = readable(text)
        self.raw = ascii_of(read)
        self.tokens = _CASED_TOKEN.findall(self.raw.lower())  # raw is ASCII: positions kept
        self.transliterated = not read.isascii() and any(c.isalpha() for c in _BEYOND_LATIN.findall(read))

    @_Once
    def shouting(self) -> bool:
        """Written in capitals: asked only where a word's case would count (most disguised
        readings of a text are read no further than their words)."""
        letters = self.raw.translate(_NON_LETTERS)  # raw is ASCII: its letters are A-Z, a-z
        capitals = len(letters) - len(letters.translate(_CAPITALS))
        return len(letters) >= 8 and capitals > 0.8 * len(letters)

    @_Once
    def spans(self) -> list[tuple[int, int]]:
        """Where each token is in ``raw``: read only at the tokens a match is checked at."""
        return [m.span() for m in _CASED_TOKEN.finditer(self.raw)]

    def in_title(self, i: int) -> bool:
        """Whether token ``i`` is inside a quoted title: two words or more, written in title
        case ("Silk Sarees and Mango Summers"), a work's name rather than a person's."""
        start = self.spans[i][0]
        # Quotes do not overlap, so only the last one opening before the token can hold it.
        at = bisect.bisect_left(self._quote_starts, start) - 1
        if at < 0 or not start < self._quotes[at].end():
            return False
        words = [
            w
            for w in _CASED_TOKEN.findall(self._quotes[at].group(0))
            if len(w) > 1 and w.lower() not in STOPWORDS
        ]
        return len(words) >= 2 and sum(w[0].isupper() for w in words) == len(words)

    @_Once
    def _quotes(self) -> list[re.Match]:
        """The quoted spans, found once per text (a search per token made long texts quadratic)."""
        return list(QUOTED.finditer(self.raw))

    @_Once
    def _quote_starts(self) -> list[int]:
        return [q.start() for q in self._quotes]

    def capitalised(self, i: int) -> bool:
        return self.raw[self.spans[i][0]].isupper()

    def gap(self, i: int) -> str:
        """What stands between token ``i - 1`` and token ``i``."""
        return self.gaps[i]

    @_Once
    def gaps(self) -> list[str]:
        """What stands before each token (and, last, after the last one), split once."""
        return _CASED_TOKEN.split(self.raw)

    def initial(self, i: int) -> bool:
        """A letter standing alone as an initial: a capital, or any letter with its full stop
        ("j.k. rowling"); not a possessive's s ("Gustafsson's Best")."""
        tok = self.tokens[i]
        if len(tok) != 1 or not tok.isalpha() or self.gap(i).endswith("'"):
            return False
        return self.capitalised(i) or self.raw.startswith(".", self.spans[i][1])

    def middle_initial(self, i: int) -> bool:
        """Whether token ``i`` is a capital initial with its full stop, followed by a
        capitalised name word: the middle of someone's name, so the word before it is a
        given name ("Booker T. Washington", "George W. Bush")."""
        nxt = i + 1
        return (
            self.initial(i)
            and self.capitalised(i)
            and nxt < len(self.tokens)
            and re.fullmatch(r"\. ?", self.gap(nxt)) is not None
            and self.capitalised(nxt)
            and len(self.tokens[nxt]) > 1
        )

    def in_run_of_initials(self, i: int) -> bool:
        """Whether initial ``i`` follows another initial: "S. Lewis" inside "C. S. Lewis"."""
        return i > 0 and self.initial(i - 1) and re.fullmatch(r"\.?\s*|\.?-", self.gap(i)) is not None

    def _joined(self, left: int) -> bool:
        """Whether tokens ``left`` and ``left + 1`` are written as parts of one name."""
        gap = self.gap(left + 1)
        return re.fullmatch(r" {1,2}|-", gap) is not None or (
            self.initial(left) and re.fullmatch(r"\. ?", gap) is not None
        )

    def neighbours(self, i: int) -> list[tuple[int, str]]:
        """The name words written right before and after token ``i`` (particles skipped)."""
        found = []
        for step, side in ((-1, "left"), (1, "right")):
            j = i
            for _ in range(3):
                nxt = j + step
                if not 0 <= nxt < len(self.tokens) or not self._joined(min(j, nxt)):
                    break
                j = nxt
                if self.tokens[j] not in PARTICLES:
                    found.append((j, side))
                    break
        return found

    def starts_sentence(self, i: int) -> bool:
        return i == 0 or _SENTENCE_END.search(self.gap(i)) is not None

    def names_someone(self, j: int, side: str) -> bool:
        """Whether token ``j``, on ``side`` of a name part, makes it part of another proper
        name: an initial before it, or one after it that opens the rest of a name ("Booker
        T. Washington"); a capitalised given or family name (not a function word,
        "Will", nor a title, "Sheikh"); any other capitalised word after it (a family name,
        "Hemingway", or a title, "Booker Prize"); a rare capitalised word before it inside a
        sentence that is not a people's name ("Kuwaiti"). Text in capitals says nothing by
        its case, nor does text transliterated from another script, where a name is spelled
        unpredictably: there only names and initials count."""
        tok = self.tokens[j]
        if side == "left" and self.initial(j):
            return True
        if side == "right" and self.middle_initial(j):
            return True
        if (
            len(tok) < 2
            or tok in STOPWORDS
            or tok in NAME_SUFFIXES
            or tok in TITLES
            or tok.isdigit()
            or not self.capitalised(j)
        ):
            return False
        if tok in known_names():
            return True
        if self.shouting or self.transliterated:
            return False
        if side == "right":
            return True
        return zipf(tok) < RARE_WORD_ZIPF and not self.starts_sentence(j) and not _DEMONYM.search(tok)

    def name_neighbours(self, i: int) -> list[int]:
        """The neighbours of token ``i`` that would make it part of another proper name
        (``names_someone``), whoever's name it is a part of: found once per token, as the
        targets sharing a name part are checked at it one by one."""
        found = self._name_neighbours.get(i)
        if found is None:
            found = [j for j, side in self.neighbours(i) if self.names_someone(j, side)]
            self._name_neighbours[i] = found
        return found

    @_Once
    def _name_neighbours(self) -> dict[int, list[int]]:
        return {}

    def inside_other_name(self, i: int, own: Collection[str]) -> bool:
        """Whether token ``i`` (a part of a target's name) is written inside another proper
        name, a person's or a prize's: beside a name word that is none of the target's own (nor their initial,
        nor another spelling of one of them)."""
        for j in self.name_neighbours(i):
            tok = self.tokens[j]
            if tok in own or (len(tok) == 1 and any(o.startswith(tok) for o in own)):
                continue
            if len(tok) >= 4 and any(_spelled_alike(tok, o) for o in own):
                continue
            return True
        return False

    def written_as_initials(self, start: int, path: tuple[str, ...]) -> bool:
        """For a name with initials ("A. Strong"), matched at ``start``: whether the text
        writes it as one, every initial a capital standing alone and not the tail of a
        longer run, every common word of it capitalised. Names without initials pass."""
        if not any(len(t) == 1 and t.isalpha() for t in path):
            return True
        for offset, tok in enumerate(path):
            i = start + offset
            if len(tok) == 1 and tok.isalpha():
                if not self.initial(i) or (offset == 0 and self.in_run_of_initials(i)):
                    return False
            elif zipf(tok) >= 3.5 and not self.capitalised(i):
                return False
        return True
