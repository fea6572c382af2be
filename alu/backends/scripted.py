"""A model that answers from a script, for tests of the orchestration around it."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ModelTimeout
from ..models import Backend, Completion, Messages, Model, cut_at, register_backend

Reply = str | Exception | Callable[[Messages], str]


@dataclass
class Rule:
    agent: str | None  # who asks: "vanilla", "audit_erase" (any step) or "audit_erase:audit"; None = anyone
    reply: Reply
    times: int | None = None  # how often the rule may fire; None = always
    pattern: str | None = None  # and, optionally, a regex the call's text must contain

    def matches(self, agent: str | None, text: str) -> bool:
        if self.times == 0:
            return False
        if self.agent is not None:
            if agent is None or not (agent == self.agent or agent.startswith(self.agent + ":")):
                return False
        return self.pattern is None or re.search(self.pattern, text, flags=re.S | re.I) is not None


class ScriptedModel(Model):
    """Replies by the first matching rule, else ``default``. Records every call.

    Rules route by the calling agent's name (``on("critic", ...)``), optionally narrowed by
    a regex on the call's text. A reply may be a string, an exception to raise (a failing
    backend) or a function of the messages. ``delay`` makes every call slow.
    """

    name = "scripted"
    cacheable = False  # replies depend on the script, not only on the request

    def __init__(self, rules: list[Rule] | None = None, default: Reply = "OK", delay: float = 0.0):
        self.rules = list(rules or [])
        self.default = default
        self.delay = delay
        self.calls: list[Messages] = []
        self.agents: list[str | None] = []
        self._lock = threading.Lock()

    def on(
        self, agent: str | None, reply: Reply, times: int | None = None, *, pattern: str | None = None
    ) -> ScriptedModel:
        self.rules.append(Rule(agent, reply, times, pattern))
        return self

    def complete(
        self,
        messages,
        *,
        max_tokens=256,
        temperature=0.0,
        stop=None,
        json_schema=None,
        timeout=None,
        agent=None,
        until=None,
        reuse_prefix=False,
    ) -> Completion:
        if self.delay:
            if timeout is not None and self.delay > timeout:
                time.sleep(timeout)
                raise ModelTimeout(f"scripted model timed out after {timeout}s")
            time.sleep(self.delay)
        text = "\n".join(m["content"] for m in messages)
        with self._lock:
            self.calls.append(messages)
            self.agents.append(agent)
            reply: Reply = self.default
            for rule in self.rules:
                if rule.matches(agent, text):
                    if rule.times is not None:
                        rule.times -= 1
                    reply = rule.reply
                    break
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            reply = reply(messages)
        if until is not None:  # as a streaming backend would have ended it
            reply = cut_at(reply, until)
        return Completion(
            text=reply,
            prompt_tokens=sum(len(m["content"].split()) for m in messages),
            completion_tokens=len(reply.split()),
            model=self.name,
        )


register_backend(
    Backend(
        "scripted",
        "scripted replies, for tests (answers 'OK', or REPLY)",
        lambda arg, options: ScriptedModel(default=arg or "OK"),
        usage="scripted[:REPLY]",
    )
)
