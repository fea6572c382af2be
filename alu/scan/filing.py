"""The lexical tables of an index file, made straight from the targets, in parallel.

A replica that finds no index file on its host builds one from the store before it can
serve. Building the in-memory pre-screen first and reading its maps back (as the file was
first written) did each target's work twice over and on one core: at a million targets,
minutes. Here each target's keys are derived once (``PreScreen``'s own derivation, so a
file and an in-memory screen agree by construction), straight into (digest, value) arrays,
and the list is cut into contiguous slices of ids, one per core, each filed by a forked
process (``fork``: a child reads the parent's targets where they lie, nothing is
pickled on the way in). The parent merges the slices' arrays with numpy: a table's
entries are sorted by digest, so the file is the same, byte for byte, whatever the number
of processes (a test holds it to that).

Two distinct keys that share a 96-bit digest are refused (``IndexFileError``), as before;
a slice sends digests, not its keys, so keys are told apart by a second, independent
64-bit hash (Python's ``hash``, the same in a process and its forks): two distinct keys
pass only if both hashes agree, about once in 2^160.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..targets.target import Target
from ..text import transliteration_key
from .base import Scanner
from .fuzzy import deletes
from .indexfile import ID_TABLES, Entries, compressor, dictionary_of, record_of, sorted_table
from .lexical import FUZZY_FROM, MAX_PHRASE_TOKENS, PreScreen

# A list shorter than this is filed in the calling process (a fork and the merge would cost
# more than they save).
PARALLEL_FROM = 20_000


@dataclass
class Slice:
    """What one process files for a contiguous slice of the ids: the id tables' entries, its
    words (the fuzzy vocabulary, numbered within the slice) with their owners, fuzzy and
    transliteration entries, the tokens of its name and phrase keys, its deflated records."""

    tables: dict[str, dict[str, np.ndarray]]
    words: list[str]
    owners: dict[str, np.ndarray]  # "w": a word's number in ``words``, "t": an owner's id
    name_tokens: dict[str, np.ndarray]
    phrase_tokens: dict[str, np.ndarray]
    longest: int
    longest_token: int
    records: bytes
    record_sizes: np.ndarray
    parts: bytes  # each target's ``NameParts``, encoded, in id order
    part_sizes: np.ndarray
    wanted: list[list[int]]  # per scanner besides the lexical one, the ids it ``wants``


def file_slice(targets: Sequence[Target], dictionary: bytes, others: Sequence[Scanner] = ()) -> Slice:
    """The tables' entries for ``targets`` (in id order), as ``PreScreen.add`` files them,
    and the ids each scanner of ``others`` wants."""
    columns = {name: Entries() for name in ID_TABLES}
    name_tokens: set[str] = set()
    phrase_tokens: set[str] = set()
    words: dict[str, int] = {}
    owner_words: list[int] = []
    owner_ids: list[int] = []
    longest = 1
    deflate = compressor(dictionary)
    records: list[bytes] = []
    parts: list[bytes] = []
    wanted: list[list[int]] = [[] for _ in others]
    for target in targets:
        tid = target.id
        assert tid is not None
        keys = PreScreen.filed(target)
        for name in ID_TABLES:
            column = columns[name]
            for key in keys[name]:
                column.put(" ".join(key) if type(key) is tuple else key, tid)
        for n in keys["names"]:
            name_tokens.update(n)
            longest = max(longest, min(len(n), MAX_PHRASE_TOKENS))
        for p in keys["phrases"]:
            phrase_tokens.update(p)
        for t in keys["vocab"]:
            owner_words.append(words.setdefault(t, len(words)))
            owner_ids.append(tid)
        parts.append(keys["parts"].encoded())
        squeeze = deflate.copy()
        records.append(squeeze.compress(record_of(target)) + squeeze.flush())
        for ids, scanner in zip(wanted, others, strict=True):
            if scanner.wants(target):
                ids.append(tid)
    return Slice(
        tables={name: column.arrays() for name, column in columns.items()},
        words=list(words),
        owners={"w": np.array(owner_words, np.int32), "t": np.array(owner_ids, np.int32)},
        name_tokens=_keyed(name_tokens),
        phrase_tokens=_keyed(phrase_tokens),
        longest=longest,
        longest_token=max(map(len, words), default=0),
        records=b"".join(records),
        record_sizes=np.array([len(r) for r in records], np.int64),
        parts=b"".join(parts),
        part_sizes=np.array([len(p) for p in parts], np.int64),
        wanted=wanted,
    )


def _keyed(keys: Iterable[str]) -> dict[str, np.ndarray]:
    column = Entries()
    for key in keys:
        column.put(key, 0)
    found = column.arrays()
    del found["v"]
    return found


def _word_entries(words: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The fuzzy entries (each word of five letters or more and its one-letter deletes) and
    the transliteration entries of ``words``, valued by a word's place in ``words``."""
    fuzzy, translit = Entries(), Entries()
    for n, word in enumerate(words):
        translit.put(transliteration_key(word), n)
        if len(word) >= FUZZY_FROM:
            for variant in deletes(word) | {word}:
                fuzzy.put(variant, n)
    return fuzzy.arrays(), translit.arrays()


def _file_part(targets: Sequence[Target], start: int, context: tuple) -> Slice:
    dictionary, others = context
    return file_slice(targets, dictionary, others)


