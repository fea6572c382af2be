"""Translator: puts a non-English draft into English for the screen, so that names and
terms the pre-screen knows in English are found whatever language the exchange is in.
Its output is only ever screened, never shown."""

from __future__ import annotations

from ..trace import Trace
from . import Agent, quote, render


class Translator(Agent):
    name = "translator"

    def translate(self, trace: Trace, text: str) -> str:
        content = render("translate", text=quote(text))
        return self._call(trace, [{"role": "user", "content": content}], max_tokens=300)
