"""PostgreSQL plumbing shared by the target store and the decision log: the URL and ALU's
own options in it, connecting with one-line errors, and the versioned schema.

A URL is libpq's (``postgresql://user:password@host:5432/dbname?sslmode=require``) plus
ALU's options, which are taken out before libpq sees it:

* ``schema`` (default ``alu``): where ALU's tables live; deployments sharing one
  database use one schema each;
* ``pool_min``, ``pool_max`` (default 1, 4): connections each process keeps;
* ``timeout`` (default 5): seconds to wait for a connection before failing (closed).

Every change to the tables is a numbered migration, applied in order, once, in one
transaction under an advisory lock, so replicas that start together do not race and a
failed migration changes nothing.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .errors import ConfigError, StoreError

try:
    import psycopg
    from psycopg import sql
except ImportError:  # pragma: no cover - the postgres extra is not installed
    psycopg = None  # type: ignore[assignment]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}")
ALU_OPTIONS = ("schema", "pool_min", "pool_max", "timeout")


@dataclass(frozen=True)
class Database:
    """Where the database is and how ALU uses it, parsed from one URL."""

    dsn: str  # what libpq gets
    location: str  # the URL without its password, for messages
    schema: str = "alu"
    pool_min: int = 1
    pool_max: int = 4
    timeout: float = 5.0

    @classmethod
    def parse(cls, url: str) -> Database:
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ConfigError(f"not a PostgreSQL URL: {_redact(url)!r} (expected postgresql://...)")
        query = parse_qsl(parts.query, keep_blank_values=True)
        ours = {k: v for k, v in query if k in ALU_OPTIONS}
        theirs = [(k, v) for k, v in query if k not in ALU_OPTIONS]
        dsn = urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))
        schema = ours.get("schema", "alu")
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ConfigError(f"bad schema {schema!r} in the database URL: use a-z, 0-9 and _, up to 48")
        try:
            pool_min = int(ours.get("pool_min", 1))
            pool_max = int(ours.get("pool_max", max(4, pool_min)))
            timeout = float(ours.get("timeout", 5))
        except ValueError as exc:
            raise ConfigError(f"bad option in the database URL: {exc}") from exc
        if not 0 <= pool_min <= pool_max or pool_max < 1 or timeout <= 0:
            raise ConfigError(
                "bad pool options in the database URL: need 0 <= pool_min <= pool_max, timeout > 0"
            )
        return cls(dsn, _redact(dsn), schema, pool_min, pool_max, timeout)

    def options(self) -> dict:
        """Connection options beside the URL: the connect timeout, and a name that tells
        ALU's connections apart in pg_stat_activity (unless the URL names them)."""
        options: dict = {"connect_timeout": max(1, round(self.timeout))}
        if "application_name" not in self.dsn:
            options["application_name"] = f"alu:{self.schema}"
        return options

    def connect(self, **kwargs) -> psycopg.Connection:
        """One connection (not pooled), or a one-line StoreError saying why not."""
        require_psycopg()
        try:
            return psycopg.connect(self.dsn, **self.options(), **kwargs)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the database at {self.location}: {first_line(exc)}") from exc

    def sql(self, text: str) -> sql.Composed:
        """``text`` with ``{s}`` replaced by the quoted schema name."""
        return sql.SQL(text).format(s=sql.Identifier(self.schema))


NEEDS_EXTRA = "a PostgreSQL URL needs the postgres extra: pip install 'alu[postgres]'"


def require_psycopg() -> None:
    if psycopg is None:
        raise ConfigError(NEEDS_EXTRA)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# libpq parameters a URL's query may carry that are secrets (``location`` hides them too).
