"""The lexical pre-screen over a mapped index file plus the changes made since it was
written: the file's tables (shared by every process on the host, ``indexfile``) with the
targets changed or removed since masked out (tombstones), and those added or changed
indexed in an ordinary in-memory pre-screen beside it (the delta).

A text's screen is the in-memory pre-screen's own code (``PreScreen.screen``) reading a
per-text view whose maps answer from both: the file's ids less the tombstones, then the
delta's. The view looks the text's keys up together first (one ``np.searchsorted`` per
table for its tokens, for their alternatives, for every run of them that may be a name or
a phrase); a key it did not foresee is looked up alone when asked for. Verdicts are those
of the in-memory pre-screen over the same targets: every count the weights read (how many
targets share a key) and every word the misspelling lookups may return is the live one.

Its targets are the file's records read lazily, as changed since (``filetargets``): a
candidate's target is decoded when a screen finds it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ..targets.target import Target
from ..text import transliteration_key
from .filetargets import FileMask, FileTargets
from .indexfile import IndexFile, Table
from .lexical import _NAME, _PHRASE, MAX_PHRASE_TOKENS, NameParts, PreScreen


class _Lookup:
    """Keys resolved for one text: fetched together (``prefetch``) or one by one on a miss."""

    __slots__ = ("_fetch", "_found")

    def __init__(self, fetch: Callable[[list[str]], list[Any]]):
        self._fetch, self._found = fetch, {}

    def prefetch(self, keys: Iterable[str]) -> None:
        new = [k for k in dict.fromkeys(keys) if k not in self._found]
        if new:
            self._found.update(zip(new, self._fetch(new), strict=True))

    def get(self, key: Any, default: Any = None) -> Any:
        key = " ".join(key) if type(key) is tuple else key
        if key not in self._found:
            self.prefetch([key])
        return self._found[key] or default

    def __contains__(self, key: Any) -> bool:
        return bool(self.get(key))

    def each(self, keys: list[str]) -> list[bool]:
        """``key in self`` for each of ``keys`` (the pre-screen's ``KeyTokens.each``)."""
        self.prefetch(keys)
        found = self._found
        return [bool(found[k]) for k in keys]


class _Fuzzy:
    """The view's delete index: the file's words and the delta's, live ones only."""

    def __init__(self, screen: MappedScreen):
        self._screen = screen

    def lookup_each(self, groups: list[Iterable[str]]) -> list[set[str]]:
        screen, file = self._screen, self._screen.file
        groups = [list(g) for g in groups]
        hits = file.fuzzy.get_many([v for g in groups for v in g])
        found, at = [], 0
        for group in groups:
            numbers = {n for hit in hits[at : at + len(group)] for n in hit}
            at += len(group)
            found.append({file.word(n) for n in numbers if screen._live_word(n)})
        if screen.delta._vocab:
            for words, more in zip(found, screen.delta._fuzzy_index.lookup_each(groups), strict=True):
                words |= more
        return found


class _Parts:
    """The view's ``NameParts`` of each target: the delta's (a target changed since the
    file was written is the delta's), else as the file keeps them, read once per text."""

    __slots__ = ("_dead", "_delta", "_file", "_read")

    def __init__(self, screen: MappedScreen):
        self._delta, self._file, self._dead = screen.delta._parts, screen.file, screen.dead
        self._read: dict[int, NameParts] = {}

    def __getitem__(self, target_id: int) -> NameParts:
        parts = self._delta.get(target_id) or self._read.get(target_id)
        if parts is None:
            position = self._file.position(target_id)
            if position is None or target_id in self._dead:  # none, or removed since
                raise KeyError(target_id)
            parts = self._read[target_id] = NameParts.decoded(self._file.name_parts(position))
        return parts


class MappedScreen(PreScreen):
    """The lexical scanner over an index file, with the changes since as a delta."""

    def __init__(self, file: IndexFile, targets: FileTargets | None = None):
        """Over ``file`` as written; the changes since are then ``add``-ed and ``remove``-d.

        ``targets``: the list over ``file`` that the index's snapshot holds, shared so that
        the file's records and the changes since are held once (``add`` and ``remove`` put
        the change in it again: a no-op when the snapshot put it first); a new one if none.
        """
        super().__init__()  # the delta's maps stay empty: the file holds them
        if targets is not None and targets.file is not file:
            raise ValueError("the target list is over another index file")
        self.file = file
        self.dead = FileMask(file)  # file targets removed or changed since: masked out
        self.delta = PreScreen()  # targets added or changed since the file was written
        self.targets = targets if targets is not None else FileTargets(file)  # as changed since

    def __len__(self) -> int:
        return len(self.targets)

    @property
    def delta_size(self) -> int:
        """Targets the file no longer describes: what a fold would take in."""
        return len(self.dead) + len(self.delta.targets)

    def copy(self) -> MappedScreen:
        """A copy to change while this one scans; its list is a copy too (the snapshot made
        with it holds that one, ``index._snapshot_copies``)."""
        other = copy.copy(self)
        other.targets = self.targets.copy()
        other.dead = self.dead.copy()
        other.delta = self.delta.copy()
        return other

    def add(self, target: Target) -> None:
        if target.id is None:
            raise ValueError("a target needs an id before it is indexed")
        self.dead.mark(target.id)
        self.delta.add(target)
        self.targets[target.id] = target

    def remove(self, target_id: int) -> None:
        self.dead.mark(target_id)
        self.delta.remove(target_id)
        if target_id in self.targets:
            del self.targets[target_id]

    # -- the per-text view ------------------------------------------------------------
    def _live_word(self, number: int) -> bool:
        """Whether a word of the file is still some live file target's name token."""
        dead = self.dead
        return not dead or dead.any_unmasked(self.file.owners(number).tolist())

    def _ids(self, table: Table, delta: Any) -> Callable[[list[str]], list[tuple[int, ...]]]:
        dead, has_delta = self.dead, bool(self.delta.targets)

        def fetch(keys: list[str]) -> list[tuple[int, ...]]:
            found = table.get_many(keys)
            if dead:
                found = [dead.unmasked(ids) for ids in found]
            if has_delta:
                found = [(*ids, *delta.get(k, ())) for k, ids in zip(keys, found, strict=True)]
            return found

        return fetch

    def _words(self, table: Table, delta: Any) -> Callable[[list[str]], list[tuple[str, ...]]]:
        file = self.file

        def fetch(keys: list[str]) -> list[tuple[str, ...]]:
            out = []
            for key, numbers in zip(keys, table.get_many(keys), strict=True):
                words = {file.word(n) for n in numbers if self._live_word(n)}
                words.update(delta.get(key, ()))
                out.append(tuple(words))
            return out

        return fetch

    def _members(self, table: Table, delta: Any) -> Callable[[list[str]], list[bool]]:
        def fetch(keys: list[str]) -> list[bool]:
            return [f or k in delta for k, f in zip(keys, table.contains_many(keys), strict=True)]

        return fetch

    def _vocab_fetch(self, keys: list[str]) -> list[bool]:
        numbers = self.file.vocab.get_many(keys)
        vocab = self.delta._vocab
        live = self._live_word
        return [any(live(n) for n in ns) or k in vocab for k, ns in zip(keys, numbers, strict=True)]

    def _resolved(self, toks: list[str], looked_up: dict[str, set[str]], names_only: bool) -> PreScreen:
        file, delta = self.file, self.delta
        view = PreScreen.__new__(PreScreen)
        view.targets = self.targets
        view._parts = _Parts(self)
        view._longest = max(file.longest, delta._longest)
        view._longest_token = max(file.longest_token, delta._longest_token)
        for name in ("names", "phrases", "partials", "surnames", "terms"):
            setattr(view, f"_{name}", _Lookup(self._ids(getattr(file, name), getattr(delta, f"_{name}"))))
        view._name_tokens = _Lookup(self._members(file.name_tokens, delta._name_tokens))
        view._phrase_tokens = _Lookup(self._members(file.phrase_tokens, delta._phrase_tokens))
        view._vocab = _Lookup(self._vocab_fetch)
        view._translit = _Lookup(self._words(file.translit, delta._translit))
        view._fuzzy_index = _Fuzzy(self)
        # What the screen will ask, asked together: tokens, their alternatives, runs.
        unique = list(dict.fromkeys(toks))
        view._name_tokens.prefetch(unique)
        if not names_only:
            view._phrase_tokens.prefetch(unique)
        new = [t for t in unique if len(t) >= 4 and t not in looked_up]
        view._vocab.prefetch(new)
        view._translit.prefetch(transliteration_key(t) for t in new if t not in view._vocab)
        alternatives = view._alternatives(toks, looked_up)
        others = list(dict.fromkeys(a for alts in alternatives for a in alts))
        view._name_tokens.prefetch(others)
        view._partials.prefetch(unique + others)
        view._surnames.prefetch(unique)
        if not names_only:
            view._terms.prefetch(unique)
        names, phrases = [], []
        masks = [
            (_NAME if t in view._name_tokens else 0)
            | (_PHRASE if not names_only and t in view._phrase_tokens else 0)
            for t in toks
        ]
        for start in range(len(toks)):
            key, mask = "", _NAME | _PHRASE
            for end in range(start, min(len(toks), start + MAX_PHRASE_TOKENS)):
                mask &= masks[end]
                if not mask:
                    break
                key = f"{key} {toks[end]}" if key else toks[end]
                if mask & _NAME:
                    names.append(key)
                if mask & _PHRASE:
                    phrases.append(key)
        view._names.prefetch(names)
        view._phrases.prefetch(phrases)
        return view
