"""The pipeline's settings: what every mode shares, and each mode's own.

A mode's own settings sit beside the shared ones under the mode's name (``[pipeline.default]``,
``[pipeline.paper]``; ``config.default``), validated by the config class the mode registered
(``modes/``): a new mode brings its settings without a change here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..scan.index import MAX_SCREEN_CHARS
from .fallback import Policy, Unprobed
from .modes import MODES

REFUSAL = "I'm sorry, but I can't help with that."
AGENTS = ("vanilla", "audit_erase", "critic", "composer", "translator", "enricher")


class PipelineConfig(BaseModel):
    # Extra keys are the modes' own settings, checked against the registry (a key that
    # names no mode is rejected, as a typo in a shared setting is).
    model_config = ConfigDict(extra="allow", validate_assignment=True)

    mode: str = "default"
    top_docs: int = Field(3, ge=0, le=20, description="documents retrieved into the Vanilla prompt")
    answer_tokens: int = Field(256, ge=1, description="the Vanilla agent's answer length")
    timeout: float | None = Field(120.0, gt=0, description="seconds per agent call")
    deadline: float | None = Field(
        300.0, gt=0, description="seconds per request, every agent call together; then the refusal"
    )
    max_query_chars: int = Field(
        20_000,
        ge=1,
        le=MAX_SCREEN_CHARS // 2,
        description="characters per request (query, history and system prompt); longer: rejected",
    )
    refusal: str = REFUSAL  # the explicit refusal (policy "refuse")
    refusal_policy: Policy = Field(
        "unknown", description="unknown: answer as a model that never learned the target; refuse: say so"
    )
    hazard_policy: Policy = Field("refuse", description="the refusal policy for hazard targets")
    unprobed: Unprobed = Field(
        "known",
        description=(
            "a named target never probed with the serving model: known (a plain decline) or "
            "unknown (the stranger rewrite; only for lists of private or invented people)"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _mode_settings(cls, data: Any) -> Any:
        """Every registered mode's settings, validated by its config class (its defaults
        when not given); errors are located as ``<mode>.<setting>``."""
        if not isinstance(data, dict):
            return data
        names = MODES.names()
        shadowed = set(names) & set(cls.model_fields)
        if shadowed:
            raise TypeError(f"modes {sorted(shadowed)} have the names of shared pipeline settings")
        data = dict(data)
        errors: list[Any] = [
            {"type": "extra_forbidden", "loc": (key,), "input": data[key]}
            for key in data
            if key not in cls.model_fields and key not in names
        ]
        for name in names:
            try:
                data[name] = MODES.get(name).config.model_validate(data.get(name, {}))
            except ValidationError as exc:
                errors += [{**e, "loc": (name, *e["loc"])} for e in exc.errors()]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return data

    @model_validator(mode="after")
    def _assigned_mode_settings(self) -> PipelineConfig:
        """A mode's settings assigned as a dict (``config.paper = {...}``) are kept as its
        config class: the check above ran, but pydantic stores an extra value as given."""
        extra = self.__pydantic_extra__ or {}
        for name, value in extra.items():
            config = MODES.get(name).config
            if not isinstance(value, config):
                extra[name] = config.model_validate(value)
        return self

    def mode_settings(self, mode: str) -> BaseModel:
        """The settings of ``mode``, as its registered config class: its defaults for a mode
        registered after this config was made, validated when they came in unchecked
        (``model_copy(update=...)``). An unknown mode is a QueryError."""
        config = MODES.get(mode).config
        if self.__pydantic_extra__ is None:
            self.__pydantic_extra__ = {}
        value = self.__pydantic_extra__.get(mode)
        if not isinstance(value, config):
            value = self.__pydantic_extra__[mode] = config.model_validate(value or {})
        return value
