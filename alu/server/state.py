"""What every route shares: the pipeline, the settings, the records, and who is admin."""

from __future__ import annotations

import asyncio
import hmac
import socket
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ..pipeline import ALU
from ..scan import TargetIndex
from ..settings import ServeSettings
from ..trace import Answer, Trace
from .observability import DecisionLog, InFlight, Metrics, Tee


class ApiError(Exception):
    """Answered as an OpenAI-style JSON error with this status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def error_response(status: int, message: str, kind: str, headers: dict | None = None) -> JSONResponse:
    """The one shape of every error: ``{"error": {"message", "type", "code"}}``, one line."""
    message = " ".join(message.split())
    body = {"error": {"message": message, "type": kind, "code": status}}
    return JSONResponse(body, status_code=status, headers=headers)


# Endpoints as metrics and the decision log name them: a few fixed labels, never the raw
# path (DELETE /v1/targets/NAME carries a target's name).
ENDPOINTS = ("/v1/chat/completions", "/v1/models", "/v1/targets", "/healthz", "/readyz", "/metrics")
CHAT = ENDPOINTS[0]
NOT_LOGGED = ("/healthz", "/readyz", "/metrics")  # probes and scrapes: counted, not logged


def endpoint_of(path: str) -> str:
    for endpoint in ENDPOINTS:
        if path == endpoint or path.startswith(endpoint + "/"):
            return endpoint
    return "other"


@dataclass
class Exchange:
    """One request and what became of it, filled in as it goes and recorded at its end."""

    method: str
    endpoint: str
    request_id: str = field(default_factory=lambda: "req-" + uuid.uuid4().hex[:24])
    started: float = field(default_factory=time.perf_counter)
    status: int = 0
    error: str | None = None  # the message the client got
    error_type: str | None = None
    json: Any = None  # the body, parsed and checked
    query: str | None = None  # chat: the last user message (logged only with log_text)
    answer: Answer | None = None  # chat: what the pipeline did
    matched: list[str] | None = None  # chat: the stored targets among the candidates

    def fail(self, status: int, message: str, kind: str) -> None:
        self.status, self.error, self.error_type = status, message, kind


def exchange_of(request: Request) -> Exchange:
    return request.state.exchange


def error_summary(trace: Trace) -> str | None:
    """Why the pipeline failed closed, without the upstream's own words (which may quote a
    target): the agent that failed and whether it ran out of time."""
    if trace.error is None:
        return None
    for step in trace.steps:
        if not step.ok:
            return f"{step.agent}: {'timed out' if step.detail.get('timed_out') else 'failed'}"
    return trace.error.partition(":")[0][:60]


class Readiness:
    """Whether this replica can answer as it should: its target store readable and its
    index caught up with it. Each check brings the index up to date (one sync at a time,
    on a thread of its own, so probes never pile up threads) and waits for it at most
    ``wait`` seconds: a sync still running (a large import, the first build) is "not
    ready", as is one that failed (the store unreadable)."""

    def __init__(self, index: TargetIndex, wait: float):
        self.index, self.wait = index, wait
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="alu-ready")
        self._lock = threading.Lock()
        self._sync: Future | None = None

    def start(self) -> Future:
        """A sync of the index, or the one already running."""
        with self._lock:
            if self._sync is None or self._sync.done():
                self._sync = self._pool.submit(self.index.sync)
            return self._sync

    async def check(self) -> str | None:
        """None when ready, else why not (one line, no target names)."""
        sync = self.start()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(sync)), self.wait)
        except TimeoutError:
            return f"the target index is still being built (or the store has not answered in {self.wait:g} s)"
        except Exception:  # whatever the store raised: it cannot be read
            return "cannot read the target store"
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class ServerState:
    alu: ALU
    settings: ServeSettings
    admin_token: str | None = None
    worker: bool = False  # one of several processes on one port: the supervisor did the once-per-start work
    metrics: Metrics = field(default_factory=Metrics)
    log: DecisionLog | Tee = field(init=False)
    in_flight: InFlight = field(init=False)
    readiness: Readiness = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.readiness = Readiness(self.alu.index, s.ready_wait)
        self.log = DecisionLog(s.log, max_bytes=s.log_max_bytes, backups=s.log_backups)
        if s.log_db:
            from .pglog import PostgresDecisionLog

            replica = s.replica or f"{socket.gethostname()}:{s.port}"
            self.log = Tee(self.log, PostgresDecisionLog(s.log_db, replica))
        self.in_flight = InFlight(s.max_in_flight)

    def record(self, exchange: Exchange) -> None:
        """Count the request under its real status and log it (users' text, upstream error
        text only with ``log_text``)."""
        seconds = time.perf_counter() - exchange.started
        status = str(exchange.status or 0)
        metrics = self.metrics
        metrics.http.labels(exchange.endpoint, status).inc()
        trace = exchange.answer.trace if exchange.answer is not None else None
        if exchange.endpoint == CHAT:
            metrics.requests.labels(status).inc()
            metrics.latency.observe(seconds)
        if trace is not None:
            metrics.verdicts.labels(trace.verdict).inc()
            metrics.llm_calls.inc(trace.llm_calls)
            metrics.tokens.labels("prompt").inc(trace.prompt_tokens)
            metrics.tokens.labels("completion").inc(trace.completion_tokens)
        if exchange.endpoint in NOT_LOGGED:
            return
        text = self.settings.log_text
        entry: dict[str, Any] = {
            "time": time.time(),
            "request_id": exchange.request_id,
            "method": exchange.method,
            "endpoint": exchange.endpoint,
            "status": exchange.status,
            "latency_s": round(seconds, 3),
        }
        if exchange.error_type:
            entry["error_type"] = exchange.error_type
            if text and exchange.error:
                entry["error"] = exchange.error
        if trace is not None:
            # A caller's own alu_targets are its text: without log_text, stored targets only.
            stored = list(exchange.matched or ())
            entry.update(
                matched=[c["name"] for c in trace.candidates] if text else stored,
                leaked=trace.leaked if text else [n for n in dict.fromkeys(trace.leaked) if n in stored],
                verdict=trace.verdict,
                llm_calls=trace.llm_calls,
                prompt_tokens=trace.prompt_tokens,
                completion_tokens=trace.completion_tokens,
                mode=trace.mode,
                error=trace.error if text else error_summary(trace),
            )
        if text and exchange.query is not None:
            entry["query"] = exchange.query
            if exchange.answer is not None:
                entry["answer"] = exchange.answer.text
        self.log.write(entry)

    def token_matches(self, authorization: bytes) -> bool:
        """Whether a raw ``Authorization`` header carries the admin token (compared as bytes,
        in constant time: a header in any encoding is simply not the token)."""
        if not self.admin_token or authorization[:7].lower() != b"bearer ":
            return False
        return hmac.compare_digest(authorization[7:], self.admin_token.encode("utf-8"))

    def is_admin(self, request: Request) -> bool:
        raw = dict(request.headers.raw)
        return self.token_matches(raw.get(b"authorization", b""))

    def require_admin(self, request: Request) -> None:
        if not self.admin_token:
            raise ApiError(404, "the admin API is off: start the server with an admin token", "not_found")
        if not self.is_admin(request):
            raise ApiError(401, "admin token required (Authorization: Bearer ...)", "authentication_error")


def state_of(request: Request) -> ServerState:
    return request.app.state.alu_server
