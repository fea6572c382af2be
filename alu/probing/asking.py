"""One probe question to the serving model, kept as it was asked and answered."""

from __future__ import annotations

import time
from collections.abc import Callable

from ..agents.prober import Prober, Question
from ..targets import ProbeAnswer, Target
from ..trace import Trace
from .fingerprint import verdict_of

Pace = Callable[[float], None]  # told each call's seconds; may wait before the next


def exchange(
    prober: Prober,
    trace: Trace,
    target: Target,
    question: Question,
    *,
    subject: str | None = None,
    facet: str | None = None,
    max_tokens: int | None = None,
    pace: Pace | None = None,
) -> ProbeAnswer:
    """``question`` about ``subject`` (the target's name unless given) asked once, the
    seconds told to ``pace`` whether it was answered or not, as the answer kept with the
    target (``facet``: the question's own unless given). Raises AgentFailure."""
    started = time.perf_counter()
    try:
        text = prober.ask(trace, target, question, subject=subject, max_tokens=max_tokens)
    finally:
        if pace is not None:
            pace(time.perf_counter() - started)
    return ProbeAnswer(
        facet=facet or question.facet,
        lang=question.lang,
        question=question.text(subject or target.name),
        answer=text,
        verdict=verdict_of(text),
    )
