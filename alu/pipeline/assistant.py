"""The model answering as it normally would: retrieval from the knowledge base, then the
Vanilla agent. The default mode guards retrieval; the baselines reuse it as it is."""

from __future__ import annotations

from ..agents.vanilla import Vanilla
from ..knowledge import Document, KnowledgeBase
from ..models import Messages, Sampling
from ..scan import MAX_SCREEN_CHARS, TargetView
from ..trace import Trace

# A retrieved document is withheld when it carries this much of a target: its name (3.0),
# or strong evidence (two distinctive phrases).
GUARD_THRESHOLD = 2.0


class Assistant:
    """Retrieval plus the Vanilla agent. ``system`` is the operator's own system prompt."""

    def __init__(
        self,
        vanilla: Vanilla,
        knowledge: KnowledgeBase | None = None,
        *,
        top_docs: int = 3,
        system: str | None = None,
    ):
        self.vanilla = vanilla
        self.knowledge = knowledge
        self.top_docs = top_docs
        self.system = system

    def retrieve(self, trace: Trace, query: str, guard: TargetView | None = None) -> list[Document]:
        """The top documents for ``query``. With ``guard``, documents about a target (named,
        or strong evidence) never enter the context, and the search goes deeper for others:
        the context a model retrained without them would see."""
        if not self.knowledge:
            return []
        k = self.top_docs
        if guard is None:
            return self.knowledge.search(query, k)
        kept: list[Document] = []
        withheld: set[str] = set()
        depth = k * 3
        while True:
            found = self.knowledge.search(query, depth)
            for d in found:
                if d.id in withheld or any(d.id == x.id for x in kept):
                    continue
                text = f"{d.title}\n{d.text}"
                # A document too long to screen is withheld like one that names a target.
                if len(text) > MAX_SCREEN_CHARS or guard.scan(text).above(GUARD_THRESHOLD):
                    withheld.add(d.id)
                else:
                    kept.append(d)
            if len(kept) >= k or len(found) < depth or depth >= len(self.knowledge):
                break
            depth *= 4
        trace.withheld_documents = len(withheld)
        return kept[:k]

    def answer(
        self,
        trace: Trace,
        query: str,
        history: Messages | None = None,
        *,
        system: str | None = None,
        guard: TargetView | None = None,
        sampling: Sampling | None = None,
        step: str | None = None,
    ) -> str:
        """The draft: what the model says to ``query`` after ``history``, given the caller's
        ``system`` prompt (after the operator's) and ``sampling`` parameters."""
        docs = self.retrieve(trace, query, guard)
        system = "\n\n".join(s for s in (self.system, system) if s) or None
        return self.vanilla.answer(
            trace, query, list(history or []), docs, system=system, sampling=sampling, step=step
        )
