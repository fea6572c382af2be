"""Answers every (benchmark, split, attack, system, question) once, storing each answer as
a JSON line as soon as it exists, so an interrupted run continues where it stopped."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..datasets import Benchmark, Item, load_benchmark
from ..errors import AgentFailure, EvalError, ModelError, ModelTimeout, QueryError
from ..knowledge import KnowledgeBase
from ..models import Model
from ..pipeline import PipelineConfig
from ..stores import Store, TargetStore
from ..targets.files import export_to
from .attacks import AttackContext, Attacked, get_attack
from .distractors import distractors
from .plan import Plan
from .records import AnswerRecord, read_answers, read_attack_file, record_key
from .systems import NotApplicable, Responder, SystemContext, build_system


@dataclass
class Job:
    benchmark: str
    split: str
    attack: str | None
    system: str
    item: Item
    turns: list[str]
    history: list[dict[str, str]] = field(default_factory=list)  # the attacker's conversation before
    gold_translation: str | None = None  # the gold in the attack's language

    @property
    def key(self) -> str:
        return record_key(self.benchmark, self.split, self.attack, self.system, self.item.id)


LETTER_PROMPT = "{question}\n{options}\nAnswer with the letter (A, B, C or D) of the correct option."


def prompt_for(item: Item, scoring: str) -> str:
    if scoring == "letter" and item.choices:
        options = "\n".join(f"{'ABCD'[i]}. {c}" for i, c in enumerate(item.choices))
        return LETTER_PROMPT.format(question=item.question, options=options)
    return item.question


def sample(items: list[Item], n: int | None, seed: str) -> list[Item]:
    """``n`` items drawn with ``seed``; a smaller ``n`` draws a prefix of a larger one, so a
    resumed run with a lower limit reuses what is stored."""
    if n is None or n >= len(items):
        return list(items)
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    return [items[i] for i in order[:n]]


@dataclass
class Run:
    plan: Plan
    model: Model
    out: Path
    data_root: Path
    config: PipelineConfig = field(default_factory=PipelineConfig)
    concurrency: int = 1
    loaded: dict[str, Benchmark] = field(default_factory=dict)
    chosen: dict[tuple[str, str], list[Item]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)  # keys whose model call failed this run

    def load(self) -> None:
        for name, bench_plan in self.plan.benchmarks.items():
            bench = load_benchmark(name, self.data_root, **bench_plan.options)
            self.loaded[name] = bench
            for s in bench.splits:
                if bench_plan.limits and s.name not in bench_plan.limits:
                    continue
                self.chosen[(name, s.name)] = sample(
                    s.items, bench_plan.limits.get(s.name), f"{self.plan.seed}-{name}-{s.name}"
                )

    def attacked_items(self) -> list[Item]:
        name = self.plan.attack_benchmark
        if name not in self.loaded or not self.plan.attacks:
            return []
        forget = next(s for s in self.loaded[name].splits if s.role == "forget")
        return self.chosen.get((name, forget.name), [])[: self.plan.attack_limit]

    def attack_turns(self, progress: Progress | None = None) -> dict[tuple[str, str], Attacked]:
        """Generate (or reload) every attack's turns; saved under out/attacks/. An attack with a
        gold in its language gets it made for turns saved without one (the turns are kept: they
        may have been answered already), the record written again (a later line wins)."""
        folder = self.out / "attacks"
        folder.mkdir(parents=True, exist_ok=True)
        items = self.attacked_items()
        turns: dict[tuple[str, str], Attacked] = {}
        if not items:
            return turns
        bench = self.loaded[self.plan.attack_benchmark]
        ctx = AttackContext(self.model, bench, self.data_root, self.plan.seed)
        task = (
            progress.add_task("generating attacks", total=len(items) * len(self.plan.attacks))
            if progress
            else None
        )
        for name in self.plan.attacks:
            attack = get_attack(name)
            path = folder / f"{name}.jsonl"
            saved = read_attack_file(path)
            for record in saved.values():
                if record.get("generator") != attack.generator:
                    raise EvalError(
                        f"{path} was made by another generator ({record.get('generator')!r}, now "
                        f"{attack.generator!r}): move it aside to make the attack anew"
                    )
            with open(path, "a", encoding="utf-8") as out:
                for item in items:
                    record = saved.get(item.id)
                    if record is None:
                        made = attack.attack(item, ctx)
                        record = {
                            "item_id": item.id,
                            "benchmark": bench.name,
                            "attack": name,
                            "generator": attack.generator,
                            "question": item.question,
                            "turns": made.turns,
                        }
                        if made.history:
                            record["history"] = made.history
                    if attack.gold is not None and record.get("gold_translation") is None:
                        record = {
                            **record,
                            "gold_translation": attack.gold(item, ctx),
                            "gold_generator": attack.gold_generator,
                        }
                    if record is not saved.get(item.id):
                        out.write(json.dumps(record, ensure_ascii=False) + "\n")
                    turns[(name, item.id)] = Attacked(
                        record["turns"], record.get("history", []), record.get("gold_translation")
                    )
                    if progress:
                        progress.advance(task)
        return turns

    def jobs(self, turns: dict[tuple[str, str], Attacked]) -> list[Job]:
        jobs = []
        for (bench_name, split_name), items in self.chosen.items():
            split = self.loaded[bench_name].split(split_name)
            bench_plan = self.plan.benchmarks[bench_name]
            for system in self.plan.systems:
                for item in items[: bench_plan.limit_for(system, split_name)]:
                    jobs.append(
                        Job(bench_name, split_name, None, system, item, [prompt_for(item, split.scoring)])
                    )
        attacked = self.attacked_items()
        bench = self.loaded.get(self.plan.attack_benchmark)
        if bench is not None:
            forget = next(s for s in bench.splits if s.role == "forget")
            for attack in self.plan.attacks:
                for system in self.plan.systems:
                    for item in attacked[: self.plan.attack_system_limits.get(system)]:
                        made = turns[(attack, item.id)]
                        jobs.append(
                            Job(
                                bench.name,
                                forget.name,
                                attack,
                                system,
                                item,
                                made.turns,
                                made.history,
                                made.gold,
                            )
                        )
        if self.plan.order == "system":
            rank = {s: i for i, s in enumerate(self.plan.systems)}
            jobs.sort(key=lambda j: rank[j.system])  # stable: within a system, benchmark order
        return jobs

    def store_for(self, bench: Benchmark) -> Store | None:
        """With distractors: a target store holding the benchmark's targets and as many
        distractors, imported from a file as an operator would (made once, then reused)."""
        if not self.plan.distractors:
            return None
        path = self.out / f"targets-{bench.name}.db"
        store = TargetStore(path)
        if store.count() < len(bench.targets) + self.plan.distractors:
            people = {t.name for t in bench.targets} | {i.answer for s in bench.splits for i in s.items}
            people |= {d.meta.get("author", "") for d in bench.documents}
            others = distractors(self.plan.distractors, self.data_root, people, self.plan.seed)
            listing = self.out / f"distractors-{bench.name}.jsonl"
            export_to(listing, [*bench.targets, *others], "jsonl")
            store.import_file(listing)
        return store

    def responders(self) -> Responders:
        """Each (benchmark, system)'s responder, built when its first job asks for it."""
        contexts: dict[str, SystemContext] = {}
        making = threading.Lock()  # a benchmark's context (its knowledge base, its store) made once

        def build(name: str, system: str) -> Responder | None:
            with making:
                if name not in contexts:
                    bench = self.loaded[name]
                    kb = KnowledgeBase(bench.documents) if bench.documents else None
                    contexts[name] = SystemContext(
                        self.model,
                        bench,
                        kb,
                        self.config,
                        self.store_for(bench),
                        out=self.out,
                        concurrency=self.concurrency,
                    )
            try:
                return build_system(system, contexts[name])
            except NotApplicable:
                return None

        return Responders(build)

    def execute(self, show_progress: bool = True) -> Path:
        """Answer what is not answered yet; returns the answers file."""
        self.out.mkdir(parents=True, exist_ok=True)
        answers = self.out / "answers.jsonl"
        done = {r.key for r in read_answers(answers)}
        self.load()
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        ]
        with Progress(*columns, disable=not show_progress) as progress:
            turns = self.attack_turns(progress)
            responders = self.responders()
            todo = [j for j in self.jobs(turns) if j.key not in done]
            task = progress.add_task(f"answering ({len(done)} stored)", total=len(todo))
            lock = threading.Lock()
            failures = Failures()

            def work(job: Job) -> None:
                if failures.stopped.is_set():  # the model is down: ask it nothing more
                    return
                responder = responders.get(job.benchmark, job.system)
                if responder is not None:  # None: the system does not apply to the benchmark
                    try:
                        record = answer(job, responder)
                    except (AgentFailure, ModelError) as exc:
                        progress.console.print(f"not answered, retried on the next run: {job.key}: {exc}")
                        with lock:
                            failures.add(job.key, exc)
                        progress.advance(task)
                        return
                    with lock, open(answers, "a", encoding="utf-8") as out:
                        out.write(record.model_dump_json() + "\n")
                        failures.answered()
                progress.advance(task)

            with ThreadPoolExecutor(max(1, self.concurrency)) as pool:
                list(pool.map(work, todo))
            if failures.keys:
                progress.console.print(
                    f"{len(failures.keys)} question(s) not answered (a model call failed); "
                    "running the same command again retries them"
                )
        self.unanswered = failures.keys
        return answers


