"""``ALU``: unlearning around an unchanged model. It validates a request, picks the mode,
runs it, records its decision, fails closed and times; the modes (``modes/``) chain the agents."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel

from ..agents.audit_erase import AuditErase
from ..agents.composer import Composer
from ..agents.critic import Critic
from ..agents.translator import Translator
from ..agents.vanilla import Vanilla
from ..deadline import request_deadline
from ..errors import AgentFailure, QueryError
from ..knowledge import KnowledgeBase
from ..models import Messages, Model, Sampling
from ..scan import TargetIndex
from ..stores import Store
from ..targets import Target
from ..trace import Answer, Trace
from .assistant import Assistant
from .config import AGENTS, PipelineConfig
from .decision import Decision, Request
from .fallback import Fallback
from .gate import Gate
from .modes import MODES, Mode, ModeContext
from .stranger import Stranger


class ALU:
    """Unlearning around ``model``. Targets come from a store (shared, live) or a list.

    ``agent_models`` gives an agent (by name: vanilla, audit_erase, critic, composer,
    translator, enricher) its own model; ``system`` is the operator's system prompt for the Vanilla agent.
    """

    def __init__(
        self,
        model: Model,
        targets: Store | Sequence[Target] | None = None,
        *,
        knowledge: KnowledgeBase | None = None,
        agent_models: dict[str, Model] | None = None,
        config: PipelineConfig | None = None,
        system: str | None = None,
    ):
        self.config = config or PipelineConfig()
        models = {name: model for name in AGENTS} | dict(agent_models or {})
        unknown = set(models) - set(AGENTS)
        if unknown:
            raise ValueError(f"unknown agents {sorted(unknown)}: use {', '.join(AGENTS)}")
        self.agent_models = models  # the admin API enriches targets with agent_models["enricher"]
        cfg = self.config
        vanilla = Vanilla(models["vanilla"], timeout=cfg.timeout, max_tokens=cfg.answer_tokens)
        self.assistant = Assistant(vanilla, knowledge, top_docs=cfg.top_docs, system=system)
        self.auditor = AuditErase(models["audit_erase"], timeout=cfg.timeout)
        self.critic = Critic(models["critic"], timeout=cfg.timeout)
        self.composer = Composer(models["composer"], timeout=cfg.timeout)
        self.translator = Translator(models["translator"], timeout=cfg.timeout)
        self.gate = Gate(cfg.mode_settings("default").gate_evidence)  # every mode's gate
        self.stranger = Stranger(self.assistant)
        self.fallback = Fallback(
            vanilla,
            self.stranger,
            policy=cfg.refusal_policy,
            hazard_policy=cfg.hazard_policy,
            refusal=cfg.refusal,
            gate=self.gate,
            unprobed=cfg.unprobed,
        )
        if isinstance(targets, Store):
            self.index = TargetIndex(targets)
        else:
            self.index = TargetIndex.of(list(targets or []))
        self._modes: dict[str, Mode] = {}

    def mode(self, name: str) -> Mode:
        """The mode ``name``, on its current settings (a mode's settings replaced in
        ``config`` take effect on the next request, as the shared ones do)."""
        spec = MODES.get(name)
        settings = self.config.mode_settings(name)
        runner = self._modes.get(name)
        if runner is None or (runner.ctx.config, runner.ctx.refusal) != (settings, self.config.refusal):
            runner = self._modes[name] = spec.mode(self.context(settings))
        return runner

    def context(self, settings: BaseModel) -> ModeContext:
        """What a mode works with: the agents and guards, and its own ``settings``."""
        return ModeContext(
            config=settings,
            assistant=self.assistant,
            auditor=self.auditor,
            critic=self.critic,
            composer=self.composer,
            translator=self.translator,
            gate=self.gate,
            fallback=self.fallback,
            stranger=self.stranger,
            refusal=self.config.refusal,
        )

    def ask(
        self,
        query: str,
        history: Messages | None = None,
        *,
        mode: str | None = None,
        extra_targets: Sequence[Target] | None = None,
        system: str | None = None,
        sampling: Sampling | None = None,
    ) -> Answer:
        """Answer ``query`` (after ``history``) without revealing any target.

        ``system`` is the caller's own system prompt for the Vanilla agent; it is audited
        like the rest of the conversation. ``sampling`` is the caller's for the answer's
        own generation (its ``stop`` strings also cut the final text). Any failure inside,
        the request's deadline (``config.deadline``) included, fails closed: the answer is
        the refusal, the trace says why. The mode's decision is recorded here, once: the
        trace's verdict, and its error when failing closed."""
        name = mode or self.config.mode
        runner = self.mode(name)
        history = list(history or [])
        self._check(query, history, system)
        sampling = sampling or Sampling()
        trace = Trace(mode=name)
        started = time.perf_counter()
        request = None
        try:
            with request_deadline(self.config.deadline):
                self.index.sync()
                view = self.index.view(list(extra_targets or []))
                request = Request(query, history, system, view, trace, sampling)
                decision: Decision = runner.run(request)
            decision = decision.with_text(_cut_at_stop(decision.text, sampling.stop))
        except Exception as exc:  # whatever went wrong, the draft must not leave
            decision = self.fallback.failed(query, self._hazards_in(request), _reason(exc))
        trace.verdict = decision.verdict
        if decision.outcome == "fail_closed":
            trace.error = decision.reason
        trace.seconds = round(time.perf_counter() - started, 3)
        return Answer(text=decision.text, trace=trace)

    @staticmethod
    def _hazards_in(request: Request | None) -> list:
        """The hazard targets a failed request asked about: they keep the explicit refusal."""
        if request is None:
            return []
        try:
            found = request.targets.scan(request.asked).above()
        except Exception:
            return []
        return [c for c in found if c.target.kind == "hazard"]

    def _check(self, query: str, history: Messages, system: str | None = None) -> None:
        if not isinstance(query, str) or not any(ch.isprintable() and not ch.isspace() for ch in query):
            raise QueryError("the query is empty")
        size = len(query) + len(system or "") + sum(len(str(m.get("content", ""))) for m in history)
        if size > self.config.max_query_chars:
            raise QueryError(
                f"the query and history are {size} characters; the limit is {self.config.max_query_chars}"
            )
        for m in history:
            if m.get("role") not in ("user", "assistant") or not isinstance(m.get("content"), str):
                raise QueryError("history messages need a role of user or assistant and text content")


def _cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the first of the caller's stop strings, as an OpenAI server returns it
    (the rewritten answer never saw them)."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, AgentFailure) else f"{type(exc).__name__}: {exc}"
