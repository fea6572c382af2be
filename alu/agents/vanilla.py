"""Vanilla: the model answering as it normally would (with retrieved documents, if any),
or as it would if it had never learned what the question is about."""

from __future__ import annotations

from ..knowledge import Document
from ..models import Messages, Sampling
from ..probing.fingerprint import opening_settled, states_nothing
from ..trace import Trace
from . import Agent, render

# A decline or an "I don't know" is shown as its opening alone (``alu.pipeline.fallback``:
# the first sentence, with the next while it is short), so tokens past about two sentences
# are never shown, only waited for: on 2 cores each costs ~40 ms of a declined question.
OPENING_TOKENS = 48


class Vanilla(Agent):
    name = "vanilla"

    def answer(
        self,
        trace: Trace,
        query: str,
        history: Messages,
        documents: list[Document],
        system: str | None = None,
        sampling: Sampling | None = None,
        step: str | None = None,
    ) -> str:
        context = "\n\n".join(f"[{i}] {d.title}\n{d.text}".strip() for i, d in enumerate(documents, 1))
        prompt = render("vanilla", context=context) if documents else render("vanilla_plain")
        # With documents, the question itself carries the rule a small model keeps best there:
        # when no document is about what it asks, it says it does not know rather than answer
        # with another person of the documents (which, after the retrieval guard withheld a
        # target's documents, would be a wrong answer that tells the list apart). Every
        # system that retrieves gets it, the reference too.
        asked = f"{query}\n\n{render('vanilla_grounded')}" if documents else query
        messages = _conversation(prompt, system, history, asked)
        sampling = sampling or Sampling()
        return self._call(
            trace,
            messages,
            step=step,
            max_tokens=min(sampling.max_tokens or self.max_tokens, self.max_tokens),
            temperature=sampling.temperature,
            stop=list(sampling.stop) or None,
            detail={"documents": [d.id for d in documents]},
        )

    def unknown(
        self,
        trace: Trace,
        query: str,
        history: Messages,
        subjects: list[str],
        system: str | None = None,
    ) -> str:
        """What the model says when it does not know: its own voice, no documents. ``subjects``
        are the names the user gave for what must stay unknown (none: the question's topic)."""
        subject = ", ".join(subjects) if subjects else "the people, works and facts it asks about"
        messages = _conversation(render("unknown", subject=subject), system, history, query)
        return self._opening(trace, messages, step="unknown")

    def decline(
        self,
        trace: Trace,
        query: str,
        history: Messages,
        subjects: list[str],
        system: str | None = None,
    ) -> str:
        """A plain decline in the model's voice, for a question about ``subjects`` (the names
        the user gave for targets the model knows): pretending not to know a famous person is
        not plausible, and inventing facts about one is a harm of its own."""
        messages = _conversation(render("decline", subject=", ".join(subjects)), system, history, query)
        return self._opening(trace, messages, step="decline")

    def _opening(self, trace: Trace, messages: Messages, step: str) -> str:
        """A decline's opening. Generation stops once it is settled, or once it names what
        the user did not write (``alu.pipeline.fallback`` then gives the fixed "I don't
        know" whatever follows); the instructions before the question, the same for every
        question, may be reused as computed."""
        user_text = "\n".join(m["content"] for m in messages)  # holds all the fallback reads

        def decline_ends(text: str) -> bool:
            words = text[: max(text.rfind(" "), text.rfind("\n"), 0)]  # the last may go on
            return opening_settled(text) or not states_nothing(words, user_text)

        return self._call(
            trace,
            messages,
            step=step,
            max_tokens=min(self.max_tokens, OPENING_TOKENS),
            until=decline_ends,
            reuse_prefix=True,
        )


def _conversation(prompt: str, system: str | None, history: Messages, query: str) -> Messages:
    """The agent's instructions (after the caller's system prompt), the history, the query."""
    if system:
        prompt = system.strip() + "\n\n" + prompt
    return [{"role": "system", "content": prompt}, *history, {"role": "user", "content": query}]
