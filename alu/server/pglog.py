"""The decision log in PostgreSQL: every replica writes to one ``decisions`` table that can
be queried (``SELECT verdict, count(*) FROM alu.decisions GROUP BY 1``): a row per logged
request, its main fields as columns (verdict and the cost only for chat requests) and the
whole entry, as the JSON-lines log has it, in ``entry``.

Rows are written by a background thread in batches, so a slow or absent database never
delays an answer. While the database is down, entries wait in a bounded queue and are
written when it returns; past the bound the oldest are dropped and counted (``dropped``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import UTC, datetime

import psycopg

from ..pgsql import Database, first_line, prepare

log = logging.getLogger(__name__)
BATCH = 500


class PostgresDecisionLog:
    def __init__(self, url: str, replica: str, *, capacity: int = 100_000):
        self.db = Database.parse(url)
        prepare(self.db)
        self.replica = replica
        self.dropped = 0
        self._queue: deque[dict] = deque()
        self._capacity = capacity
        self._in_flight = 0
        self._cond = threading.Condition()
        self._closing = False
        self._insert = self.db.sql(
            "INSERT INTO {s}.decisions (at, replica, request_id, endpoint, status, verdict, mode, matched,"
            " llm_calls, prompt_tokens, completion_tokens, latency_s, error, entry)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s::jsonb)"
        )
        self._thread = threading.Thread(target=self._run, name="alu-decision-log", daemon=True)
        self._thread.start()

    def write(self, entry: dict) -> None:
        with self._cond:
            if len(self._queue) >= self._capacity:
                self._queue.popleft()
                self.dropped += 1
            self._queue.append(entry)
            self._cond.notify()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every entry so far is written; False if that took over ``timeout``."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._in_flight, timeout)

    def close(self) -> None:
        self.flush(5.0)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(10)

    def _row(self, e: dict) -> tuple:
        matched = e.get("matched")
        return (
            datetime.fromtimestamp(e.get("time", 0), UTC),
            self.replica,
            e.get("request_id", ""),
            e.get("endpoint"),
            e.get("status"),
            e.get("verdict"),
            e.get("mode"),
            json.dumps(matched, ensure_ascii=False) if matched is not None else None,
            e.get("llm_calls"),
            e.get("prompt_tokens"),
            e.get("completion_tokens"),
            e.get("latency_s"),
            e.get("error"),
            json.dumps(e, ensure_ascii=False, default=str),
        )

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        delay = 0.2
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    break
                batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
                self._in_flight = len(batch)
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.db.dsn, **self.db.options())
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(self._insert, [self._row(e) for e in batch])
                delay = 0.2
                done = True
            except psycopg.Error as exc:
                log.warning("decision log: cannot write to %s: %s", self.db.location, first_line(exc))
                if conn is not None:
                    conn.close()
                conn, done = None, False
            with self._cond:
                self._in_flight = 0
                if not done:
                    self._queue.extendleft(reversed(batch))
                self._cond.notify_all()
                if not done and not self._closing:
                    self._cond.wait(delay)
                    delay = min(delay * 2, 5.0)
                elif not done:
                    break
        if conn is not None:
            conn.close()
