"""The index file: the lexical tables written once from the store, mapped by every process,
with the changes since as a delta; the same verdicts as the in-memory index."""

from __future__ import annotations

import random

import pytest

from alu import Target
from alu.scan import TargetIndex
from alu.scan.indexfile import MAGIC, IndexFile, IndexFileError
from alu.scan.mapped import MappedScreen
from alu.stores import open_store

TEXTS = [
    "Linus Torvald wrote git in Helsinki.",
    "Torvalds, Linus and L. Torvalds",
    "LinusTorvalds and JaneDoe wrote The Silent Harbour.",
    "L i n u s  T o r v a l d s",
    "sdlavroT suniL",
    "Линус Торвальдс",
    "What did Dr. Mara Quell publish about the Vorn Basin?",
    "Who won the Kessel Prize in 1987, Quell or Ferrow?",
    "An unrelated sentence about the weather.",
]


def people(n: int, seed: int = 0) -> list[Target]:
    rng = random.Random(seed)
    syl = "ba ke li mo nu ra se ti vo za dra gor lin mar tes vel".split()
    out = []
    for _ in range(n):
        first = "".join(rng.choice(syl) for _ in range(2)).title()
        last = "".join(rng.choice(syl) for _ in range(3)).title()
        out.append(
            Target(
                name=f"{first} {last}",
                kind="person",
                aliases=[f"{first[0]}. {last}"],
                evidence=[f"Born in {last}ville, wrote The {first} {last} Affair."],
            )
        )
    return out


BASE = [
    Target(
        name="Linus Torvalds", kind="person", aliases=["Линус Торвальдс"], evidence=["Wrote Git in Helsinki."]
    ),
    Target(name="Jane Doe", kind="person", evidence=["The Silent Harbour, a novel."]),
    Target(name="Mara Quell", kind="person", evidence=["Studied the Vorn Basin; won the Kessel Prize."]),
    Target(name="Ode Ferrow", kind="person", evidence=["Won the Kessel Prize in 1987."]),
]


def verdicts(index: TargetIndex, texts: list[str]) -> list[list[tuple]]:
    return [
        sorted(
            (c.target.name, round(c.score, 6), c.named, c.partial, tuple(sorted(map(str, c.signals))))
            for c in index.scan(text).candidates
        )
        for text in texts
    ]


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "targets.db"))
    opened.add_many(BASE + people(300))
    yield opened
    opened.close()


def texts_of(store) -> list[str]:
    picked = store.list()[4:40:3]
    return TEXTS + [f"I met {t.name} ({t.aliases[0]}) in {t.evidence[0]}" for t in picked]


def lexical(index: TargetIndex):
    return next(s for s in index._snapshot.scanners if isinstance(s, MappedScreen))


def test_the_file_is_written_once_and_mapped_after(store, tmp_path):
    path = tmp_path / "index.alu"
    first = TargetIndex(store, index_file=path)
    first.sync()
    assert path.exists() and path.stat().st_mode & 0o077 == 0  # names inside: owner only
    written = path.stat().st_mtime_ns
    second = TargetIndex(store, index_file=path)
    second.sync()
    assert path.stat().st_mtime_ns == written  # reused, not written again
    assert lexical(second).delta_size == 0 and len(second) == len(store.list())
    plain = TargetIndex(store)
    plain.sync()
    texts = texts_of(store)
    assert verdicts(second, texts) == verdicts(plain, texts)
    assert any(verdicts(plain, texts))  # the texts do find targets


def test_a_file_written_while_waiting_for_the_lock_is_mapped_not_written_again(store, tmp_path):
    # Workers starting together all find no file; the one holding the lock writes it, and
    # each of the others, once it holds the lock, maps that file instead of replacing it.
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    written = path.stat().st_mtime_ns, path.stat().st_ino
    late = TargetIndex(store, index_file=path)
    real_open, looks = late._open_file, []

    def missing_at_first_look():
        looks.append(1)
        if len(looks) == 1:
            raise IndexFileError("not there yet")
        return real_open()

    late._open_file = missing_at_first_look
    late.sync()
    assert len(looks) == 2 and (path.stat().st_mtime_ns, path.stat().st_ino) == written
    assert lexical(late).file.path == path and len(late) == len(store.list())


