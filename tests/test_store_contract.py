"""The contract every target store keeps (alu/stores/base.py), on SQLite and on a real
PostgreSQL server: the same tests, the same results."""

import ast
import csv
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alu.errors import ConfigError
from alu.pgsql import NEEDS_EXTRA
from alu.scan import TargetIndex
from alu.stores import Store, check_db_setting, is_database_url, open_store, register_store
from alu.stores.base import STORES, name_key
from alu.targets import (
    Enrichment,
    FingerprintItem,
    ModelKnowledge,
    ProbeAnswer,
    Target,
    TargetError,
    dump_targets,
)

PEOPLE = [
    Target(
        name="Hermione Granger",
        kind="person",
        aliases=["Hermione", "Miss Granger"],
        description="a witch",
        evidence=["Went to the Yule Ball; with Krum.", "Born 1979"],
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


# -- files: every format imported and exported through each store ---------------------------
@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_export_then_import_keeps_every_field(store, tmp_path, fmt):
    store.add_many(PEOPLE)
    path = tmp_path / f"targets.{fmt}"
    assert store.export_file(path) == 3
    store.remove("Hermione Granger")
    assert store.import_file(path) == 3  # over what is stored: replaces, adds what is missing
    strip = lambda ts: [t.model_dump(exclude={"id"}) for t in ts]  # noqa: E731
    assert sorted(strip(store.list()), key=str) == sorted(strip(PEOPLE), key=str)
    for target in PEOPLE:
        store.remove(target.name)
    assert store.import_file(path) == 3  # into an empty store: the same list, in its order
    assert strip(store.list()) == strip(PEOPLE)


def test_text_files_are_one_name_per_line_and_round_trip_the_names(store, tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# people\nAda Lovelace\n\n  Alan Turing  \n")
    assert store.import_file(path) == 2
    assert [t.name for t in store.list()] == ["Ada Lovelace", "Alan Turing"]
    assert dump_targets(store.list(), "txt") == "Ada Lovelace\nAlan Turing\n"
    out = tmp_path / "out.txt"
    assert store.export_file(out) == 2
    store.remove("Ada Lovelace")
    store.remove("Alan Turing")
    assert store.import_file(out) == 2
    assert [t.name for t in store.list()] == ["Ada Lovelace", "Alan Turing"]


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
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("deep.yaml", "[" * 100_000 + "]" * 100_000, "not valid yaml"),
        ("deep.yaml", "- " * 100_000 + "x", "not valid yaml"),
        ("broken.csv", 'name,kind\nOk,person\n"Unterminated,person\nMore,topic\n', "not valid csv"),
        # streamed formats, the bad row after good ones (already in the transaction)
        ("late.txt", "Ada Lovelace\nAlan Turing\n!!!\n", "no letter or digit"),
        (
            "nul.txt",
            "Ada Lovelace\nBa\x00sil Mahfouz\n",
            "line 2: target 2: name: contains the control character",
        ),
        ("nul.csv", "name,kind\nAda,person\nBa\x00sil,person\n", "control character U+0000"),
    ],
)
def test_a_bad_file_is_a_one_line_error_and_imports_nothing(store, tmp_path, name, text, message):
    store.add(Target(name="Existing"))
    before = store.revision()
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TargetError) as info:
        store.import_file(path)
    assert message.lower() in str(info.value).lower()
    assert "\n" not in str(info.value)
    assert [t.name for t in store.list()] == ["Existing"] and store.revision() == before


