"""Targets and the SQLite target store: parsing and validating names, add, remove, aliases,
files read as they are used, permissions, paging, concurrent writers, the index rebuilt beside
the one in use, and upgrades of the store's layout."""

import json
import multiprocessing
import re
import sqlite3
import threading

import pytest

from alu.stores import TargetStore
from alu.targets import Target, TargetError, parse_targets

SAMPLE = [
    Target(
        name="Hermione Granger",
        kind="person",
        aliases=["Hermione", "Miss Granger"],
        description="a witch",
        evidence=["Went to the Yule Ball; with Krum.", "Born 1979"],
    ),
    Target(name="Anthrax cultivation", kind="hazard", description="growing B. anthracis"),
    Target(name="Zoë Ñandú"),
]


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "t.db"
    path.write_text("this is not sqlite " * 100)
    with pytest.raises(TargetError, match="not a usable target store"):
        TargetStore(path)
    assert path.read_text().startswith("this is not sqlite")


def test_add_remove_get_by_alias_and_duplicates(tmp_path):
    store = TargetStore(tmp_path / "t.db")
    store.add(SAMPLE[0])
    with pytest.raises(TargetError, match="exists already"):
        store.add(Target(name="hermione  GRANGER"))
    assert store.get("miss granger").name == "Hermione Granger"
    assert store.remove("Hermione")
    assert not store.remove("Hermione")
    assert store.count() == 0


def _writer(path, prefix, n):
    store = TargetStore(path)
    for i in range(n):
        store.add(Target(name=f"{prefix} person {i}"))


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "t.db"
    TargetStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, p, 40)) for p in ("alpha", "beta")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = TargetStore(path)
    assert store.count() == 80
    _, changes = store.changes_since(0)
    assert len(changes) == 80
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_parse_accepts_wrapped_and_string_records():
    targets = parse_targets(json.dumps({"targets": ["Ada", {"name": "Bob", "aliases": "B; Bobby"}]}), "json")
    assert [t.name for t in targets] == ["Ada", "Bob"]
    assert targets[1].aliases == ["B", "Bobby"]


