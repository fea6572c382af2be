"""Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp server, ``alu serve``)."""

from __future__ import annotations

import os

from ..models import Completion, Messages, Model, ModelError, chat_options, register_backend


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
        self._openai = openai
        self._client = openai.OpenAI(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL"),
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=timeout,
            max_retries=retries,
        )

    def complete(
        self,
        messages: Messages,
        *,
        max_tokens=256,
        temperature=0.0,
        json_schema=None,
        logprobs=0,
        timeout=None,
    ) -> Completion:
        kwargs: dict = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            **chat_options(json_schema if self.json_mode else None, logprobs),
        }
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = self._client.chat.completions.create(**kwargs)
        except self._openai.OpenAIError as exc:
            raise ModelError(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        if not getattr(response, "choices", None):
            raise ModelError(f"{self.name} returned no choices")
        choice = response.choices[0]
        tops = None
        if logprobs and choice.logprobs and choice.logprobs.content:
            tops = [{t.token: t.logprob for t in item.top_logprobs} for item in choice.logprobs.content]
        usage = response.usage
        return Completion(
            text=(choice.message.content or "") if choice.message else "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            model=self.name,
            top_logprobs=tops,
        )


register_backend("openai", lambda arg="", **options: OpenAIModel(arg, **options))
