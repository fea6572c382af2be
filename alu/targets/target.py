"""A target: something the system must not reveal, as the operator describes it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..text import fold

Kind = Literal["person", "topic", "hazard", "other"]
MAX_NAME_CHARS = 200


class Target(BaseModel):
    """Something the system must not reveal."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    kind: Kind = "other"
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    evidence: list[str] = Field(default_factory=list)
    id: int | None = None

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value or not fold(value).strip():
            raise ValueError("name is empty")
        return value

    @field_validator("aliases")
    @classmethod
    def _clean_aliases(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for alias in values:
            alias = " ".join(str(alias).split())
            if alias and alias not in out:
                out.append(alias)
        return out

    @field_validator("evidence")
    @classmethod
    def _clean_evidence(cls, values: list[str]) -> list[str]:
        return [v.strip() for v in values if str(v).strip()]

    def names(self) -> list[str]:
        """The name and every alias."""
        return [self.name, *self.aliases]