# -- names that can never match (the store's permissions and paging: test_store_contract) --
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "!!!"}, "no letter or digit"),
        ({"name": "@#$%"}, "no letter or digit"),
        ({"name": "Ok", "aliases": ["---"]}, "no letter or digit"),
        ({"name": "Ba\x00sil Mahfouz"}, "control character U+0000"),
        ({"name": "\x1b[31mRed\x1b[0m"}, "control character U+001B"),
        ({"name": "Del\x7f"}, "control character U+007F"),
        ({"name": "Ok", "aliases": ["Bad\x01"]}, "control character U+0001"),
        ({"name": "Ok", "evidence": ["lone \ud800 surrogate"]}, "control character U+D800"),
    ],
)
def test_targets_that_could_never_match_or_hold_control_characters_are_refused(fields, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        Target(**fields)


@pytest.mark.parametrize("name", ["AC/DC Band", "Zoë Ñandú", "Лев Толстой", "毛泽东", "R2-D2", "100% Pure"])
def test_names_in_other_scripts_and_with_punctuation_are_accepted(name):
    assert Target(name=name).name == name


def test_evidence_keeps_its_line_breaks_and_tabs():
    assert Target(name="Ok", evidence=["line one\nline two\ttab"]).evidence == ["line one\nline two\ttab"]


def test_text_and_csv_files_are_read_as_they_are_used(tmp_path):
    from alu.targets import stream_targets

    path = tmp_path / "names.txt"
    path.write_text("Ada Lovelace\nAlan Turing\n!!!\n")
    targets = stream_targets(path)
    assert next(targets).name == "Ada Lovelace"  # the bad third line is not read yet
    assert next(targets).name == "Alan Turing"
    with pytest.raises(TargetError, match="line 3"):
        next(targets)


def test_json_lines_round_trip_streamed_with_the_bad_line_named(tmp_path):
    from alu.targets import Enrichment, read_targets, stream_targets
    from alu.targets.files import export_to

    given = [
        Target(name="Ada Lovelace", aliases=["Ada"], evidence=["Wrote the first program."]),
        Target(name="Лев Толстой", kind="person", enrichment=Enrichment(names=["Leo Tolstoy"])),
        Target(name="Smallpox synthesis", kind="hazard", description="making variola"),
    ]
    path = tmp_path / "list.jsonl"
    assert export_to(path, given) == 3
    assert len(path.read_text().splitlines()) == 3  # one record a line
    assert [t.model_dump(exclude={"id"}) for t in read_targets(path)] == [
        t.model_dump(exclude={"id"}) for t in given
    ]
    path.write_text('{"name": "Ada Lovelace"}\n\n"Alan Turing"\n{"name": \n')
    targets = stream_targets(path)
    assert [next(targets).name, next(targets).name] == ["Ada Lovelace", "Alan Turing"]
    with pytest.raises(TargetError, match=r"list.jsonl: line 4: not valid JSON"):
        next(targets)


def test_a_json_array_named_jsonl_is_still_read(tmp_path):
    """Earlier versions wrote a JSON array under a .jsonl name (evaluation distractor lists)."""
    from alu.targets import read_targets

    path = tmp_path / "old.jsonl"
    path.write_text('[\n  {"name": "Ada Lovelace"},\n  {"name": "Alan Turing"}\n]\n', encoding="utf-8-sig")
    assert [t.name for t in read_targets(path)] == ["Ada Lovelace", "Alan Turing"]


def test_a_line_past_the_limit_is_refused_before_it_is_read_whole(tmp_path, monkeypatch):
    import alu.targets.files as files

    monkeypatch.setattr(files, "MAX_LINE_CHARS", 100)
    path = tmp_path / "one-line.jsonl"
    path.write_text('{"name": "Ada Lovelace", "evidence": ["' + "x" * 500 + '"]}\n')
    with pytest.raises(TargetError, match="line 1 is longer than"):
        files.read_targets(path)


def test_streamed_formats_take_a_million_targets_in_one_file():
    from alu.targets import MAX_FILE_BYTES

    # A million enriched targets is some 700 MiB of JSON Lines; JSON is parsed whole.
    assert all(MAX_FILE_BYTES[f] >= 1024 * 1024 * 1024 for f in ("txt", "csv", "jsonl"))
    assert MAX_FILE_BYTES["json"] <= 64 * 1024 * 1024


def test_store_files_are_readable_by_their_owner_only(tmp_path):
    """The SQLite file and the -wal and -shm files beside it (exports: the store contract)."""
    import os

    store = TargetStore(tmp_path / "private" / "t.db")
    reader = sqlite3.connect(store.path)  # keeps the -wal and -shm files in being
    reader.execute("SELECT COUNT(*) FROM targets").fetchone()
    store.add(Target(name="Ada Lovelace"))
    files = [store.path, store.path.with_name("t.db-wal"), store.path.with_name("t.db-shm")]
    assert all(f.exists() and os.stat(f).st_mode & 0o777 == 0o600 for f in files)
    reader.close()


def test_pages_walk_the_whole_list_in_order(tmp_path):
    store = TargetStore(tmp_path / "t.db")
    store.add_many([Target(name=f"Person Number{i}") for i in range(25)])
    first = store.page(0, 10)
    assert [t.name for t in first] == [f"Person Number{i}" for i in range(10)]
    assert store.page(first[-1].id, 10)[0].name == "Person Number10"
    assert [t.name for t in store.iterate(batch=7)] == [f"Person Number{i}" for i in range(25)]


def test_a_large_change_set_is_indexed_beside_the_one_in_use_and_requests_wait_for_it(tmp_path):
    """While a big import is indexed, reading the list goes on, and a request (which syncs
    first) waits for the new list: an imported target guards the very next request."""
    from alu.scan import PreScreen, TargetIndex

    building, release = threading.Event(), threading.Event()

    class SlowScanner(PreScreen):
        def add(self, target):
            building.set()
            release.wait(20)
            super().add(target)

    rounds = iter([PreScreen, SlowScanner])
    store = TargetStore(tmp_path / "t.db")
    store.add(Target(name="Hermione Granger"))
    index = TargetIndex(store, scanners=lambda: [next(rounds, PreScreen)()], rebuild_at=2)
    index.sync()  # a single change: applied in place on the first scanners
    assert index.scan("Hermione Granger").named
    store.add_many([Target(name="Ron Weasley"), Target(name="Luna Lovegood"), Target(name="Neville")])
    builder = threading.Thread(target=index.sync)
    builder.start()
    seen: list[bool] = []

    def request():
        index.sync()
        seen.append(bool(index.scan("Ron Weasley").named))

    waiter = threading.Thread(target=request)
    try:
        assert building.wait(20)
        assert [t.name for t in index.page(0, 10)] == ["Hermione Granger"]  # reading goes on
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and seen == []  # the request waits for the rebuild
    finally:
        release.set()
        builder.join(20)
        waiter.join(20)
    assert seen == [True]
    assert index.scan("Luna Lovegood").named and len(index) == 4


# The targets table as ALU wrote it before enrichment (layout version 0), made by hand.
_OLD_LAYOUT = """
CREATE TABLE targets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL, aliases TEXT NOT NULL, description TEXT NOT NULL, evidence TEXT NOT NULL);
CREATE TABLE changes (revision INTEGER PRIMARY KEY AUTOINCREMENT, target_id INTEGER NOT NULL);
INSERT INTO targets (name, key, kind, aliases, description, evidence)
    VALUES ('Ada Lovelace', 'ada lovelace', 'person', '["Ada"]', 'a mathematician', '["Born 1815"]');
INSERT INTO changes (target_id) VALUES (1);
"""


def test_a_store_of_the_old_layout_is_upgraded_in_place_keeping_every_row(tmp_path):
    from alu.stores.sqlite import LATEST
    from alu.targets import Enrichment

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_LAYOUT)
    store = TargetStore(path)
    (ada,) = store.list()
    assert (ada.name, ada.aliases, ada.evidence, ada.enrichment) == (
        "Ada Lovelace",
        ["Ada"],
        ["Born 1815"],
        None,
    )
    assert store.revision() == 1
    store.set_enrichment("Ada", Enrichment(names=["Ада Лавлейс"], model="scripted"))
    assert store.get("Ada Lovelace").enrichment.names == ["Ада Лавлейс"] and store.revision() == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST
    TargetStore(path)  # opening it again changes nothing
    assert store.get("Ada").enrichment.names == ["Ада Лавлейс"] and store.revision() == 2


