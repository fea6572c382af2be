"""What the server records: Prometheus metrics, the decision log, requests in flight."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("alu_requests", "Chat requests", ["status"], registry=self.registry)
        self.verdicts = Counter("alu_verdicts", "Pipeline verdicts", ["verdict"], registry=self.registry)
        self.latency = Histogram(
            "alu_request_seconds",
            "Chat request latency",
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 20, 40, 80, 160),
        )


class DecisionLog:
    """One JSON line per request; off when there is no path."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()

    def write(self, entry: dict) -> None:
        if self.path is None:
            return
        with self._lock, open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")


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
