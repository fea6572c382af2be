"""A model that answers from a script, for tests of the orchestration around it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..models import Completion, Messages, Model, ModelError, register_backend

Reply = str | Exception | Callable[[Messages], str]


@dataclass
class Rule:
    pattern: str  # regex searched in the system + user text of the call
    reply: Reply
    times: int | None = None  # how often the rule may fire; None = always


class ScriptedModel(Model):
    """Replies by the first matching rule, else ``default``. Records every call.

    A reply may be a string, an exception to raise (a failing backend) or a function of
    the messages. ``delay`` makes every call slow.
    """

    name = "scripted"

    def __init__(self, rules: list[Rule] | None = None, default: Reply = "OK", delay: float = 0.0):
        self.rules = list(rules or [])
        self.default = default
        self.delay = delay
        self.calls: list[Messages] = []
        self._lock = threading.Lock()

    def on(self, pattern: str, reply: Reply, times: int | None = None) -> ScriptedModel:
        self.rules.append(Rule(pattern, reply, times))
        return self

    def complete(
        self, messages, *, max_tokens=256, temperature=0.0, json_schema=None, logprobs=0, timeout=None
    ) -> Completion:
        if self.delay:
            if timeout is not None and self.delay > timeout:
                time.sleep(timeout)
                raise ModelError(f"scripted model timed out after {timeout}s")
            time.sleep(self.delay)
        text = "\n".join(m["content"] for m in messages)
        with self._lock:
            self.calls.append(messages)
            reply: Reply = self.default
            for rule in self.rules:
                if rule.times == 0:
                    continue
                if re.search(rule.pattern, text, flags=re.S | re.I):
                    if rule.times is not None:
                        rule.times -= 1
                    reply = rule.reply
                    break
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            reply = reply(messages)
        return Completion(
            text=reply,
            prompt_tokens=sum(len(m["content"].split()) for m in messages),
            completion_tokens=len(reply.split()),
            model=self.name,
        )


register_backend("scripted", lambda arg="", **options: ScriptedModel(**options))
