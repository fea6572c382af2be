"""Jobs that call a model once or more for each of many targets (``alu targets enrich``,
``alu targets probe``): which targets, a progress bar, what it cost, and resumability.

Each target's result is written to the store as soon as it is done, so an interrupted job
resumes where it stopped; a target whose attempt fails is marked (and tried again on the
next run) and never stops the others. Unknown names are an error before anything is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import AgentFailure, ModelError, TargetError
from .stores import Store
from .targets import Target
from .trace import Trace


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Cost:
    """What a job did and what it cost. ``counts`` are what the targets done produced (names,
    terms, fingerprint items, ...), reported per target done."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (target, why), the first 20
    verb: str = "enriched"  # what the job does, for its summary line

    def add(self, trace: Trace) -> None:
        self.llm_calls += trace.llm_calls
        self.prompt_tokens += trace.prompt_tokens
        self.completion_tokens += trace.completion_tokens

    def count(self, what: str, number: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + number

    def fail(self, name: str, why: str) -> None:
        self.failed += 1
        if len(self.failures) < 20:
            self.failures.append((name, why))

    @property
    def attempted(self) -> int:
        return self.done + self.failed

    def summary(self) -> dict:
        n = max(1, self.attempted)
        return {
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "llm_calls": self.llm_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "seconds": round(self.seconds, 2),
            "per_target": {
                "seconds": round(self.seconds / n, 2),
                "llm_calls": round(self.llm_calls / n, 2),
                "prompt_tokens": round(self.prompt_tokens / n, 1),
                "completion_tokens": round(self.completion_tokens / n, 1),
                **{k: round(v / max(1, self.done), 1) for k, v in self.counts.items()},
            },
            "failures": [{"target": t, "error": e} for t, e in self.failures],
        }

    def line(self) -> str:
        s = self.summary()
        per = s["per_target"]
        return (
            f"{self.verb} {self.done}, failed {self.failed}, skipped {self.skipped}; "
            f"{self.llm_calls} LLM calls, {self.prompt_tokens}+{self.completion_tokens} tokens, "
            f"{s['seconds']:g} s; per target {per['seconds']:g} s, "
            f"{per['prompt_tokens']:g}+{per['completion_tokens']:g} tokens"
        )


def choose(store: Store, names: Iterable[str] | None) -> tuple[Iterable[Target], bool, int]:
    """The targets called ``names`` (every target, read a page at a time, when None): the
    targets, whether they were named, how many. An unknown name is a TargetError."""
    if names is None:
        return store.iterate(), False, store.count()
    chosen: list[Target] = []
    for name in dict.fromkeys(names):
        target = store.get(name)
        if target is None:
            raise TargetError(f"no target named {name!r}")
        chosen.append(target)
    return chosen, True, len(chosen)


def run_job(
    store: Store,
    names: Iterable[str] | None,
    *,
    doing: str,
    skip: Callable[[Target, bool], bool],
    attempt: Callable[[Target, Cost], Trace],
    mark_failed: Callable[[Target, str], None],
    cost: Cost,
    show_progress: bool = True,
    console: Console | None = None,
) -> Cost:
    """For each chosen target: ``skip(target, named)``, else ``attempt(target, cost)``, which
    does the work, saves it and returns its trace; an AgentFailure or ModelError (its trace
    in ``exc.trace``) is ``mark_failed(target, why)`` and the job goes on. ``doing`` names
    the work on the progress bar ("enriching")."""
    chosen, named, total = choose(store, names)
    started = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not show_progress, transient=False) as progress:
        task = progress.add_task(doing, total=total)
        for target in chosen:
            progress.update(task, description=f"{doing} {escape(target.name[:40])}")
            if skip(target, named):
                cost.skipped += 1
            else:
                try:
                    cost.add(attempt(target, cost))
                    cost.done += 1
                except (AgentFailure, ModelError) as exc:
                    cost.add(getattr(exc, "trace", None) or Trace(mode=doing))
                    why = " ".join(str(exc).split())[:300]
                    mark_failed(target, why)
                    cost.fail(target.name, why)
            progress.advance(task)
        progress.update(task, description=cost.verb)
    cost.seconds += time.perf_counter() - started
    return cost
