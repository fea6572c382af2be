"""A completion cache: model calls remembered in an SQLite file, keyed by the model's
identity and the whole request.

Greedy decoding on the embedded model is deterministic, and an evaluation sends the very
same first call from many systems (vanilla, filter, alu on a question that touches no
target, the paper mode's draft), so ``alu eval`` answers those once. Only greedy calls
(temperature 0) are cached. The file holds users' prompts and the model's drafts, drafts
that may carry what is to be forgotten: it is for evaluation and batch jobs, not for
``alu serve`` (see the README).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import EvalError
from .models import Completion, Messages, Model, StopWhen, cut_at, hints_for

_SCHEMA = """
CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    seconds REAL NOT NULL,
    created REAL NOT NULL
);
"""


_COLUMNS = ("key", "model", "text", "prompt_tokens", "completion_tokens", "seconds", "created")
_INSERT = f"INSERT OR IGNORE INTO completions VALUES ({', '.join('?' * len(_COLUMNS))})"
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM completions WHERE key=?"


class CompletionCache:
    """One SQLite file (WAL), safe for threads and processes sharing it.

    ``journal``: a JSON Lines copy of the calls one run made, that travels with its results
    (a long evaluation resumed on another machine, whose cache folder starts empty): its
    records are taken into the file first, and each completion the run stores or reads
    from the cache is appended to it (the others the file holds, from other runs, are
    not). Text, one record a line, appended: it sits in a repository beside the answers and
    grows by small diffs."""

    def __init__(self, path: str | Path, journal: str | Path | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self.journal = Path(journal) if journal is not None else None
        with self._connect() as db:
            db.executescript(_SCHEMA)
        if self.journal is not None:
            rows = self._read_journal(self.journal)
            self.taken = self._store(rows)
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self._journal_keys = {row[0] for row in rows}

    @staticmethod
    def _read_journal(journal: Path) -> list[tuple]:
        """The journal's records as rows; a line that is not one is a one-line error."""
        if not journal.is_file():
            return []
        rows = []
        with open(journal, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    rows.append(tuple(record[c] for c in _COLUMNS))
                except (ValueError, KeyError, TypeError) as e:
                    raise EvalError(f"{journal}, line {number}: not a cache record ({e})") from None
        return rows

    def _store(self, rows: list[tuple]) -> int:
        """``rows`` stored (a key already here is kept as it is): how many were new."""
        if not rows:
            return 0
        with self._connect() as db:
            before = db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]
            db.execute("BEGIN")
            db.executemany(_INSERT, rows)
            db.execute("COMMIT")
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0] - before

    def _journaled(self, row: tuple) -> None:
        """``row`` appended to the journal, unless it holds that key already."""
        assert self.journal is not None
        with self._lock:
            if row[0] in self._journal_keys:
                return
            with open(self.journal, "a", encoding="utf-8") as journal:
                journal.write(json.dumps(dict(zip(_COLUMNS, row, strict=True)), ensure_ascii=False) + "\n")
            self._journal_keys.add(row[0])

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=60000")
            yield db
        finally:
            db.close()

    @staticmethod
    def key(identity: str, request: dict) -> str:
        body = json.dumps({"model": identity, **request}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        with self._connect() as db:
            row = db.execute(_SELECT, (key,)).fetchone()
        with self._lock:
            if row is None:
                self.misses += 1
                return None
            self.hits += 1
        if self.journal is not None:  # a call this run reuses travels with it too
            self._journaled(row)
        _, model, text, prompt_tokens, completion_tokens, seconds, _ = row
        return Completion(text, prompt_tokens, completion_tokens, model, seconds=seconds, cached=True)

    def put(self, key: str, out: Completion) -> None:
        row = (key, out.model, out.text, out.prompt_tokens, out.completion_tokens, out.seconds, time.time())
        with self._connect() as db:  # the first writer wins; a twin's identical answer is dropped
            db.execute(_INSERT, row)
        if self.journal is not None:
            self._journaled(row)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM completions").fetchone()[0]


class CachedModel(Model):
    """``inner`` behind a :class:`CompletionCache`; failures are never cached, and nor is a
    model that says it is not ``cacheable`` (a script)."""

    def __init__(self, inner: Model, cache: CompletionCache):
        self.inner = inner
        self.cache = cache
        self.name = inner.name

    @property
    def identity(self) -> str:
        return self.inner.identity

    def complete(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        json_schema: dict | None = None,
        timeout: float | None = None,
        agent: str | None = None,
        until: StopWhen | None = None,
        reuse_prefix: bool = False,
    ) -> Completion:
        request = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stop": stop,
            "json_schema": json_schema,
        }
        if until is not None:  # the answer ends where it says: a different text (absent: old keys hold)
            request["until"] = until.__name__
        hints = hints_for(self.inner, until=until, reuse_prefix=reuse_prefix)
        cacheable = temperature == 0 and self.inner.cacheable
        key = self.cache.key(self.identity, request) if cacheable else None
        if key is not None and (hit := self.cache.get(key)) is not None:
            return hit
        started = time.perf_counter()
        out = self.inner.complete(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=stop,
            json_schema=json_schema,
            timeout=timeout,
            agent=agent,
            **hints,
        )
        if until is not None and "until" not in hints:
            out.text = cut_at(out.text, until)
        out.seconds = out.seconds or round(time.perf_counter() - started, 3)
        if key is not None:
            self.cache.put(key, out)
        return out

    def close(self) -> None:
        self.inner.close()
