"""Settings: defaults, then a TOML file, then ``ALU_*`` environment variables, then what
the command line says; and the one factory that builds the pipeline from them.

The file has the shape of :class:`Settings`::

    model = "embedded"                  # every agent's model, unless [models] says otherwise
    db = "~/.local/share/alu/targets.db"  # or postgresql://host/dbname for several replicas
    [models]                            # per agent: vanilla, audit_erase, critic, composer,
                                        # translator, enricher (alu targets enrich)
    audit_erase = "openai:gpt-4o-mini"
    [backends.openai]                   # each backend's own options (alu models lists them)
    base_url = "http://localhost:8000/v1"
    [pipeline]                          # shared by every mode
    mode = "default"
    [pipeline.default]                  # one mode's own
    k = 3
    [serve]
    max_in_flight = 8

Environment: ``ALU_MODEL``, ``ALU_DB``, ``ALU_KNOWLEDGE``, ``ALU_MODE``, ``ALU_TIMEOUT``,
``ALU_BASE_URL``, ``ALU_API_KEY``, ``ALU_RETRIES``, and any setting by its path with
``__`` between the parts (``ALU_PIPELINE__DEFAULT__K=4``, ``ALU_MODELS__CRITIC=...``).
Loading is pydantic-settings' (the ``ALU_`` prefix, ``__`` nesting, the TOML source);
this module adds the short names and one-line errors.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from .errors import ConfigError
from .knowledge import KnowledgeBase
from .models import Model, backend_of, get_model
from .paths import data_home, default_config_path
from .pipeline import ALU, PipelineConfig, modes
from .stores import Store, is_database_url, open_store
from .stores.base import check_db_setting
from .targets import Target

Agent = Literal["vanilla", "audit_erase", "critic", "composer", "translator", "enricher"]
# ALU_MODEL, ALU_DB and ALU_KNOWLEDGE are their settings' own paths; these are shorter.
SHORT_NAMES = {
    "ALU_MODE": "pipeline.mode",
    "ALU_TIMEOUT": "pipeline.timeout",
    "ALU_BASE_URL": "backends.openai.base_url",
    "ALU_API_KEY": "backends.openai.api_key",
    "ALU_RETRIES": "backends.openai.retries",
}


MIB = 1024 * 1024


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    name: str = Field("alu", min_length=1, description="the model id /v1/models reports")
    max_in_flight: int = Field(8, ge=1, description="requests in flight before 429")
    log: Path | None = Field(None, description="decision log (JSON lines, created 0600)")
    log_text: bool = Field(False, description="store users' text and upstream errors in the decision log")
    log_max_bytes: int = Field(64 * MIB, ge=1024, description="the decision log rotates beyond this size")
    log_backups: int = Field(5, ge=1, description="rotated decision logs kept (FILE.1 ... FILE.N)")
    log_db: str | None = Field(None, description="decision log table in PostgreSQL (postgresql:// URL)")
    replica: str | None = Field(None, description="this replica's name in the log (default host:port)")
    admin_token_file: Path | None = Field(
        None, description="file holding the admin token (else $ALU_ADMIN_TOKEN; unset: admin API off)"
    )
    docs: bool = Field(False, description="serve /docs, /redoc and /openapi.json")
    metrics_public: bool = Field(False, description="serve /metrics without the admin token")
    max_body_bytes: int = Field(MIB, ge=1024, description="largest request body (413 beyond)")
    max_admin_body_bytes: int = Field(
        64 * MIB, ge=1024, description="largest request body from the admin token's holder (imports)"
    )
    body_timeout: float = Field(30.0, gt=0, description="seconds for a request body to arrive (408 after)")
    header_timeout: float = Field(
        10.0, gt=0, description="seconds for a request's head to arrive, from the connection or last response"
    )
    ready_wait: float = Field(2.0, gt=0, description="seconds /readyz waits for the index to catch up")
    index_file: Path | None = Field(
        None,
        description="the pre-screen's tables in a file every process on the host maps (built when missing)",
    )
    index_copy: bool = Field(
        True,
        description="share the index file through the store: a host without one takes the store's copy"
        " instead of building one, and a replica that builds one (20,000 targets or more) sends its copy",
    )
    workers: int = Field(
        1,
        ge=1,
        description="worker processes on the one port, sharing one index file (limits are per worker)",
    )
    model_per_worker: bool = Field(
        False, description="allow workers > 1 with a model loaded in the process: each worker loads its own"
    )
    max_request_targets: int = Field(50, ge=0, description="alu_targets per request")
    max_request_target_bytes: int = Field(32 * 1024, ge=0, description="alu_targets per request, as JSON")
    max_tokens: int = Field(
        1_000_000,
        ge=1,
        description="largest max_tokens accepted (400 beyond); the answer is cut at [pipeline] answer_tokens",
    )
    page_size: int = Field(100, ge=1, description="targets per page of GET /v1/targets by default")
    max_page_size: int = Field(1000, ge=1, description="targets per page of GET /v1/targets at most")
    console: bool = Field(True, description="serve the operator console at /console (needs an admin token)")
    console_jobs: int = Field(1, ge=1, description="console background jobs (enrich) running at once")

    @field_validator("log", "admin_token_file", "index_file")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def admin_token(self) -> str | None:
        """The admin token: the first line of ``admin_token_file``, else ``$ALU_ADMIN_TOKEN``;
        never a command-line value (``ps`` shows those to every user). None: the admin API is off."""
        env = os.environ.get("ALU_ADMIN_TOKEN") or None
        if self.admin_token_file is None:
            return env
        if env:
            raise ConfigError(
                "the admin token is given twice: set ALU_ADMIN_TOKEN or admin_token_file, not both"
            )
        try:
            lines = self.admin_token_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the admin token file {self.admin_token_file}: {exc}") from exc
        token = lines[0].strip() if lines else ""
        if not token:
            raise ConfigError(f"the admin token file {self.admin_token_file} is empty")
        return token


class Settings(BaseSettings):
    """Every setting; build them with :func:`load_settings` (the file to read is its argument)."""

    model_config = SettingsConfigDict(
        extra="forbid", env_prefix="ALU_", env_nested_delimiter="__", env_ignore_empty=True
    )

    model: str = "embedded"
    models: dict[Agent, str] = Field(default_factory=dict)
    backends: dict[str, dict[str, Any]] = Field(default_factory=dict)
    db: str = Field(
        default_factory=lambda: str(data_home() / "targets.db"),
        description="target store: an SQLite file, or a postgresql:// URL shared by replicas",
    )
    knowledge: Path | None = None
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)
    serve: ServeSettings = Field(default_factory=ServeSettings)

    @field_validator("db", mode="before")
    @classmethod
    def _expand_db(cls, value: object) -> object:
        if isinstance(value, str):
            check_db_setting(value)
        if isinstance(value, Path) or (isinstance(value, str) and not is_database_url(value)):
            return str(Path(value).expanduser())
        return value

    @field_validator("knowledge")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    def check(self) -> Settings:
        """What the schema alone cannot check: each backend's options, the mode's name."""
        for prefix, options in self.backends.items():
            backend_of(prefix).parse_options(options, f"backends.{prefix}")
        if self.pipeline.mode not in modes():
            raise ConfigError(f"bad setting 'pipeline.mode': use one of {', '.join(modes())}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first: the command line, ``ALU_*`` paths, short names, the file."""
        file = _config_file.get()
        sources = [init_settings, env_settings, ShortNamesSource(settings_cls)]
        return (*sources, TomlFileSource(settings_cls, toml_file=file)) if file else tuple(sources)

    # -- the factory -------------------------------------------------------------------
    def build_model(self, spec: str | None = None, **overrides: Any) -> Model:
        """The model for ``spec`` (default: ``model``) with its backend's options."""
        spec = spec or self.model
        backend = backend_of(spec)
        return get_model(spec, **{**self.backends.get(backend.prefix, {}), **overrides})

    def build_parallel_model(self, concurrency: int) -> Model:
        """The model, answering ``concurrency`` requests at once where its backend has slots
        (llama.cpp); other backends take concurrent requests as they come."""
        fields = backend_of(self.model).options.model_fields
        return self.build_model(**({"parallel": concurrency} if "parallel" in fields else {}))

    def agent_models(self) -> dict[str, Model]:
        return {agent: self.build_model(spec) for agent, spec in self.models.items()}

    def build_alu(
        self,
        targets: Store | Sequence[Target] | None = None,
        *,
        knowledge: KnowledgeBase | Path | None = None,
        model: Model | None = None,
        system: str | None = None,
        **pipeline: Any,
    ) -> ALU:
        """The pipeline these settings describe: ``targets`` default to the store at ``db``,
        ``knowledge`` to the file at ``knowledge``; ``pipeline`` overrides settings of
        ``[pipeline]`` for this one (``mode="paper"``)."""
        if targets is None:
            targets = open_store(self.db)
        if knowledge is None and self.knowledge is not None:
            knowledge = self.knowledge
        if isinstance(knowledge, Path):
            knowledge = KnowledgeBase.load(knowledge)
        config = self.pipeline.model_copy(update=pipeline) if pipeline else self.pipeline
        return ALU(
            model or self.build_model(),
            targets,
            knowledge=knowledge,
            agent_models=self.agent_models(),
            config=config,
            system=system,
        )


