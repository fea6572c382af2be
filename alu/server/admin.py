"""The admin API (``/v1/targets``): on only with an admin token, and only for its holder.
Changes go to the target store and apply to the next request, in every process.

Parsing, validating and storing run on worker threads, never on the event loop; the list
comes a page at a time (``?limit=&after=``). A target is deleted by the name it was added
with, however it is written: ``DELETE /v1/targets/{name}`` (slashes and all, percent-
encoded as a URL needs) or ``DELETE /v1/targets?name=...``.

Enrichment (``alu.enrichment``), admin-only like the rest:

* ``POST /v1/targets/{name}/enrich`` runs the Enricher on the server's model (``[models]
  enricher``, else ``model``) in a worker thread and returns the target as stored. A failed
  enrichment is not an HTTP error: 200, the target keeps what it had, and its
  ``enrichment.error`` says why (the same record the CLI leaves), so a client reads one
  shape; 404 for an unknown name.
* ``PUT /v1/targets/{name}/enrichment`` sets ``names``, ``terms`` or ``description`` by hand
  (provenance ``operator-edit``); ``DELETE /v1/targets/{name}/enrichment`` removes it.
* ``?enrich=true`` on ``POST /v1/targets`` and ``POST /v1/targets/import`` enriches what was
  added, after it is stored (an enrichment failure leaves the targets added), and adds the
  batch's cost summary (``enrichment``) to the response.

``POST /v1/targets/{name}/probe[?force=true]`` queues the target for probing by the
serving model in the background (``alu.probing.background``: one probe call at a time, at
most half the model's time) and answers 202 at once with the target as stored and
``probe`` (queued, pending, stale); what is learned appears in the target's ``knowledge``.

These routes are matched before ``DELETE /v1/targets/{name}``: a target whose own name ends
in ``/enrichment`` is deleted with ``DELETE /v1/targets?name=...``.

A hazard's ``examples`` (a list of texts in a record) train its learned-scanner classifier
before the target is stored (``alu.scan.training``); too few or bad examples are a 400 and
nothing is stored."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError
from starlette.concurrency import run_in_threadpool

from ..errors import StoreError, TargetError
from ..scan.training import with_classifiers
from ..stores import Store
from ..targets import Target, from_records, iter_targets
from .state import ApiError, ServerState, exchange_of, state_of
from .wire import ImportRequest


class EnrichmentEdit(BaseModel):
    """The body of ``PUT /v1/targets/{name}/enrichment``: the fields to set (the others stay)."""

    model_config = ConfigDict(extra="forbid")
    names: list[StrictStr] | None = None
    terms: list[StrictStr] | None = None
    description: StrictStr | None = None


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
_EDIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EnrichmentEdit.model_json_schema()}},
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
    """Run a store call off the event loop; a store that cannot be reached, or an SQLite
    file that can no longer be read, is a 503."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except StoreError as exc:
        raise ApiError(503, str(exc), "service_unavailable") from exc
    except sqlite3.Error as exc:
        raise ApiError(503, f"cannot read the target store: {exc}", "service_unavailable") from exc


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


def _enrich(state: ServerState, store: Store, names: list[str]) -> dict:
    """Enrich ``names`` with the server's enricher; the batch's cost summary."""
    from ..enrichment import enrich_targets, serving_enricher

    enricher = serving_enricher(state.alu)
    cost = enrich_targets(store, enricher, names, force=True, model=enricher.model.name, show_progress=False)
    return cost.summary()


_ENRICH_QUERY = Query(False, description="then enrich the targets added (the server's enricher model)")


@router.post("", status_code=201, openapi_extra=_ADD_BODY)
async def add_targets(request: Request, enrich: bool = _ENRICH_QUERY):
    state = _admin(request)
    store = _store(state)
    body = _body(request)
    records = body if isinstance(body, list) else [body]

    def add() -> dict:
        saved = store.add_many(list(with_classifiers(from_records(records, source="body"))))
        if not enrich:
            return {"object": "list", "data": _dump(saved)}
        cost = _enrich(state, store, [t.name for t in saved])
        current = [store.get(t.name) or t for t in saved]
        return {"object": "list", "data": _dump(current), "enrichment": cost}

    try:
        return await _call(add)
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post("/import", status_code=201, openapi_extra=_IMPORT_BODY)
async def import_targets(request: Request, enrich: bool = _ENRICH_QUERY):
    state = _admin(request)
    store = _store(state)
    body = _body(request)
    try:
        spec = ImportRequest.model_validate(body)
    except ValueError as exc:
        first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid request: {where}: {first['msg']}") from exc
    try:
        count = await _call(
            store.add_stream,
            with_classifiers(iter_targets(spec.content, spec.format, source="import")),
            replace=True,
        )
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc
    if not enrich:
        return {"imported": count}

    def names() -> list[str]:
        return list(dict.fromkeys(t.name for t in iter_targets(spec.content, spec.format, source="import")))

    cost = await _call(lambda: _enrich(state, store, names()))
    return {"imported": count, "enrichment": cost}


def _unknown(name: str) -> ApiError:
    return ApiError(404, f"no target named {name!r}", "not_found")


# Matched before DELETE /{name:path} below (first registered, first matched).
@router.post("/{name:path}/enrich")
async def enrich_target(name: str, request: Request):
    state = _admin(request)
    store = _store(state)

    def enrich() -> dict:
        if store.get(name) is None:
            raise _unknown(name)
        try:
            _enrich(state, store, [name])
        except TargetError as exc:  # removed meanwhile
            raise _unknown(name) from exc
        target = store.get(name)
        if target is None:  # removed meanwhile
            raise _unknown(name)
        return target.model_dump()

    return await _call(enrich)


@router.post("/{name:path}/probe", status_code=202)
async def probe_target(name: str, request: Request, force: bool = Query(False, description="probe again")):
    from ..probing.background import start_probe

    state = _admin(request)
    store = _store(state)
    target = await _call(store.get, name)
    if target is None:
        raise _unknown(name)
    probe = await _call(start_probe, state.alu, store, target.name, force=force)
    return {**target.model_dump(), "probe": probe}


@router.put("/{name:path}/enrichment", openapi_extra=_EDIT_BODY)
async def edit_target_enrichment(name: str, request: Request):
    from ..enrichment import edit_enrichment

    store = _store(_admin(request))
    try:
        edit = EnrichmentEdit.model_validate(_body(request))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, f"invalid request: {where}: {first['msg']}") from exc
    if edit.names is None and edit.terms is None and edit.description is None:
        raise ApiError(400, "invalid request: give names, terms or description")

    def save() -> dict:
        if store.get(name) is None:
            raise _unknown(name)
        return edit_enrichment(store, name, **edit.model_dump(exclude_none=True)).model_dump()

    try:
        return await _call(save)
    except TargetError as exc:
        raise ApiError(400, str(exc)) from exc


@router.delete("/{name:path}/enrichment")
async def remove_target_enrichment(name: str, request: Request):
    store = _store(_admin(request))
    saved = await _call(store.set_enrichment, name, None)
    if saved is None:
        raise _unknown(name)
    return saved.model_dump()


async def _remove(request: Request, name: str) -> dict:
    store = _store(_admin(request))
    if not await _call(store.remove, name):
        raise _unknown(name)
    return {"removed": name}


@router.delete("")
async def remove_target_by_query(
    request: Request, name: str = Query(..., description="the target's name or alias")
):
    return await _remove(request, name)


@router.delete("/{name:path}")
async def remove_target(name: str, request: Request):
    return await _remove(request, name)
