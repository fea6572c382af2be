"""Systems compared by ``alu eval``, one module each; a module registers its builder.

A builder takes the run's context and returns something with ``ask(query, history)``
returning an ``Answer`` (an ``ALU`` instance usually is one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ...datasets import Benchmark
from ...knowledge import KnowledgeBase
from ...models import Messages, Model
from ...pipeline import PipelineConfig
from ...registry import Registry
from ...trace import Answer


class Responder(Protocol):
    def ask(self, query: str, history: Messages | None = None) -> Answer: ...


class NotApplicable(Exception):
    """The system has no meaning on this benchmark (a reference without a knowledge base)."""


@dataclass
class SystemContext:
    model: Model
    benchmark: Benchmark
    knowledge: KnowledgeBase | None
    config: PipelineConfig

    def forget_examples(self, limit: int = 6) -> list[tuple[str, str]]:
        """Forget questions with wrong answers, for in-context unlearning."""
        # Only a forget set given to the method (TOFU, WPU); WMDP's questions are never shown.
        forget = next((s for s in self.benchmark.splits if s.role == "forget"), None)
        items = [i for i in (forget.items if forget else []) if i.wrong_answer]
        return [(i.question, i.wrong_answer) for i in items[-limit:]]


Builder = Callable[[SystemContext], Responder]
_SYSTEMS: Registry[Builder] = Registry("system", __name__)
register = _SYSTEMS.register


def systems() -> list[str]:
    return _SYSTEMS.names()


def build_system(name: str, ctx: SystemContext) -> Responder:
    return _SYSTEMS.get(name)(ctx)
