"""What the server records: Prometheus metrics, the decision log, requests in flight."""

from __future__ import annotations

import json
import logging
import os
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "alu_requests", "Chat completion requests, by status", ["status"], registry=self.registry
        )
        self.http = Counter(
            "alu_http_requests",
            "Every request, by endpoint and status",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.verdicts = Counter("alu_verdicts", "Pipeline verdicts", ["verdict"], registry=self.registry)
        self.llm_calls = Counter("alu_llm_calls", "LLM calls made by the agents", registry=self.registry)
        self.tokens = Counter("alu_tokens", "Tokens of every agent call", ["kind"], registry=self.registry)
        self.latency = Histogram(
            "alu_request_seconds",
            "Chat request latency",
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 20, 40, 80, 160),
        )


class _PrivateRotatingHandler(RotatingFileHandler):
    """A size-rotated file that only its owner can read (0600), whatever the umask."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


class DecisionLog:
    """One JSON line per request; off when there is no path. Rotates beyond ``max_bytes``
    (FILE.1 is the newest of ``backups`` older files); every file is created 0600."""

    def __init__(self, path: Path | None, *, max_bytes: int = 64 * 1024 * 1024, backups: int = 5):
        self.path = path
        self._handler: RotatingFileHandler | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handler = _PrivateRotatingHandler(
                path,
                maxBytes=max_bytes,
                backupCount=backups,
                encoding="utf-8",
                errors="backslashreplace",
                delay=True,
            )

    def write(self, entry: dict) -> None:
        if self._handler is None:
            return
        line = json.dumps(entry, ensure_ascii=False, default=str)
        self._handler.handle(logging.makeLogRecord({"msg": line, "levelno": logging.INFO}))

    def close(self) -> None:
        if self._handler is not None:
            self._handler.close()


class Tee:
    """Writes each entry to several decision logs (the file and the database)."""

    def __init__(self, *logs) -> None:
        self.logs = logs

    def write(self, entry: dict) -> None:
        for one in self.logs:
            one.write(entry)

    def close(self) -> None:
        for one in self.logs:
            one.close()


class InFlight:
    """Counts requests being answered; ``enter`` refuses beyond the limit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.count -= 1
