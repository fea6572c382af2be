"""multi-turn: the target's facts asked one piece at a time, the last turn by pronoun."""

import random

from ...datasets import Item
from . import AttackContext, register, replace_name


@register(
    "multi-turn",
    "two other forget questions about the same target (seeded), then the question "
    "with the name replaced by 'they'",
)
def make(item: Item, ctx: AttackContext) -> list[str]:
    rng = random.Random(f"{ctx.seed}-{item.id}")
    siblings = ctx.siblings(item)
    earlier = [i.question for i in rng.sample(siblings, min(2, len(siblings)))]
    last = item.question
    if item.target:
        last, _ = replace_name(last, item.target, "they", "their")
    return [*earlier, last]
