"""Stored answers -> summary.json, report.md and PNG plots, written beside answers.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from ..datasets import Benchmark
from .goals import check_goals
from .markdown import markdown
from .plan import Plan
from .plots import plots
from .records import read_answers, with_attack_golds
from .summary import summarise


def header(command: str, model: str, plan: Plan) -> str:
    return (
        f"# ALU evaluation report\n\nCommand: `{command}`  \nModel: `{model}`; seed {plan.seed}; "
        f"systems: {', '.join(plan.systems)}.  \nMetrics as in ../shared/EVAL_PROTOCOL.md; "
        "every figure has its n and a 95% interval (exact Clopper-Pearson for rates, "
        "percentile bootstrap for means)."
    )


def write_report(out: Path, benchmarks: dict[str, Benchmark], title: str, plan: Plan | None = None) -> dict:
    """Summarise ``out/answers.jsonl`` and write the summary, the plots and the report."""
    plan = plan or Plan(systems=[], benchmarks={})
    records = with_attack_golds(read_answers(out / "answers.jsonl"), out / "attacks")
    summary = summarise(records, benchmarks, plan.seed)
    calls, cached = sum(r.llm_calls for r in records), sum(r.cached_calls for r in records)
    summary["cache"] = {"calls": calls, "cached_calls": cached, "hit_rate": cached / calls if calls else 0.0}
    if cached:
        title += (
            f"  \nCompletion cache: {cached:,} of {calls:,} model calls ({100 * cached / calls:.0f}%) "
            "answered from the cache; their seconds are counted at their original cost."
        )
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    images = plots(summary, out)
    goals = check_goals(summary, plan.goals)
    text = markdown(summary, title, goals, plan.name if plan.goals else "", plan.goals_note)
    text += "\n" + "".join(f"![{p.stem}]({p.name})\n" for p in images)
    (out / "report.md").write_text(text, encoding="utf-8")
    return summary
