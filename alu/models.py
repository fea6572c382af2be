"""The one interface every backend implements, and the registry that builds them by spec.

A model spec is a short string: ``embedded`` (the bundled Qwen2.5-Coder-1.5B GGUF),
``gguf:/path/to/file.gguf``, ``openai:MODEL`` (any OpenAI-compatible server, configured by
base URL and key) or ``scripted`` (tests). New backends register a prefix.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Messages = list[dict[str, str]]


class ModelError(RuntimeError):
    """The backend failed: unreachable, timed out, or answered something unusable."""


class UnknownModel(ValueError):
    """A model spec no backend understands."""


@dataclass
class Completion:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    # For each generated token, its top alternatives as {token: logprob}; None if unsupported.
    top_logprobs: list[dict[str, float]] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


class Model(ABC):
    """A chat model: messages in, text out."""

    name: str = "model"

    @abstractmethod
    def complete(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        json_schema: dict | None = None,
        logprobs: int = 0,
        timeout: float | None = None,
    ) -> Completion:
        """One chat completion. ``json_schema`` asks for output that follows it, where the
        backend can constrain decoding; callers still validate."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds (threads, memory)."""


def chat_options(json_schema: dict | None, logprobs: int) -> dict[str, Any]:
    """The OpenAI chat-completions fields for structured output and top log-probabilities
    (llama.cpp's server reads the same ones)."""
    options: dict[str, Any] = {}
    if json_schema is not None:
        options["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": json_schema},
        }
    if logprobs:
        options.update(logprobs=True, top_logprobs=logprobs)
    return options


_BACKENDS: dict[str, Callable[..., Model]] = {}
_CACHE: dict[tuple, Model] = {}
_LOCK = threading.Lock()


def register_backend(prefix: str, factory: Callable[..., Model]) -> None:
    """Make ``prefix`` or ``prefix:ARG`` specs build models with ``factory(arg, **options)``."""
    _BACKENDS[prefix] = factory


def backends() -> list[str]:
    _load_defaults()
    return sorted(_BACKENDS)


def _load_defaults() -> None:
    from .backends import embedded, openai_compat, scripted  # noqa: F401 - they register


def get_model(spec: str, *, cache: bool = True, **options: Any) -> Model:
    """Build (or reuse) the model for ``spec``; unknown specs raise UnknownModel."""
    _load_defaults()
    spec = (spec or "").strip()
    prefix, _, arg = spec.partition(":")
    if prefix not in _BACKENDS:
        known = ", ".join(f"{b}" for b in sorted(_BACKENDS))
        raise UnknownModel(f"unknown model {spec!r}: use one of {known} (as PREFIX or PREFIX:ARG)")
    key = (spec, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _LOCK:
        if cache and key in _CACHE:
            return _CACHE[key]
        model = _BACKENDS[prefix](arg, **options)
        if cache:
            _CACHE[key] = model
        return model
