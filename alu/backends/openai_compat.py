"""Any OpenAI-compatible chat server (OpenAI, vLLM, SGLang, TGI, Ollama, llama.cpp server,
``alu serve``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ModelError, ModelTimeout
from ..models import Backend, Completion, Messages, Model, StopWhen, cut_at, register_backend, response_format

# An upstream may ignore max_tokens (a 25 MB answer was seen): the answer's length is
# enforced here on what arrives. This backend has no tokenizer of the upstream's model, so
# length is counted by characters at most MAX_CHARS_PER_TOKEN a token (a real tokenizer's
# tokens average 3 to 5 characters: an upstream that keeps to max_tokens is never cut), and,
# for a streamed answer, by content chunks (one token each, or more) as well.
MAX_CHARS_PER_TOKEN = 8
JSON_ENVELOPE_BYTES = 64 * 1024  # a chat completion's JSON around its content, generously
JSON_BYTES_PER_CHAR = 6  # a character written as a \uXXXX escape


class OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="server URL (default: $OPENAI_BASE_URL, else OpenAI)")
    api_key: str | None = Field(None, description="key (default: $OPENAI_API_KEY)")
    timeout: float = Field(60.0, gt=0, description="seconds per request (wall clock, each retry anew)")
    retries: int = Field(2, ge=0, description="retries on connection errors and 5xx")
    json_mode: bool = Field(True, description="send the JSON schema as response_format")
    stream: bool = Field(
        True,
        description="ask for the answer as a stream (SSE) and count its length as it arrives; "
        "off: a plain request whose body is capped in bytes",
    )


class AnswerTooLong(ModelError):
    """The upstream sent more than ``max_tokens`` allows, in a form that cannot be cut."""


@dataclass
class _Answer:
    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cut: bool = False


class OpenAIModel(Model):
    """Chat completions through the official ``openai`` client, the answer read as it
    arrives: cut at ``max_tokens`` whatever the upstream does, and abandoned at the call's
    deadline however slowly it trickles."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        json_mode: bool = True,
        stream: bool = True,
    ):
        import openai

        if not model:
            raise ModelError("openai needs a model name: openai:MODEL")
        self.name = model
        self.json_mode = json_mode
        self.stream = stream
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
        until=None,
        reuse_prefix=False,  # servers that keep prompts (vLLM, llama-server) reuse them unasked
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
            answer = self._create(kwargs, time.monotonic() + timeout, until)
        except (self._openai.APITimeoutError, httpx.TimeoutException) as exc:
            raise ModelTimeout(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        except self._openai.OpenAIError as exc:
            raise ModelError(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        except httpx.HTTPError as exc:  # a read that failed or timed out mid-body
            raise ModelError(f"{self.name}: {type(exc).__name__}: {str(exc)[:200]}") from exc
        prompt = answer.prompt_tokens
        if prompt is None:
            prompt = sum(self.count_tokens(m.get("content") or "") for m in messages)
        completion = answer.completion_tokens
        if completion is None or answer.cut:
            completion = self.count_tokens(answer.text)
        return Completion(
            text=answer.text,
            prompt_tokens=prompt,
            completion_tokens=completion,
            model=self.name,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _create(self, kwargs: dict, deadline: float, until: StopWhen | None = None) -> _Answer:
        """The answer, read as it arrives: given up at ``deadline`` (the client's own
        timeout is per socket read, which a server trickling bytes never trips), cut past
        ``max_tokens``, the connection closed as soon as it is done with."""
        request = dict(kwargs)
        if self.stream:
            request |= {"stream": True, "stream_options": {"include_usage": True}}
        with self._client.chat.completions.with_streaming_response.create(**request) as response:
            chunks = self._within(response.iter_bytes(), deadline, kwargs["timeout"])
            if "text/event-stream" in response.headers.get("content-type", ""):
                return self._read_events(chunks, kwargs["max_tokens"], until)
            answer = self._read_json(chunks, kwargs["max_tokens"])
            if until is not None and (text := cut_at(answer.text, until)) != answer.text:
                answer.text, answer.cut = text, True
            return answer

    def _within(self, chunks: Iterator[bytes], deadline: float, seconds: float) -> Iterator[bytes]:
        for chunk in chunks:
            yield chunk
            if time.monotonic() > deadline:
                raise ModelTimeout(f"{self.name}: the answer took longer than {seconds:.1f} s")

    def _too_long(self, max_tokens: int) -> AnswerTooLong:
        return AnswerTooLong(f"{self.name}: the answer is longer than max_tokens={max_tokens} allows")

    def _read_json(self, chunks: Iterator[bytes], max_tokens: int) -> _Answer:
        """A plain chat completion, its body capped at what ``max_tokens`` of content can take."""
        from openai.types.chat import ChatCompletion

        cap = JSON_ENVELOPE_BYTES + JSON_BYTES_PER_CHAR * MAX_CHARS_PER_TOKEN * max_tokens
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > cap:
                raise self._too_long(max_tokens)
        try:
            response = ChatCompletion.model_validate(json.loads(body))
        except ValueError as exc:
            raise ModelError(f"{self.name}: the answer is not a chat completion") from exc
        if not response.choices:
            raise ModelError(f"{self.name} returned no choices")
        message = response.choices[0].message
        text = (message.content or "") if message else ""
        usage = response.usage
        limit = MAX_CHARS_PER_TOKEN * max_tokens
        return _Answer(
            text=text[:limit],
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            cut=len(text) > limit,
        )

    def _read_events(
        self, chunks: Iterator[bytes], max_tokens: int, until: StopWhen | None = None
    ) -> _Answer:
        """A streamed chat completion (server-sent events), read until ``[DONE]``, until
        its content passes ``max_tokens`` (by chunks or by characters), then cut there, or
        until ``until`` holds for it (the connection is closed: the server stops there)."""
        line_cap = JSON_ENVELOPE_BYTES + JSON_BYTES_PER_CHAR * MAX_CHARS_PER_TOKEN * max_tokens
        char_limit = MAX_CHARS_PER_TOKEN * max_tokens
        answer, pieces, chars = _Answer(), [], 0
        pending = b""
        for chunk in chunks:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > line_cap:
                raise self._too_long(max_tokens)
            for line in lines:
                event = self._event(line)
                if event is None:
                    continue
                if event == "[DONE]":
                    return self._joined(answer, pieces, char_limit)
                usage = event.get("usage")
                if isinstance(usage, dict):
                    answer.prompt_tokens = _count(usage.get("prompt_tokens"))
                    answer.completion_tokens = _count(usage.get("completion_tokens"))
                for choice in event.get("choices") or []:
                    delta = choice.get("delta") if isinstance(choice, dict) else None
                    piece = delta.get("content") if isinstance(delta, dict) else None
                    if isinstance(piece, str) and piece and choice.get("index", 0) == 0:
                        pieces.append(piece)
                        chars += len(piece)
                if len(pieces) > max_tokens or chars > char_limit:
                    answer.cut = True
                    return self._joined(answer, pieces[:max_tokens], char_limit)
                if until is not None and pieces and until("".join(pieces)):
                    answer.cut = True
                    return self._joined(answer, pieces, char_limit)
        if pending.strip():
            event = self._event(pending)
            if isinstance(event, dict) and not event.get("choices") and not event.get("usage"):
                raise ModelError(f"{self.name}: the stream ended in something that is not an event")
        if not pieces and not answer.completion_tokens:
            raise ModelError(f"{self.name}: the stream ended without an answer")
        return self._joined(answer, pieces, char_limit)

    def _event(self, line: bytes) -> dict | str | None:
        line = line.strip()
        if not line.startswith(b"data:"):
            return None  # a comment, an event name, a blank line between events
        data = line[5:].strip()
        if data == b"[DONE]":
            return "[DONE]"
        try:
            event = json.loads(data)
        except ValueError as exc:
            raise ModelError(f"{self.name}: the stream holds an event that is not JSON") from exc
        if not isinstance(event, dict):
            raise ModelError(f"{self.name}: the stream holds an event that is not an object")
        if "error" in event:
            raise ModelError(f"{self.name}: the upstream reported an error mid-stream")
        return event

    @staticmethod
    def _joined(answer: _Answer, pieces: list[str], char_limit: int) -> _Answer:
        text = "".join(pieces)
        answer.cut = answer.cut or len(text) > char_limit
        answer.text = text[:char_limit]
        return answer


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


register_backend(
    Backend(
        "openai",
        "any OpenAI-compatible server (vLLM, SGLang, TGI, Ollama, OpenAI): base_url and api_key",
        lambda arg, options: OpenAIModel(arg, **options.model_dump()),
        OpenAIOptions,
        "openai:MODEL",
    )
)