def _put(values: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``values`` with ``value`` at the dotted ``path`` (``pipeline.mode``)."""
    *parents, leaf = path.split(".")
    node = values
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return values


class ShortNamesSource(PydanticBaseSettingsSource):
    """The short environment names that are not a setting's path (``ALU_MODE`` for
    ``pipeline.mode``); a setting's own path (``ALU_PIPELINE__MODE``) wins over them."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads every name at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, path in SHORT_NAMES.items():
            if os.environ.get(name):
                _put(values, path, os.environ[name])
        return values


class TomlFileSource(TomlConfigSettingsSource):
    """The config file, whose syntax errors are one line naming the file."""

    def _read_file(self, file_path: Path) -> dict[str, Any]:
        try:
            return tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from exc


_config_file: ContextVar[Path | None] = ContextVar("alu_config_file", default=None)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Merge the config file (if any), the environment and explicit overrides (dotted
    paths allowed as ``pipeline__mode``; None means "not given")."""
    file = Path(path) if path else default_config_path()
    if path and not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    given: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is not None:
            _put(given, key.replace("__", "."), value)
    token = _config_file.set(file)
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"bad setting {where!r}: {error['msg']}") from exc
    except SettingsError as exc:  # ALU_MODELS=... given whole, and not as JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = field.group(1) if field else "?"
        raise ConfigError(
            f"bad setting {name!r}: ALU_{name.upper()} is not JSON; set its parts as ALU_{name.upper()}__PART"
        ) from exc
    finally:
        _config_file.reset(token)
    return settings.check()
