"""The FastAPI application: error handlers, the routers, health and metrics."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..pipeline import ALU
from ..settings import ServeSettings
from . import admin, chat
from .state import ApiError, ServerState, state_of


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def create_app(alu: ALU, settings: ServeSettings | None = None, *, admin_token: str | None = None) -> FastAPI:
    """The server around one pipeline instance (shared by every request)."""
    app = FastAPI(title="ALU unlearning server", version="0.1.0")
    app.state.alu_server = ServerState(alu, settings or ServeSettings(), admin_token)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.kind)

    @app.exception_handler(RequestValidationError)
    async def _bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        return _error(400, f"invalid request: {where}: {first.get('msg')}", "invalid_request_error")

    app.include_router(chat.router)
    app.include_router(admin.router)

    @app.get("/healthz")
    async def healthz(request: Request):
        return {"status": "ok", "in_flight": state_of(request).in_flight.count}

    @app.get("/metrics")
    async def prometheus(request: Request):
        registry = state_of(request).metrics.registry
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(alu: ALU, settings: ServeSettings, *, admin_token: str | None = None) -> None:
    import uvicorn

    app = create_app(alu, settings, admin_token=admin_token)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
