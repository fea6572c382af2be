"""Critic: scores each sanitized variant 1-5 for leakage and quality."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, create_model

from ..scan import Candidate
from ..trace import Trace
from . import Agent, quote, render
from .audit_erase import describe

Score = Annotated[int, Field(ge=1, le=5)]


class Scores(BaseModel):
    scores: list[Score]


class Critic(Agent):
    name = "critic"

    def score(
        self, trace: Trace, query: str, variants: list[str], targets: list[Candidate] | list[str]
    ) -> list[int]:
        listed = (
            describe(targets)
            if targets and isinstance(targets[0], Candidate)
            else "\n".join(f"- {t}" for t in targets)
        )
        numbered = "\n".join(f"{i}. {quote(v)}" for i, v in enumerate(variants, 1))
        n = len(variants)
        schema = create_model(
            "Scores",
            scores=(list[Score], Field(min_length=n, max_length=n)),
            __base__=Scores,
        )
        content = render("critic", targets=listed, query=quote(query), variants=numbered, n=n)
        result = self._call(
            trace,
            [{"role": "user", "content": content}],
            schema=schema,
            max_tokens=16 + 4 * n,
            detail={"variants": n},
        )
        trace.steps[-1].detail["scores"] = result.scores
        return result.scores