def _words_part(
    words: Sequence[str], start: int, context: tuple
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    found = _word_entries(words)
    for table in found:
        table["v"] += start  # a word's place in the whole list
    return found


# The job the forked processes read: set by ``_in_parallel`` just before it forks, under
# ``_FORKING`` (two builds in one process, say two indexes' folds, take turns: they would
# share the cores anyway). A child runs the filing alone (no logging, no store, no lock
# another thread of a server may hold) and sends its slice back through the pool.
_JOB: tuple[Callable, Sequence, tuple, list[tuple[int, int]]] | None = None
_FORKING = threading.Lock()


def _run_part(part: int) -> Any:
    assert _JOB is not None
    function, items, context, bounds = _JOB
    start, stop = bounds[part]
    return function(items[start:stop], start, context)


def _in_parallel(function: Callable, items: Sequence, context: tuple, processes: int) -> list:
    """``function(slice, start, context)`` over ``processes`` contiguous slices of ``items``,
    each in a forked process (in this one, with no shared state, when there is one)."""
    global _JOB
    if processes <= 1:
        return [function(items, 0, context)]
    cuts = [len(items) * i // processes for i in range(processes + 1)]
    with _FORKING:
        _JOB = (function, items, context, list(itertools.pairwise(cuts)))
        try:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                return pool.map(_run_part, range(processes))
        finally:
            _JOB = None


def processes_for(count: int) -> int:
    """How many processes file ``count`` targets: one per core this process may use; one
    below ``PARALLEL_FROM``, and in a daemonic process (which may not have children)."""
    if count < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def tables_of(
    targets: Mapping[int, Target], others: Sequence[Scanner] = (), processes: int = 1
) -> tuple[dict[str, np.ndarray], dict]:
    """Every array an index file over ``targets`` holds and the header's scalars, filed by
    ``processes`` processes (the result does not depend on how many). ``others``: the
    scanners besides the lexical one, each filing its own tables (``Scanner.file_tables``,
    under its name) or else the ids of the targets it wants. A scanner is shown only the
    targets it wants (a no is a promise that it would index nothing: ``Scanner.wants``),
    found by the slices: at a million targets, asking each in this process took seconds."""
    ids = sorted(targets)
    ordered = [targets[tid] for tid in ids]
    dictionary = dictionary_of(ordered)
    slices: list[Slice] = _in_parallel(_file_part, ordered, (dictionary, tuple(others)), processes)
    del ordered
    arrays: dict[str, np.ndarray] = {}

    def put(name: str, table: dict) -> None:
        for part, array in table.items():
            arrays[f"{name}.{part}"] = array

    for name in ID_TABLES:
        put(name, sorted_table((s.tables[name] for s in slices), exact=True))
    words = sorted({w for s in slices for w in s.words})
    number = {w: n for n, w in enumerate(words)}
    encoded = [w.encode("utf-8", "surrogatepass") for w in words]
    arrays["words.at"] = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
    arrays["words.text"] = np.frombuffer(b"".join(encoded), np.uint8)
    del encoded
    vocab = Entries(keys=words, values=list(range(len(words))))
    put("vocab", sorted_table([vocab.arrays()], exact=True))
    fuzzy, translit = zip(*_in_parallel(_words_part, words, (), processes), strict=True)
    put("translit", sorted_table(translit, exact=True))
    put("fuzzy", sorted_table(fuzzy, exact=False))
    # A word's owners: the targets whose names hold it, in id order (a token is live while
    # one is).
    owner_words = np.concatenate(
        [np.array([number[w] for w in s.words], np.int32)[s.owners["w"]] for s in slices if len(s.words)]
        or [np.empty(0, np.int32)]
    )
    owner_ids = np.concatenate([s.owners["t"] for s in slices])
    order = np.lexsort((owner_ids, owner_words))
    arrays["owners.at"] = np.concatenate(
        [[0], np.cumsum(np.bincount(owner_words, minlength=len(words)), dtype=np.int64)]
    ).astype(np.int64)
    arrays["owners.v"] = owner_ids[order].astype(np.int32)
    put("name_tokens", sorted_table((s.name_tokens for s in slices), exact=True, valued=False))
    put("phrase_tokens", sorted_table((s.phrase_tokens for s in slices), exact=True, valued=False))
    arrays["ids"] = np.array(ids, np.int32)
    sizes = np.concatenate([s.record_sizes for s in slices])
    arrays["records.at"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    arrays["records.data"] = np.frombuffer(b"".join(s.records for s in slices), np.uint8)
    arrays["records.dict"] = np.frombuffer(dictionary, np.uint8)
    sizes = np.concatenate([s.part_sizes for s in slices])
    arrays["parts.at"] = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    arrays["parts.text"] = np.frombuffer(b"".join(s.parts for s in slices), np.uint8)
    fed, filed, wanted_by_fed = [], {}, []
    for n, scanner in enumerate(others):
        wanted = [tid for s in slices for tid in s.wanted[n]]
        made = scanner.file_tables({tid: targets[tid] for tid in wanted})
        if made is None:
            fed.append(scanner)
            wanted_by_fed.append(wanted)
            continue
        tables, scalars = made
        for name, array in tables.items():
            arrays[f"{scanner.name}:{name}"] = array
        filed[scanner.name] = {"rule": scanner.wants_rule, **scalars}
    arrays["others"] = np.array(sorted({tid for w in wanted_by_fed for tid in w}), np.int32)
    header = {
        "longest": max((s.longest for s in slices), default=1),
        "longest_token": max((s.longest_token for s in slices), default=0),
        "others": {s.name: s.wants_rule for s in fed},
        "filed": filed,
    }
    return arrays, header
