"""Targets in PostgreSQL, for several ``alu serve`` replicas on several machines.

The same contract as the SQLite store (:mod:`.base`), kept the same way: a ``changes``
table whose revision grows with every write, written in the write's own transaction.
Writers take an exclusive lock on ``changes`` first, so revisions commit in the order they
are numbered and a reader that has seen revision r has seen every change up to r.

A trigger announces each write on a ``LISTEN/NOTIFY`` channel; :meth:`PostgresStore.watch`
listens on a connection of its own and tells the index at once, so a change made through
any replica guards the next request on every other one. The per-request ``revision()``
check stays the fallback, and it raises (``StoreError``) when the database cannot be
read, so a replica without its database refuses rather than answering unguarded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator

from ..errors import ConfigError, StoreError, TargetError
from ..pgsql import NEEDS_EXTRA, Database, channel, errors_as_store_errors, first_line, prepare
from ..targets.target import Enrichment, Examples, ModelKnowledge, Target
from .base import (
    IndexCopy,
    Store,
    dump_enrichment,
    dump_examples,
    dump_knowledge,
    load_enrichment,
    load_examples,
    load_knowledge,
    name_key,
    register_store,
    stored_target,
)

try:
    import psycopg
    from psycopg import sql
    from psycopg_pool import ConnectionPool
except ImportError:  # pragma: no cover - the postgres extra is not installed: opening says so
    psycopg = sql = ConnectionPool = None  # type: ignore[assignment]

log = logging.getLogger(__name__)
_COLUMNS = "t.id, t.name, t.kind, t.aliases, t.description, t.evidence, t.enrichment, t.knowledge, t.examples"
# The id of the target a name refers to: its own name first, else the oldest with it as an
# alias (parameters: the name's key three times). Reads, updates and deletes agree on it.
_ID_OF_NAME = (
    "(SELECT id FROM {s}.targets WHERE key = %s OR alias_keys @> ARRAY[%s] ORDER BY key <> %s, id LIMIT 1)"
)


@register_store("postgresql", "postgres")
class PostgresStore(Store):
    """Targets in one PostgreSQL schema, shared by every replica that opens it."""

    def __init__(self, url: str | Database):
        if ConnectionPool is None:
            raise ConfigError(NEEDS_EXTRA)
        self.db = url if isinstance(url, Database) else Database.parse(url)
        prepare(self.db)
        self._pool = ConnectionPool(
            self.db.dsn,
            min_size=self.db.pool_min,
            max_size=self.db.pool_max,
            timeout=self.db.timeout,
            kwargs=self.db.options(),
            check=ConnectionPool.check_connection,
            name=f"alu-targets-{self.db.schema}",
            open=False,
        )
        self._pool.open(wait=False)

    @property
    def location(self) -> str:
        return f"{self.db.location} (schema {self.db.schema})"

    def close(self) -> None:
        self._pool.close()

    def _sql(self, text: str) -> sql.Composed:
        return self.db.sql(text)

    @contextlib.contextmanager
    def _read(self, doing: str) -> Iterator[psycopg.Connection]:
        """A connection in one read-only snapshot (every query sees the same revision)."""
        with errors_as_store_errors(self.db, doing), self._pool.connection() as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                yield conn

    @contextlib.contextmanager
    def _write(self, doing: str) -> Iterator[psycopg.Connection]:
        """A write transaction, serialised with every other writer (see the module doc)."""
        with errors_as_store_errors(self.db, doing), self._pool.connection() as conn:
            conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
            conn.read_only = False
            with conn.transaction():
                conn.execute(self._sql("LOCK TABLE {s}.changes IN EXCLUSIVE MODE"))
                yield conn

    # -- writes ---------------------------------------------------------------------
    def add_many(self, targets: Iterable[Target], *, replace: bool = True) -> list[Target]:
        targets = list(targets)
        _, saved = self._write_rows(targets, replace=replace, want_ids=True)
        fields = ("id", "enrichment", "knowledge", "examples")
        return [t.model_copy(update=dict(zip(fields, saved[name_key(t.name)], strict=True))) for t in targets]

    def add_stream(self, targets: Iterable[Target], *, replace: bool = True) -> int:
        return self._write_rows(targets, replace=replace, want_ids=False)[0]

    def _write_rows(
        self, targets: Iterable[Target], *, replace: bool, want_ids: bool
    ) -> tuple[int, dict[str, tuple[int, Enrichment | None, ModelKnowledge | None, Examples | None]]]:
        """Copy the targets, as they come, into a scratch table, then upsert them and log one
        change per target touched, in one statement; returns how many were given and, if
        asked, key -> (id, the enrichment, knowledge and examples stored)."""
        number = -1
        with self._write("cannot save targets") as conn:
            conn.execute(
                "CREATE TEMP TABLE incoming (ord BIGINT, key TEXT, name TEXT, kind TEXT, aliases TEXT,"
                " alias_keys TEXT[], description TEXT, evidence TEXT, enrichment TEXT, knowledge TEXT,"
                " examples TEXT)"
                " ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY incoming FROM STDIN") as copy:
                for number, t in enumerate(targets):
                    copy.write_row(
                        (
                            number,
                            name_key(t.name),
                            t.name,
                            t.kind,
                            json.dumps(t.aliases, ensure_ascii=False),
                            sorted({name_key(a) for a in t.aliases}),
                            t.description,
                            json.dumps(t.evidence, ensure_ascii=False),
                            dump_enrichment(t.enrichment),
                            dump_knowledge(t.knowledge),
                            dump_examples(t.examples),
                        )
                    )
            if not replace:
                clash = conn.execute(
                    self._sql(
                        "SELECT name FROM (SELECT i.name, i.ord,"
                        " row_number() OVER (PARTITION BY i.key ORDER BY i.ord) AS nth,"
                        " EXISTS (SELECT 1 FROM {s}.targets t WHERE t.key = i.key) AS stored"
                        " FROM incoming i) c WHERE nth > 1 OR stored ORDER BY ord LIMIT 1"
                    )
                ).fetchone()
                if clash:
                    raise TargetError(f"target {clash[0]!r} exists already (use replace)")
            conn.execute(
                self._sql(
                    "WITH saved AS ("
                    " INSERT INTO {s}.targets AS t"
                    " (key, name, kind, aliases, alias_keys, description, evidence, enrichment, knowledge,"
                    " examples)"
                    " SELECT key, name, kind, aliases::jsonb, alias_keys, description, evidence::jsonb,"
                    " enrichment::jsonb, knowledge::jsonb, examples::jsonb"
                    " FROM (SELECT DISTINCT ON (key) * FROM incoming ORDER BY key, ord DESC) latest"
                    " ORDER BY ord"
                    " ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,"
                    " aliases = EXCLUDED.aliases, alias_keys = EXCLUDED.alias_keys,"
                    " description = EXCLUDED.description, evidence = EXCLUDED.evidence,"
                    # the same target again keeps what was generated for it (see base.py)
                    " enrichment = CASE WHEN EXCLUDED.enrichment IS NULL AND t.name = EXCLUDED.name"
                    " AND t.kind = EXCLUDED.kind AND t.aliases = EXCLUDED.aliases"
                    " THEN t.enrichment ELSE EXCLUDED.enrichment END,"
                    " knowledge = CASE WHEN EXCLUDED.knowledge IS NULL AND t.name = EXCLUDED.name"
                    " AND t.kind = EXCLUDED.kind AND t.aliases = EXCLUDED.aliases"
                    " THEN t.knowledge ELSE EXCLUDED.knowledge END,"
                    " examples = CASE WHEN EXCLUDED.examples IS NULL AND t.name = EXCLUDED.name"
                    " AND t.kind = EXCLUDED.kind AND t.aliases = EXCLUDED.aliases"
                    " THEN t.examples ELSE EXCLUDED.examples END"
                    " RETURNING id)"
                    " INSERT INTO {s}.changes (target_id) SELECT id FROM saved ORDER BY id"
                )
            )
            saved: dict[str, tuple[int, Enrichment | None, ModelKnowledge | None, Examples | None]] = {}
            if want_ids:
                rows = conn.execute(
                    self._sql(
                        "SELECT t.key, t.id, t.enrichment, t.knowledge, t.examples FROM {s}.targets t"
                        " JOIN incoming i ON i.key = t.key"
                    )
                )
                saved = {
                    key: (tid, load_enrichment(e), load_knowledge(k), load_examples(x))
                    for key, tid, e, k, x in rows
                }
        return number + 1, saved

    def remove(self, name: str) -> bool:
        key = name_key(name)
        with self._write("cannot remove the target") as conn:
            row = conn.execute(
                self._sql(f"DELETE FROM {{s}}.targets WHERE id = {_ID_OF_NAME} RETURNING id"),
                [key, key, key],
            ).fetchone()
            if row is None:
                return False
            conn.execute(self._sql("INSERT INTO {s}.changes (target_id) VALUES (%s)"), [row[0]])
        return True

    def set_enrichment(self, name: str, enrichment: Enrichment | None) -> Target | None:
        return self._set_generated(name, "enrichment", dump_enrichment(enrichment), "the enrichment")

    def set_knowledge(self, name: str, knowledge: ModelKnowledge | None) -> Target | None:
        return self._set_generated(name, "knowledge", dump_knowledge(knowledge), "what the model knows")

    def _set_generated(self, name: str, column: str, dumped: str | None, what: str) -> Target | None:
        """Write one generated field (a column of our own naming, never the caller's) of the
        target called ``name``: a write like any other, recorded as a change."""
        key = name_key(name)
        with self._write(f"cannot save {what}") as conn:
            row = conn.execute(
                self._sql(
                    f"UPDATE {{s}}.targets t SET {column} = %s::jsonb WHERE t.id = {_ID_OF_NAME}"
                    f" RETURNING {_COLUMNS}"
                ),
                [dumped, key, key, key],
            ).fetchone()
            if row is None:
                return None
            conn.execute(self._sql("INSERT INTO {s}.changes (target_id) VALUES (%s)"), [row[0]])
        return self._target(row)

    # -- reads ----------------------------------------------------------------------
    @staticmethod
    def _target(row: tuple) -> Target:
        return stored_target(*row)  # validated by add_many when written

    def list(self) -> list[Target]:
        with self._read("cannot list targets") as conn:
            rows = conn.execute(self._sql(f"SELECT {_COLUMNS} FROM {{s}}.targets t ORDER BY t.id"))
            return [self._target(r) for r in rows]

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        with self._read("cannot list targets") as conn:
            rows = conn.execute(
                self._sql(f"SELECT {_COLUMNS} FROM {{s}}.targets t WHERE t.id > %s ORDER BY t.id LIMIT %s"),
                [after, limit],
            )
            return [self._target(r) for r in rows]

    def get(self, name: str) -> Target | None:
        key = name_key(name)
        with self._read("cannot read targets") as conn:
            row = conn.execute(
                self._sql(f"SELECT {_COLUMNS} FROM {{s}}.targets t WHERE t.id = {_ID_OF_NAME}"),
                [key, key, key],
            ).fetchone()
        return self._target(row) if row else None

    def count(self) -> int:
        with self._read("cannot count targets") as conn:
            return conn.execute(self._sql("SELECT count(*) FROM {s}.targets")).fetchone()[0]

    def revision(self) -> int:
        with self._read("cannot read the target revision") as conn:
            return conn.execute(self._sql("SELECT COALESCE(MAX(revision), 0) FROM {s}.changes")).fetchone()[0]

    def changes_since(self, revision: int) -> tuple[int, dict[int, Target | None]]:
        with self._read("cannot read target changes") as conn:
            latest = conn.execute(
                self._sql("SELECT COALESCE(MAX(revision), %s) FROM {s}.changes WHERE revision > %s"),
                [revision, revision],
            ).fetchone()[0]
            if latest == revision:
                return revision, {}
            current: dict[int, Target | None] = {}
            query = self._sql(
                f"SELECT c.target_id, {_COLUMNS} FROM (SELECT DISTINCT target_id FROM {{s}}.changes"
                " WHERE revision > %s AND revision <= %s) c LEFT JOIN {s}.targets t ON t.id = c.target_id"
            )
            with conn.cursor(name="alu_changes") as cursor:
                cursor.itersize = 5000
                for target_id, *row in cursor.execute(query, [revision, latest]):
                    current[target_id] = self._target(row) if row[0] is not None else None
        return latest, current

    # -- the shared copy of the index file ---------------------------------------------
    def _copies_made(self, conn: psycopg.Connection) -> bool:
        table = self._sql("{s}.index_copies").as_string(conn)
        return conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is not None

    def index_copy(self) -> IndexCopy | None:
        with self._read("cannot read the index file's copy") as conn:
            if not self._copies_made(conn):
                return None  # no copy was ever sent
            row = conn.execute(
                self._sql(
                    "SELECT id, revision, header, chunks FROM {s}.index_copies WHERE chunks IS NOT NULL"
                    " ORDER BY revision DESC, id DESC LIMIT 1"
                )
            ).fetchone()
        return IndexCopy(row[0], row[1], bytes(row[2]), row[3]) if row else None

    def read_index_copy(self, copy: IndexCopy) -> Iterator[bytes]:
        # A connection of its own, not the pool's: reading a large copy holds it a while.
        with (
            errors_as_store_errors(self.db, "cannot read the index file's copy"),
            self.db.connect(autocommit=True) as conn,
        ):
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            with conn.transaction():
                query = self._sql("SELECT data FROM {s}.index_chunks WHERE copy_id = %s AND seq = %s")
                for seq in range(copy.chunks):
                    row = conn.execute(query, [copy.id, seq], binary=True).fetchone()
                    if row is None:
                        raise StoreError(f"the index file's copy {copy.id} is gone from {self.location}")
                    yield row[0]

    def put_index_copy(self, revision: int, header: bytes, chunks: Iterable[bytes]) -> bool:
        # One transaction on a connection of its own: the copy appears whole or not at all,
        # and no writer of targets waits for it (``changes`` is not locked).
        with (
            errors_as_store_errors(self.db, "cannot keep the index file's copy"),
            self.db.connect(autocommit=True) as conn,
        ):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", [_copy_lock(self.db.schema)])
                if not self._copies_made(conn):  # (its ALTER would wait on a copy being sent)
                    conn.execute(self._sql(_COPY_SCHEMA))
                if self._kept(conn, revision, header):
                    return False
            try:
                with conn.transaction():
                    copy_id = conn.execute(
                        self._sql(
                            "INSERT INTO {s}.index_copies (revision, header) VALUES (%s, %b) RETURNING id"
                        ),
                        [revision, header],
                    ).fetchone()[0]
                    count = 0
                    insert = self._sql("INSERT INTO {s}.index_chunks VALUES (%s, %s, %b)")
                    for data in chunks:
                        conn.execute(insert, [copy_id, count, data])
                        count += 1
                    # Copies are swapped one at a time: two replicas that built one at once
                    # keep the newer.
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", [_copy_lock(self.db.schema)])
                    if self._kept(conn, revision, header, besides=copy_id):
                        raise _Superseded
                    conn.execute(
                        self._sql("UPDATE {s}.index_copies SET chunks = %s WHERE id = %s"), [count, copy_id]
                    )
                    conn.execute(self._sql("DELETE FROM {s}.index_copies WHERE id <> %s"), [copy_id])
            except _Superseded:
                return False
        return True

    def _kept(self, conn: psycopg.Connection, revision: int, header: bytes, besides: int = -1) -> bool:
        """Whether the store keeps a complete copy newer than ``revision``, or this one (its
        revision and header), other than the copy ``besides``."""
        row = conn.execute(
            self._sql(
                "SELECT 1 FROM {s}.index_copies WHERE chunks IS NOT NULL AND id <> %s"
                " AND (revision > %s OR (revision = %s AND header = %b))"
            ),
            [besides, revision, revision, header],
        ).fetchone()
        return row is not None

    # -- announcements --------------------------------------------------------------
    def watch(self, on_change: Callable[[], None]) -> Listener:
        listener = Listener(self.db, on_change)
        listener.start()
        return listener


# The copy of the index file kept for replicas starting without one (alu.scan.sharedindex),
# made when a copy is first sent (under the copy's lock), outside the numbered migrations: a
# schema stays one that the version before opens (replicas of both run side by side during a
# rolling upgrade). ``chunks`` is NULL while a copy is written (never seen: one transaction).
_COPY_SCHEMA = """
CREATE TABLE IF NOT EXISTS {s}.index_copies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    revision BIGINT NOT NULL,
    header BYTEA NOT NULL,
    chunks INTEGER,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {s}.index_chunks (
    copy_id BIGINT NOT NULL REFERENCES {s}.index_copies (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (copy_id, seq)
);
ALTER TABLE {s}.index_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
"""


class _Superseded(Exception):
    """A newer copy of the index file landed while this one was written: this one is dropped."""


def _copy_lock(schema: str) -> int:
    return zlib.crc32(f"alu-index-copy:{schema}".encode())


class Listener(threading.Thread):
    """LISTENs on a connection of its own and calls ``on_change`` after each announced
    write, and once after every (re)connection to catch up on what it missed. Reconnects
    with backoff; a quiet connection is probed now and then so a dead one is noticed."""

    PROBE_EVERY = 30.0

    def __init__(self, db: Database, on_change: Callable[[], None]):
        super().__init__(name=f"alu-listen-{db.schema}", daemon=True)
        self.db, self.on_change = db, on_change
        self.connected = threading.Event()
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(self.db.timeout + 5)

    def _changed(self) -> None:
        try:
            self.on_change()
        except Exception as exc:  # the next request's own check will raise it
            log.warning("syncing after a change announcement failed: %s", first_line(exc))

    def run(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            try:
                with self.db.connect(autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(self.db.schema))))
                    self.connected.set()
                    delay = 0.2
                    self._changed()
                    self._listen(conn)
            except (psycopg.Error, StoreError) as exc:
                if self._stopping.is_set():
                    break
                log.warning("change listener lost %s: %s", self.db.location, first_line(exc))
            self.connected.clear()
            self._stopping.wait(delay)
            delay = min(delay * 2, 5.0)

    def _listen(self, conn: psycopg.Connection) -> None:
        quiet_since = time.monotonic()
        while not self._stopping.is_set():
            got = list(conn.notifies(timeout=0.5, stop_after=1))
            if got:
                quiet_since = time.monotonic()
                self._changed()
            elif time.monotonic() - quiet_since > self.PROBE_EVERY:
                conn.execute("SELECT 1")
                quiet_since = time.monotonic()
