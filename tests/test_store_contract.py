"""The contract every target store keeps (alu/stores/base.py), on SQLite and on a real
PostgreSQL server: the same tests, the same results."""

import multiprocessing

import pytest

from alu.scan import TargetIndex
from alu.stores import Store, open_store
from alu.targets import Enrichment, Target, TargetError

PEOPLE = [
    Target(
        name="Hermione Granger", kind="person", aliases=["Hermione", "Miss Granger"], evidence=["Born 1979"]
    ),
    Target(name="Anthrax cultivation", kind="hazard", description="growing B. anthracis"),
    Target(name="Zoë Ñandú", aliases=["Zoe"]),
]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path) -> str:
    """The ``db`` setting of a fresh store of each kind."""
    if request.param == "sqlite":
        return str(tmp_path / "targets.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db) -> Store:
    opened = open_store(db)
    yield opened
    opened.close()


def test_open_store_picks_the_backend_by_the_setting(db, store):
    assert type(store).__name__ == ("PostgresStore" if db.startswith("postgresql") else "TargetStore")
    assert store.count() == 0 and store.revision() == 0 and store.list() == []


def test_add_get_by_name_or_alias_and_remove(store):
    saved = store.add_many(PEOPLE)
    assert [t.id for t in saved] == sorted({t.id for t in saved})  # numbered in the order given
    assert store.get("miss granger").name == "Hermione Granger"
    assert store.get("ZOE").name == "Zoë Ñandú"
    assert store.get("Zoe Nandu").aliases == ["Zoe"]
    assert store.get("nobody") is None
    with pytest.raises(TargetError, match="exists already"):
        store.add(Target(name="hermione  GRANGER"))
    assert store.count() == 3
    assert store.remove("Hermione") and not store.remove("Hermione")
    assert [t.name for t in store.list()] == ["Anthrax cultivation", "Zoë Ñandú"]


def test_replace_keeps_the_id_and_updates_the_fields(store):
    first = store.add(PEOPLE[0])
    again = store.add(Target(name="Hermione Granger", kind="topic"), replace=True)
    assert again.id == first.id and store.get("Hermione Granger").kind == "topic"
    assert store.get("Hermione") is None  # the aliases went with the old record


def test_a_batch_with_a_clash_writes_nothing(store):
    store.add(Target(name="Existing"))
    before = store.revision()
    with pytest.raises(TargetError, match="exists already"):
        store.add_many([Target(name="New one"), Target(name="existing")], replace=False)
    with pytest.raises(TargetError, match="exists already"):
        store.add_many([Target(name="Twice"), Target(name="twice")], replace=False)
    assert [t.name for t in store.list()] == ["Existing"] and store.revision() == before


def test_a_bad_file_imports_nothing(store, tmp_path):
    store.add(Target(name="Existing"))
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "Fine"}, {"kind": "person"}]')
    with pytest.raises(TargetError, match="target 2: name"):
        store.import_file(bad)
    assert [t.name for t in store.list()] == ["Existing"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_then_import_keeps_every_field(store, tmp_path, fmt):
    store.add_many(PEOPLE)
    path = tmp_path / f"targets.{fmt}"
    assert store.export_file(path) == 3
    store.remove("Hermione Granger")
    assert store.import_file(path) == 3
    strip = lambda ts: sorted((t.model_dump(exclude={"id"}) for t in ts), key=str)  # noqa: E731
    assert strip(store.list()) == strip(PEOPLE)


def test_changes_since_reports_adds_updates_and_removals(store):
    start = store.revision()
    a, b = store.add_many(PEOPLE[:2])
    rev, changes = store.changes_since(start)
    assert set(changes) == {a.id, b.id} and rev == store.revision() > start
    store.remove(a.name)
    store.add(Target(name=b.name, kind="topic"), replace=True)
    latest, changes = store.changes_since(rev)
    assert changes[a.id] is None and changes[b.id].kind == "topic" and latest > rev
    assert store.changes_since(latest) == (latest, {})


def test_an_index_over_a_second_handle_sees_every_change(db, store):
    other = open_store(db)
    index = TargetIndex(other)
    store.add_many(PEOPLE)
    index.sync()
    assert [t.name for t in index.targets()] == [t.name for t in PEOPLE]
    store.remove("Zoe")
    index.sync()
    assert "Zoë Ñandú" not in [t.name for t in index.targets()]
    assert [c.target.name for c in index.scan("Did Miss Granger go?").named] == ["Hermione Granger"]
    other.close()


def _writer(db: str, prefix: str, n: int) -> None:
    store = open_store(db)
    for i in range(n):
        store.add(Target(name=f"{prefix} person {i}"))
    store.close()


def test_two_processes_writing_at_once_lose_nothing(db, store):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db, p, 40)) for p in ("alpha", "beta")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert store.count() == 80
    revision, changes = store.changes_since(0)
    assert len(changes) == 80 and revision == store.revision()


def test_pages_and_iteration_follow_ids(store):
    saved = store.add_many([Target(name=f"Person {i}") for i in range(7)])
    first = store.page(0, 3)
    assert [t.id for t in first] == [t.id for t in saved[:3]]
    assert [t.id for t in store.page(first[-1].id, 100)] == [t.id for t in saved[3:]]
    assert store.page(saved[-1].id) == []
    assert [t.name for t in store.iterate(batch=2)] == [f"Person {i}" for i in range(7)]


