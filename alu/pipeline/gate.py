"""The output gate: the last, deterministic check before an answer leaves.

Echoes are not leaks: a target the user named may be named back, in the user's own words
(another name of it, which the user did not give, is new information and is written as the
user wrote it). A target the user did not name must not be named, and an answer that keeps
strong evidence of a target the draft leaked must not go out: in both cases the gate says
so and the refusal policy answers instead. Nothing is ever redacted in place: a marker
would tell the caller who is on the list. Recorded in the trace as its own step.
"""

from __future__ import annotations

import re
import time

from ..scan import Candidate, Scan, name_pattern
from ..scan.names import written_forms
from ..trace import Step
from .decision import Decision, Request, dont_know


class Gate:
    def __init__(self, evidence_threshold: float):
        self.evidence_threshold = evidence_threshold

    def check(
        self,
        request: Request,
        decision: Decision,
        leaked: list[Candidate],
        asked: Scan,
        scan: Scan | None = None,
    ) -> Decision:
        """``decision`` with its text as it may leave, or, when it must not leave, a decline
        (the fixed "I don't know", safe as it is; the caller may let the refusal policy
        answer instead). ``asked`` is the scan of what the user supplied; ``scan`` is the
        text's, when the caller has it."""
        started = time.perf_counter()
        step = Step(agent="gate", detail={"action": "passed"})
        request.trace.gate = step
        targets, text = request.targets, decision.text
        try:
            scan = scan or targets.scan(text)
            supplied = {c.target.id for c in asked.naming}
            unsupplied = [c for c in scan.naming if c.target.id not in supplied]
            if unsupplied:
                return self._blocked(request, step, "name")
            echoed = [c for c in scan.named if c.target.id in supplied]
            if any(not _user_wrote(c, request.asked) for c in echoed):
                # The user wrote it only in a disguise (leetspeak, backwards, no spaces): its
                # real name in the answer would tell what the disguise stands for.
                return self._blocked(request, step, "name")
            text = _as_user_wrote(text, echoed, request.asked)
            if self.carries_evidence(targets.scan(text), leaked, asked):
                return self._blocked(request, step, "evidence")
            if echoed:
                step.detail["echoed"] = len(echoed)
            return decision.with_text(text)
        finally:
            step.seconds = round(time.perf_counter() - started, 3)

    @staticmethod
    def _blocked(request: Request, step: Step, reason: str) -> Decision:
        step.detail.update(action="blocked", reason=reason)
        return Decision("decline", dont_know(request.query), f"the gate blocked the answer ({reason})")

    def carries_evidence(self, scan: Scan, leaked: list[Candidate], asked: Scan) -> bool:
        """Strong evidence of a leaked target that the user did not give (names aside)."""
        ids = {c.target.id for c in leaked}
        known = asked.by_id()
        return any(
            c.novel_evidence(known.get(c.target.id)) >= self.evidence_threshold
            for c in scan.above(self.evidence_threshold, only=ids)
        )


def _as_user_wrote(text: str, echoed: list[Candidate], user_text: str) -> str:
    """Other names of a target the user named, written the way the user named it."""
    for c in echoed:
        names = c.target.names()
        used = [n for n in names if _named(n, user_text)]
        if not used:
            continue
        for name in sorted(names, key=len, reverse=True):
            if name not in used and not any(name.casefold() in u.casefold() for u in used):
                text = replace_name(text, name, used[0])
    return text


def _user_wrote(c: Candidate, user_text: str) -> bool:
    """Whether the user wrote the target, by one of its names or a form of one (misspelled,
    another script), not only in a disguise."""
    return any(_named(n, user_text) for n in c.target.names()) or bool(written_forms(user_text, c.target))


def _named(name: str, text: str) -> bool:
    return re.search(name_pattern(name), text, flags=re.IGNORECASE) is not None


def replace_name(text: str, name: str, replacement: str) -> str:
    """``text`` with every mention of ``name`` (as a name, any case) made ``replacement``."""
    return re.sub(name_pattern(name), lambda _: replacement, text, flags=re.IGNORECASE)
