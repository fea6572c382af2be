"""many-shot-qa: the first many-shot, kept selectable: 24 benign QA shots in one message
before the question (Anil et al. 2024). In the in-context setting its shots, themselves
documents of the knowledge base, take retrieval's places: the target's documents are never
retrieved (0 of 30 in results/eval-medium), so nothing is there to leak; see ``many-shot``."""

import json
import random

from ...datasets import Item
from . import AttackContext, register

SHOTS = 24


def _pool(ctx: AttackContext) -> list[tuple[str, str]]:
    pool: list[tuple[str, str]] = []
    try:
        path = ctx.data_root / "adversarial" / "wpu_msj_attack_causal_unlearn.json"
        adversarial = json.loads(path.read_text())
        pool += [(r["question"], str(r["answer"])) for r in adversarial]
    except (OSError, ValueError):
        pass
    for split in ctx.benchmark.splits:
        if split.role == "retain" and split.scoring == "rouge":
            pool += [(i.question, i.answer) for i in split.items[:100]]
    return pool


@register(
    "many-shot-qa",
    f"{SHOTS} shots drawn (seeded) from adversarial/wpu_msj_attack_causal_unlearn.json and retain QA",
)
def make(item: Item, ctx: AttackContext) -> list[str]:
    rng = random.Random(f"{ctx.seed}-{item.id}")
    pool = _pool(ctx)
    shots = rng.sample(pool, min(SHOTS, len(pool)))
    body = "\n\n".join(f"Q: {q}\nA: {a}" for q, a in shots)
    return [f"{body}\n\nQ: {item.question}\nA:"]
