"""The four ALU agents. Each is a small class beside the prompt text files it uses."""

from __future__ import annotations

import json
import re
import string
import time
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..deadline import DeadlineExceeded, call_within, request_remaining
from ..errors import AgentFailure, ModelError, ModelTimeout
from ..models import Messages, Model, StopWhen, hints_for
from ..trace import Step, Trace

PROMPTS = Path(__file__).parent
ATTEMPTS = 2  # a malformed or failed call is retried once, then the pipeline fails closed
__all__ = ["PROMPTS", "Agent", "AgentFailure", "extract_json", "prompt", "quote", "render"]


@cache
def prompt(name: str) -> string.Template:
    """A prompt template (``$name`` placeholders, so JSON braces need no escaping)."""
    return string.Template((PROMPTS / f"{name}.txt").read_text(encoding="utf-8"))


def render(name: str, **values: object) -> str:
    return prompt(name).substitute({k: str(v) for k, v in values.items()})


def quote(text: str) -> str:
    """Untrusted text fenced so that instructions inside it read as data."""
    return "<<<\n" + text.replace("<<<", "«").replace(">>>", "»") + "\n>>>"


def extract_json(text: str) -> object:
    """The first JSON object in ``text`` (models wrap it in prose or code fences)."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.S)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    return obj


def _budget(call_deadline: float | None) -> float | None:
    """Seconds this attempt may take: what is left of the call's and the request's time."""
    limits = [request_remaining()]
    if call_deadline is not None:
        limits.append(call_deadline - time.monotonic())
    known = [s for s in limits if s is not None]
    return min(known) if known else None


class Agent:
    """Calls its model, counts the cost into the trace, retries once on bad output.

    ``timeout`` is a wall-clock deadline for the whole call, its retry included, enforced
    whatever the backend does; the request's own deadline (``ALU.ask``) caps it too."""

    name = "agent"

    def __init__(self, model: Model, *, timeout: float | None = None, max_tokens: int = 256):
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens

    def _call(
        self,
        trace: Trace,
        messages: Messages,
        *,
        step: str | None = None,
        schema: type[BaseModel] | None = None,
        decode_schema: dict | None = None,
        max_tokens: int | None = None,
        temperature: float = 0.0,
        stop: list[str] | None = None,
        detail: dict | None = None,
        until: StopWhen | None = None,
        reuse_prefix: bool = False,
    ):
        """``schema`` validates the output; ``decode_schema`` (default: its JSON schema) may
        constrain decoding more tightly where the backend supports grammars. ``step`` names
        what the agent does when it does several things (the audit, the rewrite).
        ``temperature`` and ``stop`` are the caller's for the answer itself; the agents that
        judge it stay greedy. ``until`` and ``reuse_prefix`` are the backend hints of
        :meth:`Model.complete`, passed where the backend takes them."""
        hints = hints_for(self.model, until=until, reuse_prefix=reuse_prefix)
        caller = f"{self.name}:{step}" if step else self.name
        record = Step(agent=self.name, detail={**({"step": step} if step else {}), **(detail or {})})
        trace.steps.append(record)
        started = time.perf_counter()
        call_deadline = time.monotonic() + self.timeout if self.timeout is not None else None
        json_schema = decode_schema or (schema.model_json_schema() if schema else None)
        error = "no attempt"
        timed_out = False  # whether the last try ran out of time
        try:
            for _ in range(ATTEMPTS):
                budget = _budget(call_deadline)
                if budget is not None and budget <= 0:
                    if not record.calls:
                        error = "timed out: no time left for the call"
                        timed_out = True
                    record.detail["timed_out"] = True
                    break
                if trace.call_budget is not None and trace.llm_calls >= trace.call_budget:
                    if not record.calls:
                        error = "no model call left for this request"
                    record.detail["over_budget"] = True
                    break
                record.calls += 1
                try:
                    out = call_within(
                        lambda budget=budget: self.model.complete(
                            messages,
                            max_tokens=max_tokens or self.max_tokens,
                            temperature=temperature,
                            stop=stop,
                            json_schema=json_schema,
                            timeout=budget,
                            agent=caller,
                            **hints,
                        ),
                        budget,
                    )
                except (DeadlineExceeded, ModelTimeout) as exc:
                    error = f"timed out: {exc}"
                    record.detail["timed_out"] = timed_out = True
                    continue
                except ModelError as exc:
                    error, timed_out = str(exc), False
                    continue
                record.prompt_tokens += out.prompt_tokens
                record.completion_tokens += out.completion_tokens
                if out.cached:
                    record.cached += 1
                    record.cached_seconds += out.seconds
                timed_out = False
                if schema is None:
                    if out.text.strip():
                        return out.text.strip()
                    error = "empty output"
                    continue
                try:
                    return schema.model_validate(extract_json(out.text))
                except (ValueError, ValidationError) as exc:
                    error = f"malformed output: {str(exc).splitlines()[0][:160]}"
            record.ok = False
            record.detail["error"] = error
            raise AgentFailure(f"{self.name}: {error}", timed_out=timed_out)
        finally:
            record.seconds = round(time.perf_counter() - started, 3)
            record.cached_seconds = round(record.cached_seconds, 3)
