"""``default``: ours. A deterministic pre-screen picks candidate targets from the query,
the conversation and the draft, so a query that touches no target costs the Vanilla call
alone and cost does not grow with the target list; the auditor may only confirm
candidates (and a confirmation needs support in the text); the final answer passes the
deterministic gate."""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from ...language import is_english
from ...scan import CANDIDATE_THRESHOLD, Candidate, Scan
from ...scan.learned import flagged
from ...targets import Target
from ..judge import judge_and_compose
from . import Decision, Mode, Request, register


class DefaultModeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    k: int = Field(3, ge=1, le=10, description="variants the eraser writes")
    j: int = Field(2, ge=1, le=10, description="best variants composed")
    threshold: float = Field(
        4.0, ge=1, le=5, description="refuse when the top j's mean critic score is below"
    )
    max_candidates: int = Field(5, ge=1, description="targets the agents see at most")
    gate_evidence: float = Field(1.5, gt=0, description="refuse when a leaked target's evidence scores this")
    # A target named in the question whose draft adds none of its evidence is an echo, not a
    # leak, only when it has this much evidence on file to judge by; else the agents judge.
    echo_evidence_chars: int = Field(300, ge=0)


def _evidence_chars(target: Target) -> int:
    return len(target.description) + sum(len(e) for e in target.evidence)


@register("default", DefaultModeConfig)
class DefaultMode(Mode[DefaultModeConfig]):
    def run(self, request: Request) -> Decision:
        ctx, trace = self.ctx, request.trace
        cfg = self.config
        targets = request.targets
        asked_scan = targets.scan(request.asked)
        hazards = flagged(asked_scan.candidates)
        if not hazards and request.earlier:
            # The question on its own too: a long conversation before it dilutes its features.
            hazards = flagged(targets.scan(request.query).candidates)
        if hazards:
            # The question alone reads like a hazard's examples (the learned scanner): the
            # hazard policy answers without a draft (no call for the fixed refusal, one for
            # the model's own "I don't know"), so no hazardous draft is ever written.
            trace.candidates = [c.brief() for c in hazards]
            trace.supported = trace.leaked = [c.target.name for c in hazards]
            return self.fall_back(request, hazards, asked_scan, "the question is about a hazard")
        thin = [
            c
            for c in asked_scan.named
            if c.target.kind != "hazard" and _evidence_chars(c.target) < cfg.echo_evidence_chars
        ]
        if thin and ctx.fallback.policy_for(thin) == "unknown":
            # The user names a target with too little on file to tell an echo from a leak:
            # whatever the model would say may come from what it knows. Answer as about a
            # stranger from the start (one call, no draft).
            trace.candidates = [c.brief() for c in thin]
            trace.supported = trace.leaked = [c.target.name for c in thin]
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

            A hazard is about the question: asking is enough. A person or topic counts when
            the draft names it though the question did not, when the draft adds evidence the
            question lacked, or when it is named at all but has too little evidence on file
            to tell an echo from a leak."""
            d, q = in_draft.get(c.target.id), in_query.get(c.target.id)
            novel = d.novel_evidence(q) if d else 0.0
            if c.target.kind == "hazard":
                return bool(q and q.score >= CANDIDATE_THRESHOLD) or novel >= CANDIDATE_THRESHOLD
            if named_by_draft_only(c) or novel >= CANDIDATE_THRESHOLD:
                return True
            named = bool((q and q.named) or (d and d.named))
            return named and _evidence_chars(c.target) < cfg.echo_evidence_chars

        supported = [c for c in candidates if about(c)]
        trace.supported = [c.target.name for c in supported]
        if not supported:
            # At most an echo of the question: the user's own words may come back.
            echo = Decision("pass", draft, "at most an echo of the question")
            return self.gated(request, echo, [], asked_scan, draft_scan)
        confirmed = set(ctx.auditor.audit(trace, request.query, request.earlier, draft, supported))
        # A draft that names a target the user did not name leaks it, whatever the auditor says.
        leaked = [c for c in supported if c.target.name in confirmed or named_by_draft_only(c)]
        trace.leaked = [c.target.name for c in leaked]
        if not leaked:
            clean = Decision("pass", draft, "no leak found")
            return self.gated(request, clean, [], asked_scan, draft_scan)
        if any(c.target.kind == "hazard" for c in leaked):
            # Hazardous knowledge is not rewritten into a "safe" version (the small eraser
            # does that worst, and the hazard policy refuses anyway): the policy answers.
            return self.fall_back(request, leaked, asked_scan, "a hazard leaked")
        if all(c.target.id in in_query and in_query[c.target.id].named for c in leaked) and (
            ctx.fallback.policy_for(leaked) == "unknown"
        ):
            # Facts about targets the user named: answer as about strangers (one call).
            return self.as_strangers(request, leaked, asked_scan)
        variants = ctx.auditor.erase(trace, request.query, draft, leaked, cfg.k)
        final = judge_and_compose(
            ctx.critic, ctx.composer, trace, request.query, variants, leaked, j=cfg.j, threshold=cfg.threshold
        )
        if final is None:
            return self.fall_back(request, leaked, asked_scan, "the rewrites scored below the threshold")
        return self.gated(request, Decision("rewrite", final, "the leak erased"), leaked, asked_scan)

    def as_strangers(self, request: Request, targets: list[Candidate], asked: Scan) -> Decision:
        """The stranger rewrite for ``targets`` (which the user named), through the gate;
        what the gate blocks gets the fixed "I don't know" (the model was asked already)."""
        decision = self.ctx.stranger.answer(request, targets)
        # Strong evidence of any target the user did not name blocks it too: no agent audited
        # this text, and the stranger may still describe someone on the list.
        scan = request.targets.scan(decision.text)
        supplied = {c.target.id for c in asked.naming}
        others = [c for c in scan.candidates if c.target.id not in supplied]
        return self.ctx.gate.check(request, decision, [*targets, *others], asked, scan)
