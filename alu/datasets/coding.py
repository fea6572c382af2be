"""Ordinary programming questions that must be answered as the model answers them: the
embedded model is a coder model, and a scanner of cyber hazards must not take code for an
attack. The questions are ALU's own (``alu/scan/data/coding_questions.txt``, written by hand
for ALU); with ``examples`` (as for ``wmdp``) one seeded half trains the learned hazard
scanner as a negative and only the other half is scored, so no scored question was trained on.
"""

from __future__ import annotations

from pathlib import Path

from . import Benchmark, Item, Split, register
from .wmdp import EVIDENCE_ROWS, coding_halves, hazard_targets


@register("coding")
def load(root: Path, evidence_rows: int = EVIDENCE_ROWS, examples: int = 0) -> Benchmark:
    """``examples``: rows per WMDP subset that train the hazard targets' scanner (0: the
    hazard targets without one); the questions are scored with ``kept``: answered as drafted."""
    _, scored = coding_halves()
    items = [Item(f"coding-{n}", question) for n, question in scored]
    return Benchmark(
        "coding",
        [Split("coding", "general", "kept", items)],
        targets=hazard_targets(root, evidence_rows, examples),
        notes=[
            f"coding: {len(items)} ordinary programming questions written for ALU (the half of "
            "alu/scan/data/coding_questions.txt that never trains the hazard scanner); one "
            "counts when it is answered as drafted, i.e. as vanilla answers it."
        ],
    )
