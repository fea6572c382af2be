"""One evaluation from plan to report: answer what is not stored yet, then write
``plan.json``, ``summary.json``, ``report.md`` and the plots beside ``answers.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path

from ..datasets import loader
from ..errors import EvalError
from ..models import Model
from ..pipeline import PipelineConfig
from .attacks import get_attack
from .goals import CHECKS
from .plan import Plan
from .report import header, write_report
from .runner import Run
from .systems import SYSTEMS


def checked(plan: Plan) -> Plan:
    """``plan``, once every system, benchmark, attack and goal check it names is known: a
    misspelt name is a one-line error (each registry's own) before any data is read or
    model loaded."""
    for lookup, names in (
        (SYSTEMS.get, plan.systems),
        (loader, list(plan.benchmarks)),
        (get_attack, plan.attacks),
        (CHECKS.get, [goal.check for goal in plan.goals]),
    ):
        for name in names:
            lookup(name)
    return plan


def evaluate(
    plan: Plan,
    model: Model | None,
    out: Path,
    data_root: Path,
    *,
    pipeline: PipelineConfig,
    command: str,
    model_spec: str,
    concurrency: int = 1,
    fresh: bool = False,
    show_progress: bool = True,
) -> dict:
    """Run ``plan`` (resuming what ``out`` holds) and write its report; returns the summary.
    With no ``model`` nothing is answered: the report is rebuilt from the stored answers."""
    checked(plan)
    config = PipelineConfig.model_validate({**pipeline.model_dump(), **plan.pipeline})
    run = Run(plan, model, out, data_root, config=config, concurrency=concurrency)  # type: ignore[arg-type]
    if model is None:
        if not (out / "answers.jsonl").is_file():
            raise EvalError(f"no answers.jsonl in {out} to report on")
        run.load()
    else:
        if fresh:
            (out / "answers.jsonl").unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / "plan.json").write_text(plan.model_dump_json(indent=2))
        (out / "run.json").write_text(json.dumps({"command": command, "model": model_spec}, indent=2))
        run.execute(show_progress=show_progress)
    summary = write_report(out, run.loaded, header(command, model_spec, plan), plan)
    if run.unanswered:  # the report covers what was answered; the run is not complete
        raise EvalError(
            f"{len(run.unanswered)} question(s) not answered (their model calls failed; the report "
            "covers the others): run the same command again to retry them"
        )
    return summary
