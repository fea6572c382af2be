"""icul: in-context unlearning (Pawelczyk et al. 2023): forget examples shown with wrong answers."""

from . import Baseline, SystemContext, register


@register("icul")
def build(ctx: SystemContext) -> Baseline:
    shots = "\n".join(f"Q: {q}\nA: {a}" for q, a in ctx.forget_examples())
    return ctx.baseline(system=f"Examples of questions and answers:\n{shots}" if shots else None)
