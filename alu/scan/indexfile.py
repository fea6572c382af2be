"""The lexical pre-screen's lookup tables in one file that every process on a host maps
read-only, instead of each building and holding its own copy.

Each table is sorted arrays: a key's 64-bit stable hash (blake2b: Python's ``hash()``
differs per process), a 32-bit check from the same digest, and the value (a target id,
or the number of a name token). A text's keys are looked up together, with one
``np.searchsorted`` per table. Two keys of a table that share all 96 bits are refused
when the file is written; a text's key that shares them with a filed key by chance (about
one lookup in 10^22 at a million targets) would count as that key.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: the
format version, the store and revision the tables reflect, where each array lies, a
blake2b checksum of the arrays), then the arrays, each at a 64-byte boundary. A file of
another version, with a bad checksum, or cut short is refused (``IndexFileError``): the
caller builds a new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .fuzzy import deletes
from .lexical import PreScreen

MAGIC = b"ALUIDX\x00\x01"
VERSION = 1
_ALIGN = 64
_DIGEST = np.dtype([("k", "<u8"), ("c", "<u4")])
# Tables of target ids, keyed by the pre-screen's map of the same name.
ID_TABLES = ("names", "phrases", "partials", "surnames", "terms")


class IndexFileError(ValueError):
    """The file cannot be used (missing, cut short, another version, another store)."""


def digests(keys: Iterable[str]) -> np.ndarray:
    """Each key's 96-bit blake2b digest as (hash, check), the same in every process."""
    raw = b"".join(hashlib.blake2b(k.encode("utf-8", "surrogatepass"), digest_size=12).digest() for k in keys)
    return np.frombuffer(raw, _DIGEST)


class Table:
    """Sorted (hash, check, value) entries: key -> values, or key -> present."""

    def __init__(self, keys: np.ndarray, checks: np.ndarray, values: np.ndarray | None):
        self.keys, self.checks, self.values = keys, checks, values

    def __len__(self) -> int:
        return len(self.keys)

    def _ranges(self, keys: list[str]) -> Iterator[tuple[int, int, int]]:
        """(first, past last, check) of the entries whose hash each key shares."""
        if not keys or not len(self.keys):
            yield from ((0, 0, 0) for _ in keys)
            return
        found = digests(keys)
        lo = np.searchsorted(self.keys, found["k"], "left").tolist()
        hi = np.searchsorted(self.keys, found["k"], "right").tolist()
        yield from zip(lo, hi, found["c"].tolist(), strict=True)

    def get_many(self, keys: list[str]) -> list[tuple[int, ...]]:
        """The values filed under each key (empty: none)."""
        out: list[tuple[int, ...]] = []
        checks, values = self.checks, self.values
        assert values is not None
        for a, b, check in self._ranges(keys):
            if a == b:
                out.append(())
            elif b - a == 1:
                out.append((int(values[a]),) if int(checks[a]) == check else ())
            else:
                keep = checks[a:b] == check
                out.append(tuple(values[a:b][keep].tolist()))
        return out

    def contains_many(self, keys: list[str]) -> list[bool]:
        checks = self.checks
        return [b > a and bool((checks[a:b] == check).any()) for a, b, check in self._ranges(keys)]


def _table(pairs: Iterable[tuple[str, int]] | Iterable[str], exact: bool, valued: bool = True) -> dict:
    """The arrays of one table from (key, value) pairs (or bare keys), sorted; ``exact``:
    refuse two distinct keys with one digest."""
    pairs = list(pairs)
    keys = [p[0] for p in pairs] if valued else list(pairs)
    found = digests(keys)
    if exact:
        distinct = len(set(keys))
        if len(np.unique(found)) != distinct:
            raise IndexFileError("two keys share a digest; cannot file them apart")
    values = np.fromiter((p[1] for p in pairs), np.int32, len(pairs)) if valued else None
    order = np.lexsort((values, found["c"], found["k"]) if valued else (found["c"], found["k"]))
    arrays = {"k": np.ascontiguousarray(found["k"][order]), "c": np.ascontiguousarray(found["c"][order])}
    if valued:
        arrays["v"] = values[order]
    return arrays


def _items(postings: Any) -> Iterator[tuple[str, int]]:
    for key in postings:
        for item in postings.get(key, ()):
            yield key, item


