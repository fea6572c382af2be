"""``paper``: as in Sanyal & Mandal (2025). The whole target list in the agents' prompts,
k=5 variants, critic scores 1-5, the top j=3 composed, a refusal when their mean is below
4.0. Retrieval is not guarded.

When it serves traffic the deterministic gate still checks the answer (``gate``): the
auditor alone may miss a leak, and then the draft would go out verbatim. ``gate=False``
reproduces the paper exactly, for evaluation (the ``alu-paper`` system)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ...errors import AgentFailure
from ..judge import judge_and_compose
from . import Mode, Request, register


class PaperModeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    k: int = Field(5, ge=1, le=10, description="variants AuditErase writes")
    j: int = Field(3, ge=1, le=10, description="best variants composed")
    threshold: float = Field(
        4.0, ge=1, le=5, description="refuse when the top j's mean critic score is below"
    )
    gate: bool = Field(True, description="pass the answer through the deterministic gate (off: the paper)")
    # Every target is listed in one prompt: past this many, the list no longer fits a 4k context.
    max_targets: int = Field(400, ge=1, description="the most targets the paper's prompt can list")


@register("paper")
class PaperMode(Mode):
    def run(self, request: Request) -> str:
        alu, trace = self.alu, request.trace
        cfg = alu.config.paper
        targets = request.targets
        names = [t.name for t in targets.targets()]
        draft = alu.assistant.answer(
            trace, request.query, request.history, system=request.system, sampling=request.sampling
        )
        if not names:
            return draft
        leaked, variants = alu.auditor.audit_and_erase(trace, request.query, draft, names, cfg.k)
        trace.leaked = leaked
        if not leaked:
            return self._gated(request, draft, [])
        if not variants:
            raise AgentFailure("audit_erase: a leak was found but no variant was written")
        final = judge_and_compose(
            alu.critic, alu.composer, trace, request.query, variants, leaked, j=cfg.j, threshold=cfg.threshold
        )
        if final is None:
            trace.verdict = "refused"
            return alu.config.refusal
        return self._gated(request, final, leaked)

    def _gated(self, request: Request, text: str, leaked: list[str]) -> str:
        """``text`` through the output gate (the refusal policy answers what it blocks),
        unless the paper is reproduced as it was."""
        if not self.alu.config.paper.gate:
            return text
        targets = request.targets
        asked, found = targets.scan(request.asked), targets.scan(text)
        names = set(leaked)
        candidates = [c for c in found.candidates if c.target.name in names]
        out = self.alu.gate.check(request.trace, text, candidates, targets, asked, request.asked, scan=found)
        if out is not None:
            return out
        in_query = asked.by_id()
        blocked = candidates or [c for c in found.naming if c.target.id not in in_query]
        return self.fall_back(request, blocked, asked)
