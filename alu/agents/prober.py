"""Prober: asks the serving model what it knows about a target, one short plain question a
call (``probe.txt``), as it would answer anyone: a small model answers a plain question far
better than it fills in one large JSON document. What the answers have in common is the
target's knowledge fingerprint (``alu.probing``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

from ..targets import Target
from ..trace import Trace
from . import PROMPTS, Agent

ANSWER_TOKENS = 120  # enough for the names an answer opens with; the rest costs time only
LANGUAGES = ("en", "es", "de", "fr", "ru", "zh", "uk", "ja", "ko", "ar", "el", "hi", "he")


@dataclass(frozen=True)
class Question:
    kind: str  # person, topic, hazard, other
    facet: str  # what it asks: who, works, places, characters, agents, ...
    lang: str  # ISO 639-1
    template: str  # with $name

    def text(self, name: str) -> str:
        return string.Template(self.template).substitute(name=name)


@cache
def questions(kind: str) -> tuple[Question, ...]:
    """The questions for a target of ``kind``, in the order they are asked."""
    found: list[Question] = []
    for number, line in enumerate((PROMPTS / "probe.txt").read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, template = line.partition("|")
        fields = head.split()
        if not sep or len(fields) != 3 or "$name" not in template or fields[2] not in LANGUAGES:
            raise ValueError(f"probe.txt line {number}: expected KIND FACET LANG | QUESTION with $name")
        if fields[0] == kind:
            found.append(Question(fields[0], fields[1], fields[2], template.strip()))
    return tuple(found) if found or kind == "other" else questions("other")


def item_question(kind: str) -> Question:
    """The question that asks about a fingerprint item itself (a name or a term)."""
    found = {q.facet: q for q in questions("item")}
    return found["name" if kind == "name" else "term"]


def plan(kind: str, calls: int) -> list[Question]:
    """The first ``calls`` questions for ``kind`` (all of them when there are fewer)."""
    return list(questions(kind)[: max(1, calls)])


class Prober(Agent):
    name = "prober"

    def __init__(self, model, *, timeout: float | None = None, max_tokens: int = ANSWER_TOKENS):
        super().__init__(model, timeout=timeout, max_tokens=max_tokens)

    def ask(
        self,
        trace: Trace,
        target: Target,
        question: Question,
        subject: str | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """One call (retried once on an empty answer): the question about ``subject`` (the
        target's name unless given), as a user asks it, greedy; raises AgentFailure."""
        return self._call(
            trace,
            [{"role": "user", "content": question.text(subject or target.name)}],
            step=question.facet,
            detail={"target": target.name, "lang": question.lang},
            max_tokens=max_tokens,
        )
