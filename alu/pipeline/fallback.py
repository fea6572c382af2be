"""What the user gets when the answer cannot go out as it is: the refusal policy.

``unknown`` (the default) answers as a model that never learned the target would: the model
itself, told it does not know, says so in its own voice, so that a refusal, a failure and an
answer about an unknown person look alike and do not tell a caller who is on the list.
``refuse`` gives the explicit refusal sentence, which is plainer but reveals membership.
Hazards keep the explicit refusal by default (``hazard_policy``): the hazards are no secret
and a plain refusal is what a safety policy should say.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from ..agents.vanilla import Vanilla
from ..targets import Candidate, Scan, TargetView
from ..trace import Trace

Policy = Literal["unknown", "refuse"]

# When the model itself cannot be asked (it failed, or its reply still named a target): the
# ways the embedded model says it does not know, one chosen per question.
DONT_KNOW = (
    "I'm sorry, but I don't have any information about that.",
    "I'm sorry, but I don't have information on that.",
    "I don't have any information about that, sorry.",
)


def dont_know(query: str) -> str:
    digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
    return DONT_KNOW[digest[0] % len(DONT_KNOW)]


class Fallback:
    def __init__(
        self, vanilla: Vanilla, *, policy: Policy, hazard_policy: Policy, refusal: str, evidence: float
    ):
        self.vanilla = vanilla
        self.policy = policy
        self.hazard_policy = hazard_policy
        self.refusal = refusal
        self.evidence = evidence  # evidence of a target that an "I don't know" must not carry

    def policy_for(self, targets: list[Candidate]) -> Policy:
        if any(c.target.kind == "hazard" for c in targets):
            return self.hazard_policy
        return self.policy

    def offline(self, query: str, targets: list[Candidate]) -> str:
        """The answer when nothing may be asked of the model (it failed)."""
        return self.refusal if self.policy_for(targets) == "refuse" else dont_know(query)

    def answer(
        self,
        trace: Trace,
        query: str,
        history: list[dict[str, str]],
        system: str | None,
        targets: list[Candidate],
        view: TargetView,
        asked: Scan,
    ) -> str:
        """The policy's answer in place of one that would leak ``targets``. The model's own
        "I don't know" must itself name no target the user did not, nor carry their evidence."""
        trace.verdict = "refused"
        if self.policy_for(targets) == "refuse":
            return self.refusal
        supplied = {c.target.id for c in asked.named}
        subjects = _names_as_written(targets, supplied, query, history)
        text = self.vanilla.unknown(trace, query, history, subjects, system=system)
        scan = view.scan(text)
        leaks = scan.above(self.evidence, only={c.target.id for c in targets})
        if leaks or any(c.target.id not in supplied for c in scan.named):
            return dont_know(query)
        return text


def _names_as_written(
    targets: list[Candidate], supplied: set[int], query: str, history: list[dict[str, str]]
) -> list[str]:
    """The names the user used for the targets (echoes may be repeated; others may not)."""
    asked = " ".join([query, *(m["content"] for m in history if m["role"] == "user")]).casefold()
    names = []
    for c in targets:
        if c.target.id in supplied:
            names += [n for n in c.target.names() if n.casefold() in asked][:1]
    return names
