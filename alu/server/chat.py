"""``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI-compatible side.

A streamed answer is sent only after the whole answer has passed the pipeline, then cut
into chunks, so no unaudited token ever reaches the client."""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import QueryError
from ..pipeline import modes
from ..targets import Target
from ..trace import Answer
from .state import ApiError, ServerState, state_of
from .wire import ChatRequest, chunks, completion

router = APIRouter()


def _check(body: ChatRequest, state: ServerState, request: Request) -> list[Target]:
    if body.alu_mode is not None and body.alu_mode not in modes():
        raise ApiError(400, f"unknown alu_mode {body.alu_mode!r}: use one of {', '.join(modes())}")
    if body.alu_explain and not state.is_admin(request):
        raise ApiError(401, "alu_explain needs the admin token", "authentication_error")
    if body.messages[-1].role != "user":
        raise ApiError(400, "the last message must come from the user")
    try:
        return [Target(name=t) if isinstance(t, str) else Target(**t) for t in body.alu_targets]
    except (ValueError, TypeError) as exc:
        raise ApiError(400, f"invalid alu_targets: {str(exc).splitlines()[-1].strip()}") from exc


def _record(state: ServerState, body: ChatRequest, request_id: str, answer: Answer, elapsed: float) -> None:
    trace = answer.trace
    state.metrics.requests.labels("200").inc()
    state.metrics.verdicts.labels(trace.verdict).inc()
    state.metrics.latency.observe(elapsed)
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
    if state.settings.log_text:
        entry["query"] = body.messages[-1].text()
        entry["answer"] = answer.text
    state.log.write(entry)


@router.post("/v1/chat/completions")
async def chat(body: ChatRequest, request: Request):
    state = state_of(request)
    extra = _check(body, state, request)
    if not state.in_flight.enter():
        state.metrics.requests.labels("429").inc()
        raise ApiError(
            429, f"too many requests in flight (limit {state.in_flight.limit})", "rate_limit_error"
        )
    request_id = "chatcmpl-" + uuid.uuid4().hex[:24]
    started = time.perf_counter()
    query, history, system = body.conversation()
    try:
        answer = await run_in_threadpool(
            state.alu.ask, query, history, mode=body.alu_mode, extra_targets=extra, system=system
        )
    except QueryError as exc:
        state.metrics.requests.labels("400").inc()
        raise ApiError(400, str(exc)) from exc
    finally:
        state.in_flight.leave()
    _record(state, body, request_id, answer, time.perf_counter() - started)
    trace = answer.trace
    usage = {
        "prompt_tokens": trace.prompt_tokens,
        "completion_tokens": trace.completion_tokens,
        "total_tokens": trace.prompt_tokens + trace.completion_tokens,
    }
    model = body.model or state.settings.name
    headers = {"x-request-id": request_id}
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        return StreamingResponse(
            chunks(request_id, model, answer.text, usage if include_usage else None),
            media_type="text/event-stream",
            headers=headers,
        )
    extra_fields = {"alu": {"trace": trace.summary()}} if body.alu_explain else {}
    return JSONResponse(completion(request_id, model, answer.text, usage, **extra_fields), headers=headers)


@router.get("/v1/models")
async def models(request: Request):
    name = state_of(request).settings.name
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "alu"}]}
