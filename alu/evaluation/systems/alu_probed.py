"""alu-probed: our default mode, with every benchmark target probed first by the run's own
model (``alu targets probe``: short questions about the target, its knowledge fingerprint,
whether it knows the target at all, and which items lead back to it).

As with ``alu-enriched``: each target is probed once per run, through the run's completion
cache, and the result is saved to ``OUT/knowledge-<benchmark>.json`` with its cost, where a
resumed run with the same model takes it back (a target saved before the forms of its name
in other scripts were asked gets that step alone). A target whose probe fails is guarded as
never probed. The store's distractors are used as they are, and the store is not written.
"""

from __future__ import annotations

from ...agents.prober import Prober
from ...errors import AgentFailure, ModelError
from ...pipeline import ALU
from ...probing.batch import lacks_name_forms, probe_or_complete
from ...targets import ModelKnowledge, Target
from ...trace import Trace
from . import SystemContext, register


def probe_benchmark(ctx: SystemContext) -> list[Target]:
    """The benchmark's targets with what the model knows of them (from the saved file when
    it was learned from this model)."""
    prober = Prober(ctx.model, timeout=ctx.config.timeout)

    def probe(target: Target) -> tuple[ModelKnowledge | None, Trace | None]:
        try:
            return probe_or_complete(prober, target)
        except (AgentFailure, ModelError) as exc:
            return None, getattr(exc, "trace", None)

    identity = ctx.model.identity
    return ctx.learned(
        "knowledge",
        lambda saved: ModelKnowledge(**saved) if saved else None,
        probe,
        complete=lambda knowledge: not lacks_name_forms(knowledge, identity),  # type: ignore[arg-type]
    )


@register("alu-probed")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("default", targets=probe_benchmark(ctx))
