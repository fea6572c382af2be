"""The console's pages: server-rendered HTML (Jinja2, autoescaped), forms that post back,
no inline script (one small static file, ``jobs.js``, keeps a job's progress bar current).
Every page but sign-in refuses without a session; every form carries
the session's CSRF token (sign-in and first-use setup: a double-submit cookie); every
response forbids framing and inline script (Content-Security-Policy), and is not cached.

Routes live under ``/console``, the cookie's path, so the chat API and its callers never
see the console's cookie or its pages.
"""

from __future__ import annotations

import csv
import hmac
import io
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import AluError, TargetError
from ..targets import Target, iter_targets
from ..targets.files import FORMATS, formula_safe
from ..trace import Trace
from . import plot
from .runtime import JOBS, Jobs
from .search import TargetList
from .store import KINDS, MOVES, OVERDUE_DAYS, STATUSES, ConsoleError, ConsoleStore, Session

COOKIE = "alu_console"
PRE_COOKIE = "alu_console_form"  # sign-in and setup: the double-submit CSRF token
PREFIX = "/console"
PAGE_SIZE = 50
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
        " form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
NOTES = {  # what a redirect may say, by key (never text from the request)
    "filed": "Request filed.",
    "moved": "Request updated.",
    "added": "Target added.",
    "saved": "Target saved.",
    "deleted": "Target deleted.",
    "imported": "Targets imported.",
    "job": "Job started.",
    "signed-out": "Signed out.",
    "ready": "Operator created: sign in.",
}
_TEMPLATES = Environment(
    loader=PackageLoader("alu.console", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(stamp)) if stamp else ""


_TEMPLATES.filters["when"] = _when


class Refused(Exception):
    """Answered with a page (or a redirect to sign-in) instead of the route's own."""

    def __init__(self, status: int, message: str, *, sign_in: bool = False):
        super().__init__(message)
        self.status, self.message, self.sign_in = status, message, sign_in


@dataclass
class Console:
    """What the console's routes share."""

    store: ConsoleStore
    targets: TargetList
    jobs: Jobs
    server: Any  # the server's state: the pipeline, the settings, the admin token
    recorder: Any = None  # the DecisionRecorder, which Try it writes to too


class ConsoleRoute(APIRoute):
    """Every console response gets the security headers; a refusal becomes a page."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refused as refused:
                if refused.sign_in:
                    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
                else:
                    response = _page(request, "error.html", status=refused.status, message=refused.message)
            except AluError as exc:  # a store that cannot be reached, a bad setting
                response = _page(request, "error.html", status=503, message=str(exc))
            response.headers.update(HEADERS)
            return response

        return handle


router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def console_of(request: Request) -> Console:
    return request.app.state.alu_console


def _page(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    session: Session | None = getattr(request.state, "console_session", None)
    note = NOTES.get(request.query_params.get("note", ""))
    html = _TEMPLATES.get_template(template).render(
        session=session, note=note, prefix=PREFIX, path=request.url.path, **values
    )
    return HTMLResponse(html, status_code=status)


def _redirect(path: str, note: str | None = None, **query: Any) -> RedirectResponse:
    params = {k: v for k, v in query.items() if v not in (None, "")}
    if note:
        params["note"] = note
    return RedirectResponse(PREFIX + path + (f"?{urlencode(params)}" if params else ""), status_code=303)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _session(request: Request) -> Session:
    token = request.cookies.get(COOKIE)
    session = await run_in_threadpool(console_of(request).store.session, token) if token else None
    if session is None:
        raise Refused(401, "sign in first", sign_in=True)
    request.state.console_session = session
    return session


async def _form(request: Request, session: Session | None = None) -> dict[str, Any]:
    """The posted form, after its CSRF token is checked: the session's, or without a
    session the double-submit cookie's."""
    form = await request.form()
    given = form.get("csrf")
    expected = session.csrf if session else request.cookies.get(PRE_COOKIE)
    if not isinstance(given, str) or not expected or not hmac.compare_digest(given, expected):
        raise Refused(
            403, "this form has expired or did not come from the console: reload the page and try again"
        )
    return dict(form)


def _text(form: dict[str, Any], name: str, limit: int = 10_000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise Refused(400, f"{name} is longer than {limit} characters")
    return value


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(";", "\n").splitlines() if line.strip()]


# -- signing in and out ----------------------------------------------------------------
def _pre_form(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    response = _page(request, template, status=status, csrf=token, **values)
    response.set_cookie(
        PRE_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
        max_age=3600,
    )
    return response


@router.get("")
async def home(request: Request) -> Response:
    await _session(request)
    return _redirect("/requests")


@router.get("/login")
async def login_page(request: Request) -> Response:
    count = await run_in_threadpool(console_of(request).store.operator_count)
    if count == 0:
        return _redirect("/setup")
    return _pre_form(request, "login.html")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    try:
        token, session = await run_in_threadpool(
            console_of(request).store.sign_in, _text(form, "name", 200), _text(form, "password", 1000)
        )
    except ConsoleError as exc:
        return _pre_form(request, "login.html", status=401, error=str(exc))
    response = _redirect("/requests")
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path=PREFIX,
        max_age=int(session.expires_at - time.time()),
    )
    response.delete_cookie(PRE_COOKIE, path=PREFIX)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = await _session(request)
    await _form(request, session)
    await run_in_threadpool(console_of(request).store.sign_out, request.cookies.get(COOKIE, ""))
    request.state.console_session = None
    response = _redirect("/login", "signed-out")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/setup")
async def setup_page(request: Request) -> Response:
    if await run_in_threadpool(console_of(request).store.operator_count):
        return _redirect("/login")
    return _pre_form(request, "setup.html")


@router.post("/setup")
async def setup(request: Request) -> Response:
    """The first operator, made by whoever holds the server's admin token."""
    console = console_of(request)
    if await run_in_threadpool(console.store.operator_count):
        raise Refused(409, "the console has operators already: ask one of them (alu console user add)")
    form = await _form(request)
    token = _text(form, "admin_token", 1000)
    admin = console.server.admin_token or ""
    if not admin or not hmac.compare_digest(token.encode(), admin.encode()):
        return _pre_form(request, "setup.html", status=401, error="that is not the server's admin token")
    password = _text(form, "password", 1000)
    if password != _text(form, "password_again", 1000):
        return _pre_form(request, "setup.html", status=400, error="the two passwords differ")
    try:
        await run_in_threadpool(console.store.add_operator, _text(form, "name", 200), password)
    except ConsoleError as exc:
        return _pre_form(request, "setup.html", status=400, error=str(exc))
    return _redirect("/login", "ready")


# -- requests --------------------------------------------------------------------------
def _request_filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    status = q.get("status") or None
    if status and status not in STATUSES:
        raise Refused(400, f"status is one of {', '.join(STATUSES)}")
    filters: dict[str, Any] = {"status": status, "overdue": q.get("overdue") == "1"}
    for name in ("older", "newer"):
        value = q.get(name) or ""
        if value:
            try:
                days = float(value)
            except ValueError:
                raise Refused(400, f"{name} is a number of days") from None
            filters[f"{name}_than_days"] = days
    return filters


@router.get("/requests")
async def requests_page(request: Request) -> Response:
    await _session(request)
    filters = _request_filters(request)
    found = await run_in_threadpool(lambda: console_of(request).store.requests(**filters))
    return _page(
        request,
        "requests.html",
        requests=found,
        statuses=STATUSES,
        query=request.query_params,
        export=f"{PREFIX}/requests.csv?{request.url.query}"
        if request.url.query
        else f"{PREFIX}/requests.csv",
        overdue_days=OVERDUE_DAYS,
    )


EXPORT_COLUMNS = [
    "id", "kind", "status", "requester", "reference", "targets", "notes", "reason",
    "received", "received_by", "history",
]  # fmt: skip


@router.get("/requests.csv")
async def export_requests(request: Request) -> Response:
    """The record for an audit: every request the filters select, with its history; cells
    a spreadsheet would run as a formula are quoted as ``alu targets export`` quotes them."""
    await _session(request)
    filters = _request_filters(request)
    found = await run_in_threadpool(
        lambda: console_of(request).store.requests(**filters, with_events=True, limit=1_000_000)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for r in found:
        history = "; ".join(
            f"{_when(e.at)} {e.status} by {e.operator}" + (f": {e.note}" if e.note else "") for e in r.events
        )
        row = [
            str(r.id), r.kind, r.status, r.requester, r.reference, "; ".join(r.targets), r.notes, r.reason,
            _when(r.created_at), r.created_by, history,
        ]  # fmt: skip
        writer.writerow([formula_safe(cell) for cell in row])
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="alu-requests-{stamp}.csv"'},
    )


@router.get("/requests/new")
async def new_request_page(request: Request) -> Response:
    session = await _session(request)
    return _page(request, "request_new.html", csrf=session.csrf, kinds=KINDS, form={})


@router.post("/requests")
async def file_request(request: Request) -> Response:
    session = await _session(request)
    form = await _form(request, session)
    try:
        request_id = await run_in_threadpool(
            console_of(request).store.file_request,
            kind=_text(form, "kind", 20),
            requester=_text(form, "requester", 500),
            reference=_text(form, "reference", 500),
            targets=_lines(_text(form, "targets")),
            notes=_text(form, "notes"),
            operator=session.operator,
        )
    except ConsoleError as exc:
        return _page(
            request, "request_new.html", status=400, csrf=session.csrf, kinds=KINDS, form=form, error=str(exc)
        )
    return _redirect(f"/requests/{request_id}", "filed")


async def _request_view(request: Request, session: Session, request_id: int, **values: Any) -> Response:
    console = console_of(request)
    found = await run_in_threadpool(console.store.request, request_id)
    if found is None:
        raise Refused(404, f"no request {request_id}")

    def stored() -> dict[str, int | None]:  # which of its targets are in the store, by id
        console.targets.refresh()
        out = {}
        for name in found.targets:
            target = console.targets.store.get(name)
            out[name] = target.id if target else None
        return out

    return _page(
        request,
        "request.html",
        status=values.pop("status", 200),
        csrf=session.csrf,
        request_=found,
        moves=MOVES.get(found.status, ()),
        in_store=await run_in_threadpool(stored),
        **values,
    )


@router.get("/requests/{request_id}")
async def request_page(request: Request, request_id: int) -> Response:
    session = await _session(request)
    return await _request_view(request, session, request_id)


@router.post("/requests/{request_id}/move")
async def move_request(request: Request, request_id: int) -> Response:
    session = await _session(request)
    form = await _form(request, session)
    try:
        await run_in_threadpool(
            console_of(request).store.move_request,
            request_id,
            _text(form, "status", 20),
            operator=session.operator,
            note=_text(form, "note"),
        )
    except ConsoleError as exc:
        return await _request_view(request, session, request_id, status=400, error=str(exc))
    return _redirect(f"/requests/{request_id}", "moved")


# -- targets ---------------------------------------------------------------------------
@router.get("/targets")
async def targets_page(request: Request) -> Response:
    await _session(request)
    query = request.query_params.get("q", "")[:200]
    try:
        number = int(request.query_params.get("page", "1"))
    except ValueError:
        number = 1
    page = await run_in_threadpool(console_of(request).targets.page, query, number, PAGE_SIZE)

    def link(n: int) -> str:
        return f"{PREFIX}/targets?" + urlencode({"q": query, "page": n} if query else {"page": n})

    return _page(request, "targets.html", page=page, query=query, link=link)


def _target_of(form: dict[str, Any]) -> Target:
    record = {
        "name": _text(form, "name", 200),
        "kind": _text(form, "kind", 20) or "other",
        "aliases": _lines(_text(form, "aliases")),
        "description": _text(form, "description"),
        "evidence": [line.strip() for line in _text(form, "evidence").splitlines() if line.strip()],
    }
    from ..targets import from_records

    return from_records([record], source="the form")[0]


async def _target(request: Request, target_id: int) -> Target:
    console = console_of(request)

    def find() -> Target | None:
        row = console.targets.row(target_id)
        return console.targets.store.get(row.name) if row else None

    target = await run_in_threadpool(find)
    if target is None or target.id != target_id:
        raise Refused(404, f"no target {target_id}")
    return target


_TARGET_KINDS = ("person", "topic", "hazard", "other")


@router.get("/targets/new")
async def new_target_page(request: Request) -> Response:
    session = await _session(request)
    name = request.query_params.get("name", "")[:200]
    return _page(
        request, "target_form.html", csrf=session.csrf, kinds=_TARGET_KINDS, form={"name": name}, target=None
    )


@router.post("/targets")
async def add_target(request: Request) -> Response:
    session = await _session(request)
    form = await _form(request, session)
    store = console_of(request).targets.store
    try:
        saved = await run_in_threadpool(lambda: store.add(_target_of(form), replace=False))
    except TargetError as exc:
        return _page(
            request, "target_form.html", status=400, csrf=session.csrf, kinds=_TARGET_KINDS, form=form,
            target=None, error=str(exc),
        )  # fmt: skip
    return _redirect(f"/targets/{saved.id}", "added")


@router.get("/targets/import")
async def import_page(request: Request) -> Response:
    session = await _session(request)
    return _page(request, "import.html", csrf=session.csrf, formats=FORMATS)


@router.post("/targets/import")
async def import_targets(request: Request) -> Response:
    """A target file, with the formats and checks of ``alu targets import``: every target or
    none."""
    session = await _session(request)
    form = await _form(request, session)
    upload = form.get("file")
    fmt = _text(form, "format", 10)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(
            request, "import.html", status=400, csrf=session.csrf, formats=FORMATS, error="choose a file"
        )
    raw = await upload.read()
    store = console_of(request).targets.store

    def run() -> int:
        from ..targets.files import format_of

        chosen = fmt if fmt in FORMATS else format_of(upload.filename or "")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TargetError(f"cannot read {upload.filename}: not UTF-8 text") from exc
        from ..scan.training import with_classifiers

        # As alu targets import does: hazards with examples are trained before storing.
        targets = iter_targets(text, chosen, source=upload.filename or "the file")
        return store.add_stream(with_classifiers(targets), replace=True)

    try:
        count = await run_in_threadpool(run)
    except TargetError as exc:
        return _page(request, "import.html", status=400, csrf=session.csrf, formats=FORMATS, error=str(exc))
    return _redirect("/targets", "imported", count=count)


@router.get("/targets/{target_id}")
async def target_page(request: Request, target_id: int) -> Response:
    session = await _session(request)
    target = await _target(request, target_id)
    jobs = await run_in_threadpool(console_of(request).store.jobs, target.name, 5)
    busy = any(j.state in ("queued", "running") for j in jobs)
    knowledge, model = target.knowledge, console_of(request).server.alu.assistant.vanilla.model
    # A model's identity may hash its weights once (a GGUF file): off the event loop.
    stale = knowledge is not None and knowledge.is_stale(await run_in_threadpool(lambda: model.identity))
    return _page(
        request,
        "target.html",
        csrf=session.csrf,
        target=target,
        jobs=jobs,
        job_kinds=JOBS,
        busy=busy,
        stale=stale,
    )


@router.get("/targets/{target_id}/jobs.json")
async def target_jobs(request: Request, target_id: int) -> Response:
    """The state of a target's recent jobs, for the progress bars (jobs.js)."""
    await _session(request)
    target = await _target(request, target_id)
    jobs = await run_in_threadpool(console_of(request).store.jobs, target.name, 5)
    fields = ("id", "kind", "state", "done", "total", "error")
    return JSONResponse([{f: getattr(job, f) for f in fields} for job in jobs])


@router.get("/targets/{target_id}/edit")
async def edit_target_page(request: Request, target_id: int) -> Response:
    session = await _session(request)
    target = await _target(request, target_id)
    form = {
        "name": target.name,
        "kind": target.kind,
        "aliases": "\n".join(target.aliases),
        "description": target.description,
        "evidence": "\n".join(target.evidence),
    }
    return _page(
        request, "target_form.html", csrf=session.csrf, kinds=_TARGET_KINDS, form=form, target=target
    )


@router.post("/targets/{target_id}/edit")
async def edit_target(request: Request, target_id: int) -> Response:
    session = await _session(request)
    form = await _form(request, session)
    old = await _target(request, target_id)
    store = console_of(request).targets.store

    def save() -> Target:
        new = _target_of(form)
        holder = store.get(new.name)
        if holder is not None and holder.id != old.id:
            raise TargetError(f"another target is called {new.name!r}")
        # A hazard's examples (and the classifier trained on them) are the operator's: an
        # edit of its other fields keeps them; what was generated for the name is kept only
        # while the name is.
        examples = old.examples if new.kind == "hazard" else None
        if new.name != old.name:  # a new name is a new record: the old one goes
            saved = store.add(new.model_copy(update={"examples": examples}), replace=False)
            store.remove(old.name)
            return saved
        kept = {"enrichment": old.enrichment, "knowledge": old.knowledge, "examples": examples}
        return store.add(new.model_copy(update=kept), replace=True)

    try:
        saved = await run_in_threadpool(save)
    except TargetError as exc:
        return _page(
            request, "target_form.html", status=400, csrf=session.csrf, kinds=_TARGET_KINDS, form=form,
            target=old, error=str(exc),
        )  # fmt: skip
    return _redirect(f"/targets/{saved.id}", "saved")


@router.get("/targets/{target_id}/delete")
async def delete_target_page(request: Request, target_id: int) -> Response:
    session = await _session(request)
    target = await _target(request, target_id)
    return _page(request, "target_delete.html", csrf=session.csrf, target=target)


@router.post("/targets/{target_id}/delete")
async def delete_target(request: Request, target_id: int) -> Response:
    session = await _session(request)
    await _form(request, session)
    target = await _target(request, target_id)
    await run_in_threadpool(console_of(request).targets.store.remove, target.name)
    return _redirect("/targets", "deleted")


@router.post("/targets/{target_id}/jobs")
async def start_job(request: Request, target_id: int) -> Response:
    session = await _session(request)
    form = await _form(request, session)
    kind = _text(form, "kind", 20)
    if kind not in JOBS:
        raise Refused(400, f"no job called {kind!r}")
    target = await _target(request, target_id)
    await run_in_threadpool(console_of(request).jobs.start, kind, target.name, session.operator)
    return _redirect(f"/targets/{target_id}", "job")


# -- try it ----------------------------------------------------------------------------
@router.get("/try")
async def try_page(request: Request) -> Response:
    session = await _session(request)
    return _page(request, "try.html", csrf=session.csrf, question=request.query_params.get("q", "")[:2000])


@router.post("/try")
async def try_question(request: Request) -> Response:
    """What the model alone answers beside what ALU answers, with ALU's trace."""
    session = await _session(request)
    form = await _form(request, session)
    question = _text(form, "question", 4000).strip()
    if not question:
        return _page(request, "try.html", status=400, csrf=session.csrf, question="", error="ask a question")
    console = console_of(request)
    alu = console.server.alu

    def alone() -> tuple[str, float, str | None]:
        started = time.perf_counter()
        try:
            text = alu.assistant.answer(Trace(mode="model-alone"), question)
            return text, time.perf_counter() - started, None
        except Exception as exc:
            return "", time.perf_counter() - started, f"the model failed: {type(exc).__name__}"

    def guarded():
        answer = alu.ask(question)
        recorder = getattr(console, "recorder", None)
        if recorder is not None:
            trace = answer.trace
            recorder.write(
                {
                    "time": time.time(),
                    "endpoint": "console",
                    "verdict": trace.verdict,
                    "matched": [c["name"] for c in trace.candidates],
                    "latency_s": trace.seconds,
                    "llm_calls": trace.llm_calls,
                }
            )
        return answer

    try:
        answer = await run_in_threadpool(guarded)
    except AluError as exc:
        return _page(request, "try.html", status=400, csrf=session.csrf, question=question, error=str(exc))
    model_text, model_seconds, model_error = await run_in_threadpool(alone)
    return _page(
        request,
        "try.html",
        csrf=session.csrf,
        question=question,
        answer=answer,
        trace=answer.trace,
        model_text=model_text,
        model_seconds=model_seconds,
        model_error=model_error,
    )


# -- decisions -------------------------------------------------------------------------
@router.get("/decisions")
async def decisions_page(request: Request) -> Response:
    await _session(request)
    target = request.query_params.get("target", "")[:200].strip()
    verdict = request.query_params.get("verdict", "")
    if verdict and verdict not in plot.VERDICTS:
        raise Refused(400, f"verdict is one of {', '.join(plot.VERDICTS)}")
    store = console_of(request).store
    since = time.time() - 7 * 86400
    found = await run_in_threadpool(
        lambda: store.decisions(target=target or None, verdict=verdict or None, since=since, limit=5000)
    )
    return _page(
        request,
        "decisions.html",
        decisions=found[:100],
        total=len(found),
        chart=Markup(plot.svg(found)),
        colours=plot.COLOURS,
        verdicts=plot.VERDICTS,
        target=target,
        verdict=verdict,
    )


STATIC = {"console.css": "text/css", "favicon.svg": "image/svg+xml", "jobs.js": "text/javascript"}


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """The console's own assets, from the package (no network, nothing from elsewhere)."""
    if name not in STATIC:
        raise Refused(404, "no such file")
    body = files("alu.console").joinpath(f"static/{name}").read_bytes()
    return Response(body, media_type=STATIC[name])
