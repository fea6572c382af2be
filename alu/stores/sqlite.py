"""Targets to forget, kept in an SQLite file that several processes can share.

Every write bumps a revision counter and appends to a change log in the same
transaction, so a running pipeline (or another process) picks up additions and
removals on its next query by reading only what changed since it last looked.

The file's layout has a version (SQLite's ``user_version``): opening a file of an older
layout upgrades it in place, in one transaction, by the steps of ``MIGRATIONS``; a file
newer than this code is refused untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import StoreError, TargetError
from ..targets.target import Enrichment, ModelKnowledge, Target
from .base import (
    PATH,
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

_SCHEMA = """
CREATE TABLE IF NOT EXISTS targets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    aliases TEXT NOT NULL,
    description TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    revision INTEGER PRIMARY KEY AUTOINCREMENT,
    target_id INTEGER NOT NULL
);
"""
# The first layout (user_version 0) is _SCHEMA; each step brings a file one version on.
MIGRATIONS = (
    # 1: what a model wrote about a target (alu targets enrich), as JSON; NULL: nothing yet.
    "ALTER TABLE targets ADD COLUMN enrichment TEXT",
    # 2: what the serving model knows of a target (alu targets probe), as JSON; NULL: not probed.
    "ALTER TABLE targets ADD COLUMN knowledge TEXT",
    # 3: a hazard's example texts and the classifier learned from them, as JSON; NULL: none.
    "ALTER TABLE targets ADD COLUMN examples TEXT",
)
# The copy of the index file kept for replicas starting without one (alu.scan.sharedindex): a
# copy's header, and its body in chunks; ``chunks`` is NULL while the copy is being written.
# Made when a copy is first sent, outside the numbered layout: a store stays one that the
# version before opens (replicas of both run side by side during a rolling upgrade).
_COPY_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS index_copies (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " revision INTEGER NOT NULL, header BLOB NOT NULL, chunks INTEGER, started REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS index_chunks (copy_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " data BLOB NOT NULL, PRIMARY KEY (copy_id, seq))",
)
# An upload of the index file's copy left unfinished this long ago is a writer that died.
STALE_UPLOAD_S = 3600.0
LATEST = len(MIGRATIONS)


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the file to the latest layout (called inside a write transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > LATEST:
        raise TargetError(
            f"{path} has layout version {version}, newer than this ALU knows ({LATEST}): upgrade ALU;"
            " nothing was changed"
        )
    for step in MIGRATIONS[version:]:
        db.execute(step)
    if version < LATEST:
        db.execute(f"PRAGMA user_version = {LATEST}")


def _create_private(path: Path) -> None:
    """Create ``path`` readable by its owner only, unless it exists: SQLite gives the -wal
    and -shm files it makes beside a database the database file's own permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


