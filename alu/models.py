"""The one interface every backend implements, and how a model spec becomes a model.

A model spec is a short string: ``embedded`` (the bundled Qwen2.5-Coder-1.5B GGUF),
``gguf:/path/to/file.gguf``, ``openai:MODEL`` (any OpenAI-compatible server) or
``scripted`` (tests). Each backend is one module of ``alu.backends`` that registers a
:class:`Backend`: its prefix, a description and the class of its options.
"""

from __future__ import annotations

import functools
import inspect
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, UnknownModel
from .registry import Registry

Messages = list[dict[str, str]]
# Whether a completion can stop here: called with the text generated so far. Named (its
# ``__name__`` is part of a completion cache's key: the text it leaves depends on it).
StopWhen = Callable[[str], bool]
CHARS_PER_TOKEN = 4  # the usual length of a token of English or code, for estimates


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    seconds: float = 0.0  # what the call took the backend (for a cached one: when it was made)
    cached: bool = False  # served from a completion cache


@dataclass(frozen=True)
class Sampling:
    """What a caller asks of the answer's own generation (the Vanilla call, as an OpenAI
    client would): ``max_tokens`` within the operator's cap, ``temperature``, ``stop``.
    The agents that audit and rewrite the answer stay greedy."""

    max_tokens: int | None = None
    temperature: float = 0.0
    stop: tuple[str, ...] = ()


class Model(ABC):
    """A chat model: messages in, text out."""

    name: str = "model"
    cacheable: bool = True  # greedy output depends only on the request (a completion cache may keep it)

    @abstractmethod
    def complete(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        json_schema: dict | None = None,
        timeout: float | None = None,
        agent: str | None = None,
        until: StopWhen | None = None,
        reuse_prefix: bool = False,
    ) -> Completion:
        """One chat completion. ``json_schema`` asks for output that follows it, where the
        backend can constrain decoding; callers still validate. ``agent`` names who asks
        (``vanilla``, ``audit_erase:audit``, ...): for logs and scripted replies, never
        part of the request.

        Two hints a backend may ignore (the answer means the same either way):
        ``until`` ends generation as soon as it holds for the text so far (the caller reads
        only a prefix, so waiting for the rest is wasted time); ``reuse_prefix`` says the
        prompt opens with instructions sent many times over, so a backend that keeps
        computed prompts may start from them (bit-for-bit output may then differ slightly)."""

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is: the model's tokenizer where the backend has one,
        else an estimate of one token per ``CHARS_PER_TOKEN`` characters, rounded up."""
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    @property
    def identity(self) -> str:
        """What makes two models answer alike (the completion cache's key)."""
        return f"{type(self).__name__}:{self.name}"

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds (threads, memory)."""


def cut_at(text: str, until: StopWhen) -> str:
    """``text`` ended where a backend that streams would have stopped it for ``until``
    (for answers that arrive whole: a script, a server that does not stream)."""
    for end in range(1, len(text) + 1):
        if not text[end - 1].isspace() and until(text[:end]):
            return text[:end]
    return text


@functools.cache
def _takes(backend: type, option: str) -> bool:
    parameters = inspect.signature(backend.complete).parameters.values()
    return any(p.name == option or p.kind is p.VAR_KEYWORD for p in parameters)


def takes(model: Model, option: str) -> bool:
    """Whether ``model.complete`` accepts ``option`` (a plugin's backend may predate it)."""
    return _takes(type(model), option)


def hints_for(model: Model, **hints: object) -> dict[str, object]:
    """The backend hints of :meth:`Model.complete` that are set and that ``model`` takes."""
    return {name: value for name, value in hints.items() if value and takes(model, name)}


def response_format(json_schema: dict | None) -> dict[str, Any]:
    """The OpenAI chat-completions field for structured output (llama.cpp reads it too)."""
    if json_schema is None:
        return {}
    return {
        "response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": json_schema}}
    }


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Backend:
    """A kind of model: ``build(arg, options)`` makes one from the part of the spec after
    the prefix and the validated options (settings ``[backends.PREFIX]``)."""

    prefix: str
    description: str
    build: Callable[[str, Any], Model]
    options: type[BaseModel] = NoOptions
    usage: str = ""  # how a spec is written, e.g. gguf:/path/to/model.gguf
    # The identity of the model ``build`` would make, where building it is costly (loading
    # weights): what says whether something learned from a model still holds.
    identify: Callable[[str, Any], str] | None = None
    # The weights are loaded into the process that builds the model (llama.cpp): each
    # worker of ``alu serve --workers N`` would hold a copy of its own.
    in_process: bool = False

    def parse_options(self, values: dict[str, Any], where: str = "") -> BaseModel:
        try:
            return self.options.model_validate(values or {})
        except ValidationError as exc:
            error = exc.errors()[0]
            path = ".".join(str(p) for p in (where, *error["loc"]) if p != "")
            raise ConfigError(f"bad setting {path!r}: {error['msg']}") from exc


BACKENDS: Registry[Backend] = Registry("backend", "alu.backends", UnknownModel)


def register_backend(backend: Backend) -> Backend:
    BACKENDS.add(backend.prefix, backend)
    return backend


def backends() -> list[Backend]:
    return [BACKENDS.get(name) for name in sorted(BACKENDS.names())]


def backend_of(spec: str) -> Backend:
    prefix = (spec or "").strip().partition(":")[0]
    if prefix not in BACKENDS.names():
        known = ", ".join(sorted(BACKENDS.names()))
        raise UnknownModel(f"unknown model {spec!r}: use one of {known} (as PREFIX or PREFIX:ARG)")
    return BACKENDS.get(prefix)


def identity_of(spec: str, **options: Any) -> str:
    """``Model.identity`` of the model ``spec`` names, without loading its weights where the
    backend can tell it otherwise (a GGUF file's hash); else the model is built (cached)."""
    spec = (spec or "").strip()
    backend = backend_of(spec)
    if backend.identify is not None:
        return backend.identify(spec.partition(":")[2], backend.parse_options(options))
    return get_model(spec, **options).identity


_MODELS: dict[tuple, Model] = {}
_LOCK = threading.Lock()


def get_model(spec: str, *, cache: bool = True, **options: Any) -> Model:
    """Build (or reuse) the model for ``spec``; unknown specs raise UnknownModel and bad
    options ConfigError."""
    spec = (spec or "").strip()
    backend = backend_of(spec)
    parsed = backend.parse_options(options, f"backends.{backend.prefix}")
    key = (spec, parsed.model_dump_json())
    with _LOCK:
        if cache and key in _MODELS:
            return _MODELS[key]
        model = backend.build(spec.partition(":")[2], parsed)
        if cache:
            _MODELS[key] = model
        return model