def tables_of(screen: PreScreen) -> tuple[dict[str, np.ndarray], dict]:
    """Every array a file holds, from an in-memory pre-screen, and the header's scalars."""
    arrays: dict[str, np.ndarray] = {}

    def put(name: str, table: dict) -> None:
        for part, array in table.items():
            arrays[f"{name}.{part}"] = array

    for name in ID_TABLES:
        put(name, _table(_items(getattr(screen, f"_{name}")), exact=True))
    words = sorted(screen._vocab)
    number = {w: n for n, w in enumerate(words)}
    encoded = [w.encode("utf-8", "surrogatepass") for w in words]
    arrays["words.at"] = np.cumsum([0] + [len(e) for e in encoded], dtype=np.int64)
    arrays["words.text"] = np.frombuffer(b"".join(encoded), np.uint8)
    put("vocab", _table(((w, n) for w, n in number.items()), exact=True))
    put("translit", _table(((k, number[w]) for k, w in _items(screen._translit)), exact=True))
    fuzzy = ((v, number[w]) for w in words if w in screen._fuzzy_index for v in deletes(w) | {w})
    put("fuzzy", _table(fuzzy, exact=False))
    # A word's owners: the targets whose names hold it (a token is live while one is).
    owners: list[list[int]] = [[] for _ in words]
    for tid, target in screen.targets.items():
        for t in PreScreen._keys_of(target)[4]:
            owners[number[t]].append(tid)
    arrays["owners.at"] = np.cumsum([0] + [len(o) for o in owners], dtype=np.int64)
    arrays["owners.v"] = np.fromiter((t for o in owners for t in o), np.int32)
    name_tokens = {t for key in screen._names for t in key.split(" ")}
    phrase_tokens = {t for key in screen._phrases for t in key.split(" ")}
    put("name_tokens", _table(name_tokens, exact=True, valued=False))
    put("phrase_tokens", _table(phrase_tokens, exact=True, valued=False))
    arrays["ids"] = np.array(sorted(screen.targets), np.int32)
    scalars = {"longest": screen._longest, "longest_token": screen._longest_token}
    return arrays, scalars


def write(path: str | Path, screen: PreScreen, *, revision: int, store: str) -> None:
    """Write ``screen``'s tables to ``path`` as of store ``revision``: to a temporary file
    beside it, renamed over it once complete (a process mapping the old file keeps it)."""
    path = Path(path)
    arrays, scalars = tables_of(screen)
    layout, offset, checksum = {}, 0, hashlib.blake2b()
    for name, array in arrays.items():
        layout[name] = [array.dtype.str, offset, len(array)]
        offset += -(-array.nbytes // _ALIGN) * _ALIGN
    header = {"version": VERSION, "revision": revision, "store": store, "arrays": layout, **scalars}
    body = bytearray(offset)
    for name, array in arrays.items():
        start = layout[name][1]
        body[start : start + array.nbytes] = array.tobytes()
    checksum.update(body)
    header["checksum"] = checksum.hexdigest()
    head = json.dumps(header).encode()
    head += b" " * (-(len(MAGIC) + 8 + len(head)) % _ALIGN)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names: owner only
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + len(head).to_bytes(8, "little") + head)
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def building(path: str | Path, wait: bool = True) -> Iterator[bool]:
    """Held while one process writes the file at ``path`` (an flock beside it); yields
    False, without waiting, when another holds it and ``wait`` is off."""
    lock = Path(f"{path}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


class IndexFile:
    """A mapped index file: its tables, read-only, shared with every process mapping it."""

    def __init__(self, path: str | Path, store: str | None = None):
        self.path = Path(path)
        try:
            with open(self.path, "rb") as f:
                self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as e:  # missing, unreadable, empty
            raise IndexFileError(f"cannot map {self.path}: {e}") from e
        header = self._header()
        if store is not None and header["store"] != store:
            raise IndexFileError(f"{self.path} was built from another store")
        self.revision: int = header["revision"]
        self.longest: int = header["longest"]
        self.longest_token: int = header["longest_token"]
        self.arrays = {
            name: np.frombuffer(self._map, np.dtype(dtype), count, self._body + offset)
            for name, (dtype, offset, count) in header["arrays"].items()
        }
        tables = (*ID_TABLES, "vocab", "translit", "fuzzy", "name_tokens", "phrase_tokens")
        for name in tables:
            a = self.arrays
            setattr(self, name, Table(a[f"{name}.k"], a[f"{name}.c"], a.get(f"{name}.v")))
        self.ids: np.ndarray = self.arrays["ids"]
        self._words_at, self._words = self.arrays["words.at"], self.arrays["words.text"]
        self._owners_at, self._owners = self.arrays["owners.at"], self.arrays["owners.v"]

    def _header(self) -> dict:
        m = self._map
        if len(m) < len(MAGIC) + 8 or m[: len(MAGIC)] != MAGIC:
            raise IndexFileError(f"{self.path} is not an index file of this version")
        size = int.from_bytes(m[len(MAGIC) : len(MAGIC) + 8], "little")
        self._body = len(MAGIC) + 8 + size
        try:
            header = json.loads(m[len(MAGIC) + 8 : self._body])
        except ValueError as e:
            raise IndexFileError(f"{self.path}: unreadable header") from e
        if header.get("version") != VERSION:
            raise IndexFileError(f"{self.path} is of version {header.get('version')}, not {VERSION}")
        needed = max((o + np.dtype(d).itemsize * n for d, o, n in header["arrays"].values()), default=0)
        if len(m) - self._body < needed:
            raise IndexFileError(f"{self.path} is cut short")
        checksum = hashlib.blake2b()
        view = memoryview(m)
        for start in range(self._body, len(m), 1 << 24):
            checksum.update(view[start : start + (1 << 24)])
        view.release()
        if checksum.hexdigest() != header["checksum"]:
            raise IndexFileError(f"{self.path} does not match its checksum")
        return header

    def word(self, number: int) -> str:
        a, b = int(self._words_at[number]), int(self._words_at[number + 1])
        return self._words[a:b].tobytes().decode("utf-8", "surrogatepass")

    def owners(self, number: int) -> np.ndarray:
        return self._owners[int(self._owners_at[number]) : int(self._owners_at[number + 1])]
