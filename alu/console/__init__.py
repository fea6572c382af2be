"""The operator console: right-to-be-forgotten and safety requests handled in the browser,
served by ``alu serve`` under ``/console`` when an admin token is configured.

Operators sign in with their own accounts (``alu console user add NAME``, or the admin
token on first use); requests, operators, sessions, jobs and decisions are kept in the
same database as the targets (:mod:`.store`). Pages render on the server (:mod:`.web`).
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from .store import ConsoleError, ConsoleStore

log = logging.getLogger("alu.console")
__all__ = ["ConsoleError", "ConsoleStore", "interrupt_jobs", "job_owner", "mount_console"]


def mount_console(app: Any, state: Any) -> None:
    """Serve the console on ``app`` beside the API, with ``state`` (the server's): its
    pipeline's target store holds the console's tables, and its decision log gains a copy
    in the store so the decisions page works without ``--log-db``."""
    from ..server.observability import Tee
    from .runtime import DecisionRecorder, Jobs
    from .search import TargetList
    from .web import Console, router

    store = state.alu.index.store
    if store is None:
        log.warning("the console is off: the server has no target store")
        return
    settings = state.settings
    owner = job_owner(settings)
    console_store = ConsoleStore.beside(store)
    if not state.worker:  # with --workers, the supervisor did it once, before any worker ran a job
        console_store.interrupt_jobs(owner)
    console_store.prune_decisions()
    jobs = Jobs(console_store, state.alu, owner, settings.console_jobs)
    console = Console(console_store, TargetList(store), jobs, state)
    console.recorder = DecisionRecorder(console_store)
    # The server closes its decision log when it stops: the console closes with it.
    state.log = Tee(state.log, console.recorder, _Closing(console))
    app.state.alu_console = console
    app.include_router(router)
    threading.Thread(target=_warm, args=(console.targets,), name="alu-console-warm", daemon=True).start()


def job_owner(settings: Any) -> str:
    """Whose jobs a server's are: its replica name, as the decision log names it (every
    worker of one ``alu serve --workers N`` shares it)."""
    return settings.replica or f"{socket.gethostname()}:{settings.port}"


def interrupt_jobs(store: Any, settings: Any) -> None:
    """Mark the jobs a server of ``settings`` left unfinished when it last stopped as failed;
    ``alu serve --workers N`` does it once, before its workers start (a worker that did it
    would fail the jobs its siblings are running)."""
    console_store = ConsoleStore.beside(store)
    try:
        console_store.interrupt_jobs(job_owner(settings))
    finally:
        console_store.close()


class _Closing:
    """A decision log that records nothing and, when the server closes its logs, stops the
    console's jobs and releases its connections (after the recorder's last write)."""

    def __init__(self, console: Any):
        self.console = console

    def write(self, entry: dict) -> None:
        return None

    def close(self) -> None:
        self.console.jobs.close()
        self.console.store.close()


def _warm(targets: Any) -> None:
    """Read the targets into the console's list now (seconds at 100,000), not when the first
    operator opens the page."""
    try:
        targets.refresh()
    except Exception as exc:  # the page will try again, and say why if it fails
        log.debug("the console's target list was not read ahead: %r", exc)
