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
from . import Decision, Mode, Request, register


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


@register("paper", PaperModeConfig)
class PaperMode(Mode[PaperModeConfig]):
    def run(self, request: Request) -> Decision:
        ctx, trace, cfg = self.ctx, request.trace, self.config
        targets = request.targets
        names = [t.name for t in targets.targets()]
        draft = ctx.assistant.answer(
            trace, request.query, request.history, system=request.system, sampling=request.sampling
        )
        if not names:
            return Decision("pass", draft, "no targets")
        leaked, variants = ctx.auditor.audit_and_erase(trace, request.query, draft, names, cfg.k)
        trace.leaked = leaked
        if not leaked:
            return self._gated(request, Decision("pass", draft, "no leak found"), [])
        if not variants:
            raise AgentFailure("audit_erase: a leak was found but no variant was written")
        final = judge_and_compose(
            ctx.critic, ctx.composer, trace, request.query, variants, leaked, j=cfg.j, threshold=cfg.threshold
        )
        if final is None:
            return Decision("refuse", ctx.refusal, "the rewrites scored below the threshold")
        return self._gated(request, Decision("rewrite", final, "the leak erased"), leaked)

    def _gated(self, request: Request, decision: Decision, leaked: list[str]) -> Decision:
        """``decision`` through the output gate (the refusal policy answers what it blocks),
        unless the paper is reproduced as it was."""
        if not self.config.gate:
            return decision
        targets = request.targets
        asked, found = targets.scan(request.asked), targets.scan(decision.text)
        names = set(leaked)
        candidates = [c for c in found.candidates if c.target.name in names]
        return self.gated(request, decision, candidates, asked, scan=found)