@register_store(PATH)
class TargetStore(Store):
    """Targets in one SQLite file (WAL mode, safe for concurrent processes); what a ``db``
    setting without a URL scheme opens (``~`` expanded).

    The contract every target store keeps is :class:`~alu.stores.base.Store`."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        try:
            _create_private(self.path)
        except OSError as exc:
            raise TargetError(f"cannot create the target store {self.path}: {exc.strerror or exc}") from exc
        try:
            with self._connect() as db:  # a read first: opening a current file takes no write lock
                version = db.execute("PRAGMA user_version").fetchone()[0]
                made = db.execute("SELECT 1 FROM sqlite_master WHERE name='targets'").fetchone()
            if version != LATEST or not made:
                with self._write() as db:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    _migrate(db, self.path)
        except sqlite3.DatabaseError as exc:
            raise TargetError(f"{self.path} is not a usable target store: {exc}") from exc

    @property
    def location(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # -- writes ---------------------------------------------------------------------
    def add_many(self, targets: Iterable[Target], *, replace: bool = True) -> list[Target]:
        """Add or replace targets in one transaction: all of them or none."""
        with self._write() as db:
            return [self._save(db, target, replace) for target in targets]

    def add_stream(self, targets: Iterable[Target], *, replace: bool = True) -> int:
        """Add or replace targets as an iterable yields them (a file being read, say), in one
        transaction: all or none, with memory flat in their number. Returns how many."""
        count = 0
        with self._write() as db:
            for target in targets:
                self._save(db, target, replace)
                count += 1
        return count

    @staticmethod
    def _save(db: sqlite3.Connection, target: Target, replace: bool) -> Target:
        key = name_key(target.name)
        query = "SELECT id, name, kind, aliases, enrichment, knowledge, examples FROM targets WHERE key=?"
        row = db.execute(query, (key,)).fetchone()
        aliases = json.dumps(target.aliases, ensure_ascii=False)
        enrichment = dump_enrichment(target.enrichment)
        knowledge = dump_knowledge(target.knowledge)
        examples = dump_examples(target.examples)
        if row and not replace:
            raise TargetError(f"target {target.name!r} exists already (use replace)")
        same = bool(row) and row[1:4] == (target.name, target.kind, aliases)
        if same and enrichment is None:
            enrichment = row[4]  # the same target again: what was generated for it still holds
        if same and knowledge is None:
            knowledge = row[5]  # and so does what the model was found to know of it
        if same and examples is None:
            examples = row[6]  # and a hazard's examples with their classifier
        values = (
            target.name,
            target.kind,
            aliases,
            target.description,
            json.dumps(target.evidence, ensure_ascii=False),
            enrichment,
            knowledge,
            examples,
        )
        if row:
            target_id = row[0]
            db.execute(
                "UPDATE targets SET name=?, kind=?, aliases=?, description=?, evidence=?, enrichment=?,"
                " knowledge=?, examples=? WHERE id=?",
                (*values, target_id),
            )
        else:
            cur = db.execute(
                "INSERT INTO targets"
                " (name, kind, aliases, description, evidence, enrichment, knowledge, examples, key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, key),
            )
            target_id = cur.lastrowid
        db.execute("INSERT INTO changes (target_id) VALUES (?)", (target_id,))
        return target.model_copy(
            update={
                "id": target_id,
                "enrichment": load_enrichment(enrichment),
                "knowledge": load_knowledge(knowledge),
                "examples": load_examples(examples),
            }
        )

    def set_enrichment(self, name: str, enrichment: Enrichment | None) -> Target | None:
        return self._set_generated(name, "enrichment", enrichment, dump_enrichment(enrichment))

    def set_knowledge(self, name: str, knowledge: ModelKnowledge | None) -> Target | None:
        return self._set_generated(name, "knowledge", knowledge, dump_knowledge(knowledge))

    def _set_generated(self, name: str, column: str, value: object, dumped: str | None) -> Target | None:
        """Write one generated field (a column of our own naming, never the caller's) of the
        target called ``name``: a write like any other, recorded as a change."""
        target = self.get(name)
        if target is None:
            return None
        with self._write() as db:
            cur = db.execute(f"UPDATE targets SET {column}=? WHERE id=?", (dumped, target.id))
            if cur.rowcount == 0:  # removed meanwhile
                return None
            db.execute("INSERT INTO changes (target_id) VALUES (?)", (target.id,))
        return target.model_copy(update={column: value})

    def remove(self, name: str) -> bool:
        """Remove the target called ``name`` (or having it as an alias)."""
        target = self.get(name)
        if target is None:
            return False
        with self._write() as db:
            db.execute("DELETE FROM targets WHERE id=?", (target.id,))
            db.execute("INSERT INTO changes (target_id) VALUES (?)", (target.id,))
        return True

    # -- reads ----------------------------------------------------------------------
    @staticmethod
    def _row(row: tuple) -> Target:
        """A stored target as it was written: validated on the way in, not again on the way
        out (faster, and a row an older version accepted still loads)."""
        target_id, name, kind, aliases, description, evidence, *generated = row
        aliases, evidence = json.loads(aliases), json.loads(evidence)
        return stored_target(target_id, name, kind, aliases, description, evidence, *generated)

    _COLUMNS = "id, name, kind, aliases, description, evidence, enrichment, knowledge, examples"

    def list(self) -> list[Target]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {self._COLUMNS} FROM targets ORDER BY id").fetchall()
        return [self._row(r) for r in rows]

    def page(self, after: int = 0, limit: int = 100) -> list[Target]:
        """At most ``limit`` targets with an id above ``after``, in id order: pass the last
        id of one page as ``after`` to get the next."""
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {self._COLUMNS} FROM targets WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
            ).fetchall()
        return [self._row(r) for r in rows]

    def get(self, name: str) -> Target | None:
        """The target whose name, or failing that one of whose aliases, is ``name``."""
        key = name_key(name)
        with self._connect() as db:
            row = db.execute(f"SELECT {self._COLUMNS} FROM targets WHERE key=?", (key,)).fetchone()
            if row:
                return self._row(row)
            for row in db.execute(f"SELECT {self._COLUMNS} FROM targets"):
                if any(name_key(a) == key for a in json.loads(row[3])):
                    return self._row(row)
        return None

    def count(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM targets").fetchone()[0]

    def revision(self) -> int:
        """Grows with every write; equal revisions mean an unchanged list."""
        with self._connect() as db:
            return db.execute("SELECT COALESCE(MAX(revision), 0) FROM changes").fetchone()[0]

    def changes_since(self, revision: int) -> tuple[int, dict[int, Target | None]]:
        """Targets touched after ``revision``: id -> current target, or None if removed."""
        with self._connect() as db:
            db.execute("BEGIN")
            rows = db.execute(
                "SELECT revision, target_id FROM changes WHERE revision > ?", (revision,)
            ).fetchall()
            if not rows:
                db.execute("COMMIT")
                return revision, {}
            ids = sorted({r[1] for r in rows})
            current: dict[int, Target | None] = dict.fromkeys(ids)
            for chunk in range(0, len(ids), 500):
                part = ids[chunk : chunk + 500]
                marks = ",".join("?" * len(part))
                for row in db.execute(f"SELECT {self._COLUMNS} FROM targets WHERE id IN ({marks})", part):
                    current[row[0]] = self._row(row)
            db.execute("COMMIT")
        return max(r[0] for r in rows), current

    # -- the shared copy of the index file ---------------------------------------------
    def index_copy(self) -> IndexCopy | None:
        with self._connect() as db:
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'index_copies'").fetchone():
                return None  # no copy was ever sent
            row = db.execute(
                "SELECT id, revision, header, chunks FROM index_copies WHERE chunks IS NOT NULL"
                " ORDER BY revision DESC, id DESC LIMIT 1"
            ).fetchone()
        return IndexCopy(row[0], row[1], bytes(row[2]), row[3]) if row else None

    def read_index_copy(self, copy: IndexCopy) -> Iterator[bytes]:
        with self._connect() as db:
            db.execute("BEGIN")  # one snapshot: a newer copy replacing this one is not seen
            try:
                for seq in range(copy.chunks):
                    row = db.execute(
                        "SELECT data FROM index_chunks WHERE copy_id = ? AND seq = ?", (copy.id, seq)
                    ).fetchone()
                    if row is None:
                        raise StoreError(f"the index file's copy {copy.id} is gone from {self.path}")
                    yield row[0]
            finally:
                db.execute("COMMIT")

    def put_index_copy(self, revision: int, header: bytes, chunks: Iterable[bytes]) -> bool:
        # A transaction per chunk: the store's write lock is never held for the whole copy.
        with self._write() as db:
            for statement in _COPY_SCHEMA:
                db.execute(statement)
            if self._kept(db, revision, header):
                return False
            stale = db.execute(
                "SELECT id FROM index_copies WHERE chunks IS NULL AND started < ?",
                (time.time() - STALE_UPLOAD_S,),
            ).fetchall()
            self._drop_copies(db, [r[0] for r in stale])
            copy_id = db.execute(
                "INSERT INTO index_copies (revision, header, started) VALUES (?, ?, ?)",
                (revision, header, time.time()),
            ).lastrowid
        count = 0
        try:
            for data in chunks:
                with self._write() as db:
                    db.execute("INSERT INTO index_chunks VALUES (?, ?, ?)", (copy_id, count, data))
                count += 1
            with self._write() as db:
                done = db.execute("UPDATE index_copies SET chunks = ? WHERE id = ?", (count, copy_id))
                # Another replica's, newer, landed meanwhile; or this upload, taken for one
                # left unfinished (``STALE_UPLOAD_S``), was dropped under it.
                if done.rowcount != 1 or self._kept(db, revision, header, besides=copy_id):
                    self._drop_copies(db, [copy_id])
                    return False
                older = db.execute(
                    "SELECT id FROM index_copies WHERE chunks IS NOT NULL AND id <> ?", (copy_id,)
                ).fetchall()
                self._drop_copies(db, [r[0] for r in older])
        except BaseException:
            with contextlib.suppress(sqlite3.Error), self._write() as db:
                self._drop_copies(db, [copy_id])
            raise
        return True

    @staticmethod
    def _kept(db: sqlite3.Connection, revision: int, header: bytes, besides: int = -1) -> bool:
        """Whether the store keeps a complete copy newer than ``revision``, or this one (its
        revision and header), other than the copy ``besides``."""
        row = db.execute(
            "SELECT 1 FROM index_copies WHERE chunks IS NOT NULL AND id <> ?"
            " AND (revision > ? OR (revision = ? AND header = ?))",
            (besides, revision, revision, header),
        ).fetchone()
        return row is not None

    @staticmethod
    def _drop_copies(db: sqlite3.Connection, ids: list[int]) -> None:
        for copy_id in ids:
            db.execute("DELETE FROM index_chunks WHERE copy_id = ?", (copy_id,))
            db.execute("DELETE FROM index_copies WHERE id = ?", (copy_id,))
