"""reference: the knowledge base without the forget targets' documents, the exact
"retrained" model of this setting (EVAL_PROTOCOL.md)."""

from . import Baseline, NotApplicable, SystemContext, register


@register("reference")
def build(ctx: SystemContext) -> Baseline:
    if ctx.knowledge is None:
        raise NotApplicable("no knowledge base to remove the forget documents from")
    return ctx.baseline(knowledge=ctx.knowledge.without(ctx.benchmark.forget_documents))
