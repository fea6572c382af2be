"""Modes: how the agents are chained for one request. One module each, which registers its
name, its ``Mode`` class and its config class (``@register("name", NameModeConfig)``):
adding a mode is adding a module here. ``PipelineConfig`` validates ``[pipeline.name]``
with the registered config class; ``ALU`` validates the request, picks the mode, gives it
a ``ModeContext`` (the agents and guards it chains, and its own settings), records the
``Decision`` it returns, fails closed and times."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from ...agents.audit_erase import AuditErase
from ...agents.composer import Composer
from ...agents.critic import Critic
from ...agents.translator import Translator
from ...errors import QueryError
from ...registry import Registry
from ...scan import Candidate, Scan
from ..assistant import Assistant
from ..decision import Decision, Request
from ..fallback import Fallback
from ..gate import Gate
from ..stranger import Stranger

C = TypeVar("C", bound=BaseModel)

__all__ = ["MODES", "Decision", "Mode", "ModeContext", "ModeSpec", "Request", "modes", "register"]


@dataclass(frozen=True)
class ModeContext(Generic[C]):
    """What a mode works with: the agents and guards it chains, and its own settings.
    The refusal policy is the fallback's (``fallback.policy_for``)."""

    config: C  # the mode's own settings ([pipeline.<mode>])
    assistant: Assistant  # retrieval and the Vanilla agent
    auditor: AuditErase
    critic: Critic
    composer: Composer
    translator: Translator
    gate: Gate
    fallback: Fallback
    stranger: Stranger
    refusal: str  # the explicit refusal sentence ([pipeline] refusal)


class Mode(ABC, Generic[C]):
    """Runs one request to its ``Decision``; raises AgentFailure to fail closed."""

    def __init__(self, ctx: ModeContext[C]):
        self.ctx = ctx

    @property
    def config(self) -> C:
        return self.ctx.config

    @abstractmethod
    def run(self, request: Request) -> Decision: ...

    def fall_back(self, request: Request, leaked: list[Candidate], asked: Scan, reason: str) -> Decision:
        """The refusal policy's answer in place of one that would leak ``leaked``."""
        return self.ctx.fallback.answer(request, leaked, asked, reason)

    def gated(
        self,
        request: Request,
        decision: Decision,
        leaked: list[Candidate],
        asked: Scan,
        scan: Scan | None = None,
    ) -> Decision:
        """``decision`` through the output gate; what the gate blocks, the refusal policy
        answers (for ``leaked``, else for the targets the text names that the user did not)."""
        gated = self.ctx.gate.check(request, decision, leaked, asked, scan=scan)
        if gated.goes_out:
            return gated
        in_query = asked.by_id()
        blocked = leaked or [
            c for c in (scan or request.targets.scan(decision.text)).naming if c.target.id not in in_query
        ]
        return self.fall_back(request, blocked, asked, gated.reason)


@dataclass(frozen=True)
class ModeSpec:
    """A registered mode: the class that runs it and the class of its settings."""

    mode: type[Mode]
    config: type[BaseModel]


MODES: Registry[ModeSpec] = Registry("mode", __name__, QueryError)


def register(name: str, config: type[C]) -> Callable[[type[Mode[C]]], type[Mode[C]]]:
    """Register a ``Mode`` class as ``name``, with ``config`` the class of its settings."""

    def wrap(mode: type[Mode[C]]) -> type[Mode[C]]:
        MODES.add(name, ModeSpec(mode, config))
        return mode

    return wrap


def modes() -> list[str]:
    return sorted(MODES.names())
