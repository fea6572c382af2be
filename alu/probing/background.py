"""Probing in the background of a running server: one thread per pipeline, one probe call
at a time, pausing after each call so that probing takes at most ``SHARE`` of the model's
time while answering traffic goes on. A target queued twice is probed once; a failure is
marked on the target (``batch.failed``) like the CLI's."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque

from ..agents.prober import Prober
from ..stores import Store
from .batch import DEFAULT_CALLS, probe_targets

SHARE = 0.5  # of the model's time, at most, for probing
log = logging.getLogger(__name__)


class ProbeWorker:
    def __init__(self, store: Store, prober: Prober, *, share: float = SHARE, calls: int = DEFAULT_CALLS):
        if not 0 < share <= 1:
            raise ValueError("share must be in (0, 1]")
        self.store, self.prober, self.share, self.calls = store, prober, share, calls
        self._queue: deque[tuple[str, bool]] = deque()
        self._queued: set[str] = set()
        self._lock = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="alu-probe", daemon=True)
        self._thread.start()

    def submit(self, name: str, *, force: bool = False) -> bool:
        """Queue ``name``; False when it is queued already."""
        with self._lock:
            if name in self._queued:
                return False
            self._queued.add(name)
            self._queue.append((name, force))
            self._lock.notify()
            return True

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def _pace(self, seconds: float) -> None:
        time.sleep(seconds * (1 - self.share) / self.share)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue:
                    self._lock.wait()
                name, force = self._queue[0]
            try:
                probe_targets(
                    self.store,
                    self.prober,
                    [name],
                    force=force,
                    calls=self.calls,
                    pace=self._pace,
                    show_progress=False,
                )
            except Exception as exc:  # an unknown or removed target, a store down: logged, next
                log.warning("probing %r failed: %s", name, exc)
            with self._lock:
                self._queue.popleft()
                self._queued.discard(name)


_WORKERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_WORKERS_LOCK = threading.Lock()


def worker_for(owner: object, store: Store, prober: Prober) -> ProbeWorker:
    """The one worker of ``owner`` (a server's pipeline), started on first use."""
    with _WORKERS_LOCK:
        worker = _WORKERS.get(owner)
        if worker is None:
            worker = _WORKERS[owner] = ProbeWorker(store, prober)
        return worker


def start_probe(alu, store: Store, name: str, *, force: bool = False) -> dict:
    """Queue ``name`` on the worker of a server's pipeline ``alu``, which probes the model
    that answers (the Vanilla agent's); what the admin API returns about it."""
    model = alu.assistant.vanilla.model
    worker = worker_for(alu, store, Prober(model, timeout=alu.config.timeout))
    target = store.get(name)
    stale = None if target is None or target.knowledge is None else target.knowledge.is_stale(model.identity)
    return {"queued": worker.submit(name, force=force), "pending": worker.pending(), "stale": stale}