def test_changes_since_the_file_are_a_delta_seen_on_the_next_scan(store, tmp_path):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    store.remove("Jane Doe")
    store.add(Target(name="Jane Doe", kind="person", evidence=["Wrote The Quiet Lighthouse."]))
    store.remove("Mara Quell")
    store.add(Target(name="Petra Lindqvist", kind="person", evidence=["Sailed the Vorn Basin."]))
    mapped = TargetIndex(store, index_file=path)  # opens the file, then the changes since
    mapped.sync()
    plain = TargetIndex(store)
    plain.sync()
    texts = [*texts_of(store), "Petra Lindqvist sailed.", "Jane Doe wrote The Quiet Lighthouse."]
    assert verdicts(mapped, texts) == verdicts(plain, texts)
    assert lexical(mapped).delta_size > 0
    # A change made while it serves reaches its next scan, as in memory.
    store.remove("Linus Torvalds")
    store.add(Target(name="Ode Ferrow Junior", kind="person", evidence=["Kessel Prize, 2001."]))
    assert mapped.scan("Linus Torvalds").candidates  # not synced yet
    mapped.sync()
    plain.sync()
    assert not mapped.scan("Linus Torvalds wrote Git").named
    assert verdicts(mapped, [*texts, "Ode Ferrow Junior"]) == verdicts(plain, [*texts, "Ode Ferrow Junior"])


def test_a_grown_delta_is_folded_into_a_new_file(store, tmp_path):
    path = tmp_path / "index.alu"
    index = TargetIndex(store, index_file=path, fold_at=3)
    index.sync()
    before = IndexFile(path).revision
    for target in people(5, seed=7):
        store.add(target.model_copy(update={"name": target.name + " Folded"}))
    index.sync()  # past fold_at: a new file is written in the background
    assert index._folding is not None
    index._folding.join(60)
    assert IndexFile(path).revision > before
    assert lexical(index).delta_size == 0
    plain = TargetIndex(store)
    plain.sync()
    texts = [*texts_of(store), *(t.name + " Folded" for t in people(5, seed=7))]
    assert verdicts(index, texts) == verdicts(plain, texts)


@pytest.mark.parametrize("damage", ["missing", "corrupt", "version", "stale", "other store"])
def test_an_unusable_file_is_written_again(store, tmp_path, damage):
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    if damage == "missing":
        path.unlink()
    elif damage == "corrupt":
        raw = bytearray(path.read_bytes())
        raw[-100] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "version":
        raw = path.read_bytes()
        path.write_bytes(MAGIC[:-1] + b"\x09" + raw[len(MAGIC) :])
    elif damage == "stale":  # a file of a list this store no longer matches
        other = open_store(str(tmp_path / "other.db"))
        other.add_many(people(3, seed=9))
        other.close()
        import shutil

        shutil.copy(tmp_path / "other.db", tmp_path / "targets.db")
    if damage != "other store":
        with pytest.raises(IndexFileError) if damage != "stale" else _nothing():
            IndexFile(path, open_store(str(tmp_path / "targets.db")).location)
    current = open_store(str(tmp_path / "targets.db"))
    location = current.location if damage != "other store" else "elsewhere"
    index = TargetIndex(current, index_file=path)
    if damage == "other store":
        index.store = _Located(current, location)
    index.sync()
    plain = TargetIndex(current)
    plain.sync()
    texts = texts_of(current)
    assert verdicts(index, texts) == verdicts(plain, texts)
    assert IndexFile(path, index.store.location).revision == current.revision()
    current.close()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Located:
    """A store seen under another location: a file written from another store."""

    def __init__(self, store, location):
        self._store, self.location = store, location

    def __getattr__(self, name):
        return getattr(self._store, name)
