"""Every committed report under results/ that has stored answers is rebuilt from them with
the current code (no model: the ``--report-only`` path) and its headline figures compared
with the committed ``summary.json``. A change to a metric that moves a committed figure
fails here until the report is regenerated and committed, so no result goes stale silently.

Results without stored answers (scale, server, parametric-probe, ...) cannot be rebuilt:
their RUN.md names the commit that produced them, which ``test_unrebuildable_name_commit``
checks.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA_DIR

from alu.evaluation.plan import Plan
from alu.evaluation.session import evaluate
from alu.pipeline import PipelineConfig

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")

# results folder -> the command that regenerates it from its stored answers
REBUILT = {
    "eval": "alu eval --profile small --out results/eval --report-only",
    "eval-medium": "alu eval --profile medium --out results/eval-medium --report-only",
    "parametric": "alu eval --profile parametric --systems vanilla,alu,alu-probed,filter,prompt "
    "--out results/parametric --report-only",
    "parametric-described": "alu eval --profile parametric-described "
    "--systems vanilla,alu,alu-probed,filter,prompt --out results/parametric-described --report-only",
    "parametric-latency": "alu eval --profile parametric --systems vanilla,alu-probed "
    "--limit forget=30,forget_languages=15,named=10,neighbours=0,bystanders=20 "
    "--out results/parametric-latency --report-only",
    "real-authors": "alu eval --profile medium --benchmarks real_authors --systems vanilla,alu,alu-probed "
    "--attacks none --out results/real-authors --report-only",
    "hazards": "alu eval --profile hazards --out results/hazards --report-only",
    "eval-full": "alu eval --profile full --out results/eval-full --report-only",
}
SCALE_QUALITY = "python benchmarks/scale_quality.py --report-only"
TOLERANCE = 1e-6
# a rate or mean: its point value and n; scores per system and split
FIGURES = ("leak_rate", "rouge_l_recall", "accuracy", "guess_adjusted_accuracy", "refusal_rate", "kept_rate")


def _system_figures(where: str, systems: dict, out: dict[str, float]) -> None:
    """Each system's metrics of one split (or one subject of it): value and n, and the
    figures with no interval."""
    for system, entry in systems.items():
        for metric, fig in entry.items():
            at = f"{where} {metric} of {system}"
            if isinstance(fig, dict) and "value" in fig and metric in FIGURES:
                out[at] = fig["value"]
                out[f"{at}: n"] = fig["n"]
            elif metric in ("forget_quality", "ratio_to_vanilla", "refused"):
                out[at] = fig


def headline_figures(summary: dict) -> dict[str, float]:
    """The figures a report's headline and goals rest on, flattened to ``where: value``: each
    split's per-system metrics (value and n), forget quality, model utility, leak under every
    attack and whether the attack bites, and the membership attacker (nested; older
    summaries: the best); for a split judged subject by subject, each subject's figures and
    its paired accuracy against vanilla (difference, n, McNemar p); and the mean LLM calls
    per split and on questions touching no target (the cost goals).
    Intervals are left out (their bounds are the bootstrap's, not a finding)."""
    out: dict[str, float] = {}
    for bench, result in summary.get("benchmarks", {}).items():
        for split, sp in result["splits"].items():
            _system_figures(f"{bench}/{split}", sp["systems"], out)
            for subject, found in sp.get("subjects", {}).items():
                where = f"{bench}/{split}/{subject}"
                _system_figures(where, found["systems"], out)
                for system, per in found.get("paired", {}).get("vs_vanilla", {}).items():
                    if "accuracy" in per:
                        cmp, at = per["accuracy"], f"{where} paired accuracy of {system} vs vanilla"
                        out |= {f"{at}: diff": cmp["diff"], f"{at}: n": cmp["n"], f"{at}: p": cmp["p_value"]}
        for system, entry in result.get("systems", {}).items():
            out[f"{bench} model utility of {system}"] = entry["model_utility"]
    for attack, per in summary.get("attacks", {}).items():
        for system, fig in per.items():
            out[f"leak under {attack} of {system}"] = fig["value"]
            out[f"leak under {attack} of {system}: n"] = fig["n"]
    for attack, verdict in summary.get("attack_bites", {}).items():
        out[f"{attack} bites"] = verdict["bites"]
    for where, per in summary.get("cost_by_split", {}).items():
        for system, cost in per.items():
            out[f"{where} mean LLM calls of {system}"] = cost["llm_calls"]["mean"]
            out[f"{where} mean LLM calls of {system}: n"] = cost["n"]
    for system, cost in summary.get("cost_no_target", {}).items():
        out[f"mean LLM calls touching no target of {system}"] = cost["llm_calls"]["mean"]
        out[f"mean LLM calls touching no target of {system}: n"] = cost["n"]
    for system, per in summary.get("membership", {}).items():
        for comparison, result in per.items():
            fig = result.get("nested") or result.get("best") or {}
            out[f"membership {comparison} of {system}"] = fig.get("balanced_accuracy", math.nan)
    return out


def _shown(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def moved(committed: dict[str, float], rebuilt: dict[str, float]) -> list[str]:
    """Every figure that differs, appears or disappears, as ``where: old -> new``."""
    lines = []
    for key in sorted(committed.keys() | rebuilt.keys()):
        old, new = committed.get(key, "absent"), rebuilt.get(key, "absent")
        if isinstance(old, (int, float)) and isinstance(new, (int, float)):
            if (math.isnan(old) and math.isnan(new)) or math.isclose(old, new, abs_tol=TOLERANCE):
                continue
        elif old == new:
            continue
        lines.append(f"{key}: {_shown(old)} -> {_shown(new)}")
    return lines


def fail_if_moved(name: str, committed: dict, rebuilt: dict, command: str) -> None:
    changes = moved(headline_figures(committed), headline_figures(rebuilt))
    if changes:
        more = f"\n  ... and {len(changes) - 20} more" if len(changes) > 20 else ""
        shown = "\n  ".join(changes[:20]) + more
        pytest.fail(
            f"results/{name}: {len(changes)} headline figure(s) differ from the committed summary.json "
            f"when rebuilt from its stored answers with the current code:\n  {shown}\n"
            f"If the change is intended, regenerate with `{command}` (no model needed), note it in "
            f"results/{name.split('/')[0]}/RUN.md and commit the rebuilt files.",
            pytrace=False,
        )


@needs_data
@pytest.mark.parametrize("name", sorted(REBUILT))
def test_committed_report_rebuilds(name: str, tmp_path: Path) -> None:
    source = RESULTS / name
    for stored in ("answers.jsonl", "plan.json"):
        shutil.copy(source / stored, tmp_path / stored)
    if (source / "attacks").is_dir():  # the attacks' saved turns, with a gold in their language
        shutil.copytree(source / "attacks", tmp_path / "attacks")
    plan = Plan.model_validate_json((source / "plan.json").read_text())
    rebuilt = evaluate(
        plan,
        None,
        tmp_path,
        DATA_DIR,
        pipeline=PipelineConfig(),
        command=REBUILT[name],
        model_spec="embedded",
        show_progress=False,
    )
    committed = json.loads((source / "summary.json").read_text())
    fail_if_moved(name, committed, json.loads(json.dumps(rebuilt, default=float)), REBUILT[name])


@needs_data
def test_scale_quality_rebuilds(tmp_path: Path) -> None:
    """scale_quality.py's table (one row per N) and each N's own summary, rebuilt."""
    source = RESULTS / "scale-quality"
    sizes = sorted(int(p.name[1:]) for p in source.glob("N*") if (p / "answers.jsonl").is_file())
    for n in sizes:
        (tmp_path / f"N{n}").mkdir()
        shutil.copy(source / f"N{n}" / "answers.jsonl", tmp_path / f"N{n}" / "answers.jsonl")
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/scale_quality.py",
            "--report-only",
            *("--out", str(tmp_path), "--sizes", ",".join(map(str, sizes)), "--data-dir", str(DATA_DIR)),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'benchmarks'}"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for n in sizes:
        committed = json.loads((source / f"N{n}" / "summary.json").read_text())
        rebuilt = json.loads((tmp_path / f"N{n}" / "summary.json").read_text())
        fail_if_moved(f"scale-quality/N{n}", committed, rebuilt, SCALE_QUALITY)
    committed_rows = json.loads((source / "summary.json").read_text())
    rebuilt_rows = json.loads((tmp_path / "summary.json").read_text())

    def table(rows: list[dict]) -> dict[str, float]:
        out = {}
        for row in rows:
            for key, value in row.items():
                if isinstance(value, dict) and "value" in value:
                    out[f"N={row['N']} {key}"] = value["value"]
                elif isinstance(value, (int, float)):
                    out[f"N={row['N']} {key}"] = value
        return out

    changes = moved(table(committed_rows), table(rebuilt_rows))
    assert not changes, (
        "results/scale-quality/summary.json: figures moved when rebuilt from the stored answers:\n  "
        + "\n  ".join(changes)
        + f"\nRegenerate with `{SCALE_QUALITY}` and commit the rebuilt files."
    )


# results with no stored answers: each RUN.md (or the JSON itself) names its commit
COMMIT = re.compile(r"(?i)\b(?:commit|code)\b[^\n]*\b(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b")


@pytest.mark.parametrize(
    "name",
    sorted(
        p.name
        for p in RESULTS.iterdir()
        if p.is_dir() and p.name not in REBUILT and p.name != "scale-quality"
    ),
)
def test_unrebuildable_name_commit(name: str) -> None:
    """A result that cannot be rebuilt says which code produced it."""
    run = RESULTS / name / "RUN.md"
    assert run.is_file(), f"results/{name} has no RUN.md naming the commit that produced it"
    assert COMMIT.search(run.read_text(encoding="utf-8")), (
        f"results/{name}/RUN.md names no commit: add 'produced by code at or before <commit>' "
        f"(git log --format=%h -1 -- results/{name})"
    )
