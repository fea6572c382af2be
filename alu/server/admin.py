"""The admin API (``/v1/targets``): on only with an admin token, and only for its holder.
Changes go to the target store and apply to the next request, in every process.

Parsing, validating and storing run on worker threads, never on the event loop; the list
comes a page at a time (``?limit=&after=``). A target is deleted by the name it was added
with, however it is written: ``DELETE /v1/targets/{name}`` (slashes and all, percent-
encoded as a URL needs) or ``DELETE /v1/targets?name=...``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ..errors import StoreError, TargetError
from ..targets import Store, Target, from_records, iter_targets
from .state import ApiError, ServerState, exchange_of, state_of
from .wire import ImportRequest

router = APIRouter(prefix="/v1/targets")
_TARGET_SCHEMA = Target.model_json_schema()
_TARGET_SCHEMA["properties"].pop("id", None)
_ADD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"anyOf": [_TARGET_SCHEMA, {"type": "array", "items": _TARGET_SCHEMA}]}
            }
        },
    }
}
_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": ImportRequest.model_json_schema()}},
    }
}


def _admin(request: Request) -> ServerState:
    state = state_of(request)
    state.require_admin(request)
    return state


async def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a store call off the event loop; a store that cannot be reached is a 503."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except StoreError as exc:
        raise ApiError(503, str(exc), "service_unavailable") from exc


def _store(state: ServerState) -> Store:
    if state.alu.index.store is None:
        raise ApiError(409, "this server has no target store to change", "conflict")
    return state.alu.index.store


def _body(request: Request) -> Any:
    body = exchange_of(request).json
    if body is None:
        raise ApiError(400, "the body must be JSON")
    return body


def _dump(targets: list[Target]) -> list[dict]:
    return [t.model_dump() for t in targets]


@router.get("")
async def list_targets(
    request: Request,
    limit: int | None = Query(None, ge=1, description="targets per page (default: the server's page size)"),
    after: int = Query(0, ge=0, le=2**63 - 1, description="the last id of the previous page"),
):
    state = _admin(request)
    settings = state.settings
    limit = limit or settings.page_size
    if limit > settings.max_page_size:
        raise ApiError(400, f"invalid request: limit: at most {settings.max_page_size}")
    source = state.alu.index.store or state.alu.index
    page = await _call(source.page, after, limit + 1)
    data = await run_in_threadpool(_dump, page[:limit])
    last = data[-1]["id"] if data else None
    return {"object": "list", "data": data, "has_more": len(page) > limit, "last_id": last}


@router.post("", status_code=201, openapi_extra=_ADD_BODY)
async def add_targets(request: Request):
    store = _store(_admin(request))
    body = _body(request)
    records = body if isinstance(body, list) else [body]

    def add() -> list[dict]:
        return _dump(store.add_many(from_records(records, source="body")))

    try:
        saved = await _call(add)
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc
    return {"object": "list", "data": saved}


@router.post("/import", status_code=201, openapi_extra=_IMPORT_BODY)
async def import_targets(request: Request):
    store = _store(_admin(request))
    body = _body(request)
    try:
        spec = ImportRequest.model_validate(body)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid request: {where}: {first['msg']}") from exc
    try:
        count = await _call(
            store.add_stream, iter_targets(spec.content, spec.format, source="import"), replace=True
        )
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc
    return {"imported": count}


async def _remove(request: Request, name: str) -> dict:
    store = _store(_admin(request))
    if not await _call(store.remove, name):
        raise ApiError(404, f"no target named {name!r}", "not_found")
    return {"removed": name}


@router.delete("")
async def remove_target_by_query(
    request: Request, name: str = Query(..., description="the target's name or alias")
):
    return await _remove(request, name)


@router.delete("/{name:path}")
async def remove_target(name: str, request: Request):
    return await _remove(request, name)
