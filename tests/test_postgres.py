"""What only the PostgreSQL store has: migrations, announcements (LISTEN/NOTIFY), pooled
connections that fail closed while the database is away and recover when it returns."""

import threading
import time

import pytest
from conftest import PG_SERVER
from tcp_proxy import TcpProxy
from typer.testing import CliRunner

from alu.cli import app
from alu.errors import ConfigError, StoreError
from alu.pgsql import LATEST, Database
from alu.scan import TargetIndex
from alu.stores import open_store
from alu.targets import Target

psycopg = pytest.importorskip("psycopg", reason="the postgres extra is not installed")


def wait_for(condition, seconds: float = 20.0) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (a deadline, not a timing)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def sql(url: str, query: str, *params):
    with psycopg.connect(Database.parse(url).dsn, autocommit=True) as conn:
        cur = conn.execute(query, params or None)
        return cur.fetchall() if cur.description else None


def test_migrations_are_recorded_once_and_a_second_open_changes_nothing(pg_url, pg_schema):
    for _ in range(2):
        open_store(pg_url).close()
    rows = sql(pg_url, f"SELECT version FROM {pg_schema}.schema_migrations ORDER BY 1")
    assert [r[0] for r in rows] == list(range(1, LATEST + 1))


def test_a_schema_newer_than_this_code_is_refused_untouched(pg_url, pg_schema):
    store = open_store(pg_url)
    store.add(Target(name="Kept"))
    store.close()
    future = f"INSERT INTO {pg_schema}.schema_migrations (version, name) VALUES (%s, 'future')"
    sql(pg_url, future, LATEST + 1)
    with pytest.raises(StoreError, match=f"version {LATEST + 1}, newer than this ALU"):
        open_store(pg_url)
    sql(pg_url, f"DELETE FROM {pg_schema}.schema_migrations WHERE version IN (1, %s)", LATEST + 1)
    with pytest.raises(StoreError, match=r"not 1\.\.n in order"):
        open_store(pg_url)
    assert sql(pg_url, f"SELECT name FROM {pg_schema}.targets") == [("Kept",)]


def test_a_table_in_the_way_fails_the_migration_and_changes_nothing(pg_url, pg_schema):
    sql(pg_url, f"CREATE SCHEMA {pg_schema}")
    sql(pg_url, f"CREATE TABLE {pg_schema}.targets (something INTEGER)")
    with pytest.raises(StoreError, match=r"cannot prepare schema.*already exists.*nothing was changed"):
        open_store(pg_url)
    assert sql(pg_url, "SELECT to_regclass(%s)", f"{pg_schema}.schema_migrations") == [(None,)]


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", StoreError, "cannot connect to the database"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_db_alu", StoreError, "no_such_db_alu"),
        ("postgresql://postgres:hunter2@127.0.0.1:1/test", StoreError, "postgres:***@"),
        ("postgresql://postgres@127.0.0.1:1/test?password=hunter2", StoreError, "password=***"),
        ("postgresql://postgres@127.0.0.1/test?schema=Bad-Name", ConfigError, "bad schema"),
        ("postgresql://postgres@127.0.0.1/test?pool_max=0", ConfigError, "bad pool options"),
        ("postgresql://postgres@127.0.0.1/test?sslmode=bogus", StoreError, "sslmode"),
    ],
)
def test_bad_urls_are_one_line_errors(pg_schema, url, error, message):
    with pytest.raises(error) as info:
        open_store(url)
    text = str(info.value)
    assert message in text and "\n" not in text and "hunter2" not in text


