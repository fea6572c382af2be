"""The one path every request takes: read and check its body, answer any failure with a
one-line JSON error, and record it (status, latency, what the pipeline did) in the
metrics and the decision log.

The body is read here, before any route sees it: at most ``max_body_bytes`` (the admin
token's holder: ``max_admin_body_bytes``) else 413, within ``body_timeout`` seconds else
408; JSON must be UTF-8, at most ``MAX_JSON_DEPTH`` levels deep and free of lone
surrogates, else 400. Large bodies are parsed on a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .state import Exchange, ServerState, endpoint_of, error_response

log = logging.getLogger("alu.server")
MAX_JSON_DEPTH = 32  # a chat body is 5 levels deep; nothing we accept comes near
PARSE_OFF_LOOP_BYTES = 256 * 1024
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyProblem(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


class Disconnected(Exception):
    """The client went away before its body arrived."""


def json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``raw`` JSON nests (counted up to ``limit + 1``), without parsing it."""
    depth = deepest = 0
    for bracket in _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS):
        depth += 1 if bracket in (91, 123) else -1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_json(raw: bytes) -> Any:
    """The parsed body, or a BodyProblem saying in one line what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyProblem(400, f"the body is not valid UTF-8 (byte {exc.start})") from exc
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BodyProblem(400, f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "unreadable"
        raise BodyProblem(400, f"the body is not JSON: {reason}") from exc
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise BodyProblem(400, "the body holds a lone surrogate (\\ud800-\\udfff): not valid Unicode text")
    return value


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # no content type: read as JSON, as FastAPI does


class Guard:
    """ASGI middleware around the whole application (see the module's docstring)."""

    def __init__(self, app: ASGIApp, state: ServerState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_of(scope["path"])
        prefix = "chatcmpl-" if endpoint == "/v1/chat/completions" else "req-"
        exchange = Exchange(scope["method"], endpoint, request_id=prefix + uuid.uuid4().hex[:24])
        scope.setdefault("state", {})["exchange"] = exchange
        started = recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.state.record(exchange)

        async def send_and_note(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                exchange.status = message["status"]
                MutableHeaders(scope=message).append("x-request-id", exchange.request_id)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                record()  # before the last byte leaves: a client that got its answer finds it logged
            await send(message)

        try:
            try:
                body = await self._read_body(scope, receive, exchange)
            except BodyProblem as problem:
                exchange.fail(problem.status, problem.message, problem.kind)
                response = error_response(problem.status, problem.message, problem.kind)
                await response(scope, receive, send_and_note)
                return
            except Disconnected:
                exchange.fail(499, "the client closed the connection", "client_closed")
                return
            await self.app(scope, _replay(body, receive), send_and_note)
        except Exception as exc:
            if started:  # the status line is out: all we can do is note it
                exchange.error = f"failed after the response began: {exc!r}"
                exchange.error_type = "server_error"
                log.warning("request %s failed while streaming: %r", exchange.request_id, exc)
            else:
                log.exception("request %s failed", exchange.request_id)
                exchange.fail(500, "internal error", "server_error")
                response = error_response(500, "internal error: the request was not answered", "server_error")
                await response(scope, receive, send_and_note)
        finally:
            record()

    async def _read_body(self, scope: Scope, receive: Receive, exchange: Exchange) -> bytes:
        settings = self.state.settings
        headers = dict(scope.get("headers", ()))
        admin = self.state.token_matches(headers.get(b"authorization", b""))
        limit = settings.max_admin_body_bytes if admin else settings.max_body_bytes
        too_large = BodyProblem(413, f"the request body is larger than {limit} bytes", "request_too_large")
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(settings.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError as exc:
            raise BodyProblem(
                408, f"the request body did not arrive within {settings.body_timeout:g} s", "timeout"
            ) from exc
        body = b"".join(chunks)
        if body:
            try:
                if len(body) > PARSE_OFF_LOOP_BYTES:
                    exchange.json = await run_in_threadpool(check_json, body)
                else:
                    exchange.json = check_json(body)
            except BodyProblem:
                if _is_json(scope):  # another content type (curl -d's form type): the route decides
                    raise
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the application: the body already read, then the client's own events
    (a disconnect, which streaming responses listen for)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
