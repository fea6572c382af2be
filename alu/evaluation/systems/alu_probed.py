"""alu-probed: our default mode, with every benchmark target probed first by the run's own
model (``alu targets probe``: short questions about the target, its knowledge fingerprint,
whether it knows the target at all, and which items lead back to it).

As with ``alu-enriched``: each target is probed once per run, through the run's completion
cache, and the result is saved to ``OUT/knowledge-<benchmark>.json`` with its cost, where a
resumed run with the same model takes it back. A target whose probe fails is guarded as
never probed. The store's distractors are used as they are, and the store is not written.
"""

from __future__ import annotations

import json
import time

from ...agents.prober import Prober
from ...errors import AgentFailure, ModelError
from ...pipeline import ALU
from ...probing.batch import probe_one
from ...targets import ModelKnowledge, Target
from . import SystemContext, register


def probe_benchmark(ctx: SystemContext) -> list[Target]:
    """The benchmark's targets with what the model knows of them (from the saved file when
    it was learned from this model)."""
    targets = list(ctx.benchmark.targets)
    identity = ctx.model.identity
    path = ctx.out / f"knowledge-{ctx.benchmark.name}.json" if ctx.out is not None else None
    if path is not None and path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        by_name = {t["name"]: t["knowledge"] for t in saved.get("targets", [])}
        if saved.get("model") == identity and all(t.name in by_name for t in targets):
            return [
                t.model_copy(
                    update={"knowledge": ModelKnowledge(**by_name[t.name]) if by_name[t.name] else None}
                )
                for t in targets
            ]
    prober = Prober(ctx.model, timeout=ctx.config.timeout)
    probed, records = [], []
    for target in targets:
        started = time.perf_counter()
        try:
            knowledge, trace = probe_one(prober, target)
        except (AgentFailure, ModelError) as exc:
            knowledge, trace = None, getattr(exc, "trace", None)
        probed.append(target.model_copy(update={"knowledge": knowledge}))
        records.append(
            {
                "name": target.name,
                "knowledge": knowledge.model_dump() if knowledge else None,
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
    return probed


@register("alu-probed")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("default", targets=probe_benchmark(ctx))
