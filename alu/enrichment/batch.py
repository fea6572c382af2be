"""Enriching many targets: one Enricher call per target, checked, written to the store as
soon as it is done, so an interrupted run resumes where it stopped (``alu.jobs``).

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

from collections.abc import Iterable
from typing import Any

from rich.console import Console

from ..agents.enricher import Enricher
from ..errors import AgentFailure
from ..jobs import Cost, now, run_job
from ..stores import Store
from ..targets import Enrichment, Target
from ..trace import Trace
from .checks import Context, checked, shared_terms, without_shared

OPERATOR = "operator-edit"  # the provenance of an enrichment the operator wrote or edited
__all__ = ["OPERATOR", "Cost", "drop_shared_terms", "enrich_one", "enrich_targets", "failed", "now"]


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
    the store as it comes (``alu.jobs.run_job``). Unknown names are an error before
    anything is done."""
    model = model or enricher.model.name
    context = Context.of(store.iterate())

    def skip(target: Target, named: bool) -> bool:
        old = target.enrichment
        if old is None:
            return False
        return (old.error is None and not force) or (old.model == OPERATOR and not named)

    def save(target: Target, enrichment: Enrichment) -> None:
        saved = store.set_enrichment(target.name, enrichment)
        if saved is not None:
            context.add(saved)

    def attempt(target: Target, cost: Cost) -> Trace:
        enrichment, trace = enrich_one(enricher, target, context, model=model)
        cost.count("names", len(enrichment.names))
        cost.count("terms", len(enrichment.terms))
        save(target, enrichment)
        return trace

    cost = run_job(
        store,
        names,
        doing="enriching",
        skip=skip,
        attempt=attempt,
        mark_failed=lambda target, why: save(target, failed(target, why, model)),
        cost=Cost(counts={"names": 0, "terms": 0}, verb="enriched"),
        show_progress=show_progress,
        console=console,
    )
    drop_shared_terms(store, context)
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


def serving_enricher(alu: Any) -> Enricher:
    """The Enricher a running pipeline enriches with: the enricher agent's model (``[models]
    enricher``, else ``model``) as the pipeline was given it, with its timeout."""
    return Enricher(alu.agent_models["enricher"], timeout=alu.config.timeout)
