"""One request's way through the pipeline: the ``Request`` that comes in and the typed
``Decision`` that goes out. The gate, the fallback, the stranger rewrite and every mode
return a Decision; ``ALU.ask`` records its verdict in the trace, once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from ..language import is_english, language_of
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

# When the model itself cannot be asked (it failed, or what it said may not go out): a fixed
# answer in the user's language (``fixed_answers.json``), one variant chosen per question.
# ``dont_know``: the model does not know (a question it may not answer without revealing a
# target); ``cant_help``: it will not discuss what the user named (a target it plainly
# knows, where pretending not to know it would not be believed).
FixedKind = Literal["dont_know", "decline"]


@cache
def _fixed() -> dict[str, dict[str, tuple[str, ...]]]:
    data = json.loads(Path(__file__).with_name("fixed_answers.json").read_text(encoding="utf-8"))
    return {lang: {k: tuple(v) for k, v in texts.items()} for lang, texts in data.items() if lang[0] != "_"}


DONT_KNOW = _fixed()["en"]["dont_know"]  # English, the language the others fall back to


# Labels py3langid gives short questions whose written answer is another label's.
_SAME_TEXTS = {"wuu": "zh", "yue": "zh", "lzh": "zh", "gan": "zh", "hak": "zh", "cmn": "zh"}


def answer_language(query: str) -> str:
    """The language a fixed answer to ``query`` is written in: the query's, where the
    classifier is sure of it and there is a text in it, else English."""
    if is_english(query):
        return "en"
    lang, _ = language_of(query)
    lang = _SAME_TEXTS.get(lang, lang)
    return lang if lang in _fixed() else "en"


def fixed_answers(kind: FixedKind) -> tuple[str, ...]:
    """Every variant of ``kind``, in every language (for checks that an answer is one)."""
    return tuple(text for texts in _fixed().values() for text in texts[kind])


def _fixed_for(kind: FixedKind, query: str) -> str:
    variants = _fixed()[answer_language(query)][kind]
    digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
    return variants[digest[0] % len(variants)]


def dont_know(query: str) -> str:
    return _fixed_for("dont_know", query)


def cant_help(query: str) -> str:
    return _fixed_for("decline", query)


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
