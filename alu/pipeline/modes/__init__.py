"""Modes: how the agents are chained for one request. One module each, registered by
name; ``ALU`` validates the request, picks the mode, fails closed and times."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...errors import QueryError
from ...models import Messages, Sampling
from ...registry import Registry
from ...scan import Candidate, Scan, TargetView
from ...trace import Trace

if TYPE_CHECKING:
    from ..engine import ALU


@dataclass
class Request:
    """One query on its way through the pipeline."""

    query: str
    history: Messages
    system: str | None  # the caller's system prompt: audited like the conversation
    targets: TargetView
    trace: Trace
    sampling: Sampling = field(default_factory=Sampling)  # the caller's, for the answer (Vanilla) only

    @property
    def earlier(self) -> str:
        """The conversation before the query: the caller's system prompt and earlier turns."""
        return "\n".join([self.system or "", *(m["content"] for m in self.history)]).strip()

    @property
    def asked(self) -> str:
        """Everything the user supplied, the query included."""
        return f"{self.earlier}\n{self.query}"


class Mode(ABC):
    """Runs one request to its answer text; raises AgentFailure to fail closed."""

    def __init__(self, alu: ALU):
        self.alu = alu

    @abstractmethod
    def run(self, request: Request) -> str: ...

    def fall_back(self, request: Request, leaked: list[Candidate], asked: Scan) -> str:
        """The refusal policy's answer in place of one that would leak ``leaked``."""
        return self.alu.fallback.answer(request, leaked, asked)


MODES: Registry[Callable[[ALU], Mode]] = Registry("mode", __name__, QueryError)
register = MODES.register


def modes() -> list[str]:
    return sorted(MODES.names())
