"""Systems compared by ``alu eval``, one module each; a module registers its builder.

A builder takes the run's context and returns a :class:`Responder`: something with
``ask(query, history)`` returning an ``Answer`` (an ``ALU`` pipeline, or a baseline around
the plain :class:`~alu.pipeline.assistant.Assistant`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from ...agents.vanilla import Vanilla
from ...datasets import Benchmark
from ...errors import EvalError
from ...knowledge import KnowledgeBase
from ...models import Messages, Model
from ...pipeline import ALU, PipelineConfig
from ...pipeline.assistant import Assistant
from ...registry import Registry
from ...stores import Store
from ...targets import Target
from ...trace import Answer, Trace


class Responder(Protocol):
    def ask(self, query: str, history: Messages | None = None) -> Answer: ...


class NotApplicable(Exception):
    """The system has no meaning on this benchmark (a reference without a knowledge base)."""


@dataclass
class Baseline:
    """The model as it normally answers (retrieval + Vanilla), as a responder."""

    assistant: Assistant

    def ask(self, query: str, history: Messages | None = None) -> Answer:
        trace = Trace(mode="baseline")
        started = time.perf_counter()
        text = self.assistant.answer(trace, query, history)
        trace.seconds = round(time.perf_counter() - started, 3)
        return Answer(text=text, trace=trace)


@dataclass
class SystemContext:
    model: Model
    benchmark: Benchmark
    knowledge: KnowledgeBase | None
    config: PipelineConfig
    store: Store | None = None  # the benchmark's targets and the distractors, when there are any
    out: Path | None = None  # the run's results folder, for what a system saves to inspect
    concurrency: int = 1  # calls the run may have in flight (targets learned side by side)

    @property
    def target_count(self) -> int:
        return self.store.count() if self.store is not None else len(self.benchmark.targets)

    def baseline(self, *, knowledge: KnowledgeBase | None = None, system: str | None = None) -> Baseline:
        """Plain answering, with the benchmark's knowledge base unless another is given."""
        vanilla = Vanilla(self.model, timeout=self.config.timeout, max_tokens=self.config.answer_tokens)
        kb = self.knowledge if knowledge is None else knowledge
        return Baseline(Assistant(vanilla, kb, top_docs=self.config.top_docs, system=system))

    def pipeline(self, mode: str, **settings) -> PipelineConfig:
        """The run's pipeline settings for ``mode``: a benchmark of invented people (TOFU)
        has its targets treated as unknown to the model, as an operator of a list of private
        people would set it; any other benchmark's are declined plainly until probed."""
        if self.benchmark.invented_targets:
            settings = {"unprobed": "unknown", **settings}
        return self.config.model_copy(update={"mode": mode, **settings})

    def alu(self, mode: str, targets: Sequence[Target] | None = None, **pipeline) -> ALU:
        """An ALU pipeline in ``mode`` over the run's targets (or ``targets``, the benchmark's
        own with what a system learned of them, beside the store's distractors as they are)."""
        config = self.pipeline(mode, **pipeline)
        if targets is None:
            found = self.store if self.store is not None else self.benchmark.targets
            return ALU(self.model, found, knowledge=self.knowledge, config=config)
        if self.store is not None:
            by_name = {t.name: t for t in targets}
            targets = [by_name.get(t.name, t) for t in self.store.iterate()]
        return ALU(self.model, list(targets), knowledge=self.knowledge, config=config)

    def learned(
        self,
        field: str,
        load: Callable[[dict | None], BaseModel | None],
        learn: Callable[[Target], tuple[BaseModel | None, Trace | None]],
        complete: Callable[[BaseModel | None], bool] = lambda value: True,
    ) -> list[Target]:
        """The benchmark's targets with ``field`` (``enrichment``, ``knowledge``) learned by
        the run's model, one target at a time by ``learn`` (what it learned and its trace),
        saved with the cost to ``OUT/<field>-<benchmark>.json``; a resumed run with the same
        model takes them back from that file (``load`` reads a saved value), and gives a
        value it took back that is not ``complete`` (learned before a step was added) to
        ``learn`` on its target, to finish."""
        targets = list(self.benchmark.targets)
        identity = self.model.identity
        path = self.out / f"{field}-{self.benchmark.name}.json" if self.out is not None else None
        kept: dict[str, dict] = {}  # name -> the saved record, for a value taken back
        if path is not None and path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved.get("model") == identity:
                kept = {t["name"]: t for t in saved.get("targets", [])}
        targets = [
            t.model_copy(update={field: load(kept[t.name][field])}) if t.name in kept else t for t in targets
        ]
        todo = [t for t in targets if t.name not in kept or not complete(getattr(t, field))]
        if not todo:
            return targets

        def timed(target: Target) -> tuple[BaseModel | None, Trace | None, float]:
            started = time.perf_counter()
            value, trace = learn(target)
            return value, trace, round(time.perf_counter() - started, 3)

        # Targets side by side, as many as the run answers at once (each target's own calls
        # stay in order): with llama.cpp's parallel slots, 20 targets take a third the time.
        with ThreadPoolExecutor(max(1, self.concurrency)) as pool:
            learned = dict(zip((t.name for t in todo), pool.map(timed, todo), strict=True))
        done, records = [], []
        for target in targets:
            if target.name not in learned:
                done.append(target)
                records.append(kept[target.name])
                continue
            value, trace, seconds = learned[target.name]
            before = kept.get(target.name, {})  # a value finished: its first cost counts too
            done.append(target.model_copy(update={field: value}))
            records.append(
                {
                    "name": target.name,
                    field: value.model_dump() if value is not None else None,
                    "llm_calls": before.get("llm_calls", 0) + (trace.llm_calls if trace else 0),
                    "prompt_tokens": before.get("prompt_tokens", 0) + (trace.prompt_tokens if trace else 0),
                    "completion_tokens": before.get("completion_tokens", 0)
                    + (trace.completion_tokens if trace else 0),
                    "seconds": round(before.get("seconds", 0) + seconds, 3),
                }
            )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            body = {"benchmark": self.benchmark.name, "model": identity, "targets": records}
            path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return done

    def forget_examples(self, limit: int = 6) -> list[tuple[str, str]]:
        """Forget questions with wrong answers, for in-context unlearning."""
        # Only a forget set given to the method (TOFU, WPU); WMDP's questions are never shown.
        forget = next((s for s in self.benchmark.splits if s.role == "forget"), None)
        items = [i for i in (forget.items if forget else []) if i.wrong_answer]
        return [(i.question, i.wrong_answer) for i in items[-limit:]]


Builder = Callable[[SystemContext], Responder]
SYSTEMS: Registry[Builder] = Registry("system", __name__, EvalError)
register = SYSTEMS.register


def systems() -> list[str]:
    return SYSTEMS.names()


def build_system(name: str, ctx: SystemContext) -> Responder:
    return SYSTEMS.get(name)(ctx)
