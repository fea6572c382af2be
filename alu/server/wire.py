"""The OpenAI chat-completions wire format: what clients send and what they get back.

Types are strict (``stream: "yes"`` is a 400, not true) and the sampling parameters are
checked against the OpenAI ranges: ``max_tokens`` (or ``max_completion_tokens``) at least
1, ``temperature`` 0 to 2, ``stop`` a string or up to 4, ``n`` 1 only. Other fields of
the OpenAI request are ignored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import regex
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from ..models import Sampling

MAX_STOP = 4
# What shows nothing: whitespace, control and format characters, and every code point with
# the Unicode property Default_Ignorable_Code_Point (U+FE0F, U+200B, and letters such as the
# Hangul filler U+3164 that render as nothing).
_INVISIBLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\s\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]*")


def is_invisible(text: str) -> bool:
    """Whether ``text`` holds no character a reader would see."""
    return _INVISIBLE.fullmatch(text) is not None


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: StrictStr
    text: StrictStr | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: StrictBool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: StrictStr | None = Field(None, max_length=256)
    messages: list[ChatMessage] = Field(min_length=1, max_length=1000)
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    temperature: StrictFloat | None = Field(None, ge=0, le=2)
    stop: StrictStr | list[StrictStr] | None = None
    n: StrictInt | None = None
    alu_targets: list[StrictStr | dict[str, Any]] = Field(default_factory=list)
    alu_mode: StrictStr | None = None
    alu_explain: StrictBool = False

    @field_validator("stop")
    @classmethod
    def _stop(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > MAX_STOP:
            raise ValueError(f"at most {MAX_STOP} stop sequences")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int | None) -> int | None:
        if value not in (None, 1):
            raise ValueError("only n=1 is supported: every answer is audited on its own")
        return value

    def sampling(self) -> Sampling:
        stop = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return Sampling(
            max_tokens=self.max_completion_tokens or self.max_tokens,
            temperature=float(self.temperature or 0.0),
            stop=tuple(s for s in stop if s),
        )

    def conversation(self) -> tuple[str, list[dict[str, str]], str | None]:
        """The query, the earlier user/assistant turns, and the caller's system prompt."""
        system = "\n".join(m.text() for m in self.messages if m.role in ("system", "developer")) or None
        history = [
            {"role": m.role, "content": m.text()}
            for m in self.messages[:-1]
            if m.role in ("user", "assistant")
        ]
        return self.messages[-1].text(), history, system


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["json", "yaml", "csv", "txt"] = "json"
    content: StrictStr


def completion(request_id: str, model: str, text: str, usage: dict, **extra: Any) -> dict:
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage,
        **extra,
    }


def chunks(request_id: str, model: str, text: str, usage: dict | None) -> Iterator[str]:
    """The (already audited) answer as chat.completion.chunk server-sent events."""
    created = int(time.time())

    def event(choices: list, **extra: Any) -> str:
        data = {
            "id": request_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def delta(content: dict, finish: str | None = None) -> str:
        return event([{"index": 0, "delta": content, "finish_reason": finish, "logprobs": None}])

    yield delta({"role": "assistant", "content": ""})
    words = text.split(" ")
    for i in range(0, len(words), 4):
        yield delta({"content": " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")})
    yield delta({}, "stop")
    if usage is not None:
        yield event([], usage=usage)
    yield "data: [DONE]\n\n"
