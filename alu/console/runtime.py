"""What runs beside the pages: background jobs (a bounded number at a time, their state in
the store so a reload shows it) and the recorder that keeps decisions in the store."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ..pipeline import ALU
from .store import ConsoleStore, Decision

log = logging.getLogger("alu.console")
# The jobs that exist, by the name their button posts. verify joins when it exists.
JOBS = ("enrich", "probe")


class Jobs:
    """Long jobs on at most ``workers`` threads, so answering traffic goes on beside them."""

    def __init__(self, console: ConsoleStore, alu: ALU, owner: str, workers: int = 1):
        self.console = console
        self.alu = alu
        self.owner = owner
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alu-console-job")

    def start(self, kind: str, target: str, operator: str) -> int:
        if kind not in JOBS:
            raise ValueError(f"no job called {kind!r}")
        job_id = self.console.add_job(kind, target, operator, self.owner, total=1)
        self._pool.submit(self._run, job_id, kind, target)
        return job_id

    def _run(self, job_id: int, kind: str, target: str) -> None:
        try:
            self.console.update_job(job_id, state="running", done=0)
            if kind == "enrich":
                from ..enrichment import enrich_targets, serving_enricher

                store = self.alu.index.store
                enricher = serving_enricher(self.alu)
                cost = enrich_targets(
                    store, enricher, [target], force=True, model=enricher.model.name, show_progress=False
                )
                if cost.failed:
                    why = cost.failures[0][1] if cost.failures else "the enricher failed"
                    self.console.update_job(job_id, state="failed", done=1, error=why[:300])
                    return
            if kind == "probe":
                from ..agents.prober import Prober
                from ..probing import probe_targets

                store = self.alu.index.store
                # The model that answers (the Vanilla agent's) is the one whose knowledge counts.
                prober = Prober(self.alu.assistant.vanilla.model, timeout=self.alu.config.timeout)
                cost = probe_targets(store, prober, [target], force=True, show_progress=False)
                if cost.failed:
                    why = cost.failures[0][1] if cost.failures else "probing failed"
                    self.console.update_job(job_id, state="failed", done=1, error=why[:300])
                    return
            self.console.update_job(job_id, state="done", done=1)
        except Exception as exc:  # a job's failure is its own record, never the server's
            log.warning("console job %s failed: %r", job_id, exc)
            self.console.update_job(job_id, state="failed", error=f"{type(exc).__name__}: {exc}"[:300])

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class DecisionRecorder:
    """A decision log (as :class:`~alu.server.observability.Tee` takes) that keeps each
    answered question's verdict, matched targets and latency in the console's store. Rows
    are written by a background thread, so the store never delays an answer; entries without
    a verdict (admin calls, errors before the pipeline) are not decisions."""

    def __init__(self, console: ConsoleStore, *, capacity: int = 50_000, interval: float = 0.5):
        self.console = console
        self.dropped = 0
        self._queue: deque[Decision] = deque(maxlen=capacity)
        self._interval = interval
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="alu-console-decisions", daemon=True)
        self._thread.start()

    def write(self, entry: dict) -> None:
        if "verdict" not in entry:
            return
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(
            Decision(
                at=float(entry.get("time", time.time())),
                endpoint=str(entry.get("endpoint", "")),
                verdict=str(entry["verdict"]),
                matched=[str(m) for m in entry.get("matched", [])],
                latency_s=float(entry.get("latency_s", 0.0)),
                llm_calls=int(entry.get("llm_calls", 0)),
            )
        )

    def flush(self) -> bool:
        """Write what waits (a batch); False when the store cannot take it now."""
        batch = []
        while self._queue and len(batch) < 500:
            batch.append(self._queue.popleft())
        if not batch:
            return True
        try:
            self.console.add_decisions(batch)
        except Exception as exc:  # the store is away: keep them for the next try
            self._queue.extendleft(reversed(batch))
            log.warning("cannot record decisions in the console's store: %s", exc)
            return False
        return True

    def _loop(self) -> None:
        while not self._closing:
            self._wake.wait(self._interval)
            self._wake.clear()
            while self._queue and not self._closing:
                if not self.flush():
                    self._wake.wait(1.0)  # the store is away: try again soon, or close at once
                    break

    def close(self) -> None:
        """Stop, writing what waits if the store takes it at once: a server that stops while
        its database is away must not hang on its decisions."""
        self._closing = True
        self._wake.set()
        self._thread.join(2)
        while self._queue and self.flush():
            pass
        if self._queue:
            log.warning("%d decisions were not kept in the console's store", len(self._queue))
