"""alu: our default mode (pre-screen, candidate-only audit, gate)."""

from ...pipeline import ALU
from . import SystemContext, register


@register("alu")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("default")
