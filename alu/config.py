"""Settings: defaults, then a TOML config file, then ``ALU_*`` environment variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models import Model, get_model
from .pipeline import PipelineConfig


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the setting."""


def data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(os.environ.get("ALU_HOME") or user_data_dir("alu"))


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(os.environ.get("ALU_CONFIG") or Path(user_config_dir("alu")) / "config.toml")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "embedded"
    vanilla_model: str | None = None
    auditor_model: str | None = None
    critic_model: str | None = None
    composer_model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout: float = Field(120.0, gt=0)
    retries: int = Field(2, ge=0)
    n_ctx: int = Field(4096, ge=512)
    parallel: int = Field(1, ge=1, le=64)
    threads: int | None = Field(None, ge=1)
    db: Path = Field(default_factory=lambda: data_dir() / "targets.db")
    knowledge: Path | None = None
    mode: Literal["default", "paper"] = "default"
    k: int = Field(3, ge=1, le=10)
    j: int = Field(2, ge=1, le=10)
    threshold: float = Field(4.0, ge=1, le=5)
    top_docs: int = Field(3, ge=0, le=20)
    max_query_chars: int = Field(20_000, ge=1)
    refusal: str = "I'm sorry, but I can't help with that."

    def model_options(self, spec: str) -> dict:
        prefix = spec.partition(":")[0]
        if prefix == "openai":
            return {
                "base_url": self.base_url,
                "api_key": self.api_key,
                "timeout": self.timeout,
                "retries": self.retries,
            }
        if prefix in ("embedded", "gguf"):
            options: dict = {"n_ctx": self.n_ctx, "parallel": self.parallel}
            if self.threads:
                options["threads"] = self.threads
            return options
        return {}

    def build_model(self, spec: str | None = None) -> Model:
        spec = spec or self.model
        return get_model(spec, **self.model_options(spec))

    def pipeline_config(self) -> PipelineConfig:
        return PipelineConfig(
            mode=self.mode,
            k=self.k,
            j=self.j,
            threshold=self.threshold,
            top_docs=self.top_docs,
            timeout=self.timeout,
            max_query_chars=self.max_query_chars,
            refusal=self.refusal,
        )

    def agent_models(self) -> dict[str, Model]:
        chosen = {
            "vanilla": self.vanilla_model,
            "audit_erase": self.auditor_model,
            "critic": self.critic_model,
            "composer": self.composer_model,
        }
        return {agent: self.build_model(spec) for agent, spec in chosen.items() if spec}


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Merge the config file (if any), the environment and explicit overrides."""
    values: dict = {}
    file = Path(path) if path else default_config_path()
    if path and not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    if file.is_file():
        try:
            values.update(tomllib.loads(file.read_text(encoding="utf-8")))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    for name in Settings.model_fields:
        env = os.environ.get(f"ALU_{name.upper()}")
        if env not in (None, ""):
            values[name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"bad setting {where!r}: {error['msg']}") from exc
