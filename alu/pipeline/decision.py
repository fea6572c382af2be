"""One request's way through the pipeline: the ``Request`` that comes in and the typed
``Decision`` that goes out. The gate, the fallback, the stranger rewrite and every mode
return a Decision; ``ALU.ask`` records its verdict in the trace, once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from ..models import Messages, Sampling
from ..scan import TargetView
from ..trace import Trace, Verdict

Outcome = Literal["pass", "rewrite", "decline", "refuse", "fail_closed"]

# The verdict each outcome is recorded as: the values traces, answer files and the decision
# log have always carried (results are rebuilt from them), so a decline (the model's own
# "I don't know", or the stranger rewrite in place of a leak) and an explicit refusal both
# read "refused".
VERDICTS: dict[Outcome, Verdict] = {
    "pass": "passed",
    "rewrite": "rewritten",
    "decline": "refused",
    "refuse": "refused",
    "fail_closed": "failed_closed",
}

# When the model itself cannot be asked (it failed, or what it said still leaks): the ways
# the embedded model says it does not know, one chosen per question.
DONT_KNOW = (
    "I'm sorry, but I don't have any information about that.",
    "I'm sorry, but I don't have information on that.",
    "I don't have any information about that, sorry.",
)


def dont_know(query: str) -> str:
    digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
    return DONT_KNOW[digest[0] % len(DONT_KNOW)]


@dataclass
class Request:
    """One query on its way through the pipeline."""

    query: str
    history: Messages
    system: str | None  # the caller's system prompt: audited like the conversation
    targets: TargetView
    trace: Trace
    sampling: Sampling = field(default_factory=Sampling)  # the caller's, for the answer (Vanilla) only

    @property
    def earlier(self) -> str:
        """The conversation before the query: the caller's system prompt and earlier turns."""
        return "\n".join([self.system or "", *(m["content"] for m in self.history)]).strip()

    @property
    def asked(self) -> str:
        """Everything the user supplied, the query included."""
        return f"{self.earlier}\n{self.query}"


@dataclass(frozen=True)
class Decision:
    """What goes out for one request (``text``), what kind of answer it is (``outcome``)
    and why (``reason``: for the trace's error when failing closed, and for debugging;
    it never names a target)."""

    outcome: Outcome
    text: str
    reason: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in VERDICTS:
            raise ValueError(f"unknown outcome {self.outcome!r}: use one of {', '.join(get_args(Outcome))}")

    @property
    def verdict(self) -> Verdict:
        return VERDICTS[self.outcome]

    @property
    def goes_out(self) -> bool:
        """Whether the text is an answer to the question (passed or rewritten), not a
        stand-in for one that could not go out."""
        return self.outcome in ("pass", "rewrite")

    def with_text(self, text: str) -> Decision:
        return replace(self, text=text)
