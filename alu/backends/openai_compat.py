"""Any OpenAI-compatible chat server (OpenAI, vLLM, SGLang, TGI, Ollama, llama.cpp server,
``alu serve``)."""

from __future__ import annotations

import json
import os
import time

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ModelError
from ..models import Backend, Completion, Messages, Model, register_backend, response_format


class OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="server URL (default: $OPENAI_BASE_URL, else OpenAI)")
    api_key: str | None = Field(None, description="key (default: $OPENAI_API_KEY)")
    timeout: float = Field(60.0, gt=0, description="seconds per request (wall clock, each retry anew)")
    retries: int = Field(2, ge=0, description="retries on connection errors and 5xx")
    json_mode: bool = Field(True, description="send the JSON schema as response_format")


class OpenAIModel(Model):
    """Chat completions through the official ``openai`` client."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        json_mode: bool = True,
    ):
        import openai

        if not model:
            raise ModelError("openai needs a model name: openai:MODEL")
        self.name = model
        self.json_mode = json_mode
        self._timeout = timeout
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=timeout,
            max_retries=retries,
        )

    @property
    def identity(self) -> str:
        return f"openai:{self._client.base_url}:{self.name}"

    def complete(
        self,
        messages: Messages,
        *,
        max_tokens=256,
        temperature=0.0,
        stop=None,
        json_schema=None,
        timeout=None,
        agent=None,
    ) -> Completion:
        kwargs: dict = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            **response_format(json_schema if self.json_mode else None),
        }
        if stop:
            kwargs["stop"] = list(stop)
        timeout = timeout if timeout is not None else self._timeout
        kwargs["timeout"] = timeout
        started = time.perf_counter()
        try:
            response = self._create(kwargs, time.monotonic() + timeout)
        except self._openai.OpenAIError as exc:
            raise ModelError(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if not getattr(response, "choices", None):
            raise ModelError(f"{self.name} returned no choices")
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=(choice.message.content or "") if choice.message else "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model=self.name,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _create(self, kwargs: dict, deadline: float):
        """The completion, its body read as it arrives and abandoned at ``deadline``: the
        client's own timeout is per socket read, which a server trickling bytes never trips."""
        from openai.types.chat import ChatCompletion

        body = bytearray()
        with self._client.chat.completions.with_streaming_response.create(**kwargs) as response:
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    raise ModelError(f"{self.name}: the answer took longer than {kwargs['timeout']:.1f} s")
        try:
            return ChatCompletion.model_validate(json.loads(body))
        except ValueError as exc:
            raise ModelError(f"{self.name}: the answer is not a chat completion") from exc


register_backend(
    Backend(
        "openai",
        "any OpenAI-compatible server (vLLM, SGLang, TGI, Ollama, OpenAI): base_url and api_key",
        lambda arg, options: OpenAIModel(arg, **options.model_dump()),
        OpenAIOptions,
        "openai:MODEL",
    )
)
