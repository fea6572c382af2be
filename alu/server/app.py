"""The FastAPI application: the guard every request passes, error handlers, the routers,
liveness (``/healthz``: the process answers), readiness (``/readyz``: 503 while the target
store cannot be read or the index is being built; both name the process that answered,
one of several with ``--workers``) and metrics. ``/docs``, ``/redoc`` and
``/openapi.json`` are off unless ``[serve] docs`` turns them on; ``/metrics`` needs the
admin token unless ``metrics_public`` (its counters would tell a caller whether their own
request touched a target)."""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from ..pipeline import ALU
from ..scan.written import known_names
from ..settings import ServeSettings
from . import admin, chat
from .guard import Guard
from .protocol import head_timeout_protocol
from .state import ApiError, ServerState, error_response, exchange_of, state_of

_KINDS = {401: "authentication_error", 404: "not_found", 405: "method_not_allowed", 429: "rate_limit_error"}


def _error(request: Request, status: int, message: str, kind: str) -> JSONResponse:
    exchange_of(request).fail(status, message, kind)
    return error_response(status, message, kind)


def create_app(
    alu: ALU, settings: ServeSettings | None = None, *, admin_token: str | None = None, worker: bool = False
) -> FastAPI:
    """The server around one pipeline instance (shared by every request); ``worker``: one
    of several processes serving the same port (``alu serve --workers N``)."""
    settings = settings or ServeSettings()
    docs = settings.docs
    state = ServerState(alu, settings, admin_token, worker=worker)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        state.readiness.start()  # build the index (minutes at a million targets): /readyz says 503 till then
        alu.index.follow()  # sync as soon as another replica changes the targets
        known_names()  # load the name lists now (about 2 s), not during a caller's request
        try:
            yield
        finally:
            alu.index.close()
            state.readiness.close()
            state.log.close()

    app = FastAPI(
        title="ALU unlearning server",
        version="0.1.0",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
    )
    app.state.alu_server = state
    app.add_middleware(Guard, state=state)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(request, exc.status, exc.message, exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        message = str(first.get("msg")).removeprefix("Value error, ")
        return _error(request, 400, f"invalid request: {where}: {message}", "invalid_request_error")

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(
            request, exc.status_code, str(exc.detail), _KINDS.get(exc.status_code, "invalid_request_error")
        )

    app.include_router(chat.router)
    app.include_router(admin.router)
    if admin_token and settings.console:  # the operator console, beside the admin API
        from ..console import mount_console

        mount_console(app, state)

    @app.get("/healthz")
    async def healthz(request: Request):
        """Liveness: the process answers. Whether it can serve is ``/readyz``."""
        state = state_of(request)
        health = {"status": "ok", "pid": os.getpid(), "in_flight": state.in_flight.count}
        if state.is_admin(request):  # how many targets there are is the operator's business
            index = state.alu.index
            health |= {"targets": await _stored_targets(index), "targets_revision": index.revision}
        return health

    @app.get("/readyz")
    async def readyz(request: Request):
        """Readiness: 503 while the target store cannot be read or the index is being built."""
        problem = await state_of(request).readiness.check()
        if problem is not None:
            raise ApiError(503, f"not ready: {problem}", "service_unavailable")
        return {"status": "ready", "pid": os.getpid()}

    @app.get("/metrics")
    async def prometheus(request: Request):
        state = state_of(request)
        if not state.settings.metrics_public:
            if not state.admin_token:
                raise ApiError(
                    404, "metrics are off: set an admin token, or [serve] metrics_public", "not_found"
                )
            state.require_admin(request)
        return PlainTextResponse(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _stored_targets(index) -> int | None:
    """How many targets the store holds (None: it cannot be read), not how many the index
    has applied so far: an import shows at once, before any request syncs the index."""
    if index.store is None:
        return len(index)
    try:
        return await run_in_threadpool(index.store.count)
    except Exception:  # an unreadable store is /readyz's to report; liveness stays up
        return None


def uvicorn_config(app: FastAPI, settings: ServeSettings, **options) -> uvicorn.Config:
    """How ``alu serve`` runs ``app``: uvicorn's h11 protocol with the request-head timeout."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        http=head_timeout_protocol(settings.header_timeout),
        **options,
    )


def serve(alu: ALU, settings: ServeSettings, *, admin_token: str | None = None) -> None:
    """Serve until stopped; the index is built in the background (``/readyz`` says when)."""
    app = create_app(alu, settings, admin_token=admin_token)
    uvicorn.Server(uvicorn_config(app, settings)).run()
