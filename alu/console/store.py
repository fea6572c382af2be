"""The console's own records, in the same database as the targets: operators, sessions,
requests and their history, background jobs, and decisions.

One class speaks to both databases the ``db`` setting can name, with the same SQL: an
SQLite file (the targets' own file, WAL mode, tables prefixed ``console_``) or PostgreSQL
(the targets' schema, tables prefixed ``console_``, through a small pool). The tables have
their own versioned migrations, apart from the target store's (``console_migrations``), so
neither side's upgrades touch the other's. Times are seconds since the epoch (UTC).

Secrets are never kept: passwords are argon2 hashes, sessions are kept as the SHA-256 of
their cookie value (a stolen database holds no usable session).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import sqlite3
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import ConfigError, StoreError
from ..stores import Store, is_database_url

KINDS = ("erasure", "safety")
STATUSES = ("received", "applied", "verified", "rejected")
# The moves an operator may make: received -> applied -> verified, or rejected (with a reason)
# from any open state.
MOVES = {"received": ("applied", "rejected"), "applied": ("verified", "rejected")}
OPEN = ("received", "applied")
OVERDUE_DAYS = 30  # a request must be answered within a month
LOCK_AFTER = 5  # failed sign-ins in a row before the account is locked
LOCK_SECONDS = 15 * 60
SESSION_SECONDS = 12 * 3600
KEEP_DECISIONS_DAYS = 90  # the decisions page shows a week; older rows are dropped at start
NAME_LIMIT = 64
PASSWORD_MIN = 10
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a password anyone has")  # failed look-ups take as long as a check


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str  # {t}: the table prefix; {id}: an auto-increment key column


MIGRATIONS = (
    Migration(
        1,
        "operators, sessions, requests, jobs, decisions",
        """
        CREATE TABLE {t}operators (
            id {id}, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0, locked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL);
        CREATE TABLE {t}sessions (
            token_hash TEXT PRIMARY KEY, operator TEXT NOT NULL, csrf TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL);
        CREATE TABLE {t}requests (
            id {id}, kind TEXT NOT NULL, requester TEXT NOT NULL, reference TEXT NOT NULL,
            targets TEXT NOT NULL, notes TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, created_by TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL);
        CREATE INDEX console_requests_status ON {t}requests (status, created_at);
        CREATE TABLE {t}request_events (
            id {id}, request_id BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL, operator TEXT NOT NULL,
            status TEXT NOT NULL, note TEXT NOT NULL);
        CREATE INDEX console_request_events_request ON {t}request_events (request_id);
        CREATE TABLE {t}jobs (
            id {id}, kind TEXT NOT NULL, target TEXT NOT NULL, state TEXT NOT NULL,
            done INTEGER NOT NULL DEFAULT 0, total INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL,
            operator TEXT NOT NULL, owner TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
            finished_at DOUBLE PRECISION);
        CREATE INDEX console_jobs_target ON {t}jobs (target, id);
        CREATE TABLE {t}decisions (
            id {id}, at DOUBLE PRECISION NOT NULL, endpoint TEXT NOT NULL, verdict TEXT NOT NULL,
            matched TEXT NOT NULL, latency_s DOUBLE PRECISION NOT NULL, llm_calls INTEGER NOT NULL);
        CREATE INDEX console_decisions_at ON {t}decisions (at);
        """,
    ),
)
LATEST = MIGRATIONS[-1].version


@dataclass
class Operator:
    name: str
    failures: int
    locked_until: float


@dataclass
class Session:
    operator: str
    csrf: str
    expires_at: float


@dataclass
class Event:
    at: float
    operator: str
    status: str
    note: str


@dataclass
class Request:
    id: int
    kind: str
    requester: str
    reference: str
    targets: list[str]
    notes: str
    status: str
    reason: str
    created_at: float
    created_by: str
    updated_at: float
    events: list[Event] = field(default_factory=list)

    def age_days(self, now: float | None = None) -> float:
        return ((now or time.time()) - self.created_at) / 86400

    @property
    def overdue(self) -> bool:
        return self.status in OPEN and self.age_days() > OVERDUE_DAYS


@dataclass
class Job:
    id: int
    kind: str
    target: str
    state: str  # queued, running, done, failed
    done: int
    total: int
    error: str
    operator: str
    created_at: float
    finished_at: float | None


@dataclass
class Decision:
    at: float
    endpoint: str
    verdict: str
    matched: list[str]
    latency_s: float
    llm_calls: int


class ConsoleError(Exception):
    """Something the operator asked for that cannot be done; the message says why."""


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleStore:
    """The console's tables beside the targets (see the module's docstring)."""

    def __init__(self, where: str | Path):
        self._pool = None
        if is_database_url(where):
            from ..pgsql import Database, errors_as_store_errors, require_psycopg

            require_psycopg()
            self.pg = Database.parse(str(where))
            self._errors = lambda doing: errors_as_store_errors(self.pg, doing)
            self.prefix = f'"{self.pg.schema}".console_'
            self.path = None
        else:
            self.pg = None
            self.path = Path(where).expanduser()
            self.prefix = "console_"
        self._migrate()

    @classmethod
    def beside(cls, store: Store) -> ConsoleStore:
        """The console's store in the database that holds ``store``'s targets."""
        database = getattr(store, "db", None)
        if database is not None and hasattr(database, "dsn"):  # PostgreSQL
            url = database.dsn + ("&" if "?" in database.dsn else "?") + f"schema={database.schema}"
            return cls(url)
        path = getattr(store, "path", None)
        if path is None:
            raise ConfigError("the console needs a target store in SQLite or PostgreSQL (the db setting)")
        return cls(path)

    # -- connections ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _tx(self, doing: str, *, write: bool = True) -> Iterator[_Cursor]:
        """One transaction; ``?`` placeholders and ``{t}`` table names in either database.
        A read (``write=False``) takes no write lock in SQLite, and in PostgreSQL runs its
        statements as they come (one round trip each: a page's session check is one)."""
        if self.pg is None:
            try:
                db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.Error as exc:
                raise StoreError(f"{doing}: cannot open {self.path}: {exc}") from exc
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA busy_timeout=30000")
                db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield _Cursor(db, self.prefix, "?")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"{doing} in {self.path}: {exc}") from exc
            finally:
                db.close()
            return
        with self._errors(doing), self._connection() as conn:
            if write:
                with conn.transaction():
                    yield _Cursor(conn, self.prefix, "%s")
            else:
                yield _Cursor(conn, self.prefix, "%s")

    def _read(self, doing: str) -> contextlib.AbstractContextManager[_Cursor]:
        return self._tx(doing, write=False)

    @contextlib.contextmanager
    def _connection(self):
        if self._pool is None:
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(
                self.pg.dsn,
                min_size=1,
                max_size=max(2, self.pg.pool_max // 2),
                timeout=self.pg.timeout,
                kwargs={**self.pg.options(), "autocommit": True},
                name=f"alu-console-{self.pg.schema}",
                open=True,
            )
        with self._pool.connection() as conn:
            yield conn

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close(timeout=1)
            self._pool = None

    def __enter__(self) -> ConsoleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Bring the console's tables to the latest version, once, in one transaction; a
        database newer than this code is refused untouched."""
        auto = (
            "INTEGER PRIMARY KEY AUTOINCREMENT"
            if self.pg is None
            else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
        )
        with self._tx("preparing the console's tables") as cur:
            if self.pg is not None:
                lock = zlib.crc32(f"alu-console-migrate:{self.pg.schema}".encode())
                cur.run("SELECT pg_advisory_xact_lock(?)", (lock,))
                cur.run(f'CREATE SCHEMA IF NOT EXISTS "{self.pg.schema}"')
            cur.run(
                "CREATE TABLE IF NOT EXISTS {t}migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            applied = [r[0] for r in cur.rows("SELECT version FROM {t}migrations ORDER BY 1")]
            if applied and applied[-1] > LATEST:
                raise StoreError(
                    f"the console's tables are at version {applied[-1]}, newer than this ALU knows"
                    f" ({LATEST}): upgrade ALU; nothing was changed"
                )
            for migration in MIGRATIONS[len(applied) :]:
                for statement in migration.sql.split(";"):
                    if statement.strip():
                        cur.run(statement.replace("{id}", auto))
                cur.run(
                    "INSERT INTO {t}migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )

    # -- operators -----------------------------------------------------------------------
    def operator_count(self) -> int:
        with self._read("counting operators") as cur:
            return cur.rows("SELECT COUNT(*) FROM {t}operators")[0][0]

    def add_operator(self, name: str, password: str, *, replace: bool = False) -> None:
        """Create an operator (or, with ``replace``, set their password and unlock them)."""
        name = name.strip()
        if not name or len(name) > NAME_LIMIT or not name.isprintable():
            raise ConsoleError(f"an operator's name is 1 to {NAME_LIMIT} printable characters")
        if len(password) < PASSWORD_MIN:
            raise ConsoleError(f"the password is too short: at least {PASSWORD_MIN} characters")
        hashed = _HASHER.hash(password)
        with self._tx("adding an operator") as cur:
            if cur.rows("SELECT 1 FROM {t}operators WHERE name=?", (name,)):
                if not replace:
                    raise ConsoleError(f"operator {name!r} exists already")
                cur.run(
                    "UPDATE {t}operators SET password_hash=?, failures=0, locked_until=0 WHERE name=?",
                    (hashed, name),
                )
            else:
                cur.run(
                    "INSERT INTO {t}operators (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, hashed, time.time()),
                )

    def sign_in(self, name: str, password: str) -> tuple[str, Session]:
        """A new session (its cookie value, its record) for a right name and password;
        ConsoleError otherwise, the same for an unknown name as for a wrong password. After
        ``LOCK_AFTER`` failures in a row the account refuses for ``LOCK_SECONDS``."""
        refused = ConsoleError("wrong name or password, or the account is locked for a while")
        now = time.time()
        # Each attempt is counted as a failure before its password is checked, in one write
        # (the increment is atomic in both databases): attempts made at once cannot all read
        # the same count, so at most LOCK_AFTER are ever checked before the lock.
        with self._tx("counting a sign-in attempt") as cur:
            cur.run(
                "UPDATE {t}operators SET failures = failures + 1 WHERE name=? AND locked_until <= ?",
                (name, now),
            )
            rows = cur.rows(
                "SELECT password_hash, failures, locked_until FROM {t}operators WHERE name=?", (name,)
            )
        if not rows:
            _check(_DUMMY_HASH, password)
            raise refused
        hashed, failures, locked_until = rows[0]
        if locked_until > now or failures > LOCK_AFTER:
            raise refused
        if not _check(hashed, password):
            if failures >= LOCK_AFTER:
                with self._tx("locking an operator") as cur:
                    cur.run(
                        "UPDATE {t}operators SET failures=0, locked_until=? WHERE name=?",
                        (now + LOCK_SECONDS, name),
                    )
            raise refused
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(name, csrf, now + SESSION_SECONDS)
        with self._tx("opening a session") as cur:
            cur.run("UPDATE {t}operators SET failures=0, locked_until=0 WHERE name=?", (name,))
            if _HASHER.check_needs_rehash(hashed):
                cur.run(
                    "UPDATE {t}operators SET password_hash=? WHERE name=?", (_HASHER.hash(password), name)
                )
            cur.run("DELETE FROM {t}sessions WHERE expires_at < ?", (now,))
            cur.run(
                "INSERT INTO {t}sessions (token_hash, operator, csrf, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (_hash_token(token), name, csrf, now, session.expires_at),
            )
        return token, session

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._read("reading a session") as cur:
            rows = cur.rows(
                "SELECT s.operator, s.csrf, s.expires_at FROM {t}sessions s"
                " JOIN {t}operators o ON o.name = s.operator WHERE s.token_hash=? AND s.expires_at > ?",
                (_hash_token(token), time.time()),
            )
        return Session(*rows[0]) if rows else None

    def sign_out(self, token: str) -> None:
        with self._tx("closing a session") as cur:
            cur.run("DELETE FROM {t}sessions WHERE token_hash=?", (_hash_token(token),))

    # -- requests ------------------------------------------------------------------------
    def file_request(
        self, *, kind: str, requester: str, reference: str, targets: Sequence[str], notes: str, operator: str
    ) -> int:
        if kind not in KINDS:
            raise ConsoleError(f"a request's kind is one of {', '.join(KINDS)}")
        if not requester.strip():
            raise ConsoleError("say who asked")
        names = [t.strip() for t in targets if t.strip()]
        if not names:
            raise ConsoleError("name at least one target the request concerns")
        now = time.time()
        with self._tx("filing a request") as cur:
            request_id = cur.rows(
                "INSERT INTO {t}requests (kind, requester, reference, targets, notes, status, reason,"
                " created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, 'received', '', ?, ?, ?)"
                " RETURNING id",
                (kind, requester.strip(), reference.strip(), json.dumps(names), notes, now, operator, now),
            )[0][0]
            cur.run(
                "INSERT INTO {t}request_events (request_id, at, operator, status, note)"
                " VALUES (?, ?, ?, 'received', '')",
                (request_id, now, operator),
            )
        return request_id

    def move_request(self, request_id: int, status: str, *, operator: str, note: str = "") -> Request:
        """Move a request on (see ``MOVES``); rejecting needs a reason (``note``)."""
        now = time.time()
        with self._tx("changing a request") as cur:
            rows = cur.rows("SELECT status FROM {t}requests WHERE id=?", (request_id,))
            if not rows:
                raise ConsoleError(f"no request {request_id}")
            current = rows[0][0]
            if status not in MOVES.get(current, ()):
                raise ConsoleError(f"a request that is {current} cannot become {status}")
            if status == "rejected" and not note.strip():
                raise ConsoleError("rejecting a request needs a reason")
            reason = note.strip() if status == "rejected" else ""
            cur.run(
                "UPDATE {t}requests SET status=?, reason=?, updated_at=? WHERE id=?",
                (status, reason, now, request_id),
            )
            cur.run(
                "INSERT INTO {t}request_events (request_id, at, operator, status, note)"
                " VALUES (?, ?, ?, ?, ?)",
                (request_id, now, operator, status, note.strip()),
            )
        request = self.request(request_id)
        assert request is not None
        return request

    _REQUEST_COLUMNS = (
        "id, kind, requester, reference, targets, notes, status, reason, created_at, created_by, updated_at"
    )

    @staticmethod
    def _request(row: tuple) -> Request:
        values = list(row)
        values[4] = json.loads(values[4])
        return Request(*values)

    def request(self, request_id: int) -> Request | None:
        with self._read("reading a request") as cur:
            rows = cur.rows(f"SELECT {self._REQUEST_COLUMNS} FROM {{t}}requests WHERE id=?", (request_id,))
            if not rows:
                return None
            request = self._request(rows[0])
            request.events = [
                Event(*r)
                for r in cur.rows(
                    "SELECT at, operator, status, note FROM {t}request_events WHERE request_id=? ORDER BY id",
                    (request_id,),
                )
            ]
        return request

    def requests(
        self,
        *,
        status: str | None = None,
        older_than_days: float | None = None,
        newer_than_days: float | None = None,
        overdue: bool = False,
        with_events: bool = False,
        limit: int = 500,
    ) -> list[Request]:
        """Requests, newest first, filtered by status, age (days since received) and being
        overdue (still open past ``OVERDUE_DAYS``)."""
        now = time.time()
        where, params = [], []
        if status:
            if status not in STATUSES:
                raise ConsoleError(f"a request's status is one of {', '.join(STATUSES)}")
            where.append("status=?")
            params.append(status)
        if overdue:
            where.append("status IN ('received', 'applied') AND created_at < ?")
            params.append(now - OVERDUE_DAYS * 86400)
        if older_than_days is not None:
            where.append("created_at < ?")
            params.append(now - older_than_days * 86400)
        if newer_than_days is not None:
            where.append("created_at >= ?")
            params.append(now - newer_than_days * 86400)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._read("listing requests") as cur:
            rows = cur.rows(
                f"SELECT {self._REQUEST_COLUMNS} FROM {{t}}requests {clause} ORDER BY id DESC LIMIT ?",
                (*params, limit),
            )
            found = [self._request(r) for r in rows]
            if with_events and found:
                by_id = {r.id: r for r in found}
                marks = ",".join("?" * len(by_id))
                for request_id, *event in cur.rows(
                    "SELECT request_id, at, operator, status, note FROM {t}request_events"
                    f" WHERE request_id IN ({marks}) ORDER BY id",
                    tuple(by_id),
                ):
                    by_id[request_id].events.append(Event(*event))
        return found

    def age_request(self, request_id: int, days: float) -> None:
        """Backdate a request (for tests and demonstrations of the overdue filter)."""
        with self._tx("backdating a request") as cur:
            cur.run(
                "UPDATE {t}requests SET created_at = created_at - ? WHERE id=?", (days * 86400, request_id)
            )

    # -- jobs ----------------------------------------------------------------------------
    def add_job(self, kind: str, target: str, operator: str, owner: str, total: int = 1) -> int:
        """A queued job; ``owner`` names the server (replica) whose thread runs it."""
        with self._tx("queueing a job") as cur:
            return cur.rows(
                "INSERT INTO {t}jobs (kind, target, state, total, error, operator, owner, created_at)"
                " VALUES (?, ?, 'queued', ?, '', ?, ?, ?) RETURNING id",
                (kind, target, total, operator, owner, time.time()),
            )[0][0]

    def update_job(self, job_id: int, *, state: str, done: int | None = None, error: str = "") -> None:
        finished = time.time() if state in ("done", "failed") else None
        with self._tx("updating a job") as cur:
            cur.run(
                "UPDATE {t}jobs SET state=?, done=COALESCE(?, done), error=?, finished_at=? WHERE id=?",
                (state, done, error, finished, job_id),
            )

    def jobs(self, target: str | None = None, limit: int = 20) -> list[Job]:
        columns = "id, kind, target, state, done, total, error, operator, created_at, finished_at"
        with self._read("listing jobs") as cur:
            if target is None:
                rows = cur.rows(f"SELECT {columns} FROM {{t}}jobs ORDER BY id DESC LIMIT ?", (limit,))
            else:
                rows = cur.rows(
                    f"SELECT {columns} FROM {{t}}jobs WHERE target=? ORDER BY id DESC LIMIT ?",
                    (target, limit),
                )
        return [Job(*r) for r in rows]

    def interrupt_jobs(self, owner: str) -> int:
        """Mark the jobs this server (``owner``) left unfinished when it last stopped as failed:
        their threads are gone. Other replicas' jobs are theirs."""
        with self._tx("closing interrupted jobs") as cur:
            rows = cur.rows(
                "UPDATE {t}jobs SET state='failed', error='interrupted: the server stopped', finished_at=?"
                " WHERE owner=? AND state IN ('queued', 'running') RETURNING id",
                (time.time(), owner),
            )
        return len(rows)

    # -- decisions -----------------------------------------------------------------------
    def add_decisions(self, decisions: Sequence[Decision]) -> None:
        if not decisions:
            return
        with self._tx("recording decisions") as cur:
            for d in decisions:
                cur.run(
                    "INSERT INTO {t}decisions (at, endpoint, verdict, matched, latency_s, llm_calls)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (d.at, d.endpoint, d.verdict, json.dumps(d.matched), d.latency_s, d.llm_calls),
                )

    def prune_decisions(self, days: float = KEEP_DECISIONS_DAYS) -> int:
        """Drop decisions older than ``days``; how many went."""
        with self._tx("pruning decisions") as cur:
            return len(
                cur.rows("DELETE FROM {t}decisions WHERE at < ? RETURNING id", (time.time() - days * 86400,))
            )

    def decisions(
        self, *, target: str | None = None, verdict: str | None = None, since: float = 0, limit: int = 200
    ) -> list[Decision]:
        """The most recent decisions first; ``target``: those that matched that name."""
        where, params = ["at >= ?"], [since]
        if verdict:
            where.append("verdict=?")
            params.append(verdict)
        if target:
            where.append("matched LIKE ? ESCAPE '\\'")  # narrowed here, then checked exactly below
            quoted = json.dumps(target)
            params.append("%" + re.sub(r"([\\%_])", r"\\\1", quoted) + "%")
        with self._read("listing decisions") as cur:
            rows = cur.rows(
                "SELECT at, endpoint, verdict, matched, latency_s, llm_calls FROM {t}decisions"
                f" WHERE {' AND '.join(where)} ORDER BY at DESC LIMIT ?",
                (*params, limit),
            )
        found = [Decision(at, e, v, json.loads(m), lat, calls) for at, e, v, m, lat, calls in rows]
        return [d for d in found if not target or target in d.matched]


def _check(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class _Cursor:
    """SQL with ``{t}`` for the table prefix and ``?`` placeholders, in either database."""

    def __init__(self, conn: Any, prefix: str, mark: str):
        self.conn, self.prefix, self.mark = conn, prefix, mark

    def _sql(self, text: str) -> str:
        text = text.replace("{t}", self.prefix)
        return text.replace("?", "%s") if self.mark == "%s" else text

    def run(self, text: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(self._sql(text), tuple(params))

    def rows(self, text: str, params: Sequence[Any] = ()) -> list[tuple]:
        return list(self.conn.execute(self._sql(text), tuple(params)).fetchall())