_SECRET_PARAMETERS = ("password", "sslpassword")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = "&".join(
        f"{key}=***" if key.lower() in _SECRET_PARAMETERS else item
        for item in parts.query.split("&")
        for key in [item.split("=", 1)[0]]
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@contextmanager
def errors_as_store_errors(db: Database, doing: str) -> Iterator[None]:
    """Any database failure while ``doing`` becomes a one-line StoreError (so requests fail
    closed and the CLI and admin API say what went wrong)."""
    from psycopg_pool import PoolTimeout

    try:
        yield
    except PoolTimeout as exc:
        raise StoreError(f"{doing}: no connection to {db.location} within {db.timeout:g} s") from exc
    except psycopg.Error as exc:
        raise StoreError(f"{doing} at {db.location}: {first_line(exc)}") from exc


# -- the schema ------------------------------------------------------------------------
@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str  # {s} is the schema


MIGRATIONS = (
    Migration(
        1,
        "targets, change log, change announcements",
        """
        CREATE TABLE {s}.targets (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            aliases JSONB NOT NULL,
            alias_keys TEXT[] NOT NULL,
            description TEXT NOT NULL,
            evidence JSONB NOT NULL
        );
        CREATE INDEX targets_alias_keys ON {s}.targets USING GIN (alias_keys);
        CREATE TABLE {s}.changes (
            revision BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            target_id BIGINT NOT NULL,
            changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE FUNCTION {s}.announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('alu_targets:' || TG_TABLE_SCHEMA, '');
            RETURN NULL;
        END $$;
        CREATE TRIGGER changes_announce AFTER INSERT ON {s}.changes
            FOR EACH STATEMENT EXECUTE FUNCTION {s}.announce_change();
        """,
    ),
    Migration(
        2,
        "decision log",
        """
        CREATE TABLE {s}.decisions (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            replica TEXT NOT NULL,
            request_id TEXT NOT NULL,
            endpoint TEXT,
            status INTEGER,
            verdict TEXT,
            mode TEXT,
            matched JSONB,
            llm_calls INTEGER,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            latency_s DOUBLE PRECISION,
            error TEXT,
            entry JSONB NOT NULL
        );
        CREATE INDEX decisions_at ON {s}.decisions (at);
        """,
    ),
    Migration(
        3,
        "target enrichment",
        """
        ALTER TABLE {s}.targets ADD COLUMN enrichment JSONB;
        """,
    ),
    Migration(
        4,
        "what the serving model knows of each target",
        """
        ALTER TABLE {s}.targets ADD COLUMN knowledge JSONB;
        """,
    ),
    Migration(
        5,
        "a hazard's example texts and the classifier learned from them",
        """
        ALTER TABLE {s}.targets ADD COLUMN examples JSONB;
        """,
    ),
)
LATEST = MIGRATIONS[-1].version


def channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel on which a schema's target changes are announced."""
    return f"alu_targets:{schema}"


def migrate(db: Database, conn: psycopg.Connection) -> int:
    """Bring the schema to the latest version; returns it. A database newer than this code,
    or with gaps in its history, is refused untouched."""
    lock = zlib.crc32(f"alu-migrate:{db.schema}".encode())
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
        conn.execute(db.sql("CREATE SCHEMA IF NOT EXISTS {s}"))
        conn.execute(
            db.sql(
                "CREATE TABLE IF NOT EXISTS {s}.schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
        )
        applied = [r[0] for r in conn.execute(db.sql("SELECT version FROM {s}.schema_migrations ORDER BY 1"))]
        if applied and applied[-1] > LATEST:
            raise StoreError(
                f"schema {db.schema!r} at {db.location} is at version {applied[-1]}, newer than this ALU"
                f" knows ({LATEST}): upgrade ALU; nothing was changed"
            )
        if applied != list(range(1, len(applied) + 1)):
            raise StoreError(
                f"schema {db.schema!r} at {db.location} has migrations {applied}, not 1..n in order:"
                " fix schema_migrations by hand; nothing was changed"
            )
        for migration in MIGRATIONS[len(applied) :]:
            conn.execute(db.sql(migration.sql))
            conn.execute(
                db.sql("INSERT INTO {s}.schema_migrations (version, name) VALUES (%s, %s)"),
                [migration.version, migration.name],
            )
    return LATEST


def prepare(db: Database) -> None:
    """Connect once (a one-line error if the database cannot be used) and migrate."""
    with db.connect() as conn:
        try:
            migrate(db, conn)
        except psycopg.Error as exc:
            reason = first_line(exc)
            raise StoreError(
                f"cannot prepare schema {db.schema!r} at {db.location}: {reason}; nothing was changed"
            ) from exc