def test_the_cli_says_what_is_wrong_with_the_database_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    result = CliRunner().invoke(app, ["--db", "postgresql://postgres@127.0.0.1:1/test", "targets", "ls"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "cannot connect to the database at postgresql://postgres@127.0.0.1:1/test" in result.stderr
    served = CliRunner().invoke(
        app, ["--db", "postgresql://postgres@127.0.0.1:1/test", "serve", "--model", "scripted"]
    )
    assert served.exit_code == 1 and served.stderr.count("\n") == 1 and "cannot connect" in served.stderr


def test_the_cli_manages_targets_in_postgresql(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("ALU_DB", pg_url)
    runner = CliRunner()
    assert runner.invoke(app, ["targets", "add", "Ada Lovelace", "--kind", "person"]).exit_code == 0
    listed = runner.invoke(app, ["targets", "ls"])
    assert "Ada Lovelace" in listed.stdout and f"schema {pg_url.rsplit('=', 1)[1]}" in listed.stdout
    assert runner.invoke(app, ["targets", "rm", "ada lovelace"]).exit_code == 0
    with open_store(pg_url) as store:
        assert store.count() == 0


def test_a_change_is_announced_to_a_following_index_without_a_request(pg_url):
    writer, reader = open_store(pg_url), open_store(pg_url)
    index = TargetIndex(reader)
    index.follow()
    try:
        assert wait_for(lambda: index._watch.connected.is_set())
        writer.add(Target(name="Ron Weasley", kind="person"))
        assert wait_for(lambda: [t.name for t in index.targets()] == ["Ron Weasley"])
        writer.remove("Ron Weasley")
        assert wait_for(lambda: index.targets() == [])
    finally:
        index.close()
        writer.close()
        reader.close()


def test_revisions_commit_in_order_under_concurrent_writers(pg_url):
    """A reader that has seen revision r has seen every change up to r, even while several
    writers commit at once (a change numbered below r but committed later would be lost)."""
    store = open_store(pg_url)
    done = threading.Event()
    seen: set[int] = set()

    def write(prefix: str) -> None:
        w = open_store(pg_url)
        for i in range(30):
            w.add(Target(name=f"{prefix} {i}"))
        w.close()

    def follow() -> None:
        revision = 0
        while not done.is_set():
            revision, changes = store.changes_since(revision)
            seen.update(changes)
        seen.update(store.changes_since(revision)[1])

    writers = [threading.Thread(target=write, args=(p,)) for p in ("a", "b", "c")]
    reader = threading.Thread(target=follow)
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert seen == {t.id for t in store.list()} and len(seen) == 90
    store.close()


def test_losing_the_database_fails_reads_and_recovers_when_it_returns(pg_url):
    host, port = "127.0.0.1", 5432
    proxy = TcpProxy(host, port).start()
    through_proxy = pg_url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}") + "&timeout=1"
    store = open_store(through_proxy)
    index = TargetIndex(store)
    try:
        store.add(Target(name="Ron Weasley"))
        index.sync()
        proxy.stop()
        with pytest.raises(StoreError, match="revision"):
            index.sync()  # never "no targets": the error surfaces
        with pytest.raises(StoreError):
            store.add(Target(name="Lost write"))
        proxy.start()
        assert wait_for(lambda: _reads(store), 30)
        assert [t.name for t in store.list()] == ["Ron Weasley"]
    finally:
        proxy.stop()
        store.close()


def _reads(store) -> bool:
    try:
        store.revision()
        return True
    except StoreError:
        return False


def test_terminated_connections_are_replaced(pg_url, pg_schema):
    store = open_store(pg_url)
    index = TargetIndex(store)
    index.follow()
    try:
        assert wait_for(lambda: index._watch.connected.is_set())
        store.add(Target(name="Before"))
        sql(
            PG_SERVER,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND application_name = %s",
            f"alu:{pg_schema}",
        )
        assert wait_for(lambda: _reads(store))
        store.add(Target(name="After"))
        assert wait_for(lambda: {t.name for t in index.targets()} == {"Before", "After"})
    finally:
        index.close()
        store.close()


def test_a_database_url_alu_cannot_use_is_an_error_not_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALU_CONFIG", str(tmp_path / "none.toml"))
    result = CliRunner().invoke(app, ["--db", "mysql://db.internal/alu", "targets", "ls"])
    assert result.exit_code == 1 and "unsupported database 'mysql'" in result.stderr
    with pytest.raises(ConfigError, match="unsupported database"):
        open_store("sqlite://targets.db")
    assert list(tmp_path.iterdir()) == []


def test_the_decision_log_keeps_entries_while_the_database_is_away(pg_url, pg_schema):
    from alu.server.pglog import PostgresDecisionLog

    proxy = TcpProxy("127.0.0.1", 5432).start()
    log = PostgresDecisionLog(pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"), "r1")
    entry = {"time": 1.0, "request_id": "chatcmpl-1", "verdict": "passed", "matched": ["Ada"], "llm_calls": 1}
    try:
        log.write(entry)
        assert log.flush(20)
        proxy.stop()
        for i in range(3):
            log.write(entry | {"request_id": f"chatcmpl-{i + 2}"})
        assert not log.flush(1)  # waiting for the database, not lost
        proxy.start()
        assert log.flush(30)
    finally:
        log.close()
        proxy.stop()
    rows = sql(pg_url, f"SELECT request_id, replica, matched, entry->>'verdict' FROM {pg_schema}.decisions")
    assert sorted(r[0] for r in rows) == [f"chatcmpl-{i}" for i in range(1, 5)]
    assert {(r[1], tuple(r[2]), r[3]) for r in rows} == {("r1", ("Ada",), "passed")}


def test_a_schema_from_before_enrichment_is_upgraded_keeping_every_row(pg_url, pg_schema):
    from alu.pgsql import MIGRATIONS
    from alu.targets import Enrichment

    sql(pg_url, f"CREATE SCHEMA {pg_schema}")
    sql(
        pg_url,
        f"CREATE TABLE {pg_schema}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    for migration in MIGRATIONS[:2]:  # the tables as ALU made them before enrichment
        sql(pg_url, migration.sql.replace("{s}", pg_schema))
        sql(pg_url, f"INSERT INTO {pg_schema}.schema_migrations VALUES (%s, %s)", migration.version, "old")
    sql(
        pg_url,
        f"INSERT INTO {pg_schema}.targets (key, name, kind, aliases, alias_keys, description, evidence)"
        " VALUES ('ada lovelace', 'Ada Lovelace', 'person', %s, ARRAY['ada'], '', %s)",
        '["Ada"]',
        '["Born 1815"]',
    )
    sql(pg_url, f"INSERT INTO {pg_schema}.changes (target_id) VALUES (1)")
    store = open_store(pg_url)
    try:
        (ada,) = store.list()
        assert (ada.name, ada.aliases, ada.evidence, ada.enrichment) == (
            "Ada Lovelace",
            ["Ada"],
            ["Born 1815"],
            None,
        )
        revision = store.revision()
        store.set_enrichment("Ada", Enrichment(names=["Ада Лавлейс"], model="scripted"))
        assert store.get("Ada Lovelace").enrichment.names == ["Ада Лавлейс"] and store.revision() > revision
    finally:
        store.close()
    rows = sql(pg_url, f"SELECT version FROM {pg_schema}.schema_migrations ORDER BY 1")
    assert [r[0] for r in rows] == list(range(1, LATEST + 1))


def test_a_schema_from_before_knowledge_is_upgraded_keeping_the_enrichment(pg_url, pg_schema):
    from alu.pgsql import MIGRATIONS
    from alu.targets import Enrichment, ModelKnowledge

    sql(pg_url, f"CREATE SCHEMA {pg_schema}")
    sql(
        pg_url,
        f"CREATE TABLE {pg_schema}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    for migration in MIGRATIONS[:3]:  # the tables as ALU made them before knowledge
        sql(pg_url, migration.sql.replace("{s}", pg_schema))
        sql(pg_url, f"INSERT INTO {pg_schema}.schema_migrations VALUES (%s, %s)", migration.version, "old")
    sql(
        pg_url,
        f"INSERT INTO {pg_schema}.targets (key, name, kind, aliases, alias_keys, description, evidence,"
        " enrichment) VALUES ('ada lovelace', 'Ada Lovelace', 'person', '[]', ARRAY[]::text[], '', '[]', %s)",
        Enrichment(names=["Ада Лавлейс"], model="scripted").model_dump_json(),
    )
    store = open_store(pg_url)
    try:
        (ada,) = store.list()
        assert ada.enrichment.names == ["Ада Лавлейс"] and ada.knowledge is None
        store.set_knowledge("Ada Lovelace", ModelKnowledge(known=False, model="m"))
        assert store.get("Ada Lovelace").knowledge.known is False
        assert store.get("Ada Lovelace").enrichment.names == ["Ада Лавлейс"]
    finally:
        store.close()
    rows = sql(pg_url, f"SELECT version FROM {pg_schema}.schema_migrations ORDER BY 1")
    assert [r[0] for r in rows] == list(range(1, LATEST + 1))
