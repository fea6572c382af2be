import json
import multiprocessing
import sqlite3

import pytest

from alu.targets import Target, TargetError, TargetStore, dump_targets, parse_targets

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
