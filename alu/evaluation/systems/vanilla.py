"""vanilla: the full knowledge base, no unlearning."""

from . import Baseline, SystemContext, register


@register("vanilla")
def build(ctx: SystemContext) -> Baseline:
    return ctx.baseline()
