"""alu: our default mode (pre-screen, candidate-only audit, gate)."""

from dataclasses import replace

from ...pipeline import ALU
from . import SystemContext, register


@register("alu")
def build(ctx: SystemContext) -> ALU:
    return ALU(
        ctx.model, ctx.benchmark.targets, knowledge=ctx.knowledge, config=replace(ctx.config, mode="default")
    )
