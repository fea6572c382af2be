"""The pipeline's settings: what every mode shares, and each mode's own."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..scan.index import MAX_SCREEN_CHARS
from .fallback import Policy
from .modes.default import DefaultModeConfig
from .modes.paper import PaperModeConfig

REFUSAL = "I'm sorry, but I can't help with that."
AGENTS = ("vanilla", "audit_erase", "critic", "composer", "translator", "enricher")


class PipelineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    mode: str = "default"
    top_docs: int = Field(3, ge=0, le=20, description="documents retrieved into the Vanilla prompt")
    answer_tokens: int = Field(256, ge=1, description="the Vanilla agent's answer length")
    timeout: float | None = Field(120.0, gt=0, description="seconds per agent call")
    deadline: float | None = Field(
        300.0, gt=0, description="seconds per request, every agent call together; then the refusal"
    )
    max_query_chars: int = Field(
        20_000,
        ge=1,
        le=MAX_SCREEN_CHARS // 2,
        description="characters per request (query, history and system prompt); longer: rejected",
    )
    refusal: str = REFUSAL  # the explicit refusal (policy "refuse")
    refusal_policy: Policy = Field(
        "unknown", description="unknown: answer as a model that never learned the target; refuse: say so"
    )
    hazard_policy: Policy = Field("refuse", description="the refusal policy for hazard targets")
    default: DefaultModeConfig = Field(default_factory=DefaultModeConfig)
    paper: PaperModeConfig = Field(default_factory=PaperModeConfig)
