"""The admin API (``/v1/targets``): on only with an admin token, and only for its holder.
Changes go to the target store and apply to the next request, in every process."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ..errors import TargetError
from ..targets import FORMATS, TargetStore, parse_targets
from .state import ApiError, ServerState, state_of
from .wire import ImportRequest

router = APIRouter(prefix="/v1/targets")


def _admin(request: Request) -> ServerState:
    state = state_of(request)
    state.require_admin(request)
    return state


def _store(state: ServerState) -> TargetStore:
    if state.alu.index.store is None:
        raise ApiError(409, "this server has no target store to change", "conflict")
    return state.alu.index.store


@router.get("")
async def list_targets(request: Request):
    index = _admin(request).alu.index
    await run_in_threadpool(index.sync)
    return {"object": "list", "data": [t.model_dump() for t in index.targets()]}


@router.post("", status_code=201)
async def add_targets(request: Request):
    store = _store(_admin(request))
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"body is not JSON: {exc.msg}") from exc
    records = body if isinstance(body, list) else [body]
    try:
        targets = parse_targets(json.dumps(records), "json", source="body")
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc
    saved = await run_in_threadpool(store.add_many, targets)
    return {"object": "list", "data": [t.model_dump() for t in saved]}


@router.post("/import", status_code=201)
async def import_targets(body: ImportRequest, request: Request):
    store = _store(_admin(request))
    if body.format not in FORMATS:
        raise ApiError(400, f"unknown format {body.format!r}: use one of {', '.join(FORMATS)}")
    try:
        targets = parse_targets(body.content, body.format, source="import")
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc
    saved = await run_in_threadpool(store.add_many, targets)
    return {"imported": len(saved)}


@router.delete("/{name}")
async def remove_target(name: str, request: Request):
    store = _store(_admin(request))
    if not await run_in_threadpool(store.remove, name):
        raise ApiError(404, f"no target named {name!r}", "not_found")
    return {"removed": name}