class Failures:
    """Questions whose model call failed, left for the next run: one slow call (a long
    many-shot prompt past its timeout) must not end a run of hours. Calls failing in a row
    mean the model is down (five errors) or too slow for the plan's timeout (thirty timeouts:
    a whole attack's prompts); then the run stops, the other workers asking nothing more.
    (A system that fails closed, alu, stores its refusal as its answer: it fails nothing
    here.)"""

    ERRORS = 5  # in a row, not counting timeouts
    TIMEOUTS = 30  # failures in a row, timeouts included

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.in_row = 0
        self.errors_in_row = 0
        self.stopped = threading.Event()

    def answered(self) -> None:
        self.in_row = self.errors_in_row = 0

    def add(self, key: str, error: Exception) -> None:
        self.keys.append(key)
        if self.stopped.is_set():  # a call in flight when the run was stopped: said once
            return
        self.in_row += 1
        timed_out = isinstance(error, ModelTimeout) or getattr(error, "timed_out", False)
        self.errors_in_row = 0 if timed_out else self.errors_in_row + 1
        if self.errors_in_row >= self.ERRORS or self.in_row >= self.TIMEOUTS:
            self.stopped.set()
            if self.errors_in_row >= self.ERRORS:
                raise EvalError(f"{self.errors_in_row} model calls failed in a row, the last: {error}")
            raise EvalError(f"{self.in_row} model calls failed or timed out in a row, the last: {error}")


