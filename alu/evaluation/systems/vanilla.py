"""vanilla: the full knowledge base, no unlearning."""

from ...pipeline import ALU
from . import SystemContext, register


@register("vanilla")
def build(ctx: SystemContext) -> ALU:
    return ALU(ctx.model, [], knowledge=ctx.knowledge, config=ctx.config)