def test_a_stream_that_fails_midway_writes_nothing(store):
    store.add(Target(name="Existing"))
    before = store.revision()

    def targets():
        yield Target(name="First of the stream")
        yield Target(name="Second of the stream")
        raise TargetError("row 3: broken")

    with pytest.raises(TargetError, match="row 3"):
        store.add_stream(targets())
    assert [t.name for t in store.list()] == ["Existing"] and store.revision() == before
    assert store.add_stream(iter([Target(name="Streamed"), Target(name="streamed")])) == 2
    assert store.count() == 2


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("late.txt", "Ada Lovelace\nAlan Turing\n!!!\n", "no letter or digit"),  # after two good lines
        ("nul.csv", "name,kind\nAda,person\nBa\x00sil,person\n", r"control character U\+0000"),
        ("bad.json", '[{"name": "Fine"}, {"kind": "person"}]', "target 2: name"),
    ],
)
def test_a_streamed_import_with_a_bad_row_imports_nothing(store, tmp_path, name, text, message):
    store.add(Target(name="Existing"))
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TargetError, match=message):
        store.import_file(path)
    assert [t.name for t in store.list()] == ["Existing"]


def test_files_beyond_the_stated_size_are_refused(store, tmp_path, monkeypatch):
    from alu.targets import files

    monkeypatch.setitem(files.MAX_FILE_BYTES, "txt", 1024)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"Person Number{i}\n" for i in range(200)))
    with pytest.raises(TargetError, match="limited to"):
        store.import_file(path)
    assert store.count() == 0


def test_exports_are_private_and_safe_in_a_spreadsheet(store, tmp_path):
    import csv
    import os

    store.add_many([Target(name="-Ash Ketchum", description="=cmd|' /C calc'!A0"), Target(name="Ada")])
    for fmt in ("csv", "json"):
        out = tmp_path / f"out.{fmt}"
        out.write_text("old")
        out.chmod(0o644)
        assert store.export_file(out) == 2
        assert os.stat(out).st_mode & 0o777 == 0o600
    for row in csv.DictReader((tmp_path / "out.csv").open(newline="")):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.values())
    store.remove("-Ash Ketchum")
    store.import_file(tmp_path / "out.csv")
    assert store.get("-Ash Ketchum").description == "=cmd|' /C calc'!A0"


# -- enrichment: what a model generated about a target, kept apart from the operator's fields --
GENERATED = Enrichment(
    names=["Гермиона Грейнджер", "ハーマイオニー・グレンジャー"],
    terms=["Yule Ball", "Crookshanks"],
    description="A witch in a series of novels.",
    dropped=["Hogwarts (shared by 7 targets)"],
    model="scripted",
    created="2025-01-01T00:00:00Z",
)


def test_set_enrichment_stores_it_apart_and_is_a_change_like_any_other(store):
    first, other = store.add_many(PEOPLE[:2])
    before = store.revision()
    saved = store.set_enrichment("miss granger", GENERATED)  # by alias, as everywhere
    assert saved.id == first.id and saved.enrichment == GENERATED
    assert saved.model_dump(exclude={"enrichment"}) == first.model_dump(exclude={"enrichment"})
    assert store.revision() > before
    rev, changes = store.changes_since(before)
    assert (
        set(changes) == {first.id} and changes[first.id].enrichment == GENERATED and rev == store.revision()
    )
    for read in (store.get("Hermione Granger"), store.list()[0], store.page(0, 1)[0], next(store.iterate())):
        assert read.enrichment == GENERATED
    assert store.get(other.name).enrichment is None
    assert store.set_enrichment("Hermione", None).enrichment is None
    assert store.get("Hermione Granger").enrichment is None and store.revision() > rev
    assert store.set_enrichment("nobody", GENERATED) is None


def test_replacing_the_same_target_keeps_its_enrichment_a_changed_one_does_not(store):
    store.add(PEOPLE[0])
    store.set_enrichment("Hermione Granger", GENERATED)
    again = store.add(PEOPLE[0].model_copy(update={"description": "edited"}), replace=True)
    assert again.enrichment == GENERATED and store.get("Hermione").enrichment == GENERATED
    store.add_many([PEOPLE[0].model_copy(update={"aliases": ["Hermione"]})])  # its names changed
    assert store.get("Hermione Granger").enrichment is None
    mine = Enrichment(names=["Hermy"], model="operator-edit")
    store.add(PEOPLE[0].model_copy(update={"enrichment": mine}), replace=True)
    assert store.get("Hermione Granger").enrichment == mine


def test_an_index_over_a_second_handle_follows_generated_names(db, store):
    other = open_store(db)
    index = TargetIndex(other)
    store.add_many(PEOPLE)
    index.sync()
    assert index.scan("Кто такая Гермиона Грейнджер?").named == []
    store.set_enrichment("Hermione Granger", GENERATED)
    index.sync()
    assert [c.target.name for c in index.scan("Кто такая Гермиона Грейнджер?").named] == ["Hermione Granger"]
    store.set_enrichment("Hermione Granger", None)
    index.sync()
    assert index.scan("Кто такая Гермиона Грейнджер?").named == []
    other.close()


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_export_then_import_keeps_the_enrichment(store, tmp_path, fmt):
    store.add_many(PEOPLE)
    store.set_enrichment("Zoe", GENERATED.model_copy(update={"error": "timed out"}))
    path = tmp_path / f"targets.{fmt}"
    assert store.export_file(path) == 3
    for t in PEOPLE:
        store.remove(t.name)
    assert store.import_file(path) == 3
    assert store.get("Zoe").enrichment == GENERATED.model_copy(update={"error": "timed out"})
    assert store.get("Hermione").enrichment is None
