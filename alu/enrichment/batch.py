"""Enriching many targets: one Enricher call per target, checked, written to the store as
soon as it is done, so an interrupted run resumes where it stopped.

A target already enriched is skipped unless ``force``; one the operator edited by hand is
skipped even then, unless it is named. A target whose enrichment fails keeps what it had,
with ``error`` saying why (and is tried again on the next run); a failure never stops the
batch. When the batch ends, the terms that too many targets now share are dropped from all
of them (``checks.drop_shared_terms``).

Each batch first reads the whole list once for the checks' context (every target's names
and generated terms): linear in the list, negligible beside the LLM calls of a batch, but
for one target in a list of a million it is the larger cost (not measured here).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..agents.enricher import Enricher
from ..errors import AgentFailure, ModelError, TargetError
from ..stores import Store
from ..targets import Enrichment, Target
from ..trace import Trace
from .checks import Context, checked, shared_terms, without_shared

OPERATOR = "operator-edit"  # the provenance of an enrichment the operator wrote or edited


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Cost:
    """What a batch did and what it cost."""

    done: int = 0
    failed: int = 0
    skipped: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    names: int = 0  # generated names kept, over the targets done
    terms: int = 0  # generated terms kept
    failures: list[tuple[str, str]] = field(default_factory=list)  # (target, why), the first 20

    def add(self, trace: Trace) -> None:
        self.llm_calls += trace.llm_calls
        self.prompt_tokens += trace.prompt_tokens
        self.completion_tokens += trace.completion_tokens

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
                "names": round(self.names / max(1, self.done), 1),
                "terms": round(self.terms / max(1, self.done), 1),
            },
            "failures": [{"target": t, "error": e} for t, e in self.failures],
        }

    def line(self) -> str:
        s = self.summary()
        per = s["per_target"]
        return (
            f"enriched {self.done}, failed {self.failed}, skipped {self.skipped}; "
            f"{self.llm_calls} LLM calls, {self.prompt_tokens}+{self.completion_tokens} tokens, "
            f"{s['seconds']:g} s; per target {per['seconds']:g} s, "
            f"{per['prompt_tokens']:g}+{per['completion_tokens']:g} tokens"
        )


def enrich_one(
    enricher: Enricher, target: Target, context: Context, *, model: str = ""
) -> tuple[Enrichment, Trace]:
    """One target's checked enrichment, or AgentFailure (with the trace of what it cost in
    ``exc.trace``)."""
    trace = Trace(mode="enrich")
    try:
        draft = enricher.draft(trace, target)
    except AgentFailure as exc:
        exc.trace = trace  # type: ignore[attr-defined]
        raise
    return checked(draft, target, context, model=model or enricher.model.name, created=now()), trace


def failed(target: Target, reason: str, model: str) -> Enrichment:
    """What a target keeps after a failed attempt: its previous enrichment, and why."""
    reason = " ".join(reason.split())[:300]
    if target.enrichment is not None:
        return target.enrichment.model_copy(update={"error": reason})
    return Enrichment(model=model, created=now(), error=reason)


def enrich_targets(
    store: Store,
    enricher: Enricher,
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    model: str = "",
    show_progress: bool = True,
    console: Console | None = None,
) -> Cost:
    """Enrich the targets called ``names`` (every target when None) and write each result to
    the store as it comes. Unknown names are an error before anything is done."""
    model = model or enricher.model.name
    chosen: Iterable[Target]
    if names is None:
        chosen, named, total = store.iterate(), False, store.count()  # read a page at a time
    else:
        chosen, named = [], True
        for name in dict.fromkeys(names):
            target = store.get(name)
            if target is None:
                raise TargetError(f"no target named {name!r}")
            chosen.append(target)
        total = len(chosen)
    context = Context.of(store.iterate())
    cost = Cost()
    started = time.perf_counter()
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not show_progress, transient=False) as progress:
        task = progress.add_task("enriching", total=total)
        for target in chosen:
            progress.update(task, description=f"enriching {escape(target.name[:40])}")
            old = target.enrichment
            if old is not None and (
                (old.error is None and not force) or (old.model == OPERATOR and not named)
            ):
                cost.skipped += 1
                progress.advance(task)
                continue
            try:
                enrichment, trace = enrich_one(enricher, target, context, model=model)
            except (AgentFailure, ModelError) as exc:
                cost.add(getattr(exc, "trace", Trace(mode="enrich")))
                enrichment, trace = failed(target, str(exc), model), None
                cost.failed += 1
                if len(cost.failures) < 20:
                    cost.failures.append((target.name, enrichment.error or ""))
            else:
                cost.add(trace)
                cost.done += 1
                cost.names += len(enrichment.names)
                cost.terms += len(enrichment.terms)
            saved = store.set_enrichment(target.name, enrichment)
            if saved is not None:
                context.add(saved)
            progress.advance(task)
        progress.update(task, description="enriched")
    drop_shared_terms(store, context)
    cost.seconds = time.perf_counter() - started
    return cost


def drop_shared_terms(store: Store, context: Context) -> int:
    """Drop, from every target keeping it, each term that more than the allowed number of
    targets keep; returns how many targets changed."""
    changed = 0
    for tid, shared in shared_terms(context).items():
        target = store.get(context.titles[tid])
        if target is None or target.enrichment is None:
            continue
        enrichment = without_shared(target.enrichment, shared)
        if enrichment != target.enrichment:
            saved = store.set_enrichment(target.name, enrichment)
            if saved is not None:
                context.add(saved)
                changed += 1
    return changed
