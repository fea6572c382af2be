"""The store's copy of the index file: a replica on a host without a file takes it up
instead of building one, answers as a replica that built it would, and builds when the copy
cannot be used."""

from __future__ import annotations

import json
import sqlite3

import pytest
from test_index_file import (
    BASE,
    CHANGED_TEXTS,
    OTHER_TEXTS,
    _change_the_list,
    _other_scanners_store,
    _plain,
    lexical,
    people,
    texts_of,
    verdicts,
)

from alu.errors import StoreError
from alu.scan import TargetIndex
from alu.scan import index as index_module
from alu.scan.indexfile import IndexFile, IndexFileError
from alu.stores import open_store


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request, tmp_path):
    if request.param == "sqlite":
        opened = _other_scanners_store(tmp_path)
    else:
        opened = _other_scanners_store(tmp_path, request.getfixturevalue("pg_url"))
    opened.add_many(BASE)
    yield opened
    opened.close()


def _sent(store, path) -> TargetIndex:
    """A replica on one host that builds the file and sends the store its copy."""
    index = TargetIndex(store, index_file=path, send_from=0)
    index.sync()
    assert index.copies is not None and index.copies.wait(60)
    return index


def _no_building(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("built the index file instead of taking the store's copy")

    monkeypatch.setattr(index_module, "tables_of", refuse)


def test_a_replica_on_a_new_host_takes_the_copy_and_answers_as_one_that_built_it(
    any_store, tmp_path, monkeypatch
):
    built = _sent(any_store, tmp_path / "host-a" / "index.alu")
    copy = any_store.index_copy()
    assert copy is not None and copy.revision == built.revision
    _change_the_list(any_store)  # changes after the copy: the new replica's delta
    _no_building(monkeypatch)
    path = tmp_path / "host-b" / "index.alu"
    taken = TargetIndex(any_store, index_file=path)
    taken.sync()
    monkeypatch.undo()
    assert lexical(taken).file.revision == copy.revision and lexical(taken).delta_size > 0
    assert json.loads(IndexFile(path).header())["store"] == any_store.location
    assert path.stat().st_mode & 0o077 == 0  # the targets' records are inside: owner only
    plain = _plain(any_store)
    texts = [*OTHER_TEXTS, *CHANGED_TEXTS, *texts_of(any_store)[:8]]
    assert verdicts(taken, texts) == verdicts(plain, texts)
    assert any(verdicts(plain, texts))
    assert taken.targets() == plain.targets()


def test_workers_on_the_new_host_take_the_copy_once(tmp_path, monkeypatch):
    store = _other_scanners_store(tmp_path)
    _sent(store, tmp_path / "host-a" / "index.alu")
    reads, real = [], store.read_index_copy
    monkeypatch.setattr(store, "read_index_copy", lambda copy: reads.append(copy.id) or real(copy))
    path = tmp_path / "host-b" / "index.alu"
    first, second = TargetIndex(store, index_file=path), TargetIndex(store, index_file=path)
    first.sync()
    second.sync()
    assert len(reads) == 1 and lexical(second).file.checksum == lexical(first).file.checksum
    store.close()


def test_a_newer_copy_replaces_the_older_and_an_older_one_is_not_kept(tmp_path):
    store = _other_scanners_store(tmp_path)
    index = _sent(store, tmp_path / "a.alu")
    first = store.index_copy()
    store.add(BASE[2])
    index.sync()
    assert index.fold() and index.copies.wait(60)  # a new file: its copy sent
    second = store.index_copy()
    assert second.revision > first.revision
    assert not store.put_index_copy(first.revision, first.header, [b"old"])
    assert not store.put_index_copy(second.revision, second.header, [b"same revision"])
    assert store.index_copy() == second
    with pytest.raises(StoreError):
        list(store.read_index_copy(first))  # gone with its chunks
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM index_copies").fetchone()[0] == 1
        assert db.execute("SELECT COUNT(DISTINCT copy_id) FROM index_chunks").fetchone()[0] == 1
    store.close()


def test_no_copy_is_sent_for_a_short_list(tmp_path):
    store = _other_scanners_store(tmp_path)
    index = TargetIndex(store, index_file=tmp_path / "index.alu")
    index.sync()
    assert index.copies.wait(60) and store.index_copy() is None
    store.close()


def _copy_of_another_list(tmp_path, store) -> None:
    """The store given a copy built from a list that is not its own, at its revision."""
    other = open_store(str(tmp_path / "other.db"))
    other.add_many(people(50, seed=7))
    _sent(other, tmp_path / "other.alu")
    copy = other.index_copy()
    assert store.put_index_copy(store.revision(), copy.header, other.read_index_copy(copy))
    other.close()


def _corrupt_copy(tmp_path, store) -> None:
    """The store's copy with one byte of its body changed."""
    _sent(store, tmp_path / "host-a" / "index.alu")
    with sqlite3.connect(store.path) as db:
        data = bytearray(db.execute("SELECT data FROM index_chunks WHERE seq = 0").fetchone()[0])
        data[len(data) // 2] ^= 0xFF
        db.execute("UPDATE index_chunks SET data = ? WHERE seq = 0", (bytes(data),))


def _copy_of_another_version(tmp_path, store) -> None:
    _sent(store, tmp_path / "host-a" / "index.alu")
    with sqlite3.connect(store.path) as db:
        header = json.loads(db.execute("SELECT header FROM index_copies").fetchone()[0])
        db.execute("UPDATE index_copies SET header = ?", (json.dumps(header | {"version": 99}).encode(),))


@pytest.mark.parametrize("spoil", [_copy_of_another_list, _corrupt_copy, _copy_of_another_version])
def test_a_copy_that_cannot_be_used_is_not_served_from_the_replica_builds(tmp_path, spoil):
    store = _other_scanners_store(tmp_path)
    spoil(tmp_path, store)
    path = tmp_path / "host-b" / "index.alu"
    index = TargetIndex(store, index_file=path)
    index.sync()
    plain = _plain(store)
    texts = [*OTHER_TEXTS, *texts_of(store)[:8]]
    assert verdicts(index, texts) == verdicts(plain, texts) and any(verdicts(plain, texts))
    assert index.targets() == plain.targets() and lexical(index).delta_size == 0
    store.close()


def test_a_copy_that_fails_midway_leaves_no_file_and_the_replica_builds(tmp_path, monkeypatch):
    store = _other_scanners_store(tmp_path)
    _sent(store, tmp_path / "host-a" / "index.alu")
    real = store.read_index_copy

    def breaks(copy):
        yield next(iter(real(copy)))
        raise StoreError("the connection dropped")

    monkeypatch.setattr(store, "read_index_copy", breaks)
    host = tmp_path / "host-b"
    index = TargetIndex(store, index_file=host / "index.alu")
    index.sync()
    assert sorted(p.name for p in host.iterdir()) == ["index.alu", "index.alu.lock"]  # no partial copy
    plain = _plain(store)
    assert verdicts(index, OTHER_TEXTS) == verdicts(plain, OTHER_TEXTS)
    store.close()


def test_a_fold_sends_its_new_file(tmp_path):
    store = _other_scanners_store(tmp_path)
    index = TargetIndex(store, index_file=tmp_path / "index.alu", send_from=0, fold_at=1)
    index.sync()
    index.copies.wait(60)
    first = store.index_copy()
    _change_the_list(store)
    index.sync()
    index._folding.join(60)
    assert index.copies.wait(60)
    assert store.index_copy().revision == store.revision() > first.revision
    store.close()


def test_a_replica_that_does_not_share_builds_its_file_and_sends_none(tmp_path, monkeypatch):
    store = _other_scanners_store(tmp_path)
    _sent(store, tmp_path / "host-a" / "index.alu")
    copy = store.index_copy()
    monkeypatch.setattr(store, "read_index_copy", lambda copy: pytest.fail("took the copy"))
    index = TargetIndex(store, send_from=0)
    index.use_file(tmp_path / "host-b" / "index.alu", share=False)
    index.sync()
    store.add(BASE[2])
    index.sync()
    assert index.fold() and index.copies is None
    assert store.index_copy() == copy and lexical(index).file.revision > copy.revision
    store.close()


def test_a_files_header_is_read_without_mapping_it(tmp_path):
    from alu.scan.indexfile import IndexFileError, read_header

    store = _other_scanners_store(tmp_path)
    path = tmp_path / "index.alu"
    TargetIndex(store, index_file=path).sync()
    assert read_header(path) == json.loads(IndexFile(path).header())
    (tmp_path / "not.alu").write_bytes(b"plain text, not an index file")
    for wrong in (tmp_path / "not.alu", tmp_path / "missing.alu"):
        with pytest.raises(IndexFileError):
            read_header(wrong)
    store.close()


def test_alu_targets_index_builds_the_file_and_keeps_its_copy_current(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from alu.cli import app

    monkeypatch.setenv("ALU_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ALU_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()
    empty = runner.invoke(app, ["targets", "index"])
    assert empty.exit_code == 1 and "nothing to index" in empty.stderr
    store = open_store(str(tmp_path / "t.db"))
    store.add_many(people(40))
    path = tmp_path / "here.alu"
    first = runner.invoke(app, ["targets", "index", "--index-file", str(path)])
    assert first.exit_code == 0, first.output
    copy = store.index_copy()
    assert copy is not None and copy.revision == store.revision() == read_revision(path)
    store.add(BASE[2])
    again = runner.invoke(app, ["targets", "index"])  # the default path: takes the copy, folds
    assert again.exit_code == 0, again.output
    assert store.index_copy().revision == store.revision() > copy.revision
    assert list((tmp_path / "cache" / "index").glob("*.alu"))
    store.close()


def read_revision(path) -> int:
    from alu.scan.indexfile import read_header

    return read_header(path)["revision"]


def test_a_store_keeping_a_copy_stays_at_its_layout_version(any_store, tmp_path):
    # The copy's tables are not a step of the numbered layout: the version before still opens
    # the store (a rolling upgrade runs replicas of both).
    assert any_store.index_copy() is None  # none sent yet: no table for one either
    _sent(any_store, tmp_path / "index.alu")
    assert any_store.index_copy() is not None
    if hasattr(any_store, "path"):
        from alu.stores.sqlite import LATEST

        with sqlite3.connect(any_store.path) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST == 3
    else:
        from alu.pgsql import LATEST

        query = any_store._sql("SELECT version FROM {s}.schema_migrations")
        with any_store.db.connect() as conn:
            versions = [r[0] for r in conn.execute(query)]
        assert max(versions) == LATEST == 5


@pytest.mark.parametrize("other_is_newer", [True, False])
def test_two_copies_sent_at_once_leave_the_newer(any_store, other_is_newer):
    # Two replicas (two hosts) that built a file at once: whichever finishes last, the
    # store keeps one copy, the newer, whole.
    header = b'{"version": 0}'
    ours, theirs = 5, (7 if other_is_newer else 3)

    def chunks():
        yield b"ours, first chunk"
        assert any_store.put_index_copy(theirs, header, [b"theirs"])  # lands while ours is sent
        yield b"ours, second chunk"

    sent = any_store.put_index_copy(ours, header, chunks())
    assert sent is not other_is_newer
    kept = any_store.index_copy()
    assert kept.revision == max(ours, theirs)
    body = b"".join(bytes(c) for c in any_store.read_index_copy(kept))
    assert body == (b"theirs" if other_is_newer else b"ours, first chunkours, second chunk")
    if hasattr(any_store, "path"):  # the loser's rows are gone too
        with sqlite3.connect(any_store.path) as db:
            assert db.execute("SELECT COUNT(*) FROM index_copies").fetchone()[0] == 1
            assert db.execute("SELECT COUNT(DISTINCT copy_id) FROM index_chunks").fetchone()[0] == 1


def test_a_copy_at_the_same_revision_with_another_header_replaces_the_kept_one(tmp_path):
    # A replica that refused the store's copy (not matching the list) builds at the same
    # revision: its copy replaces the refused one; the same copy sent again changes nothing.
    store = _other_scanners_store(tmp_path)
    _sent(store, tmp_path / "index.alu")
    kept = store.index_copy()
    assert not store.put_index_copy(kept.revision, kept.header, [b"the same again"])
    other = json.dumps(json.loads(kept.header) | {"checksum": "0" * 128}).encode()
    assert store.put_index_copy(kept.revision, other, [b"rebuilt"])
    assert store.index_copy().header == other
    assert b"".join(store.read_index_copy(store.index_copy())) == b"rebuilt"
    store.close()


def test_an_upload_dropped_under_its_sender_as_unfinished_keeps_the_copy_before(tmp_path):
    store = _other_scanners_store(tmp_path)
    _sent(store, tmp_path / "index.alu")
    kept = store.index_copy()

    def chunks():
        yield b"first"
        with sqlite3.connect(store.path) as db:  # as another sender takes it for a dead one's
            db.execute("DELETE FROM index_copies WHERE chunks IS NULL")
        yield b"second"

    assert not store.put_index_copy(kept.revision + 1, kept.header, chunks())
    assert store.index_copy() == kept
    with sqlite3.connect(store.path) as db:  # none of the dropped upload's chunks left
        assert db.execute("SELECT COUNT(DISTINCT copy_id) FROM index_chunks").fetchone()[0] == 1
    store.close()


def test_the_sender_sends_the_newest_waiting_file_after_the_one_on_its_way():
    import threading

    from alu.scan.sharedindex import Sender

    class File:
        def __init__(self, revision):
            self.revision = revision

        def header(self):
            return b"{}"

        def body(self, chunk):
            return iter([b""])

    release, sent = threading.Event(), []

    class SlowStore:
        def put_index_copy(self, revision, header, chunks):
            sent.append(revision)
            release.wait(10)
            return True

    sender = Sender(SlowStore())
    sender.send(File(5))
    while not sent:
        threading.Event().wait(0.01)
    for revision in (9, 7):  # a fold's newer file, then an older one sent late
        sender.send(File(revision))
    release.set()
    assert sender.wait(10) and sent == [5, 9]


def test_a_fold_whose_file_is_refused_does_not_send_it(tmp_path, monkeypatch):
    store = _other_scanners_store(tmp_path)
    index = _sent(store, tmp_path / "index.alu")
    store.add(BASE[2])
    index.sync()
    sent, refused, real_on_file = [], [], index._on_file
    monkeypatch.setattr(index.copies, "send", lambda file: sent.append(file))

    def refuse_the_folded_file_once(current, file):
        if not refused and file.revision == store.revision():
            refused.append(file)
            raise IndexFileError(f"{file.path} does not match the store's targets")
        return real_on_file(current, file)

    monkeypatch.setattr(index, "_on_file", refuse_the_folded_file_once)
    assert index.fold()
    assert refused and all(file is not refused[0] for file in sent)
    assert lexical(index).file is not refused[0]  # in use: the store's copy, or a new file
    store.close()
