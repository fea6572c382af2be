"""``paper``: as in Sanyal & Mandal (2025). The whole target list in the agents' prompts,
k=5 variants, critic scores 1-5, the top j=3 composed, a refusal when their mean is below
4.0. Retrieval is not guarded and no deterministic gate follows."""

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


@register("paper")
class PaperMode(Mode):
    def run(self, request: Request) -> str:
        alu, trace = self.alu, request.trace
        cfg = alu.config.paper
        names = [t.name for t in request.targets.targets()]
        draft = alu.assistant.answer(trace, request.query, request.history, system=request.system)
        if not names:
            return draft
        leaked, variants = alu.auditor.audit_and_erase(trace, request.query, draft, names, cfg.k)
        trace.leaked = leaked
        if not leaked:
            return draft
        if not variants:
            raise AgentFailure("audit_erase: a leak was found but no variant was written")
        final = judge_and_compose(
            alu.critic, alu.composer, trace, request.query, variants, leaked, j=cfg.j, threshold=cfg.threshold
        )
        if final is None:
            trace.verdict = "refused"
            return alu.config.refusal
        return final
