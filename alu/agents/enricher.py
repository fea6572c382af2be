"""Enricher: writes what identifies a target beyond what the operator gave, for the
pre-screen and the agents: its name in other scripts and common Latin variants, terms
associated with it, and a one-sentence description.

The names come back keyed by script (a small model keeps to a fixed structure better than
to a free list) and are checked before use (``alu.enrichment.checks``): what the model
writes is a draft, never trusted as is.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from ..targets import Target
from ..trace import Trace
from . import Agent, quote, render

SCRIPTS = (
    "latin",
    "cyrillic",
    "greek",
    "arabic",
    "persian",
    "hebrew",
    "devanagari",
    "chinese",
    "japanese",
    "korean",
)
NAMES_PER_SCRIPT = 4
MAX_TERMS = 12
MAX_DESCRIPTION_CHARS = 300
HINTS = {
    "person": "their works, roles, places and events",
    "topic": "its characters, places and jargon",
    "hazard": "the agents, techniques and precursors involved",
    "other": "what is specific to it",
}


def _strings(value: object) -> list[str]:
    """A list of strings from what a small model writes: a list, one string, or null."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, str | int | float) and str(v).strip()]
    raise ValueError("expected a list of strings")


class Draft(BaseModel):
    """What the model wrote, as it wrote it: names by script, terms, a description."""

    names: dict[str, list[str]] = Field(default_factory=dict)
    terms: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("names", mode="before")
    @classmethod
    def _names(cls, value: object) -> dict[str, list[str]]:
        if value is None:
            return {}
        if isinstance(value, list):  # a flat list: taken as written in no particular script
            return {"any": _strings(value)}
        if not isinstance(value, dict):
            raise ValueError("expected an object keyed by script")
        return {str(k).strip().lower(): _strings(v) for k, v in value.items()}

    @field_validator("terms", mode="before")
    @classmethod
    def _terms(cls, value: object) -> list[str]:
        return _strings(value)

    @field_validator("description", mode="before")
    @classmethod
    def _description(cls, value: object) -> str:
        return " ".join(str(value or "").split())


def _decode_schema() -> dict:
    """Tighter than ``Draft`` where a backend constrains decoding: every script, bounded."""
    strings = {"type": "array", "items": {"type": "string", "maxLength": 80}}
    return {
        "type": "object",
        "properties": {
            "names": {
                "type": "object",
                "properties": {s: {**strings, "maxItems": NAMES_PER_SCRIPT} for s in SCRIPTS},
                "required": list(SCRIPTS),
                "additionalProperties": False,
            },
            "terms": {**strings, "maxItems": MAX_TERMS},
            "description": {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS},
        },
        "required": ["names", "terms", "description"],
        "additionalProperties": False,
    }


def target_block(target: Target) -> str:
    """The target as the operator gave it, fenced as data."""
    lines = [f"Name: {target.name}", f"Kind: {target.kind}"]
    if target.aliases:
        lines.append("Other names: " + "; ".join(target.aliases))
    if target.description:
        lines.append("About: " + target.description[:MAX_DESCRIPTION_CHARS])
    return quote("\n".join(lines))


class Enricher(Agent):
    name = "enricher"

    def __init__(self, model, *, timeout: float | None = None, max_tokens: int = 600):
        super().__init__(model, timeout=timeout, max_tokens=max_tokens)

    def draft(self, trace: Trace, target: Target) -> Draft:
        """One call (retried once on malformed output); raises AgentFailure."""
        content = render("enricher", target=target_block(target), hint=HINTS.get(target.kind, HINTS["other"]))
        draft = self._call(
            trace,
            [{"role": "user", "content": content}],
            schema=Draft,
            decode_schema=_decode_schema(),
            detail={"target": target.name},
        )
        return Draft(
            names={k: v[: NAMES_PER_SCRIPT * 2] for k, v in draft.names.items()},
            terms=draft.terms[: MAX_TERMS * 2],
            description=draft.description[:MAX_DESCRIPTION_CHARS],
        )
