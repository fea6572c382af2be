"""AuditErase: names the targets a draft leaks and writes sanitized variants of it.

In the paper's mode one call does both over the whole target list. In the default mode
the audit may only confirm candidates the pre-screen found (an enum in the schema), and
the rewrite is a separate call made only when something leaked.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, create_model

from ..scan import Candidate
from ..trace import Trace
from . import Agent, quote, render

MAX_TERMS_SHOWN = 8  # generated associated terms shown per target
MAX_ABOUT_CHARS = 300


def describe(candidates: list[Candidate], evidence_chars: int = 160) -> str:
    """The targets as the agents read them: name, aliases, kind, what it is (the
    operator's description, else the generated one, else the start of its evidence) and,
    for an enriched target, up to ``MAX_TERMS_SHOWN`` associated terms, so a rewrite knows
    what else gives it away. The description and terms are bounded (about 650 characters)."""
    lines = []
    for c in candidates:
        t = c.target
        extra = f" (also: {', '.join(t.aliases)})" if t.aliases else ""
        about = (t.about() or " ".join(t.evidence)[:evidence_chars])[:MAX_ABOUT_CHARS]
        line = f"- {t.name}{extra} [{t.kind}]" + (f": {about}" if about else "")
        terms = [term[:40] for term in t.associated_terms()[:MAX_TERMS_SHOWN]]
        if terms:
            line += f" Related: {', '.join(terms)}."
        lines.append(line)
    return "\n".join(lines)


class Audit(BaseModel):
    leaked: list[str] = Field(default_factory=list)


class Variants(BaseModel):
    variants: list[str]


class PaperAudit(BaseModel):
    leaked: list[str] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)


class AuditErase(Agent):
    name = "audit_erase"

    def audit(
        self, trace: Trace, query: str, history: str, draft: str, candidates: list[Candidate]
    ) -> list[str]:
        """Which of ``candidates`` the exchange leaks (names as listed)."""
        names = [c.target.name for c in candidates]
        # Decoding may only name candidates; validation accepts any name and drops strangers,
        # so an auditor that names someone off the list is not mistaken for a broken one.
        decode = create_model(
            "Audit", leaked=(list[_enum(names)], Field(default_factory=list)), __base__=Audit
        ).model_json_schema()
        content = render(
            "audit",
            targets=describe(candidates),
            history=quote(history or "(none)"),
            query=quote(query),
            answer=quote(draft),
        )
        result = self._call(
            trace,
            [{"role": "user", "content": content}],
            schema=Audit,
            decode_schema=decode,
            step="audit",
            max_tokens=96,
            detail={"candidates": names},
        )
        leaked = [n for n in names if n in set(result.leaked)]
        trace.steps[-1].detail["leaked"] = leaked
        return leaked

    def erase(self, trace: Trace, query: str, draft: str, leaked: list[Candidate], k: int) -> list[str]:
        content = render("erase", targets=describe(leaked), query=quote(query), answer=quote(draft), k=k)
        schema = _with_k_variants(Variants, k)
        result = self._call(
            trace,
            [{"role": "user", "content": content}],
            schema=schema,
            step="erase",
            max_tokens=120 * k,
            detail={"k": k},
        )
        return [v.strip() for v in result.variants]

    def audit_and_erase(
        self, trace: Trace, query: str, draft: str, names: list[str], k: int
    ) -> tuple[list[str], list[str]]:
        """The paper's single call over the whole target list."""
        content = render(
            "audit_erase_paper",
            targets="\n".join(f"- {n}" for n in names),
            query=quote(query),
            answer=quote(draft),
            k=k,
        )
        # Always k variants, as in the paper, so a found leak never comes without rewrites.
        schema = _with_k_variants(PaperAudit, k)
        result = self._call(
            trace,
            [{"role": "user", "content": content}],
            schema=schema,
            step="audit+erase",
            max_tokens=120 * k + 64,
            detail={"k": k, "targets": len(names)},
        )
        known = {n.casefold(): n for n in names}
        leaked = [known[n.casefold()] for n in result.leaked if n.casefold() in known]
        return leaked, [v.strip() for v in result.variants if v.strip()]


def _with_k_variants(base: type[BaseModel], k: int) -> type[BaseModel]:
    """``base`` whose ``variants`` must hold exactly ``k`` answers."""
    return create_model(base.__name__, variants=(list[str], Field(min_length=k, max_length=k)), __base__=base)


def _enum(names: list[str]):
    from typing import Literal

    return Literal[tuple(names)]  # type: ignore[valid-type]
