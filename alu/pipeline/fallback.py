"""What the user gets when an answer cannot go out as it is: the refusal policy.

``unknown`` (the default) answers as a model that never learned the target would, where
that is plausible, and declines plainly where it is not:

* the user named a target the serving model does not know (probed: a private person,
  TOFU's invented authors): the stranger rewrite (``stranger.py``), the model's own answer
  about someone it has never heard of;
* the user named a target the model knows (a famous person, a franchise) or one never
  probed (``unprobed``: treated as known unless the operator says otherwise): a plain
  decline in the model's voice. Pretending not to know a world-famous person is not
  plausible, and the stranger rewrite would put invented facts about a real person into
  the world;
* the user did not name it (the draft volunteered the target): the model is told it does
  not know and says so in its own words.

``refuse`` gives the explicit refusal sentence, plainer but revealing membership. Hazards
keep the explicit refusal by default (``hazard_policy``): a hazard list is no secret, and a
plain refusal is what a safety policy should say. Every answer here costs one model call
at most, none when the caller has no call left (``calls``): then the fixed "I don't know".
"""

from __future__ import annotations

from typing import Literal

from ..agents.vanilla import Vanilla
from ..probing.fingerprint import opening, states_nothing, verdict_of
from ..scan import Candidate, Scan
from ..scan.learned import flagged
from ..targets import Target
from .decision import DONT_KNOW, Decision, Request, cant_help, dont_know
from .gate import Gate, _named
from .stranger import Stranger, written_form

Policy = Literal["unknown", "refuse"]
UNNAMED_SUBJECT = "what the user asked about"
Unprobed = Literal["known", "unknown"]

__all__ = ["DONT_KNOW", "Fallback", "Policy", "cant_help", "dont_know", "states_nothing"]


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
        unprobed: Unprobed = "known",
    ):
        self.vanilla = vanilla
        self.unprobed = unprobed
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

    def known(self, target: Target) -> bool:
        """Whether to treat ``target`` as one the serving model knows: probed and known (or
        it would not say), or never probed with this model and ``unprobed`` is "known"."""
        found = target.known_to(self.vanilla.model.identity)
        return (self.unprobed == "known") if found is None else found

    def strangers(self, named: list[Candidate]) -> bool:
        """Whether the stranger rewrite may answer for these targets the user named: none a
        hazard (its question is the hazard: a rewrite would answer it) and none known."""
        return bool(named) and all(c.target.kind != "hazard" and not self.known(c.target) for c in named)

    def answer(
        self, request: Request, targets: list[Candidate], asked: Scan, reason: str, *, calls: int = 1
    ) -> Decision:
        """The policy's answer in place of one that would leak ``targets`` (``reason``: why
        it could not go out), with at most ``calls`` model calls: the explicit refusal, the
        stranger rewrite, the plain decline or the model's own "I don't know"."""
        if self.policy_for(targets) == "refuse":
            return Decision("refuse", self.refusal, reason)
        supplied = {c.target.id for c in asked.naming}
        named = [c for c in targets if c.target.id in supplied]
        # A target the user named and the model knows is declined plainly, the fixed way
        # too: "I don't know" about a famous person would not be believed.
        hazard = any(c.target.kind == "hazard" for c in targets)
        plain = bool(named) and not self.strangers(named) and not hazard
        fixed = cant_help if plain else dont_know
        if calls < 1:
            return Decision("decline", fixed(request.query), reason)
        trace = request.trace
        if named and self.strangers(named):
            text = self.stranger.answer(request, named).text
            if not self.clean(text, targets, request, supplied):
                text = dont_know(request.query)
            return Decision("decline", text, reason)
        if plain:
            # The target as the user wrote it; never a name the user did not write (the
            # screen may have matched it in a disguise), so else a neutral subject.
            forms = [f for c in named if (f := written_form(c, request.asked))]
            subjects = list(dict.fromkeys(forms)) or [UNNAMED_SUBJECT]
            text = self.vanilla.decline(
                trace, request.query, request.history, subjects, system=request.system
            )
        else:
            text = self.vanilla.unknown(trace, request.query, request.history, [], system=request.system)
        # A decline or an "I don't know" is its opening sentence alone, and only when it reads
        # as one and names nothing the user did not write: what follows, or a name or number
        # inside it, may state facts (true ones it was told to keep, or invented ones).
        text = opening(text)
        if verdict_of(text) == "answer" or not states_nothing(text, request.asked):
            text = fixed(request.query)
        if not self.clean(text, targets, request, supplied):
            text = fixed(request.query)
        return Decision("decline", text, reason)

    def clean(self, text: str, targets: list[Candidate], request: Request, supplied: set[int]) -> bool:
        """No target the user did not name, and no evidence of ``targets`` the user did not give."""
        scan = request.targets.scan(text)
        if any(c.target.id not in supplied for c in scan.naming):
            return False
        user_text = request.asked
        for c in scan.named:  # a target the user named, under a name the user did not write
            for name in c.target.identity_names():
                if _named(name, text) and not _named(name, user_text):
                    return False
        if flagged(scan.candidates):
            return False  # it reads like a hazard's examples
        # Evidence of ``targets``, and of any other target the user did not name.
        others = [c for c in scan.candidates if c.target.id not in supplied]
        return not self.gate.carries_evidence(scan, [*targets, *others], request.targets.scan(request.asked))
