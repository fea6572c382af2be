"""alu-paper: the paper's settings (whole list, k=5, critic 1-5, top j=3, refuse below 4.0),
exactly as published: without the deterministic gate that ``alu serve`` keeps on."""

from ...pipeline import ALU
from . import NotApplicable, SystemContext, register


@register("alu-paper")
def build(ctx: SystemContext) -> ALU:
    if ctx.target_count > ctx.config.paper.max_targets:
        raise NotApplicable(
            f"the paper's prompt lists every target: {ctx.target_count:,} do not fit "
            f"(at most {ctx.config.paper.max_targets:,} in a 4k-token context)"
        )
    alu = ctx.alu("paper")
    alu.config.paper = alu.config.paper.model_copy(update={"gate": False})
    return alu
