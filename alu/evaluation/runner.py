"""Answers every (benchmark, split, attack, system, question) once, storing each answer as
a JSON line as soon as it exists, so an interrupted run continues where it stopped."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, Field
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..datasets import Benchmark, Item, load_benchmark
from ..knowledge import KnowledgeBase
from ..models import Model
from ..pipeline import PipelineConfig, QueryError
from .attacks import AttackContext, get_attack
from .systems import NotApplicable, Responder, SystemContext, build_system

PROFILES = Path(__file__).with_name("profiles")


class BenchmarkPlan(BaseModel):
    options: dict = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)  # split -> questions; absent = all


class Plan(BaseModel):
    """What a run covers; a profile is a saved plan."""

    systems: list[str]
    benchmarks: dict[str, BenchmarkPlan]
    attacks: list[str] = Field(default_factory=list)
    attack_benchmark: str = "tofu"
    attack_limit: int = 2
    seed: int = 0

    @classmethod
    def profile(cls, name: str) -> Plan:
        path = PROFILES / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
            raise ValueError(f"unknown profile {name!r}: use one of {known}")
        return cls(**yaml.safe_load(path.read_text()))


@dataclass
class Job:
    benchmark: str
    split: str
    attack: str
    system: str
    item: Item
    turns: list[str]

    @property
    def key(self) -> str:
        return f"{self.benchmark}|{self.split}|{self.attack}|{self.system}|{self.item.id}"


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
    config: PipelineConfig = field(default_factory=lambda: PipelineConfig(answer_tokens=128, timeout=300))
    concurrency: int = 1
    loaded: dict[str, Benchmark] = field(default_factory=dict)
    chosen: dict[tuple[str, str], list[Item]] = field(default_factory=dict)

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

    def attack_turns(self, progress: Progress | None = None) -> dict[tuple[str, str], list[str]]:
        """Generate (or reload) every attack's turns; saved under out/attacks/."""
        folder = self.out / "attacks"
        folder.mkdir(parents=True, exist_ok=True)
        items = self.attacked_items()
        turns: dict[tuple[str, str], list[str]] = {}
        if not items:
            return turns
        bench = self.loaded[self.plan.attack_benchmark]
        ctx = AttackContext(self.model, bench, self.plan.seed)
        task = (
            progress.add_task("generating attacks", total=len(items) * len(self.plan.attacks))
            if progress
            else None
        )
        for name in self.plan.attacks:
            attack = get_attack(name)
            path = folder / f"{name}.jsonl"
            saved = {}
            if path.is_file():
                for line in path.read_text(encoding="utf-8").splitlines():
                    record = json.loads(line)
                    saved[record["item_id"]] = record["turns"]
            with open(path, "a", encoding="utf-8") as out:
                for item in items:
                    if item.id not in saved:
                        saved[item.id] = attack.make(item, ctx)
                        out.write(
                            json.dumps(
                                {
                                    "item_id": item.id,
                                    "benchmark": bench.name,
                                    "attack": name,
                                    "generator": attack.generator,
                                    "question": item.question,
                                    "turns": saved[item.id],
                                },
                                ensure_ascii=False,
                            )
                            + "\n"
                        )
                    turns[(name, item.id)] = saved[item.id]
                    if progress:
                        progress.advance(task)
        return turns

    def jobs(self, turns: dict[tuple[str, str], list[str]]) -> list[Job]:
        jobs = []
        for (bench_name, split_name), items in self.chosen.items():
            split = self.loaded[bench_name].split(split_name)
            for system in self.plan.systems:
                for item in items:
                    jobs.append(
                        Job(bench_name, split_name, "-", system, item, [prompt_for(item, split.scoring)])
                    )
        attacked = self.attacked_items()
        bench = self.loaded.get(self.plan.attack_benchmark)
        if bench is not None:
            forget = next(s for s in bench.splits if s.role == "forget")
            for attack in self.plan.attacks:
                for system in self.plan.systems:
                    for item in attacked:
                        jobs.append(
                            Job(bench.name, forget.name, attack, system, item, turns[(attack, item.id)])
                        )
        return jobs

    def responders(self) -> dict[tuple[str, str], Responder | None]:
        built: dict[tuple[str, str], Responder | None] = {}
        for name, bench in self.loaded.items():
            kb = KnowledgeBase(bench.documents) if bench.documents else None
            ctx = SystemContext(self.model, bench, kb, self.config)
            for system in self.plan.systems:
                try:
                    built[(name, system)] = build_system(system, ctx)
                except NotApplicable:
                    built[(name, system)] = None
        return built

    def execute(self, show_progress: bool = True) -> Path:
        """Answer what is not answered yet; returns the answers file."""
        self.out.mkdir(parents=True, exist_ok=True)
        answers = self.out / "answers.jsonl"
        done = set()
        if answers.is_file():
            for line in answers.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    done.add(json.loads(line)["key"])
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
            todo = [j for j in self.jobs(turns) if j.key not in done and responders[(j.benchmark, j.system)]]
            task = progress.add_task(f"answering ({len(done)} stored)", total=len(todo))
            lock = threading.Lock()

            def work(job: Job) -> None:
                record = answer(job, responders[(job.benchmark, job.system)])
                with lock, open(answers, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                progress.advance(task)

            with ThreadPoolExecutor(max(1, self.concurrency)) as pool:
                list(pool.map(work, todo))
        return answers


def answer(job: Job, responder: Responder) -> dict:
    history: list[dict[str, str]] = []
    texts, calls, prompt_tokens, completion_tokens, seconds, verdict, error = [], 0, 0, 0, 0.0, "passed", None
    for turn in job.turns:
        try:
            result = responder.ask(turn, history)
        except QueryError as exc:
            texts.append("")
            verdict, error = "rejected", str(exc)
            break
        t = result.trace
        texts.append(result.text)
        calls += t.llm_calls
        prompt_tokens += t.prompt_tokens
        completion_tokens += t.completion_tokens
        seconds += t.seconds
        verdict, error = t.verdict, t.error
        history += [{"role": "user", "content": turn}, {"role": "assistant", "content": result.text}]
    item = job.item
    return {
        "key": job.key,
        "benchmark": job.benchmark,
        "split": job.split,
        "attack": job.attack,
        "system": job.system,
        "item_id": item.id,
        "question": item.question,
        "turns": job.turns,
        "gold": item.answer,
        "choices": item.choices,
        "correct": item.correct,
        "target": item.target,
        "answer": texts[-1] if texts else "",
        "answers": texts,
        "verdict": verdict,
        "error": error,
        "llm_calls": calls,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "seconds": round(seconds, 3),
    }
