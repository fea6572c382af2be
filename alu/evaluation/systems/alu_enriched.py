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

import json
import time

from ...agents.enricher import Enricher
from ...enrichment import Context, enrich_one
from ...enrichment.batch import failed
from ...errors import AgentFailure, ModelError
from ...pipeline import ALU
from ...targets import Enrichment, Target
from . import SystemContext, register


def enrich_benchmark(ctx: SystemContext) -> list[Target]:
    """The benchmark's targets, enriched (from the saved file when it matches this model)."""
    targets = list(ctx.benchmark.targets)
    identity = ctx.model.identity
    path = ctx.out / f"enrichment-{ctx.benchmark.name}.json" if ctx.out is not None else None
    if path is not None and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        by_name = {t["name"]: t["enrichment"] for t in saved.get("targets", [])}
        if saved.get("model") == identity and all(t.name in by_name for t in targets):
            return [t.model_copy(update={"enrichment": Enrichment(**by_name[t.name])}) for t in targets]
    others = list(ctx.store.iterate()) if ctx.store is not None else []
    context = Context.of([*targets, *(o for o in others if o.name not in {t.name for t in targets})])
    enricher = Enricher(ctx.model, timeout=ctx.config.timeout)
    enriched, records = [], []
    for target in targets:
        started = time.perf_counter()
        try:
            enrichment, trace = enrich_one(enricher, target, context, model=identity)
        except (AgentFailure, ModelError) as exc:
            enrichment, trace = failed(target, str(exc), identity), getattr(exc, "trace", None)
        done = target.model_copy(update={"enrichment": enrichment})
        context.add(done)
        enriched.append(done)
        records.append(
            {
                "name": target.name,
                "enrichment": enrichment.model_dump(),
                "llm_calls": trace.llm_calls if trace else 0,
                "prompt_tokens": trace.prompt_tokens if trace else 0,
                "completion_tokens": trace.completion_tokens if trace else 0,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = {"benchmark": ctx.benchmark.name, "model": identity, "targets": records}
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return enriched


@register("alu-enriched")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("default", targets=enrich_benchmark(ctx))
