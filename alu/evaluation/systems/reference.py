"""reference: the knowledge base without the forget targets' documents, the exact
"retrained" model of this setting (EVAL_PROTOCOL.md)."""

from ...pipeline import ALU
from . import NotApplicable, SystemContext, register


@register("reference")
def build(ctx: SystemContext) -> ALU:
    if ctx.knowledge is None:
        raise NotApplicable("no knowledge base to remove the forget documents from")
    return ALU(
        ctx.model, [], knowledge=ctx.knowledge.without(ctx.benchmark.forget_documents), config=ctx.config
    )
