"""``default``: ours. A deterministic pre-screen picks candidate targets from the query,
the conversation and the draft, so a query that touches no target costs the Vanilla call
alone and cost does not grow with the target list; what the screen is sure of needs no
agent to confirm it, the auditor may only confirm the rest; the final answer passes the
deterministic gate.

A query that touches a target costs at most ``max_calls`` model calls (2). Where the
question alone decides (it names a target the model knows, or reads like a hazard), the
policy answers at once, with one call: a declined question costs what an answered one
does. Where the draft gives a target away, the policy answers in place of the draft, with
the call that is left (or the fixed "I don't know" when none is): no rewrite chain that
would end in a refusal anyway (``leak_answer = "rewrite"`` brings it back: up to five calls).
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...language import is_english
from ...scan import CANDIDATE_THRESHOLD, Candidate, Scan
from ...scan.knowledge import POINTER_WEIGHT
from ...scan.learned import flagged, trained
from ...targets import Target
from ...trace import Trace
from ..judge import judge_and_compose
from . import Decision, Mode, Request, register


class DefaultModeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_calls: int = Field(
        2, ge=2, le=10, description="model calls at most for a query that touches a target"
    )
    leak_answer: Literal["decline", "rewrite"] = Field(
        "decline",
        description="what answers a draft that leaks: the refusal policy, or the erase-critic-compose chain",
    )
    k: int = Field(3, ge=1, le=10, description="variants the eraser writes (leak_answer = rewrite)")
    j: int = Field(2, ge=1, le=10, description="best variants composed")
    threshold: float = Field(
        4.0, ge=1, le=5, description="refuse when the top j's mean critic score is below"
    )
    max_candidates: int = Field(5, ge=1, description="targets the agents see at most")
    gate_evidence: float = Field(1.5, gt=0, description="refuse when a leaked target's evidence scores this")
    # A target named in the question whose draft adds none of its evidence is an echo, not a
    # leak, only when it has this much evidence on file to judge by; else the agents judge.
    echo_evidence_chars: int = Field(300, ge=0)


def _pointed_at(scan: Scan) -> list[Candidate]:
    """Targets the text points at through what the model said leads back to them (the
    knowledge scanner's pointers, ``alu.scan.knowledge``)."""
    return [
        c
        for c in scan.candidates
        if c.target.kind != "hazard"
        and any(s.kind == "knowledge" and s.weight >= POINTER_WEIGHT for s in c.signals)
    ]


def _decided_by_question(trace: Trace, found: list[Candidate]) -> None:
    """Record targets the question alone decided (no draft): candidates, about and leaked."""
    trace.candidates = [c.brief() for c in found]
    trace.supported = trace.leaked = [c.target.name for c in found]


def _evidence_chars(target: Target) -> int:
    return len(target.description) + sum(len(e) for e in target.evidence)


@register("default", DefaultModeConfig)
class DefaultMode(Mode[DefaultModeConfig]):
    def run(self, request: Request) -> Decision:
        ctx, trace = self.ctx, request.trace
        cfg = self.config
        # Retries count: an agent call past the cap fails, and the request fails closed.
        trace.call_budget = cfg.max_calls if cfg.leak_answer == "decline" else None
        targets = request.targets
        asked_scan = targets.scan(request.asked)
        # The question on its own too (scanned again only when a conversation came before it:
        # a long one dilutes a hazard's features, and a pointer must be in the question itself).
        query_scan = targets.scan(request.query) if request.earlier else asked_scan
        hazards = flagged(asked_scan.candidates) or flagged(query_scan.candidates)
        if hazards:
            # The question alone reads like a hazard's examples (the learned scanner): the
            # hazard policy answers without a draft (no call for the fixed refusal, one for
            # the model's own "I don't know"), so no hazardous draft is ever written.
            _decided_by_question(trace, hazards)
            return self.fall_back(request, hazards, asked_scan, "the question is about a hazard")
        pointed = [c for c in _pointed_at(query_scan) if not c.names_it]
        if pointed:
            # The question itself carries what the model says leads back to a target it
            # knows (Hogwarts, Han Solo, George Lucas): asked about its world, it would answer
            # from what it knows of the target. The policy answers at once, one call.
            _decided_by_question(trace, pointed)
            return self.fall_back(
                request, pointed, asked_scan, "the question points at a target the model knows"
            )
        named = [c for c in asked_scan.naming if c.target.kind != "hazard"]
        known = [c for c in named if not ctx.fallback.strangers([c])]
        if known:
            # The user names a target the model knows (or one never probed): whatever it would
            # say is what it knows, and pretending not to know it would take inventing facts
            # about a real person or thing. The policy declines plainly, with one call.
            _decided_by_question(trace, known)
            return self.fall_back(request, known, asked_scan, "the question names a target the model knows")
        thin = [
            c for c in asked_scan.named if c in named and _evidence_chars(c.target) < cfg.echo_evidence_chars
        ]
        if thin and ctx.fallback.policy_for(thin) == "unknown":
            # The user names a target with too little on file to tell an echo from a leak:
            # whatever the model would say may come from what it knows. Answer as about a
            # stranger from the start (one call, no draft).
            _decided_by_question(trace, thin)
            return self.as_strangers(request, thin, asked_scan)
        draft = ctx.assistant.answer(
            trace,
            request.query,
            request.history,
            system=request.system,
            guard=targets,
            sampling=request.sampling,
        )
        clock = time.perf_counter()
        in_both = targets.scan(request.asked + "\n" + draft)
        in_query = asked_scan.by_id()
        draft_scan = targets.scan(draft)
        english = is_english(request.query) and is_english(draft)
        trace.prescreen_ms = round((time.perf_counter() - clock) * 1000, 3)
        if not english:
            # Screen an English rendering too: one more call, for other languages only.
            translated = targets.scan(ctx.translator.translate(trace, draft))
            in_both, draft_scan = in_both.merged(translated), draft_scan.merged(translated)
        clock = time.perf_counter()
        in_draft = draft_scan.by_id()
        candidates = in_both.above(CANDIDATE_THRESHOLD, limit=cfg.max_candidates)
        trace.prescreen_ms += round((time.perf_counter() - clock) * 1000, 3)
        trace.candidates = [c.brief() for c in candidates]

        def named_by_draft_only(c: Candidate) -> bool:
            d, q = in_draft.get(c.target.id), in_query.get(c.target.id)
            return bool(d and d.named and not (q and q.named))

        def about(c: Candidate) -> bool:
            """Whether the exchange is about the target beyond an echo of the question.

            A hazard with a classifier is about the exchange when the question and draft
            together read like its examples (``in_both`` carries the learned flag): its
            word-for-word evidence is no sign of that (biology questions share a hazard's
            words), so that evidence and the auditor do not decide it. Another hazard is about
            the question: asking is enough. A person or topic counts when
            the draft names it though the question did not, when the draft adds evidence the
            question lacked, or when it is named at all but has too little evidence on file
            to tell an echo from a leak."""
            if trained(c.target):
                return bool(flagged([c]))
            d, q = in_draft.get(c.target.id), in_query.get(c.target.id)
            novel = d.novel_evidence(q) if d else 0.0
            if c.target.kind == "hazard":
                return bool(q and q.score >= CANDIDATE_THRESHOLD) or novel >= CANDIDATE_THRESHOLD
            if named_by_draft_only(c) or novel >= CANDIDATE_THRESHOLD:
                return True
            named = bool((q and q.named) or (d and d.named))
            return named and _evidence_chars(c.target) < cfg.echo_evidence_chars

        def sure(c: Candidate) -> bool:
            """A leak the screen is sure of: a name the user did not give, or strong evidence
            the question lacked. No agent could overrule it, so none is asked."""
            if trained(c.target):
                return True  # the classifier flagged it (``about``): no agent could overrule it
            d, q = in_draft.get(c.target.id), in_query.get(c.target.id)
            return named_by_draft_only(c) or (d is not None and d.novel_evidence(q) >= cfg.gate_evidence)

        supported = [c for c in candidates if about(c)]
        trace.supported = [c.target.name for c in supported]
        if not supported:
            # At most an echo of the question: the user's own words may come back.
            echo = Decision("pass", draft, "at most an echo of the question")
            return self.gated(request, echo, [], asked_scan, draft_scan)
        leaked = [c for c in supported if sure(c)]
        unsure = [c for c in supported if c not in leaked]
        if unsure and self.calls_left(request):
            confirmed = set(ctx.auditor.audit(trace, request.query, request.earlier, draft, unsure))
            leaked += [c for c in unsure if c.target.name in confirmed]
        else:
            leaked += unsure  # no call left to tell: the safe side
        trace.leaked = [c.target.name for c in leaked]
        if not leaked:
            clean = Decision("pass", draft, "no leak found")
            return self.gated(request, clean, [], asked_scan, draft_scan)
        if any(c.target.kind == "hazard" for c in leaked):
            # Hazardous knowledge is not rewritten into a "safe" version (the small eraser
            # does that worst, and the hazard policy refuses anyway): the policy answers.
            return self.fall_back(request, leaked, asked_scan, "a hazard leaked")
        if all(c.target.id in in_query and in_query[c.target.id].named for c in leaked) and (
            ctx.fallback.policy_for(leaked) == "unknown" and ctx.fallback.strangers(leaked)
        ):
            # Facts about targets the user named: answer as about strangers (one call).
            return self.as_strangers(request, leaked, asked_scan)
        if cfg.leak_answer == "decline":
            return self.fall_back(request, leaked, asked_scan, "the draft gives a target away")
        variants = ctx.auditor.erase(trace, request.query, draft, leaked, cfg.k)
        final = judge_and_compose(
            ctx.critic, ctx.composer, trace, request.query, variants, leaked, j=cfg.j, threshold=cfg.threshold
        )
        if final is None:
            return self.fall_back(request, leaked, asked_scan, "the rewrites scored below the threshold")
        return self.gated(request, Decision("rewrite", final, "the leak erased"), leaked, asked_scan)

    def calls_left(self, request: Request) -> int:
        """Model calls this request may still make (``max_calls`` in all)."""
        if request.trace.call_budget is None:  # leak_answer = "rewrite": the chain's own cost
            return self.config.max_calls + 10
        return max(0, self.config.max_calls - request.trace.llm_calls)

    def fall_back(self, request: Request, leaked: list[Candidate], asked: Scan, reason: str) -> Decision:
        """The refusal policy's answer, within the calls left (none left: the fixed one)."""
        return self.ctx.fallback.answer(request, leaked, asked, reason, calls=self.calls_left(request))

    def as_strangers(self, request: Request, targets: list[Candidate], asked: Scan) -> Decision:
        """The stranger rewrite for ``targets`` (which the user named), through the gate;
        what the gate blocks gets the fixed "I don't know" (the model was asked already)."""
        if not self.calls_left(request):
            return self.fall_back(request, targets, asked, "no call left for the stranger rewrite")
        decision = self.ctx.stranger.answer(request, targets)
        # Strong evidence of any target the user did not name blocks it too: no agent audited
        # this text, and the stranger may still describe someone on the list.
        scan = request.targets.scan(decision.text)
        supplied = {c.target.id for c in asked.naming}
        others = [c for c in scan.candidates if c.target.id not in supplied]
        return self.ctx.gate.check(request, decision, [*targets, *others], asked, scan)
