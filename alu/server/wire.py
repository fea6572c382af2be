"""The OpenAI chat-completions wire format: what clients send and what they get back."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    alu_targets: list[str | dict[str, Any]] = Field(default_factory=list)
    alu_mode: str | None = None
    alu_explain: bool = False

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
    format: str = "json"
    content: str


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
