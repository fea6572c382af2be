"""Critic and Composer together: score the variants, refuse below the threshold, else
merge the best ``j``."""

from __future__ import annotations

from ..agents.composer import Composer
from ..agents.critic import Critic
from ..scan import Candidate
from ..trace import Trace


def judge_and_compose(
    critic: Critic,
    composer: Composer,
    trace: Trace,
    query: str,
    variants: list[str],
    targets: list[Candidate] | list[str],
    *,
    j: int,
    threshold: float,
) -> str | None:
    """The composed answer, or None when the mean score of the top ``j`` is below ``threshold``
    (the caller decides what goes out instead)."""
    scores = critic.score(trace, query, variants, targets)
    trace.scores = [float(s) for s in scores]
    best = sorted(zip(scores, range(len(variants)), strict=True), reverse=True)[:j]
    if sum(s for s, _ in best) / len(best) < threshold:
        return None
    return composer.compose(trace, query, [variants[i] for _, i in best])
