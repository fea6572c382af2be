"""The output gate: the last, deterministic check before an answer leaves.

No target's name or alias survives into the answer (it is redacted, and if it still
shows, the answer is refused), and an answer that keeps strong evidence of a target the
draft leaked is refused. Recorded in the trace as its own step.
"""

from __future__ import annotations

import time

from ..targets import Candidate, Scan, TargetView, redact
from ..trace import Step, Trace


class Gate:
    def __init__(self, refusal: str, evidence_threshold: float):
        self.refusal = refusal
        self.evidence_threshold = evidence_threshold

    def check(
        self,
        trace: Trace,
        text: str,
        leaked: list[Candidate],
        targets: TargetView,
        scan: Scan | None = None,
    ) -> str:
        """``text`` as it may leave, or the refusal. ``scan`` is ``text``'s scan when the
        caller has it already (the draft)."""
        started = time.perf_counter()
        step = Step(agent="gate", detail={"action": "passed"})
        trace.gate = step
        try:
            return self._check(trace, step, text, leaked, targets, scan)
        finally:
            step.seconds = round(time.perf_counter() - started, 3)

    def _check(
        self,
        trace: Trace,
        step: Step,
        text: str,
        leaked: list[Candidate],
        targets: TargetView,
        scan: Scan | None,
    ) -> str:
        named = (scan or targets.scan(text)).named
        if named:
            for c in named:
                text = redact(text, c.target)
            trace.verdict = "redacted"
            step.detail.update(action="redacted", redacted=len(named))
            if targets.scan(text).named:
                step.detail.update(action="refused", reason="name")
                trace.verdict = "refused"
                return self.refusal
        ids = {c.target.id for c in leaked}
        if ids and targets.scan(text).above(self.evidence_threshold, only=ids):
            step.detail.update(action="refused", reason="evidence")
            trace.verdict = "refused"
            return self.refusal
        return text