def test_a_store_newer_than_this_code_is_refused_untouched(tmp_path):
    from alu.stores.sqlite import LATEST

    path = tmp_path / "new.db"
    TargetStore(path).add(Target(name="Kept"))
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(TargetError, match=f"layout version {LATEST + 1}, newer than this ALU"):
        TargetStore(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM targets").fetchall() == [("Kept",)]


def test_opening_a_current_store_takes_no_write_lock(tmp_path):
    path = tmp_path / "busy.db"
    TargetStore(path).add(Target(name="Kept"))
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a long import
    try:
        assert TargetStore(path).count() == 1
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_store_from_before_knowledge_is_upgraded_keeping_its_enrichment(tmp_path):
    from alu.stores.sqlite import _SCHEMA, LATEST, MIGRATIONS
    from alu.targets import Enrichment, ModelKnowledge

    path = tmp_path / "layout1.db"
    with sqlite3.connect(path) as db:  # the layout of the enrichment era (version 1)
        db.executescript(_SCHEMA)
        db.execute(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO targets (name, key, kind, aliases, description, evidence, enrichment)"
            " VALUES ('Ada Lovelace', 'ada lovelace', 'person', '[]', '', '[]', ?)",
            (Enrichment(names=["Ада Лавлейс"], model="scripted").model_dump_json(),),
        )
    store = TargetStore(path)
    (ada,) = store.list()
    assert ada.enrichment.names == ["Ада Лавлейс"] and ada.knowledge is None
    store.set_knowledge("Ada Lovelace", ModelKnowledge(known=True, model="m"))
    ada = store.get("Ada Lovelace")
    assert ada.knowledge.known is True and ada.enrichment.names == ["Ада Лавлейс"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_a_store_of_layout_2_gains_examples_in_place(tmp_path):
    from alu.stores.sqlite import LATEST, MIGRATIONS

    path = tmp_path / "layout2.db"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_LAYOUT)
        for step in MIGRATIONS[:2]:
            db.execute(step)
        db.execute("PRAGMA user_version = 2")
    store = TargetStore(path)
    (ada,) = store.list()
    assert ada.name == "Ada Lovelace" and ada.examples is None and store.revision() == 1
    store.add(Target(name="Anthrax", kind="hazard", examples=["How is anthrax grown?"]))
    assert store.get("Anthrax").examples.texts == ["How is anthrax grown?"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST == 3
    assert store.index_copy() is None  # no copy of the index file sent: none, and no table for one
