"""Composer: merges the best variants into the final answer."""

from __future__ import annotations

from ..trace import Trace
from . import Agent, quote, render


class Composer(Agent):
    name = "composer"

    def compose(self, trace: Trace, query: str, variants: list[str]) -> str:
        if len(variants) == 1:
            return variants[0]
        numbered = "\n".join(f"{i}. {quote(v)}" for i, v in enumerate(variants, 1))
        content = render("composer", query=quote(query), variants=numbered)
        return self._call(
            trace, [{"role": "user", "content": content}], max_tokens=200, detail={"variants": len(variants)}
        )
