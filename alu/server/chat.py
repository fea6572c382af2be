"""``POST /v1/chat/completions`` and ``GET /v1/models``: the OpenAI-compatible side.

A streamed answer is sent only after the whole answer has passed the pipeline, then cut
into chunks, so no unaudited token ever reaches the client. Nothing a caller sends can
weaken the guard: the mode is the server's (``alu_mode`` and ``alu_explain`` need the
admin token) and a request's own targets only add to the stored ones."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from ..errors import QueryError
from ..models import Model
from ..pipeline import modes
from ..targets import Target
from ..trace import Answer
from .state import ApiError, ServerState, exchange_of, state_of
from .wire import ChatRequest, chunks, completion, is_invisible

router = APIRouter()


def _check(body: ChatRequest, state: ServerState, admin: bool) -> list[Target]:
    settings = state.settings
    if body.alu_mode is not None:
        if not admin:
            raise ApiError(
                401, "alu_mode needs the admin token: the mode is the server's", "authentication_error"
            )
        if body.alu_mode not in modes():
            raise ApiError(400, f"unknown alu_mode {body.alu_mode!r}: use one of {', '.join(modes())}")
    if body.alu_explain and not admin:
        raise ApiError(401, "alu_explain needs the admin token", "authentication_error")
    if body.messages[-1].role != "user":
        raise ApiError(400, "the last message must come from the user")
    if is_invisible(body.messages[-1].text()):
        raise ApiError(400, "the query is empty: it holds no visible character")
    for field in ("max_tokens", "max_completion_tokens"):
        value = getattr(body, field)
        if value is not None and value > settings.max_tokens:
            raise ApiError(400, f"invalid request: {field}: at most {settings.max_tokens}")
    return _request_targets(body, state)


def _request_targets(body: ChatRequest, state: ServerState) -> list[Target]:
    """The request's own ``alu_targets``, within the caps on their count and size."""
    settings = state.settings
    if len(body.alu_targets) > settings.max_request_targets:
        raise ApiError(
            400, f"invalid alu_targets: at most {settings.max_request_targets} targets per request"
        )
    size = len(json.dumps(body.alu_targets, ensure_ascii=False).encode("utf-8")) if body.alu_targets else 0
    if size > settings.max_request_target_bytes:
        raise ApiError(
            400,
            f"invalid alu_targets: {size} bytes; at most {settings.max_request_target_bytes} per request",
        )
    try:
        # A caller's targets are screened by name, alias and evidence: examples and what was
        # generated or learned are the operator's (a caller's classifier is not trusted).
        given = [Target(name=t) if isinstance(t, str) else Target(**t) for t in body.alu_targets]
        return [t.model_copy(update={"examples": None, "enrichment": None, "knowledge": None}) for t in given]
    except (ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[-1].strip() if isinstance(exc, TypeError) else _first_error(exc)
        raise ApiError(400, f"invalid alu_targets: {reason}") from exc


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {str(first.get('msg')).removeprefix('Value error, ')}"
    return str(exc).splitlines()[0]


def caller_usage(model: Model, body: ChatRequest, text: str) -> dict:
    """``usage`` for a caller without the admin token, by one rule on every path (streamed
    or not, targets involved or not): the tokens of the messages the caller sent and of the
    answer it receives, counted by ``model.count_tokens`` (the model's tokenizer where the
    backend has one, else about 4 characters a token). Which agents ran, or which documents
    were withheld, never shows: that would tell a caller who is on the list."""
    prompt = sum(model.count_tokens(m.text()) for m in body.messages)
    completion_tokens = model.count_tokens(text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def full_usage(answer: Answer) -> dict:
    trace = answer.trace
    return {
        "prompt_tokens": trace.prompt_tokens,
        "completion_tokens": trace.completion_tokens,
        "total_tokens": trace.prompt_tokens + trace.completion_tokens,
    }


def stored_matches(state: ServerState, answer: Answer, own: list[Target]) -> list[str]:
    """The matched targets that are stored ones: a caller's own ``alu_targets`` are its
    text, logged only with ``log_text``. A name the caller sent that is also stored stays."""
    names = list(dict.fromkeys(c["name"] for c in answer.trace.candidates))
    sent = {t.name for t in own}
    if not sent & set(names):
        return names
    index = state.alu.index
    try:
        if index.store is not None:
            return [n for n in names if n not in sent or index.store.get(n) is not None]
        stored = {t.name for t in index.targets()}
    except Exception:  # the store cannot tell: leave the caller's names out
        return [n for n in names if n not in sent]
    return [n for n in names if n not in sent or n in stored]


def _sendable(text: str) -> str:
    """The answer as valid UTF-8 (a backend may hand back a lone surrogate)."""
    return text.encode("utf-8", "replace").decode("utf-8")


@router.post("/v1/chat/completions")
async def chat(body: ChatRequest, request: Request):
    state = state_of(request)
    exchange = exchange_of(request)
    admin = state.is_admin(request)
    extra = _check(body, state, admin)
    query, history, system = body.conversation()
    exchange.query = query
    if not state.in_flight.enter():
        raise ApiError(
            429, f"too many requests in flight (limit {state.in_flight.limit})", "rate_limit_error"
        )
    try:
        answer = await run_in_threadpool(
            state.alu.ask,
            query,
            history,
            mode=body.alu_mode,
            extra_targets=extra,
            system=system,
            sampling=body.sampling(),
        )
    except QueryError as exc:
        raise ApiError(400, str(exc)) from exc
    finally:
        state.in_flight.leave()
    exchange.answer = answer
    exchange.matched = await run_in_threadpool(stored_matches, state, answer, extra)
    text = _sendable(answer.text)
    usage = full_usage(answer) if admin else caller_usage(state.alu.assistant.vanilla.model, body, text)
    model = body.model or state.settings.name
    if body.stream:
        include_usage = bool(body.stream_options and body.stream_options.include_usage)
        return StreamingResponse(
            chunks(exchange.request_id, model, text, usage if include_usage else None),
            media_type="text/event-stream",
        )
    extra_fields = {"alu": {"trace": answer.trace.summary()}} if body.alu_explain else {}
    return JSONResponse(completion(exchange.request_id, model, text, usage, **extra_fields))


@router.get("/v1/models")
async def models(request: Request):
    name = state_of(request).settings.name
    return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "alu"}]}