class Responders:
    """Responders built at the first job that needs each, once, whatever thread asks: a
    system is built only for a benchmark it answers on (alu-probed probes every target of
    its benchmark first, dozens of model calls each), and a run answers from its first
    minute instead of building every system before any answer. ``build`` returns None
    where a system does not apply."""

    def __init__(self, build: Callable[[str, str], Responder | None]):
        self._build = build
        self._built: dict[tuple[str, str], Responder | None] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, benchmark: str, system: str) -> Responder | None:
        key = (benchmark, system)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # the other threads asking for it wait for the one build
            if key not in self._built:
                self._built[key] = self._build(benchmark, system)
            return self._built[key]


def answer(job: Job, responder: Responder) -> AnswerRecord:
    history: list[dict[str, str]] = list(job.history)
    record = AnswerRecord(
        key=job.key,
        benchmark=job.benchmark,
        split=job.split,
        attack=job.attack,
        system=job.system,
        item_id=job.item.id,
        question=job.item.question,
        turns=job.turns,
        history=job.history,
        gold=job.item.answer,
        gold_translation=job.gold_translation,
        choices=job.item.choices,
        correct=job.item.correct,
        target=job.item.target,
    )
    seconds = 0.0
    for turn in job.turns:
        try:
            result = responder.ask(turn, history)
        except QueryError as exc:
            record.answers.append("")
            record.verdict, record.error = "rejected", str(exc)
            break
        t = result.trace
        record.answers.append(result.text)
        record.llm_calls += t.llm_calls
        record.candidates = max(record.candidates, len(t.candidates))
        named = [c["name"] for c in t.candidates if c["name"] not in record.candidate_names]
        record.candidate_names += named
        record.prompt_tokens += t.prompt_tokens
        record.completion_tokens += t.completion_tokens
        record.cached_calls += t.cached_calls
        seconds += t.seconds + t.cached_seconds
        record.verdict, record.error = t.verdict, t.error
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": result.text}]
    record.answer = record.answers[-1] if record.answers else ""
    record.seconds = round(seconds, 3)
    return record
