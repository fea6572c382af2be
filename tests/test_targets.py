import json
import multiprocessing
import re
import sqlite3
import threading

import pytest

from alu.stores import TargetStore
from alu.targets import Target, TargetError, dump_targets, parse_targets

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


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_round_trip_keeps_every_field(tmp_path, fmt):
    src = TargetStore(tmp_path / "a.db")
    src.add_many(SAMPLE)
    path = tmp_path / f"targets.{fmt}"
    assert src.export_file(path) == 3
    dst = TargetStore(tmp_path / "b.db")
    assert dst.import_file(path) == 3
    strip = lambda ts: [t.model_dump(exclude={"id"}) for t in ts]  # noqa: E731
    assert strip(dst.list()) == strip(SAMPLE)


def test_text_format_is_one_name_per_line(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# people\nAda Lovelace\n\n  Alan Turing  \n")
    store = TargetStore(tmp_path / "t.db")
    assert store.import_file(path) == 2
    assert [t.name for t in store.list()] == ["Ada Lovelace", "Alan Turing"]
    assert dump_targets(store.list(), "txt") == "Ada Lovelace\nAlan Turing\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.json", '[{"name": "Ok"}, {"name": ', "not valid json"),
        ("bad.json", '[{"name": "Ok"}, {"kind": "person"}]', "target 2: name"),
        ("bad.json", '[{"name": "Ok", "kind": "planet"}]', "target 1: kind"),
        ("bad.json", '{"name": "not a list"}', "expected a list"),
        ("bad.yaml", "- name: Ok\n- name: [unclosed\n", "not valid yaml"),
        ("bad.csv", "title,kind\nx,person\n", "'name' column"),
        ("bad.csv", "name,kind\nOk,person\nBad,person,extra\n", "extra fields"),
        ("bad.csv", 'name,aliases\nOk,"[""unclosed"\n', "bad JSON list"),
        ("bad.txt", "   \n" + "x" * 300 + "\n", "target 1: name"),
        ("bad.xml", "<targets/>", "cannot tell the format"),
    ],
)
def test_bad_files_import_nothing(tmp_path, name, text, message):
    store = TargetStore(tmp_path / "t.db")
    store.add(Target(name="Existing"))
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TargetError) as info:
        store.import_file(path)
    assert message.lower() in str(info.value).lower()
    assert "\n" not in str(info.value)
    assert [t.name for t in store.list()] == ["Existing"]


def test_missing_and_binary_files_are_clear_errors(tmp_path):
    store = TargetStore(tmp_path / "t.db")
    with pytest.raises(TargetError, match="cannot read"):
        store.import_file(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(TargetError, match="cannot read"):
        store.import_file(tmp_path / "bin.json")


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


def test_changes_since_reports_adds_updates_and_removals(tmp_path):
    store = TargetStore(tmp_path / "t.db")
    start = store.revision()
    a, b = store.add_many(SAMPLE[:2])
    rev, changes = store.changes_since(start)
    assert set(changes) == {a.id, b.id} and rev == store.revision()
    store.remove(a.name)
    store.add(Target(name=b.name, kind="topic"), replace=True)
    _, changes = store.changes_since(rev)
    assert changes[a.id] is None and changes[b.id].kind == "topic"
    assert store.changes_since(store.revision()) == (store.revision(), {})


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


# -- issue 8: names that can never match, import files, export, permissions, paging ----------
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


def test_names_in_other_scripts_and_with_punctuation_are_accepted():
    for name in ("AC/DC Band", "Zoë Ñandú", "Лев Толстой", "毛泽东", "R2-D2", "100% Pure"):
        assert Target(name=name).name == name
    assert Target(name="Ok", evidence=["line one\nline two\ttab"]).evidence == ["line one\nline two\ttab"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("deep.yaml", "[" * 100_000 + "]" * 100_000, "not valid yaml"),
        ("deep.yaml", "- " * 100_000 + "x", "not valid yaml"),
        ("broken.csv", 'name,kind\nOk,person\n"Unterminated,person\nMore,topic\n', "not valid csv"),
        (
            "nul.txt",
            "Ada Lovelace\nBa\x00sil Mahfouz\n",
            "line 2: target 2: name: contains the control character",
        ),
        ("nul.csv", "name,kind\nBa\x00sil,person\n", "control character U+0000"),
        ("bang.txt", "Ada Lovelace\n!!!\n", "no letter or digit"),
    ],
)
def test_bad_import_files_are_one_line_errors_and_import_nothing(tmp_path, name, text, message):
    store = TargetStore(tmp_path / "t.db")
    store.add(Target(name="Existing"))
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TargetError) as info:
        store.import_file(path)
    assert message.lower() in str(info.value).lower() and "\n" not in str(info.value)
    assert [t.name for t in store.list()] == ["Existing"]


def test_files_beyond_the_stated_size_are_refused_before_reading(tmp_path, monkeypatch):
    from alu.targets import files

    monkeypatch.setitem(files.MAX_FILE_BYTES, "txt", 1024)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"Person Number{i}\n" for i in range(200)))
    store = TargetStore(tmp_path / "t.db")
    with pytest.raises(TargetError, match=r"big.txt is 0.0 MiB: txt target files are limited to 0 MiB"):
        store.import_file(path)
    assert store.count() == 0
    assert files.MAX_FILE_BYTES["json"] == 64 * 1024 * 1024  # the stated limits


def test_text_and_csv_files_are_read_as_they_are_used(tmp_path):
    from alu.targets import stream_targets

    path = tmp_path / "names.txt"
    path.write_text("Ada Lovelace\nAlan Turing\n!!!\n")
    targets = stream_targets(path)
    assert next(targets).name == "Ada Lovelace"  # the bad third line is not read yet
    assert next(targets).name == "Alan Turing"
    with pytest.raises(TargetError, match="line 3"):
        next(targets)


FORMULAS = ['=HYPERLINK("http://x","click")', "+1 Person", "-Ash Ketchum", "@SUM Person"]


def test_csv_export_is_safe_from_formula_injection_and_round_trips(tmp_path):
    src = TargetStore(tmp_path / "a.db")
    src.add_many([Target(name=n, description="=cmd|' /C calc'!A0") for n in FORMULAS])
    path = tmp_path / "out.csv"
    src.export_file(path)
    import csv

    rows = list(csv.DictReader(path.open(newline="")))
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    dst = TargetStore(tmp_path / "b.db")
    dst.import_file(path)
    assert [t.name for t in dst.list()] == FORMULAS
    assert dst.list()[0].description == "=cmd|' /C calc'!A0"


def test_store_and_export_files_are_readable_by_their_owner_only(tmp_path):
    import os

    store = TargetStore(tmp_path / "private" / "t.db")
    reader = sqlite3.connect(store.path)  # keeps the -wal and -shm files in being
    reader.execute("SELECT COUNT(*) FROM targets").fetchone()
    store.add(Target(name="Ada Lovelace"))
    files = [store.path, store.path.with_name("t.db-wal"), store.path.with_name("t.db-shm")]
    assert all(f.exists() and os.stat(f).st_mode & 0o777 == 0o600 for f in files)
    reader.close()
    for fmt in ("csv", "json", "yaml", "txt"):
        out = tmp_path / f"out.{fmt}"
        out.write_text("old")
        out.chmod(0o644)
        store.export_file(out)
        assert os.stat(out).st_mode & 0o777 == 0o600


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
