"""The stranger rewrite: what the model says about a target it never learned.

The targets the user named are replaced, in the whole conversation and however the user
wrote them (misspelled, in another script, a surname alone: ``written_forms``, as the
pre-screen matched them), by invented names of the same shape (a person by a person's
name, a topic by an invented word); the model answers that conversation as it always does
(retrieval guarded), and the invented names are put back as the user wrote the real ones.
The answer is then, by construction, what this model says about someone it has never heard
of: a retrained model's answer, in the model's own voice, with no marker. It costs one
model call.
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import cache

from ..scan import Candidate, name_pattern
from ..scan.names import written_forms
from .assistant import Assistant
from .decision import Decision, Request
from .gate import replace_name

_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "sv_SE", "pt_BR")
_SYLLABLES = "bel dor fen gar hal kes lin mor nav pel quor rin sel tav ul ven wor yal zen".split()
_lock = threading.Lock()


@cache
def _name_pool() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A fixed pool of first names and surnames from several locales (Faker, seeded)."""
    from faker import Faker

    with _lock:
        fake = Faker(list(_LOCALES))
        fake.seed_instance(20261128)
        firsts = sorted({fake.first_name() for _ in range(4000)})
        lasts = sorted({fake.last_name() for _ in range(4000)})
    return tuple(f for f in firsts if " " not in f), tuple(s for s in lasts if " " not in s)


def _pick(options: tuple[str, ...], key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)]


def pseudonym(name: str, kind: str) -> str:
    """An invented name shaped like ``name``: the same number of words, a person's name for
    a person, a made-up word for anything else. The same name always gets the same one."""
    words = name.split()
    if kind == "person":
        firsts, lasts = _name_pool()
        parts = [_pick(firsts, f"{name}|{i}") for i in range(max(0, len(words) - 1))]
        return " ".join([*parts, _pick(lasts, f"{name}|last")])
    made = []
    for i, word in enumerate(words or [name]):
        syllables = [_pick(tuple(_SYLLABLES), f"{name}|{i}|{j}") for j in range(2 + len(word) // 6)]
        made.append("".join(syllables).capitalize())
    return " ".join(made)


def written_form(candidate: Candidate, user_text: str) -> str | None:
    """How the user wrote the target: its longest name found as written, else the longest
    form the user wrote it in (misspelled, another script); None when the user's text holds
    neither (the screen matched it in a disguise: never answer with the real name then)."""
    found = [
        n for n in candidate.target.names() if re.search(name_pattern(n), user_text, flags=re.IGNORECASE)
    ]
    if found:
        return max(found, key=len)
    written = written_forms(user_text, candidate.target)
    return written[0] if written else None


def user_forms(targets: list[Candidate], user_text: str) -> dict[int, str]:
    """For each target, the name the user wrote for it: its longest name found as written
    in the user's text, else the longest form the user wrote it in (misspelled, another
    script), else its name."""
    return {c.target.id: written_form(c, user_text) or c.target.name for c in targets}


class Stranger:
    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def answer(self, request: Request, targets: list[Candidate]) -> Decision:
        """The conversation answered with ``targets`` (which the user named) swapped for
        strangers, swapped back: a rewrite, not yet through the gate."""
        forms = user_forms(targets, request.asked)
        swaps = []  # (real form, stranger)
        for c in targets:
            real = forms[c.target.id]
            swaps.append((real, pseudonym(real, c.target.kind)))

        def hide(text: str) -> str:
            for c in targets:
                stranger = dict(swaps)[forms[c.target.id]]
                written = written_forms(text, c.target)
                for n in sorted(
                    {*c.target.identity_names(), forms[c.target.id], *written}, key=len, reverse=True
                ):
                    text = replace_name(text, n, stranger)
                if c.target.kind == "person":  # a surname alone names a person too
                    for n in c.target.identity_names():
                        if len(n.split()) > 1:
                            text = replace_name(text, n.split()[-1], stranger.split()[-1])
            return text

        hidden_history = [{"role": m["role"], "content": hide(m["content"])} for m in request.history]
        hidden_system = hide(request.system) if request.system else None
        text = self.assistant.answer(
            request.trace,
            hide(request.query),
            hidden_history,
            system=hidden_system,
            guard=request.targets,
            sampling=request.sampling,
            step="stranger",
        )
        for real, stranger in swaps:
            text = replace_name(text, stranger, real)
            real_words, stranger_words = real.split(), stranger.split()
            if len(real_words) == len(stranger_words) > 1:
                for r, s in zip(real_words, stranger_words, strict=True):
                    text = replace_name(text, s, r)
        return Decision("rewrite", text, "the targets the user named, answered as strangers")
