"""What a run covers: systems, benchmarks with their limits, attacks and goals. A profile
is a saved plan (``profiles/NAME.yaml``); the command line overrides parts of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from ..errors import EvalError

PROFILES = Path(__file__).with_name("profiles")


class BenchmarkPlan(BaseModel):
    options: dict = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)  # split -> questions; absent = all
    # system -> split -> questions: an expensive system answers a prefix of the same draw
    system_limits: dict[str, dict[str, int]] = Field(default_factory=dict)

    def limit_for(self, system: str, split: str) -> int | None:
        return self.system_limits.get(system, {}).get(split)


class Goal(BaseModel):
    """A goal checked in the report: ``check`` names a function of ``goals.py``."""

    check: str
    params: dict[str, Any] = Field(default_factory=dict)


class Plan(BaseModel):
    name: str = "custom"
    systems: list[str]
    benchmarks: dict[str, BenchmarkPlan]
    attacks: list[str] = Field(default_factory=list)
    attack_benchmark: str = "tofu"
    attack_limit: int = 2
    attack_system_limits: dict[str, int] = Field(default_factory=dict)  # system -> attacked items
    # Targets beside each benchmark's own, imported into a target store as an operator would:
    # how quality holds as the forget list grows (alu/evaluation/distractors.py).
    distractors: int = Field(0, ge=0)
    # "system": every question of the first system before the next (cheap systems first, so an
    # interrupted run has whole columns); "benchmark": every system of a split together.
    order: Literal["benchmark", "system"] = "benchmark"
    seed: int = 0
    pipeline: dict[str, Any] = Field(default_factory=dict)  # overrides of [pipeline] for this run
    goals: list[Goal] = Field(default_factory=list)
    goals_note: str = ""

    @classmethod
    def profile(cls, name: str) -> Plan:
        path = PROFILES / f"{name}.yaml"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in PROFILES.glob("*.yaml")))
            raise EvalError(f"unknown profile {name!r}: use one of {known}")
        try:
            return cls(name=name, **yaml.safe_load(path.read_text()))
        except (ValidationError, TypeError) as exc:
            raise EvalError(f"profile {name!r} is malformed: {str(exc).splitlines()[0]}") from exc

    def with_overrides(
        self,
        *,
        systems: str | None = None,
        benchmarks: str | None = None,
        attacks: str | None = None,
        limit: str | None = None,
        attack_limit: int | None = None,
        seed: int | None = None,
        distractors: int | None = None,
    ) -> Plan:
        """This plan as the command line amends it (comma-separated names; ``limit`` is N for
        every split or ``split=N,split=N``)."""
        plan = self.model_copy(deep=True)
        if systems:
            plan.systems = _names(systems)
        if benchmarks:
            plan.benchmarks = {b: plan.benchmarks.get(b, BenchmarkPlan()) for b in _names(benchmarks)}
        if attacks:
            plan.attacks = [] if attacks == "none" else _names(attacks)
        if attack_limit is not None:
            plan.attack_limit = attack_limit
        if seed is not None:
            plan.seed = seed
        if distractors is not None:
            plan.distractors = distractors
        if limit:
            _apply_limit(plan, limit)
        return plan


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _apply_limit(plan: Plan, limit: str) -> None:
    try:
        if "=" in limit:
            wanted = {name.strip(): int(n) for name, _, n in (p.partition("=") for p in _names(limit))}
        else:
            every = int(limit)
    except ValueError:
        raise EvalError(f"bad --limit {limit!r}: use N or split=N,split=N") from None
    for bench in plan.benchmarks.values():
        if "=" in limit:
            listed = set(bench.limits)  # none listed: every split is drawn, so any may be limited
            for name, n in wanted.items():
                if name in listed or not listed:
                    bench.limits[name] = n
        else:
            bench.limits = {k: every for k in bench.limits}
