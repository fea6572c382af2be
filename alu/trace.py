"""What the pipeline did for one answer: which agents ran, at what cost, and why."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Verdict = Literal["passed", "rewritten", "redacted", "refused", "failed_closed"]


class Step(BaseModel):
    agent: str
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cached: int = 0  # calls served from a completion cache
    cached_seconds: float = 0.0  # what the cached calls took when they were made
    ok: bool = True
    detail: dict[str, Any] = Field(default_factory=dict)


class Trace(BaseModel):
    mode: str
    verdict: Verdict = "passed"
    candidates: list[dict[str, Any]] = Field(default_factory=list)
    supported: list[str] = Field(default_factory=list)  # candidates the text is really about
    withheld_documents: int = 0  # retrieved documents kept out of the context (about a target)
    leaked: list[str] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)
    steps: list[Step] = Field(default_factory=list)  # the agents' calls, in order
    gate: Step | None = None  # the deterministic output gate, when it ran
    prescreen_ms: float = 0.0
    seconds: float = 0.0
    error: str | None = None
    # Model calls this request may make in all, retries included (None: no cap); an agent
    # call past it fails, so the request fails closed (alu.agents.Agent._call).
    call_budget: int | None = Field(None, exclude=True)

    @property
    def llm_calls(self) -> int:
        return sum(s.calls for s in self.steps)

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens for s in self.steps)

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.steps)

    @property
    def cached_calls(self) -> int:
        return sum(s.cached for s in self.steps)

    @property
    def cached_seconds(self) -> float:
        return round(sum(s.cached_seconds for s in self.steps), 3)

    def summary(self) -> dict[str, Any]:
        data = self.model_dump()
        data.update(
            llm_calls=self.llm_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cached_calls=self.cached_calls,
            cached_seconds=self.cached_seconds,
        )
        return data


class Answer(BaseModel):
    text: str
    trace: Trace

    @property
    def refused(self) -> bool:
        return self.trace.verdict in ("refused", "failed_closed")
