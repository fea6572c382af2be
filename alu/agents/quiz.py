"""QuizWriter: asks the serving model for a quiz question about a target whose answer is
one thing it said about the target, with the target described rather than named. These are
``alu targets verify``'s long-tail forget probes: questions of the kind users (and
benchmarks) ask, "which Ravenclaw student ... in the boy wizard books?", written by the
model that knows the answer, never by the probing that fitted the guard.
"""

from __future__ import annotations

from ..targets import Target
from ..text import contains_key, folded_key, is_distinctive, tokens, transliteration_key
from ..trace import Trace
from . import Agent, render

QUESTION_TOKENS = 80


class QuizWriter(Agent):
    name = "quiz"

    def __init__(self, model, *, timeout: float | None = None):
        super().__init__(model, timeout=timeout, max_tokens=QUESTION_TOKENS)

    def write(self, trace: Trace, target: Target, answer: str) -> str | None:
        """One question (greedy, one call) whose answer is ``answer``; None when the model
        wrote the answer into it, or no question at all (the caller replaces the target's
        name, which a small model writes in whatever it is told). Raises AgentFailure when
        the call fails."""
        text = self._call(
            trace,
            [{"role": "user", "content": render("quiz", subject=target.name, answer=answer)}],
            detail={"target": target.name},
        )
        question = next((line.strip() for line in text.splitlines() if line.strip()), "")
        question = question.removeprefix("Question:").strip().strip('"')
        words = folded_key(question)
        # The answer, or any distinctive word of it ("Voldemort" of "Lord Voldemort"), given away.
        given = [folded_key(answer)] + [
            (transliteration_key(t),) for t in tokens(answer) if is_distinctive(t)
        ]
        if not question.endswith("?") or any(contains_key(words, g) for g in given):
            return None
        return question
