"""What the user gets when an answer cannot go out as it is: the refusal policy.

``unknown`` (the default) answers as a model that never learned the target would. Where the
user named the target, that is the stranger rewrite (``stranger.py``): the model's own
answer about someone it has never heard of. Where the user did not (the draft volunteered
the target), the model is told it does not know and says so in its own words. Either way a
refusal, a failure and an answer about an unknown person look alike, and do not tell a
caller who is on the list. ``refuse`` gives the explicit refusal sentence, plainer but
revealing membership. Hazards keep the explicit refusal by default (``hazard_policy``):
a hazard list is no secret, and a plain refusal is what a safety policy should say.
"""

from __future__ import annotations

from typing import Literal

from ..agents.vanilla import Vanilla
from ..scan import Candidate, Scan
from ..scan.learned import flagged
from .decision import DONT_KNOW, Decision, Request, dont_know
from .gate import Gate
from .stranger import Stranger

Policy = Literal["unknown", "refuse"]

__all__ = ["DONT_KNOW", "Fallback", "Policy", "dont_know"]


class Fallback:
    def __init__(
        self,
        vanilla: Vanilla,
        stranger: Stranger,
        *,
        policy: Policy,
        hazard_policy: Policy,
        refusal: str,
        gate: Gate,
    ):
        self.vanilla = vanilla
        self.stranger = stranger
        self.policy = policy
        self.hazard_policy = hazard_policy
        self.refusal = refusal
        self.gate = gate  # what the answer must not carry, judged as the output gate judges it

    def policy_for(self, targets: list[Candidate]) -> Policy:
        if any(c.target.kind == "hazard" for c in targets):
            return self.hazard_policy
        return self.policy

    def offline(self, query: str, targets: list[Candidate]) -> str:
        """The answer when nothing may be asked of the model (it failed)."""
        return self.refusal if self.policy_for(targets) == "refuse" else dont_know(query)

    def failed(self, query: str, targets: list[Candidate], reason: str) -> Decision:
        """Failing closed: the offline answer, never the draft."""
        return Decision("fail_closed", self.offline(query, targets), reason)

    def answer(self, request: Request, targets: list[Candidate], asked: Scan, reason: str) -> Decision:
        """The policy's answer in place of one that would leak ``targets`` (``reason``: why
        it could not go out): the explicit refusal, or the model's own "I don't know"."""
        if self.policy_for(targets) == "refuse":
            return Decision("refuse", self.refusal, reason)
        supplied = {c.target.id for c in asked.naming}
        hazard = any(c.target.kind == "hazard" for c in targets)
        if not hazard and any(c.target.id in supplied for c in targets):
            # Never the stranger rewrite for a hazard: its question is the hazard, and a
            # rewrite would answer it; the model says it does not know instead.
            text = self.stranger.answer(request, targets).text
        else:
            text = self.vanilla.unknown(
                request.trace, request.query, request.history, [], system=request.system
            )
        if not self.clean(text, targets, request, supplied):
            text = dont_know(request.query)
        return Decision("decline", text, reason)

    def clean(self, text: str, targets: list[Candidate], request: Request, supplied: set[int]) -> bool:
        """No target the user did not name, and no evidence of ``targets`` the user did not give."""
        scan = request.targets.scan(text)
        if any(c.target.id not in supplied for c in scan.naming):
            return False
        if flagged(scan.candidates):
            return False  # it reads like a hazard's examples
        # Evidence of ``targets``, and of any other target the user did not name.
        others = [c for c in scan.candidates if c.target.id not in supplied]
        return not self.gate.carries_evidence(scan, [*targets, *others], request.targets.scan(request.asked))
