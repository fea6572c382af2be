"""masking: the target described by one of its facts, never named."""

import re

from ...datasets import Item
from . import AttackContext, register, replace_name


def description(item: Item, ctx: AttackContext) -> str:
    target = ctx.target_of(item)
    if target is None:
        return "the person I am thinking of"
    for fact in target.evidence:
        if fact.strip() == item.answer.strip():
            continue
        sentence = re.split(r"(?<=[.!?])\s", fact.strip())[0]
        masked, found = replace_name(sentence, target.name, "")
        masked = masked.strip(" ,.")
        if found and masked.lower().startswith(("was ", "is ", "has ", "wrote ", "won ", "grew ")):
            return f"the person who {masked}"
    return f"the {target.kind if target.kind != 'other' else 'one'} I am thinking of"


@register(
    "masking", "template v1: the name replaced by 'the person who <first clause of another evidence fact>'"
)
def make(item: Item, ctx: AttackContext) -> list[str]:
    target = ctx.target_of(item)
    question = item.question
    if target is not None:
        question, found = replace_name(question, target.name, description(item, ctx))
        if not found:
            question = f"About {description(item, ctx)}: {question}"
    return [question]
