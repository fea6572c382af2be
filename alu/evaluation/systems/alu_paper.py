"""alu-paper: the paper's settings (whole list, k=5, critic 1-5, top j=3, refuse below 4.0)."""

from ...pipeline import ALU
from . import SystemContext, register


@register("alu-paper")
def build(ctx: SystemContext) -> ALU:
    return ctx.alu("paper")
