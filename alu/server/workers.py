"""``alu serve --workers N``: N processes answering on one port, for a server whose model is
remote (an ``openai:`` backend, llama.cpp's own server), where one process's event loop and
interpreter lock are the limit rather than the model.

uvicorn's supervisor binds the port and forks the workers once it has loaded what every
worker reads and none changes (the imports, wordfreq's English list, the name lists and
look-alike tables: some 100 MB of a process's own memory), so those pages stay shared
instead of each worker holding its own copy (``preload``). Each worker rebuilds the app
from the settings the command resolved, which reach it in a file only its owner can read,
named by ``$ALU_SERVE_WORKER_SETTINGS``, never on the command line (``ps`` shows that to
every user); the admin token is not in it, each worker reads it as the command did. Every worker
maps one index file (``--index-file``, else one in the cache folder named after the
store), so the pre-screen's tables are in memory once per host: the first worker to find
it missing builds it under its lock, the others wait (not ready meanwhile) and map it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

import uvicorn
import uvicorn._subprocess
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from ..errors import AluError, ConfigError
from ..models import backend_of
from ..paths import cache_dir
from ..settings import Settings
from ..stores import open_store
from .app import create_app
from .protocol import head_timeout_protocol

SETTINGS_ENV = "ALU_SERVE_WORKER_SETTINGS"
log = logging.getLogger("uvicorn.error")  # what uvicorn prints at log level warning


def in_memory(db: str) -> bool:
    """An SQLite database that lives in one connection: nothing another process could share."""
    return db == ":memory:" or db.startswith("file::memory:") or "mode=memory" in db


def check_workers(settings: Settings) -> None:
    """Refuse, in one line, a number of workers that would not share what they should."""
    n = settings.serve.workers
    if n == 1:
        return
    if in_memory(settings.db):
        raise ConfigError(
            f"--workers {n} needs a target store the workers share (an SQLite file or PostgreSQL):"
            f" {settings.db} is in memory, one per process"
        )
    if settings.serve.model_per_worker:
        return
    for spec in dict.fromkeys([settings.model, *settings.models.values()]):
        if backend_of(spec).in_process:
            raise ConfigError(
                f"--workers {n} would load the model {spec!r} in every worker ({n} copies in memory):"
                " serve it once (llama.cpp's llama-server) and use a remote backend, e.g. --model"
                " openai:NAME with ALU_BASE_URL; or pass --allow-model-per-worker"
            )


def default_index_file(store_location: str) -> Path:
    """The index file of a store when none is given: in the cache folder, named by a hash of
    the store's location (one file per store, whatever the path or URL looks like)."""
    digest = hashlib.sha256(store_location.encode("utf-8")).hexdigest()[:16]
    return cache_dir() / "index" / f"{digest}.alu"


def prepare(settings: Settings) -> Settings:
    """``settings`` as the workers get them, checked: the index file named, the store opened
    once (a store that cannot be opened fails here, in one line, not in N workers), and
    the console's jobs left unfinished by the last run marked failed, once."""
    check_workers(settings)
    store = open_store(settings.db)
    try:
        index_file = settings.serve.index_file or default_index_file(store.location)
        if settings.serve.console and settings.serve.admin_token():
            from ..console import interrupt_jobs

            interrupt_jobs(store, settings.serve)
    finally:
        store.close()
    serve = settings.serve.model_copy(update={"index_file": index_file})
    return settings.model_copy(update={"serve": serve})


class WorkerConfig(uvicorn.Config):
    """uvicorn's config as the supervisor sends it to each worker (pickled): the protocol
    with the request-head timeout, a class made at run time, is made in the worker."""

    def __init__(self, app: str, *, header_timeout: float, **options) -> None:
        super().__init__(app, http="h11", **options)
        self.header_timeout = header_timeout

    def load(self) -> None:
        if not self.loaded:
            self.http = head_timeout_protocol(self.header_timeout)
        super().load()


def preload() -> None:
    """Load in this process what every worker reads and never changes, so that workers forked
    from it share those pages rather than each reading its own copy: the app's imports,
    wordfreq's English list, the name lists and look-alike tables (``lexical.warm``). Then
    move what is loaded out of the garbage collector's reach (``gc.freeze``): a collection
    in a worker would otherwise write to every object's header and unshare its page."""
    from ..scan.lexical import warm

    warm()
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def forked_workers():
    """uvicorn's supervisor starting its workers by forking rather than spawning (a fresh
    interpreter that imports and reads everything again). uvicorn takes its process context
    from one module attribute; nothing else of it changes."""
    spawn = uvicorn._subprocess.spawn
    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")
    try:
        yield
    finally:
        uvicorn._subprocess.spawn = spawn


def serve_workers(settings: Settings) -> None:
    """Run ``settings.serve.workers`` workers (``settings`` from :func:`prepare`) until
    stopped; ConfigError when one could not start (its reason is logged above)."""
    s = settings.serve
    folder = Path(tempfile.mkdtemp(prefix="alu-serve-"))  # 0700: the settings may hold API keys
    path = folder / "settings.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(settings.model_dump_json())
    os.environ[SETTINGS_ENV] = str(path)  # the spawned workers inherit it
    try:
        config = WorkerConfig(
            f"{__name__}:worker_app",
            factory=True,
            header_timeout=s.header_timeout,
            host=s.host,
            port=s.port,
            workers=s.workers,
            log_level="warning",
        )
        preload()
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        with forked_workers():
            supervisor.run()
    finally:
        os.environ.pop(SETTINGS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        raise ConfigError("a worker could not start (its reason is above); stopped")


def worker_settings() -> Settings:
    """The settings the supervisor resolved, as it wrote them for its workers."""
    path = os.environ.get(SETTINGS_ENV)
    if not path:
        raise ConfigError(f"{__name__}:worker_app is run by alu serve --workers N (${SETTINGS_ENV} is unset)")
    try:
        return Settings.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the workers' settings {path}: {exc}") from exc


def worker_app() -> FastAPI:
    """One worker's app (uvicorn's factory): the pipeline rebuilt from the supervisor's
    settings over the shared index file. A worker that cannot start exits as uvicorn's
    startup failure, which stops the supervisor rather than restart it again and again."""
    try:
        settings = worker_settings()
        alu = settings.build_alu()
        alu.index.use_file(settings.serve.index_file, share=settings.serve.index_copy)
        token = settings.serve.admin_token()
    except AluError as exc:
        log.error("worker %d cannot start: %s", os.getpid(), exc)
        sys.exit(STARTUP_FAILURE)
    return create_app(alu, settings.serve, admin_token=token, worker=True)
