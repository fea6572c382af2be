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

Version 2 also holds every target's record: ``records.at``, where each starts, in ``ids``
order; ``records.data``, the records, each a compact JSON list of the target's fields (its
enrichment, knowledge and examples as the stores dump them) deflated alone against a
preset dictionary, ``records.dict``, a sample of them (records share most of their words:
an enriched one shrinks to about a third, and each is still read alone). So a replica
decodes a target when a scan finds it instead of holding every one (``IndexFile.target``).
Version 3 adds what a scan asks of each target's names where a part of them is found
(``NameParts``: its name words, and those that are only a given name), ``parts.at`` and
``parts.text``, in ``ids`` order: read there without decoding the target's record.

A scanner besides the lexical one either files tables of its own (``Scanner.file_tables``:
arrays named ``SCANNER:NAME``, its rule and scalars in the header's ``filed``), read in
place like the lexical ones, or is given at start the targets it wants: ``others`` holds
their ids, and the header the rule each such scanner's ``wants`` answered by, so a replica
starting over the file decodes and indexes only those.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import itertools
import json
import mmap
import os
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..stores.base import stored_target
from ..targets.target import Target

MAGIC = b"ALUIDX\x00\x01"
VERSION = 3
_ALIGN = 64
_START = len(MAGIC) + 8  # the magic, then the header's length
DICTIONARY_BYTES = 32 * 1024
# Decoded targets kept per mapped file: a scan touches a few candidates, a request a few scans.
CACHED = 1024
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


class Entries:
    """A table's entries as they are filed: keys and values, in any order."""

    def __init__(self, keys: list[str] | None = None, values: list[int] | None = None):
        self.keys: list[str] = keys if keys is not None else []
        self.values: list[int] = values if values is not None else []

    def put(self, key: str, value: int) -> None:
        self.keys.append(key)
        self.values.append(value)

    def arrays(self) -> dict[str, np.ndarray]:
        """The keys' digests ("k", "c"), each key's check hash ("x": ``sorted_table``), the
        values ("v")."""
        found = digests(self.keys)
        return {
            "k": found["k"],
            "c": found["c"],
            "x": np.fromiter(map(hash, self.keys), np.int64, len(self.keys)),
            "v": np.array(self.values, np.int32),
        }


def sorted_table(
    parts: Iterable[dict[str, np.ndarray]], exact: bool, valued: bool = True
) -> dict[str, np.ndarray]:
    """One table from the entries of its parts (``Entries.arrays``, made by one process or
    several forked from one), sorted by digest then value as a lookup needs. Bare keys
    (``valued`` off) filed twice are one entry. ``exact``: refuse two distinct keys with one
    digest, told apart by their check hashes (Python's ``hash``: independent of blake2b and
    the same in a process and its forks; two distinct keys pass only if both agree, about
    once in 2^160)."""
    parts = list(parts)
    k = np.concatenate([p["k"] for p in parts])
    c = np.concatenate([p["c"] for p in parts])
    x = np.concatenate([p["x"] for p in parts])
    if valued:
        v = np.concatenate([p["v"] for p in parts])
        order = _order(k, c, v)
    else:
        order = np.lexsort((x, c, k))
    k, c, x = k[order], c[order], x[order]
    if not valued:
        keep = np.ones(len(k), bool)
        keep[1:] = (k[1:] != k[:-1]) | (c[1:] != c[:-1]) | (x[1:] != x[:-1])
        k, c, x = k[keep], c[keep], x[keep]
    if exact:
        # Sorted, the entries of one digest sit together: two distinct keys share a digest
        # exactly when two neighbours with the same digest hold different keys.
        if np.any((k[1:] == k[:-1]) & (c[1:] == c[:-1]) & (x[1:] != x[:-1])):
            raise IndexFileError("two keys share a digest; cannot file them apart")
    arrays = {"k": np.ascontiguousarray(k), "c": np.ascontiguousarray(c)}
    if valued:
        arrays["v"] = np.ascontiguousarray(v[order])
    return arrays


def _order(k: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The order that sorts entries by (k, c, v). Entries mostly come with their values
    ascending (filed in id or word order) and their 64-bit ``k`` differing between keys:
    then a stable sort by ``k`` alone is that order, and much cheaper than sorting by three
    keys (the fuzzy table holds some ten entries a target)."""
    if len(v) < 2 or not np.all(v[1:] >= v[:-1]):
        return np.lexsort((v, c, k))
    order = np.argsort(k, kind="stable")
    ks, cs = k[order], c[order]
    if np.any((ks[1:] == ks[:-1]) & (cs[1:] != cs[:-1])):
        return np.lexsort((v, c, k))  # two keys share 64 bits: c must come before v
    return order


def table_arrays(pairs: Iterable[tuple[str, int]] | Iterable[str], exact: bool, valued: bool = True) -> dict:
    """The arrays of one table from (key, value) pairs (or bare keys), sorted; ``exact``:
    refuse two distinct keys with one digest."""
    entries = Entries()
    for pair in pairs:
        entries.put(*(pair if valued else (pair, 0)))
    return sorted_table([entries.arrays()], exact, valued)


def record_of(target: Target) -> bytes:
    """A target's record as the file keeps it: its fields in a JSON list (the generated
    ones as the stores dump them; those left at None at the end left out)."""
    fields = [target.name, target.kind, target.aliases, target.description, target.evidence]
    generated = (target.enrichment, target.knowledge, target.examples)
    fields += [None if m is None else m.model_dump(mode="json") for m in generated]
    while fields[-1] is None:
        fields.pop()
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def dictionary_of(targets: Sequence[Target]) -> bytes:
    """Records spread over the list (``targets`` in id order), up to deflate's window (32
    KiB): what every record is deflated against (the last bytes of a dictionary are the
    cheapest to refer to)."""
    step = max(1, len(targets) // 1024)
    return b"".join(record_of(t) for t in targets[::step])[-DICTIONARY_BYTES:] or b" "


def compressor(dictionary: bytes) -> Any:
    """A deflater primed with ``dictionary``: a record is deflated alone by a copy of it.
    Level 6 with a small hash table (memory level 4): copying a level-9 state for every
    record was most of the cost, and the records come out barely larger."""
    return zlib.compressobj(6, zlib.DEFLATED, -15, 4, zlib.Z_DEFAULT_STRATEGY, dictionary)


def target_of(target_id: int, record: bytes) -> Target:
    """The target a record holds (validated when it was stored, as a store's own rows)."""
    name, kind, aliases, description, evidence, *generated = json.loads(
        record.decode("utf-8", "surrogatepass")
    )
    return stored_target(
        target_id, name, kind, aliases, description, evidence, *(*generated, None, None, None)[:3]
    )


def write(
    path: str | Path, arrays: dict[str, np.ndarray], scalars: dict, *, revision: int, store: str
) -> None:
    """Write ``arrays`` (``alu.scan.filing.tables_of``) and the header's ``scalars`` to
    ``path`` as of store ``revision``: to a temporary file beside it, renamed over it once
    complete (a process mapping the old file keeps it)."""
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
    _replace(path, [_head(header), body])


def write_copy(path: str | Path, header: dict, body: Iterable[bytes]) -> None:
    """Write a file from its ``header`` and its ``body`` in chunks (a store's copy of one,
    ``alu.scan.sharedindex``), the same way: whole, or not at all. Its checksum is checked
    when it is mapped."""
    _replace(path, itertools.chain([_head(header)], body))


def _head(header: dict) -> bytes:
    head = json.dumps(header).encode()
    head += b" " * (-(_START + len(head)) % _ALIGN)
    return MAGIC + len(head).to_bytes(8, "little") + head


def _replace(path: str | Path, chunks: Iterable[bytes | bytearray]) -> None:
    """``chunks`` written to a temporary file beside ``path``, synced, renamed over it."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # names: owner only
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _header_size(start: bytes, path: str | Path) -> int:
    """The header's length, from the file's first ``_START`` bytes (``start``)."""
    if len(start) < _START or start[: len(MAGIC)] != MAGIC:
        raise IndexFileError(f"{path} is not an index file of this version")
    return int.from_bytes(start[len(MAGIC) : _START], "little")


def read_header(path: str | Path) -> dict:
    """The header of the file at ``path``, read without mapping the file or checking its
    body (a process that only asks which revision a file holds shares none of its pages)."""
    try:
        with open(path, "rb") as f:
            return json.loads(f.read(_header_size(f.read(_START), path)))
    except (OSError, ValueError) as e:
        if isinstance(e, IndexFileError):
            raise
        raise IndexFileError(f"cannot read the header of {path}: {e}") from e


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
        try:
            header = self._header()
            if store is not None and header["store"] != store:
                raise IndexFileError(f"{self.path} was built from another store")
            self._read(header)
        except (KeyError, TypeError, ValueError) as e:  # a field or an array missing
            if isinstance(e, IndexFileError):
                raise
            raise IndexFileError(f"{self.path}: incomplete header ({e!r})") from e

    def _read(self, header: dict) -> None:
        self.revision: int = header["revision"]
        self.checksum: str = header["checksum"]
        self.longest: int = header["longest"]
        self.longest_token: int = header["longest_token"]
        # scanner name -> the rule its ``wants`` answered by when the file was written
        self.others_rules: dict[str, str] = header["others"]
        # scanner name -> its rule and scalars, for a scanner that filed tables of its own
        self.filed: dict[str, dict] = header["filed"]
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
        self._records_at, self._records = self.arrays["records.at"], self.arrays["records.data"]
        self._dictionary = self.arrays["records.dict"].tobytes()
        self._parts_at, self._parts = self.arrays["parts.at"], self.arrays["parts.text"]
        self.others: np.ndarray = self.arrays["others"]  # ids some other scanner wanted
        # ``target`` with the targets read lately kept (thread-safe; shared by every list
        # read from this mapping: the records never change).
        self.cached: Callable[[int], Target] = functools.lru_cache(maxsize=CACHED)(self.target)

    def _header(self) -> dict:
        m = self._map
        self._body = _START + _header_size(m[:_START], self.path)
        try:
            header = json.loads(m[_START : self._body])
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

    def header(self) -> bytes:
        """The file's header as written (JSON)."""
        return bytes(self._map[_START : self._body]).rstrip(b" ")

    def body(self, chunk: int) -> Iterator[bytes]:
        """The file's body (its arrays), ``chunk`` bytes at a time, read from the mapping
        (the file as mapped, should another be renamed over its path meanwhile)."""
        for start in range(self._body, len(self._map), chunk):
            yield self._map[start : start + chunk]

    def word(self, number: int) -> str:
        a, b = int(self._words_at[number]), int(self._words_at[number + 1])
        return self._words[a:b].tobytes().decode("utf-8", "surrogatepass")

    def owners(self, number: int) -> np.ndarray:
        return self._owners[int(self._owners_at[number]) : int(self._owners_at[number + 1])]

    def tables(self, scanner: str) -> dict[str, np.ndarray]:
        """The arrays a scanner filed (``Scanner.file_tables``), by the names it gave them."""
        prefix = f"{scanner}:"
        return {name[len(prefix) :]: a for name, a in self.arrays.items() if name.startswith(prefix)}

    def position(self, target_id: int) -> int | None:
        """Where ``target_id`` is in ``ids`` (and its record in the records), None if absent."""
        if not isinstance(target_id, int | np.integer):
            return None
        ids = self.ids
        at = int(np.searchsorted(ids, target_id))
        return at if at < len(ids) and int(ids[at]) == target_id else None

    def __contains__(self, target_id: object) -> bool:
        return self.position(target_id) is not None  # type: ignore[arg-type]

    def record(self, position: int) -> Target:
        """The target at ``position`` in ``ids``, decoded from its record."""
        a, b = int(self._records_at[position]), int(self._records_at[position + 1])
        inflate = zlib.decompressobj(-15, zdict=self._dictionary)
        record = inflate.decompress(self._records[a:b].tobytes()) + inflate.flush()
        return target_of(int(self.ids[position]), record)

    def name_parts(self, position: int) -> bytes:
        """The encoded ``NameParts`` of the target at ``position`` in ``ids``."""
        return self._parts[int(self._parts_at[position]) : int(self._parts_at[position + 1])].tobytes()

    def target(self, target_id: int) -> Target:
        """The target with this id as the file holds it; KeyError if it holds none."""
        position = self.position(target_id)
        if position is None:
            raise KeyError(target_id)
        return self.record(position)
