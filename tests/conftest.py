"""Shared fixtures: a scripted model that plays the four agents, stores in tmp folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alu import ALU, KnowledgeBase, PipelineConfig, Target, TargetStore
from alu.backends.scripted import ScriptedModel
from alu.knowledge import Document

DATA_DIR = Path(os.environ.get("ALU_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))

HERMIONE = Target(
    name="Hermione Granger",
    aliases=["Hermione"],
    kind="person",
    evidence=[
        "Hermione went to the Yule Ball with Viktor Krum.",
        "She was born in 1979 and studied at Hogwarts.",
    ],
)

# Prompts are recognised by words the agents' prompt files contain.
AUDIT = r"privacy auditor"
ERASE = r"Write \d+ different rewrites"
CRITIC = r"You grade rewritten answers"
COMPOSE = r"Combine the candidate answers"
PAPER = r"unlearning auditor"


def scripted(
    draft: str = "Paris is the capital of France.",
    *,
    leaked=("Hermione Granger",),
    variants=("A clean answer one.", "A clean answer two.", "A clean answer three."),
    scores=(5, 5, 4),
    final="A clean composed answer.",
) -> ScriptedModel:
    """A model whose replies follow the prompts of the four agents."""
    model = ScriptedModel(default=draft)
    model.on(AUDIT, json.dumps({"leaked": list(leaked)}))
    model.on(ERASE, json.dumps({"variants": list(variants)}))
    model.on(CRITIC, json.dumps({"scores": list(scores)}))
    model.on(COMPOSE, final)
    model.on(PAPER, json.dumps({"leaked": list(leaked), "variants": [*list(variants), "four", "five"]}))
    return model


@pytest.fixture
def store(tmp_path) -> TargetStore:
    return TargetStore(tmp_path / "targets.db")


@pytest.fixture
def make_alu(store):
    def build(model, targets=(HERMIONE,), knowledge=None, **config) -> ALU:
        for t in targets:
            store.add(t, replace=True)
        return ALU(model, store, knowledge=knowledge, config=PipelineConfig(**config))

    return build


@pytest.fixture
def demo_kb() -> KnowledgeBase:
    from alu.demo import KNOWLEDGE

    return KnowledgeBase.load(KNOWLEDGE)


def docs(*texts: str) -> KnowledgeBase:
    return KnowledgeBase([Document(str(i), t) for i, t in enumerate(texts)])
