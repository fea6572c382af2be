"""``alu serve``: an OpenAI-compatible chat endpoint with the ALU pipeline in front.

Applications point their OpenAI client's base URL here. Streamed answers are sent only
after the whole answer has passed the audit, then split into chunks, so no unaudited
token ever reaches the client. The target list and the trace are shown only to callers
with the admin token; with no token configured the admin API is off.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .pipeline import ALU, MODES, QueryError
from .targets import FORMATS, Target, TargetError, parse_targets
from .trace import Answer, Trace


@dataclass
class ServerConfig:
    model_name: str = "alu"
    admin_token: str | None = None
    max_in_flight: int = 8
    log_path: Path | None = None
    log_text: bool = False  # store users' text in the decision log


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    alu_targets: list[str | dict[str, Any]] = Field(default_factory=list)
    alu_mode: str | None = None
    alu_explain: bool = False


class ImportRequest(BaseModel):
    format: str = "json"
    content: str


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


class _Metrics:
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


def create_app(alu: ALU, config: ServerConfig | None = None) -> FastAPI:
    """The server around one pipeline instance (shared by every request)."""
    cfg = config or ServerConfig()
    app = FastAPI(title="ALU unlearning server", version="0.1.0")
    metrics = _Metrics()
    in_flight = {"n": 0}
    log_lock = threading.Lock()

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return _error(400, f"invalid request: {where}: {first.get('msg')}", "invalid_request_error")

    def is_admin(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        return bool(cfg.admin_token) and secrets.compare_digest(token, cfg.admin_token)

    def require_admin(request: Request) -> None:
        if not cfg.admin_token:
            raise ApiError(404, "the admin API is off: start the server with an admin token", "not_found")
        if not is_admin(request):
            raise ApiError(401, "admin token required (Authorization: Bearer ...)", "authentication_error")

    def log(entry: dict) -> None:
        if cfg.log_path is None:
            return
        with log_lock, open(cfg.log_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def answer_in_thread(body: ChatRequest, extra: list[Target]) -> Answer:
        messages = body.messages
        if messages[-1].role != "user":
            raise ApiError(400, "the last message must come from the user")
        system = "\n".join(m.text() for m in messages if m.role in ("system", "developer")) or None
        history = [
            {"role": m.role, "content": m.text()} for m in messages[:-1] if m.role in ("user", "assistant")
        ]
        try:
            return alu.ask(
                messages[-1].text(), history, mode=body.alu_mode, extra_targets=extra, system=system
            )
        except QueryError:
            raise
        except Exception as exc:  # fail closed on anything the pipeline did not expect
            trace = Trace(
                mode=body.alu_mode or alu.config.mode,
                verdict="failed_closed",
                error=f"{type(exc).__name__}: {exc}",
            )
            return Answer(text=alu.config.refusal, trace=trace)

    @app.post("/v1/chat/completions")
    async def chat(body: ChatRequest, request: Request):
        if body.alu_mode is not None and body.alu_mode not in MODES:
            raise ApiError(400, f"unknown alu_mode {body.alu_mode!r}: use one of {', '.join(MODES)}")
        explain = body.alu_explain and is_admin(request)
        if body.alu_explain and not explain:
            raise ApiError(401, "alu_explain needs the admin token", "authentication_error")
        try:
            extra = [Target(name=t) if isinstance(t, str) else Target(**t) for t in body.alu_targets]
        except (ValueError, TypeError) as exc:
            raise ApiError(400, f"invalid alu_targets: {str(exc).splitlines()[-1].strip()}") from exc
        if in_flight["n"] >= cfg.max_in_flight:
            metrics.requests.labels("429").inc()
            raise ApiError(
                429, f"too many requests in flight (limit {cfg.max_in_flight})", "rate_limit_error"
            )
        in_flight["n"] += 1
        request_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        started = time.perf_counter()
        try:
            answer = await run_in_threadpool(answer_in_thread, body, extra)
        except QueryError as exc:
            metrics.requests.labels("400").inc()
            raise ApiError(400, str(exc)) from exc
        finally:
            in_flight["n"] -= 1
        elapsed = time.perf_counter() - started
        trace = answer.trace
        metrics.requests.labels("200").inc()
        metrics.verdicts.labels(trace.verdict).inc()
        metrics.latency.observe(elapsed)
        entry = {
            "time": time.time(),
            "request_id": request_id,
            "matched": [c["name"] for c in trace.candidates],
            "leaked": trace.leaked,
            "verdict": trace.verdict,
            "llm_calls": trace.llm_calls,
            "prompt_tokens": trace.prompt_tokens,
            "completion_tokens": trace.completion_tokens,
            "latency_s": round(elapsed, 3),
            "mode": trace.mode,
            "error": trace.error,
        }
        if cfg.log_text:
            entry["query"] = body.messages[-1].text()
            entry["answer"] = answer.text
        log(entry)
        usage = {
            "prompt_tokens": trace.prompt_tokens,
            "completion_tokens": trace.completion_tokens,
            "total_tokens": trace.prompt_tokens + trace.completion_tokens,
        }
        model = body.model or cfg.model_name
        extra_fields = {"alu": {"trace": trace.summary()}} if explain else {}
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return StreamingResponse(
                _stream(request_id, model, answer.text, usage if include_usage else None),
                media_type="text/event-stream",
                headers={"x-request-id": request_id},
            )
        return JSONResponse(
            {
                "id": request_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer.text},
                        "finish_reason": "stop",
                        "logprobs": None,
                    }
                ],
                "usage": usage,
                **extra_fields,
            },
            headers={"x-request-id": request_id},
        )

    @app.get("/v1/models")
    async def models():
        return {
            "object": "list",
            "data": [{"id": cfg.model_name, "object": "model", "created": 0, "owned_by": "alu"}],
        }

    @app.get("/v1/targets")
    async def list_targets(request: Request):
        require_admin(request)
        await run_in_threadpool(alu.sync)
        with alu._lock:
            targets = sorted(alu.screen.targets.values(), key=lambda t: t.id or 0)
        return {"object": "list", "data": [t.model_dump() for t in targets]}

    def store():
        if alu.store is None:
            raise ApiError(409, "this server has no target store to change", "conflict")
        return alu.store

    @app.post("/v1/targets", status_code=201)
    async def add_targets(request: Request):
        require_admin(request)
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"body is not JSON: {exc.msg}") from exc
        records = body if isinstance(body, list) else [body]
        try:
            targets = parse_targets(json.dumps(records), "json", source="body")
        except TargetError as exc:
            raise ApiError(400, str(exc)) from exc
        saved = await run_in_threadpool(store().add_many, targets)
        return {"object": "list", "data": [t.model_dump() for t in saved]}

    @app.post("/v1/targets/import", status_code=201)
    async def import_targets(body: ImportRequest, request: Request):
        require_admin(request)
        if body.format not in FORMATS:
            raise ApiError(400, f"unknown format {body.format!r}: use one of {', '.join(FORMATS)}")
        try:
            targets = parse_targets(body.content, body.format, source="import")
        except TargetError as exc:
            raise ApiError(400, str(exc)) from exc
        saved = await run_in_threadpool(store().add_many, targets)
        return {"imported": len(saved)}

    @app.delete("/v1/targets/{name}")
    async def remove_target(name: str, request: Request):
        require_admin(request)
        if not await run_in_threadpool(store().remove, name):
            raise ApiError(404, f"no target named {name!r}", "not_found")
        return {"removed": name}

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "in_flight": in_flight["n"]}

    @app.get("/metrics")
    async def prometheus():
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.state.alu = alu
    return app


def _stream(request_id: str, model: str, text: str, usage: dict | None) -> Iterator[str]:
    """The audited answer as OpenAI chat.completion.chunk events."""
    created = int(time.time())

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        data = {
            "id": request_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    words = text.split(" ")
    for i in range(0, len(words), 4):
        piece = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
        yield chunk({"content": piece})
    yield chunk({}, "stop")
    if usage is not None:
        data = {
            "id": request_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [],
            "usage": usage,
        }
        yield f"data: {json.dumps(data)}\n\n"
    yield "data: [DONE]\n\n"


def serve(alu: ALU, config: ServerConfig, host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(create_app(alu, config), host=host, port=port, log_level="warning")


__all__ = ["LiveServer", "ServerConfig", "create_app", "serve"]


class LiveServer:
    """The app on a free loopback port in a background thread (tests, benchmarks)."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1"):
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind((host, 0))
            self.port = s.getsockname()[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