def test_missing_and_binary_files_are_clear_errors(store, tmp_path):
    with pytest.raises(TargetError, match="cannot read"):
        store.import_file(tmp_path / "nope.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(TargetError, match="cannot read"):
        store.import_file(tmp_path / "bin.json")
    assert store.count() == 0


def test_files_beyond_the_stated_size_are_refused_before_reading(store, tmp_path, monkeypatch):
    from alu.targets import files

    monkeypatch.setitem(files.MAX_FILE_BYTES, "txt", 1024)
    path = tmp_path / "big.txt"
    path.write_text("".join(f"Person Number{i}\n" for i in range(200)))
    with pytest.raises(TargetError, match=r"big.txt is 0.0 MiB: txt target files are limited to 0 MiB"):
        store.import_file(path)
    assert store.count() == 0
    assert files.MAX_FILE_BYTES["json"] == 64 * 1024 * 1024  # the stated limits


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv", "txt"])
def test_exports_are_readable_by_their_owner_only(store, tmp_path, fmt):
    store.add_many(PEOPLE)
    out = tmp_path / f"out.{fmt}"
    out.write_text("old")
    out.chmod(0o644)
    assert store.export_file(out) == 3
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert "old" not in out.read_text()


FORMULAS = ['=HYPERLINK("http://x","click")', "+1 Person", "-Ash Ketchum", "@SUM Person"]


def test_csv_exports_are_safe_in_a_spreadsheet_and_round_trip(store, tmp_path):
    formulas = [Target(name=n, description="=cmd|' /C calc'!A0") for n in FORMULAS]
    store.add_many([*formulas, Target(name="Ada")])
    path = tmp_path / "out.csv"
    assert store.export_file(path) == 5
    for row in csv.DictReader(path.open(newline="")):
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (column, cell)
    for target in store.list():
        store.remove(target.name)
    assert store.import_file(path) == 5
    assert [t.name for t in store.list()] == [*FORMULAS, "Ada"]
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
    reads = (store.get("Hermione Granger"), store.list()[0], store.page(0, 1)[0], next(store.iterate()))
    assert [read.enrichment for read in reads] == [GENERATED] * 4  # get, list, page, iterate
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


# -- adding a store: one module registering its URL schemes ----------------------------------
class MemoryStore(Store):
    """The least a store module holds: the contract, in a dict, registered for ``memory://``."""

    def __init__(self, url: str):
        self.url, self.targets, self.log = url, {}, []

    @property
    def location(self) -> str:
        return self.url

    def add_many(self, targets, *, replace=True):
        staged, saved = dict(self.targets), []
        for target in targets:
            key = name_key(target.name)
            if key in staged and not replace:
                raise TargetError(f"target {target.name!r} exists already (use replace)")
            target_id = staged[key].id if key in staged else len(self.log) + len(saved) + 1
            staged[key] = target.model_copy(update={"id": target_id})
            saved.append(staged[key])
        self.targets = staged
        self.log += [t.id for t in saved]
        return saved

    def remove(self, name):
        target = self.get(name)
        if target is not None:
            del self.targets[name_key(target.name)]
            self.log.append(target.id)
        return target is not None

    def set_enrichment(self, name, enrichment):
        target = self.get(name)
        return target and self.add_many([target.model_copy(update={"enrichment": enrichment})])[0]

    def list(self):
        return sorted(self.targets.values(), key=lambda t: t.id)

    def get(self, name):
        return self.targets.get(name_key(name)) or next(
            (t for t in self.list() if name_key(name) in map(name_key, t.aliases)), None
        )

    def count(self):
        return len(self.targets)

    def revision(self):
        return len(self.log)

    def changes_since(self, revision):
        by_id = {t.id: t for t in self.list()}
        return self.revision(), {i: by_id.get(i) for i in self.log[revision:]}


@pytest.fixture
def memory_scheme():
    register_store("memory")(MemoryStore)
    yield "memory://scratch"
    STORES.remove("memory")


def test_a_store_registered_for_a_scheme_is_what_open_store_opens(memory_scheme, tmp_path):
    check_db_setting(memory_scheme)  # a known scheme now, not an unsupported database
    assert is_database_url(memory_scheme)
    store = open_store(memory_scheme)
    assert isinstance(store, MemoryStore) and store.location == "memory://scratch"
    path = tmp_path / "people.json"
    path.write_text('[{"name": "Ada Lovelace", "aliases": ["Ada"]}, {"name": "Alan Turing"}]')
    assert store.import_file(path) == 2  # what every store inherits: files, paging, iteration
    assert store.get("ada").name == "Ada Lovelace"
    assert [t.name for t in store.iterate(batch=1)] == ["Ada Lovelace", "Alan Turing"]
    index = TargetIndex(store)
    index.sync()
    assert [c.target.name for c in index.scan("Was Ada at the ball?").named] == ["Ada Lovelace"]


def test_an_unknown_scheme_stays_a_one_line_error(memory_scheme):
    STORES.remove("memory")
    with pytest.raises(ConfigError, match=r"^unsupported database 'memory': use a file path \(SQLite\)"):
        open_store(memory_scheme)
    assert not is_database_url(memory_scheme)


def test_the_postgres_module_imports_without_psycopg_and_opening_says_what_to_install(tmp_path):
    """Each store module is imported on the first lookup of a scheme, so one whose extra is
    missing must still import; opening its URL is then a one-line error."""
    script = (
        "import sys\n"
        "sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None  # not installed\n"
        "from alu.errors import ConfigError\n"
        "from alu.stores import open_store\n"
        f"open_store({str(tmp_path / 't.db')!r}).close()\n"
        "try:\n"
        "    open_store('postgresql://alu@127.0.0.1:5432/test')\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [NEEDS_EXTRA] and "pip install 'alu[postgres]'" in NEEDS_EXTRA


def _imports(path: Path) -> dict[str, set[str]]:
    """module -> the names imported from it, for every import in a module of alu.stores,
    anywhere in it (inside functions and TYPE_CHECKING blocks too)."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set())
        elif isinstance(node, ast.ImportFrom):
            base = "alu.stores".rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found.setdefault(module, set()).update(alias.name for alias in node.names)
            for alias in node.names:  # from . import sqlite
                if f"{module}.{alias.name}".startswith("alu.stores."):
                    found.setdefault(f"{module}.{alias.name}", set())
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def test_stores_depend_on_no_pipeline_borrow_no_private_name_and_import_in_no_cycle():
    folder = Path(__file__).resolve().parents[1] / "alu" / "stores"
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        name = "alu.stores" if path.stem == "__init__" else f"alu.stores.{path.stem}"
        imports = _imports(path)
        above = {m for m in imports if any(_within(m, p) for p in ("alu.scan", "alu.pipeline", "alu.server"))}
        assert not above, f"{name} imports {above}"
        ours = {m: names for m, names in imports.items() if _within(m, "alu")}
        private = {f"{m}.{n}" for m, names in ours.items() for n in names if n.startswith("_")}
        assert not private, f"{name} borrows {private}"
        graph[name] = set(imports) - {name}
    graph = {name: imported & set(graph) for name, imported in graph.items()}  # among alu.stores
    assert {"alu.stores", "alu.stores.base", "alu.stores.sqlite", "alu.stores.postgres"} <= set(graph)
    finished: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in finished:
            for imported in graph.get(module, ()):
                visit(imported, (*path, module))
            finished.add(module)

    for module in graph:
        visit(module, ())


# -- knowledge: what the serving model knows of a target (alu targets probe), apart again ----
LEARNED = ModelKnowledge(
    known=True,
    reason="4 items in at least 25% of 6 answers",
    items=[
        FingerprintItem(text="Yule Ball", kind="name", support=4, consistency=0.667, languages=["en", "de"]),
        FingerprintItem(text="1979", kind="number", support=2, consistency=1 / 3, languages=["en"]),
    ],
    answers=[ProbeAnswer(facet="who", lang="en", question="Who is Hermione Granger?", answer="A witch.")],
    model="gguf:sha256:abc",
    model_name="tiny",
    created="2025-01-01T00:00:00Z",
    llm_calls=6,
    prompt_tokens=120,
    completion_tokens=400,
    seconds=12.5,
)


def test_set_knowledge_stores_it_apart_from_enrichment_and_is_a_change_like_any_other(store):
    first, other = store.add_many(PEOPLE[:2])
    store.set_enrichment("Hermione", GENERATED)
    before = store.revision()
    saved = store.set_knowledge("miss granger", LEARNED)
    assert saved.id == first.id and saved.knowledge == LEARNED and saved.enrichment == GENERATED
    assert saved.model_dump(exclude={"knowledge", "enrichment"}) == first.model_dump(
        exclude={"knowledge", "enrichment"}
    )
    rev, changes = store.changes_since(before)
    assert set(changes) == {first.id} and changes[first.id].knowledge == LEARNED and rev > before
    for read in (store.get("Hermione Granger"), store.list()[0], store.page(0, 1)[0], next(store.iterate())):
        assert read.knowledge == LEARNED and read.knowledge.items[0].text == "Yule Ball"
        assert read.enrichment == GENERATED
    assert store.get(other.name).knowledge is None
    store.set_enrichment("Hermione", None)  # each is written on its own
    assert store.get("Hermione").knowledge == LEARNED
    assert store.set_knowledge("Hermione", None).knowledge is None
    assert store.get("Hermione Granger").knowledge is None and store.revision() > rev
    assert store.set_knowledge("nobody", LEARNED) is None


def test_replacing_the_same_target_keeps_its_knowledge_a_renamed_one_does_not(store):
    store.add(PEOPLE[0])
    store.set_knowledge("Hermione Granger", LEARNED)
    again = store.add(PEOPLE[0].model_copy(update={"description": "edited"}), replace=True)
    assert again.knowledge == LEARNED and store.get("Hermione").knowledge == LEARNED
    store.add_many([PEOPLE[0].model_copy(update={"kind": "topic"})])  # another kind: asked otherwise
    assert store.get("Hermione Granger").knowledge is None


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_export_then_import_keeps_the_knowledge(store, tmp_path, fmt):
    store.add_many(PEOPLE)
    store.set_knowledge("Zoe", LEARNED.model_copy(update={"error": "timed out"}))
    store.set_enrichment("Zoe", GENERATED)
    path = tmp_path / f"targets.{fmt}"
    assert store.export_file(path) == 3
    for t in PEOPLE:
        store.remove(t.name)
    assert store.import_file(path) == 3
    assert store.get("Zoe").knowledge == LEARNED.model_copy(update={"error": "timed out"})
    assert store.get("Zoe").enrichment == GENERATED
    assert store.get("Hermione").knowledge is None


def test_the_default_set_knowledge_of_a_minimal_store(memory_scheme):
    store = open_store(memory_scheme)
    store.add_many(PEOPLE)
    assert store.set_knowledge("Zoe", LEARNED).knowledge == LEARNED
    assert store.get("Zoë Ñandú").knowledge == LEARNED and store.set_knowledge("nobody", LEARNED) is None


# -- examples: a hazard's example texts and the classifier learned from them, apart again ----
def _examples():
    from alu.scan.learned import FEATURIZER
    from alu.targets import Examples, HazardClassifier

    classifier = HazardClassifier(
        featurizer=FEATURIZER,
        features=[3, 17, 40_000],
        weights=[0.5, -1.25, 2.0],
        bias=-0.3,
        threshold=0.1,
        digest="abc",
        positives=2,
        negatives=9,
        calibration={"recall": 0.9, "fpr": 0.01},
    )
    texts = ["How is anthrax grown?", "Which medium suits B. anthracis?"]
    return Examples(texts=texts, classifier=classifier)


def test_examples_are_stored_with_the_target_and_kept_on_a_same_target_replace(store):
    examples = _examples()
    saved = store.add(PEOPLE[1].model_copy(update={"examples": examples}))
    assert saved.examples == examples
    reads = (store.get("Anthrax cultivation"), store.list()[0], store.page(0, 1)[0], next(store.iterate()))
    for read in reads:
        assert read.examples == examples and read.examples.classifier.weights == [0.5, -1.25, 2.0]
    before = store.revision()
    again = store.add(PEOPLE[1].model_copy(update={"description": "edited"}), replace=True)
    assert again.examples == examples and store.get("Anthrax cultivation").examples == examples
    _, changes = store.changes_since(before)
    assert changes[again.id].examples == examples  # what a replica syncs carries them
    store.add_many([PEOPLE[1].model_copy(update={"kind": "topic"})])  # another kind: not the same target
    assert store.get("Anthrax cultivation").examples is None


@pytest.mark.parametrize("fmt", ["json", "csv", "yaml"])
def test_export_then_import_keeps_the_examples(store, tmp_path, fmt):
    store.add_many([*PEOPLE[:1], PEOPLE[1].model_copy(update={"examples": _examples()}), PEOPLE[2]])
    path = tmp_path / f"targets.{fmt}"
    assert store.export_file(path) == 3
    for t in PEOPLE:
        store.remove(t.name)
    assert store.import_file(path) == 3
    assert store.get("Anthrax cultivation").examples == _examples()
    assert store.get("Hermione").examples is None
