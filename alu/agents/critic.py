"""Critic: scores each sanitized variant 1-5 for leakage and quality."""

from __future__ import annotations

from pydantic import BaseModel, Field, create_model

from ..prescreen import Candidate
from ..trace import Trace
from . import Agent, quote, render
from .audit_erase import describe


class Scores(BaseModel):
    scores: list[int]


class Critic(Agent):
    name = "critic"

    def score(self, trace: Trace, query: str, variants: list[str], targets: list[Candidate] | list[str]) -> list[int]:
        listed = describe(targets) if targets and isinstance(targets[0], Candidate) else \
            "\n".join(f"- {t}" for t in targets)
        numbered = "\n".join(f"{i}. {quote(v)}" for i, v in enumerate(variants, 1))
        n = len(variants)
        schema = create_model(
            "Scores",
            scores=(list[int], Field(min_length=n, max_length=n,
                                     json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": 5}})),
            __base__=Scores,
        )
        content = render("critic", targets=listed, query=quote(query), variants=numbered, n=n)
        result = self._call(trace, [{"role": "user", "content": content}], schema=schema,
                            max_tokens=16 + 4 * n, detail={"variants": n})
        if any(not 1 <= s <= 5 for s in result.scores):
            trace.steps[-1].ok = False
            from . import AgentFailure

            raise AgentFailure("critic: scores outside 1-5")
        trace.steps[-1].detail["scores"] = result.scores
        return result.scores
