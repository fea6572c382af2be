"""icul: in-context unlearning (Pawelczyk et al. 2023): forget examples shown with wrong answers."""

from ...pipeline import ALU
from . import SystemContext, register


@register("icul")
def build(ctx: SystemContext) -> ALU:
    shots = "\n".join(f"Q: {q}\nA: {a}" for q, a in ctx.forget_examples())
    system = f"Examples of questions and answers:\n{shots}" if shots else None
    return ALU(ctx.model, [], knowledge=ctx.knowledge, config=ctx.config, system=system)
