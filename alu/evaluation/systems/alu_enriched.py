"""alu-enriched: our default mode, with every benchmark target enriched first by the run's
own model (the Enricher: its name in other scripts, associated terms, a description),
checked as ``alu targets enrich`` checks it.

Each target is enriched once per run: the calls go through the run's completion cache (so
a repeated run costs nothing), and the result is saved to ``OUT/enrichment-<benchmark>.json``
with what it cost, where a resumed run with the same model takes it back. A target whose
enrichment fails is guarded as the operator gave it (its error is in the file). The
distractors of a target store are used as they are, never enriched (only the benchmark's
own targets are), and the shared store is not written to.
"""

from __future__ import annotations

from ...agents.enricher import Enricher
from ...enrichment import Context, enrich_one
from ...enrichment.batch import failed
from ...errors import AgentFailure, ModelError
from ...pipeline import ALU
from ...targets import Enrichment, Target
from ...trace import Trace
from . import SystemContext, register


def enrich_benchmark(ctx: SystemContext) -> list[Target]:
    """The benchmark's targets, enriched (from the saved file when it matches this model)."""
    targets = list(ctx.benchmark.targets)
    identity = ctx.model.identity
    others = list(ctx.store.iterate()) if ctx.store is not None else []
    context = Context.of([*targets, *(o for o in others if o.name not in {t.name for t in targets})])
    enricher = Enricher(ctx.model, timeout=ctx.config.timeout)

    def enrich(target: Target) -> tuple[Enrichment, Trace | None]:
        try:
            enrichment, trace = enrich_one(enricher, target, context, model=identity)
        except (AgentFailure, ModelError) as exc:
            enrichment, trace = failed(target, str(exc), identity), getattr(exc, "trace", None)
        context.add(target.model_copy(update={"enrichment": enrichment}))
        return enrichment, trace

    return ctx.learned("enrichment", lambda saved: Enrichment(**saved), enrich)


@register("alu-enriched")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("default", targets=enrich_benchmark(ctx))
