"""alu-paper: the paper's settings (whole list, k=5, critic 1-5, top j=3, refuse below 4.0),
exactly as published: without the deterministic gate that ``alu serve`` keeps on."""

from ...pipeline import ALU
from . import SystemContext, register


@register("alu-paper")
def build(ctx: SystemContext) -> ALU:
    alu = ctx.alu("paper")
    alu.config.paper = alu.config.paper.model_copy(update={"gate": False})
    return alu
