"""Vanilla: the model answering as it normally would (with retrieved documents, if any)."""

from __future__ import annotations

from ..knowledge import Document
from ..models import Messages
from ..trace import Trace
from . import Agent, render


class Vanilla(Agent):
    name = "vanilla"

    def answer(
        self,
        trace: Trace,
        query: str,
        history: Messages,
        documents: list[Document],
        system: str | None = None,
    ) -> str:
        context = "\n\n".join(f"[{i}] {d.title}\n{d.text}".strip() for i, d in enumerate(documents, 1))
        prompt = render("vanilla", context=context) if documents else render("vanilla_plain")
        if system:
            prompt = system.strip() + "\n\n" + prompt
        messages = [{"role": "system", "content": prompt}, *history, {"role": "user", "content": query}]
        return self._call(trace, messages, detail={"documents": [d.id for d in documents]})
