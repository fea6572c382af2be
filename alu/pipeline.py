"""The ALU pipeline: Vanilla -> AuditErase -> Critic -> Composer around an unchanged model.

Two modes, chosen per call:

``paper``   as in Sanyal & Mandal (2025): the whole target list in the agents' prompts,
            k=5 variants, critic scores 1-5, the top j=3 composed, a refusal when their
            mean is below 4.0.
``default`` ours: a deterministic pre-screen picks candidate targets from the query, the
            conversation and the draft, so a query that touches no target costs the
            Vanilla call alone and cost does not grow with the target list; the auditor
            may only confirm candidates (and a confirmation needs support in the text);
            the final answer passes a deterministic gate (names, aliases, evidence).

Any agent failure (timeout, backend error, malformed output twice) fails closed: the
user gets the refusal, never the draft.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .agents import AgentFailure
from .agents.audit_erase import AuditErase
from .agents.composer import Composer
from .agents.critic import Critic
from .agents.vanilla import Vanilla
from .knowledge import KnowledgeBase
from .models import Messages, Model
from .prescreen import CANDIDATE_THRESHOLD, Candidate, PreScreen, redact
from .targets import Target, TargetStore
from .trace import Answer, Trace

Mode = Literal["default", "paper"]
MODES: tuple[str, ...] = ("default", "paper")
REFUSAL = "I'm sorry, but I can't help with that."
AGENTS = ("vanilla", "audit_erase", "critic", "composer")


def _evidence_chars(target: Target) -> int:
    return len(target.description) + sum(len(e) for e in target.evidence)


class QueryError(ValueError):
    """A request the pipeline will not run (empty, too long, bad history)."""


@dataclass
class PipelineConfig:
    mode: Mode = "default"
    k: int = 3  # variants in the default mode
    j: int = 2  # variants composed in the default mode
    threshold: float = 4.0  # refuse when the mean critic score of the top j is below
    paper_k: int = 5
    paper_j: int = 3
    top_docs: int = 3
    answer_tokens: int = 256  # the Vanilla agent's answer length
    max_candidates: int = 5
    gate_evidence: float = 1.5  # refuse when a leaked target's evidence scores this in the answer
    # A target named in the question whose draft adds none of its evidence is an echo, not a
    # leak, only when it has this much evidence on file to judge by; else the agents judge.
    echo_evidence_chars: int = 300
    timeout: float | None = 120.0
    max_query_chars: int = 20_000
    refusal: str = REFUSAL


class ALU:
    """Unlearning around ``model``. Targets come from a store (shared, live) or a list."""

    def __init__(
        self,
        model: Model,
        targets: TargetStore | Sequence[Target] | None = None,
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
        timeout = self.config.timeout
        self.vanilla = Vanilla(models["vanilla"], timeout=timeout, max_tokens=self.config.answer_tokens)
        self.auditor = AuditErase(models["audit_erase"], timeout=timeout)
        self.critic = Critic(models["critic"], timeout=timeout)
        self.composer = Composer(models["composer"], timeout=timeout)
        self.knowledge = knowledge
        self.system = system
        self.store = targets if isinstance(targets, TargetStore) else None
        self.screen = PreScreen()
        self._lock = threading.RLock()
        self._revision = 0
        if self.store is None:
            for number, target in enumerate(targets or [], 1):
                self.screen.add(target.model_copy(update={"id": number}))

    # -- targets --------------------------------------------------------------------
    def sync(self) -> None:
        """Pick up target changes made since the last query (by anyone using the store)."""
        if self.store is None:
            return
        with self._lock:
            if self.store.revision() != self._revision:
                self._revision, changes = self.store.changes_since(self._revision)
                self.screen.sync(changes)

    def _screens(self, extra: list[Target]) -> list[PreScreen]:
        screens = [self.screen]
        if extra:
            local = PreScreen()
            for number, target in enumerate(extra, 1):
                local.add(target.model_copy(update={"id": -number}))
            screens.append(local)
        return screens

    def _find(self, screens: list[PreScreen], text: str, **kw) -> list[Candidate]:
        found: list[Candidate] = []
        with self._lock:
            for screen in screens:
                found += screen.screen(text, **kw)
        found.sort(key=lambda c: -c.score)
        return found

    # -- the pipeline ---------------------------------------------------------------
    def ask(
        self,
        query: str,
        history: Messages | None = None,
        *,
        mode: str | None = None,
        extra_targets: Sequence[Target] | None = None,
        system: str | None = None,
    ) -> Answer:
        """Answer ``query`` (after ``history``) without revealing any target.

        ``system`` is the caller's own system prompt for the Vanilla agent; it is audited
        like the rest of the conversation."""
        mode = mode or self.config.mode
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        history = list(history or [])
        self._check(query, history, system)
        trace = Trace(mode=mode)
        started = time.perf_counter()
        self.sync()
        screens = self._screens(list(extra_targets or []))
        try:
            if mode == "paper":
                text = self._paper(trace, query, history, screens, system)
            else:
                text = self._default(trace, query, history, screens, system)
        except AgentFailure as exc:
            trace.verdict, trace.error, text = "failed_closed", str(exc), self.config.refusal
        trace.seconds = round(time.perf_counter() - started, 3)
        return Answer(text=text, trace=trace)

    def _check(self, query: str, history: Messages, system: str | None = None) -> None:
        if not isinstance(query, str) or not query.strip():
            raise QueryError("the query is empty")
        size = len(query) + len(system or "") + sum(len(str(m.get("content", ""))) for m in history)
        if size > self.config.max_query_chars:
            raise QueryError(
                f"the query and history are {size} characters; the limit is {self.config.max_query_chars}"
            )
        for m in history:
            if m.get("role") not in ("user", "assistant") or not isinstance(m.get("content"), str):
                raise QueryError("history messages need a role of user or assistant and text content")

    def _draft(
        self,
        trace: Trace,
        query: str,
        history: Messages,
        system: str | None,
        screens: list[PreScreen] | None = None,
    ) -> str:
        """The Vanilla answer. With ``screens`` (the default mode) retrieval is guarded:
        documents about a target (named, or strong evidence) never enter the context."""
        docs: list = []
        if self.knowledge:
            k = self.config.top_docs
            found = self.knowledge.search(query, k * 3 if screens else k)
            if screens:
                kept = [d for d in found if not self._find(screens, f"{d.title}\n{d.text}", threshold=2.0)]
                trace.withheld_documents = len(found) - len(kept)
                docs = kept[:k]
            else:
                docs = found
        system = "\n\n".join(s for s in (self.system, system) if s) or None
        return self.vanilla.answer(trace, query, history, docs, system=system)

    def _refuse(self, trace: Trace, verdict: str = "refused") -> str:
        trace.verdict = verdict  # type: ignore[assignment]
        return self.config.refusal

    def _default(
        self, trace: Trace, query: str, history: Messages, screens: list[PreScreen], system: str | None = None
    ) -> str:
        cfg = self.config
        earlier = "\n".join([system or "", *(m["content"] for m in history)]).strip()
        asked = f"{earlier}\n{query}"
        draft = self._draft(trace, query, history, system, screens)
        clock = time.perf_counter()
        candidates = self._find(screens, asked + "\n" + draft, limit=cfg.max_candidates)
        in_query = {c.target.id: c for c in self._find(screens, asked, threshold=0.0)}
        in_draft = {c.target.id: c for c in self._find(screens, draft, threshold=0.0)}
        trace.prescreen_ms = round((time.perf_counter() - clock) * 1000, 3)
        trace.candidates = [c.brief() for c in candidates]

        def about(c: Candidate) -> bool:
            """Whether the exchange is about the target beyond an echo of the question.

            A hazard is about the question: asking is enough. A person or topic counts when
            the draft names it though the question did not, when the draft adds evidence the
            question lacked, or when it is named at all but has too little evidence on file
            to tell an echo from a leak."""
            d, q = in_draft.get(c.target.id), in_query.get(c.target.id)
            novel = d.novel_evidence(q) if d else 0.0
            if c.target.kind == "hazard":
                return bool(q and q.score >= CANDIDATE_THRESHOLD) or novel >= CANDIDATE_THRESHOLD
            if (d and d.named and not (q and q.named)) or novel >= CANDIDATE_THRESHOLD:
                return True
            named = bool((q and q.named) or (d and d.named))
            return named and _evidence_chars(c.target) < cfg.echo_evidence_chars

        supported_candidates = [c for c in candidates if about(c)]
        trace.supported = [c.target.name for c in supported_candidates]
        if not supported_candidates:
            # At most an echo of the question: names go, nothing else needs rewriting.
            return self._gate(trace, draft, [], screens, found=list(in_draft.values()))
        confirmed = set(self.auditor.audit(trace, query, earlier, draft, supported_candidates))
        # A draft that names a target leaks it, whatever the auditor says.
        leaked = [
            c
            for c in supported_candidates
            if c.target.name in confirmed or (in_draft.get(c.target.id) and in_draft[c.target.id].named)
        ]
        trace.leaked = [c.target.name for c in leaked]
        if not leaked:
            return self._gate(trace, draft, [], screens, found=list(in_draft.values()))
        variants = self.auditor.erase(trace, query, draft, leaked, cfg.k)
        final = self._judge_and_compose(trace, query, variants, leaked, cfg.j)
        if final is None:
            return self._refuse(trace)
        return self._gate(trace, final, leaked, screens)

    def _judge_and_compose(
        self, trace: Trace, query: str, variants: list[str], targets: list[Candidate] | list[str], j: int
    ) -> str | None:
        scores = self.critic.score(trace, query, variants, targets)
        trace.scores = [float(s) for s in scores]
        best = sorted(zip(scores, range(len(variants)), strict=True), reverse=True)[:j]
        if sum(s for s, _ in best) / len(best) < self.config.threshold:
            return None
        trace.verdict = "rewritten"
        return self.composer.compose(trace, query, [variants[i] for _, i in best])

    def _gate(
        self,
        trace: Trace,
        text: str,
        leaked: list[Candidate],
        screens: list[PreScreen],
        found: list[Candidate] | None = None,
    ) -> str:
        """The last, deterministic audit: no target's name or alias, and no strong evidence
        of a leaked target, survives into the answer. ``found`` is ``text``'s screening when
        the caller has it already (the draft)."""
        if found is None:
            found = self._find(screens, text, threshold=0.0)
        named = [c for c in found if c.named]
        if named:
            for c in named:
                text = redact(text, c.target)
            trace.verdict = "redacted"
            if any(c.named for c in self._find(screens, text, threshold=0.0)):
                return self._refuse(trace)
        ids = {c.target.id for c in leaked}
        if ids and self._find(screens, text, threshold=self.config.gate_evidence, only=ids):
            trace.steps[-1].detail["gate"] = "evidence"
            return self._refuse(trace)
        return text

    def _paper(
        self, trace: Trace, query: str, history: Messages, screens: list[PreScreen], system: str | None = None
    ) -> str:
        cfg = self.config
        with self._lock:
            names = [t.name for s in screens for t in s.targets.values()]
        draft = self._draft(trace, query, history, system)
        if not names:
            return draft
        leaked, variants = self.auditor.audit_and_erase(trace, query, draft, names, cfg.paper_k)
        trace.leaked = leaked
        if not leaked:
            return draft
        if not variants:
            raise AgentFailure("audit_erase: a leak was found but no variant was written")
        final = self._judge_and_compose(trace, query, variants, leaked, cfg.paper_j)
        return self._refuse(trace) if final is None else final
