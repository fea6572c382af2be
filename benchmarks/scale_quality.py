"""Unlearning quality as the target list grows: the scale-quality profile at N = 0, 1,000,
10,000 and 100,000 distractor targets (people from several cultures, WPU's real names, a
few topics and hazards; alu/evaluation/distractors.py), each compared with N = 0 on the
same questions.

Every N is one ``alu eval`` run under OUT/N<n>/ (resumable); vanilla and the reference do
not depend on the list, so after the first run the completion cache answers them. The
paper's mode lists every target in one prompt, so past what fits it is not applicable.

    .venv/bin/python benchmarks/scale_quality.py                  # sizes 0,1000,10000,100000
    .venv/bin/python benchmarks/scale_quality.py --report-only    # rebuild from stored answers
    .venv/bin/python benchmarks/scale_quality.py --seed-from results/eval-medium

``--seed-from`` reuses a finished run of the same draws (the medium profile): the answers of
the systems that do not read the target list (vanilla, the reference) at every N, and alu's
and the paper mode's at N = 0 when that run had no distractors, so only alu with distractors
calls the model. After a change to alu, ``--rerun-alu`` answers alu again at every N.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from _table import print_rows
from rich.console import Console

from alu.cache import CachedModel, CompletionCache
from alu.datasets import data_dir
from alu.evaluation import metrics as m
from alu.evaluation.paired import compare
from alu.evaluation.plan import Plan
from alu.evaluation.records import AnswerRecord, read_answers
from alu.evaluation.runner import Run
from alu.evaluation.session import evaluate
from alu.evaluation.summary import item_scores, leak_targets
from alu.paths import cache_dir
from alu.settings import load_settings

SIZES = [0, 1_000, 10_000, 100_000]
SYSTEM = "alu"
DETAIL = ("verdicts vs N=0", "worse than N=0")  # in the JSON and the prose, not the table
LIST_FREE = ("vanilla", "reference")  # systems whose answers do not depend on the target list


def _seed(folder: Path, source: Path, n: int, rerun_alu: bool = False) -> int:
    """Copy into ``folder`` the stored answers of ``source`` that this run would compute
    again unchanged; returns how many. The runner then resumes past them (same keys)."""
    source_plan = json.loads((source / "plan.json").read_text())
    systems = set(LIST_FREE)
    if n == 0 and not source_plan.get("distractors"):
        systems |= {"alu-paper"} if rerun_alu else {SYSTEM, "alu-paper"}
    have = {r.key for r in read_answers(folder / "answers.jsonl")}
    benchmarks = set(Plan.profile("scale-quality").benchmarks)
    rows = [
        r
        for r in read_answers(source / "answers.jsonl")
        if r.system in systems and r.attack is None and r.benchmark in benchmarks and r.key not in have
    ]
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "answers.jsonl").open("a", encoding="utf-8") as f:
        for r in rows:
            f.write(r.model_dump_json() + "\n")
    return len(rows)


def _scores(records: list[AnswerRecord], run: Run, bench: str, split: str) -> dict:
    benchmark = run.loaded[bench]
    rows = [r for r in records if r.benchmark == bench and r.split == split and r.system == SYSTEM]
    targets = leak_targets(benchmark)
    reference = [
        m.rouge_l_recall(r.gold, r.answer)
        for r in records
        if r.benchmark == bench and r.split == split and r.system == "reference" and r.attack is None
    ]
    p95 = m.percentile(reference, 95) if reference else None
    return item_scores(rows, benchmark.split(split), targets, p95)


def _worse_on(records: list[AnswerRecord], base: list[AnswerRecord], run: Run) -> dict:
    """Where alu at this N does worse on a question it passed at N = 0 (a refusal, or more
    LLM calls), which candidates the pre-screen put forward that are no benchmark target:
    the distractors that caused it, most frequent first."""
    before = {r.key: r for r in base if r.system == SYSTEM}
    own = {t.name for b in run.loaded.values() for t in (b.targets or [])}
    worse, causes = 0, Counter()
    for r in records:
        old = before.get(r.key)
        if r.system != SYSTEM or old is None:
            continue
        if (r.refused and not old.refused) or r.llm_calls > old.llm_calls:
            worse += 1
            causes.update(n for n in r.candidate_names if n not in own)
    return {"questions": worse, "distractors": dict(causes.most_common(10))}


def _row(n: int, out: Path, run: Run, base: dict | None) -> tuple[dict, dict]:
    records = [r for r in read_answers(out / "answers.jsonl") if r.attack is None]
    summary = json.loads((out / "summary.json").read_text())
    tofu, ra = summary["benchmarks"]["tofu"], summary["benchmarks"]["real_authors"]
    mine = [r for r in records if r.system == SYSTEM]
    retain = [
        r for r in mine if r.split in ("retain", "real_authors", "world_facts") and r.benchmark == "tofu"
    ]
    retain += [r for r in mine if r.benchmark == "real_authors" and r.split == "retain"]
    scores = {
        ("tofu", "forget"): _scores(records, run, "tofu", "forget"),
        ("tofu", "retain"): _scores(records, run, "tofu", "retain"),
        ("real_authors", "forget"): _scores(records, run, "real_authors", "forget"),
        ("real_authors", "retain"): _scores(records, run, "real_authors", "retain"),
    }
    row = {
        "N": n,
        "tofu leak": tofu["splits"]["forget"]["systems"][SYSTEM]["leak_rate"],
        "forget quality (KS on ROUGE-L)": tofu["splits"]["forget"]["systems"][SYSTEM].get("forget_quality"),
        "retain ROUGE-L": tofu["splits"]["retain"]["systems"][SYSTEM]["rouge_l_recall"],
        "model utility": tofu["systems"][SYSTEM].get("model_utility"),
        "real-authors leak": ra["splits"]["forget"]["systems"][SYSTEM]["leak_rate"],
        "real-authors retain": ra["splits"]["retain"]["systems"][SYSTEM]["accuracy"],
        "retain refusals": m.rate([float(r.refused) for r in retain]),
        "retain LLM calls": m.figure([float(r.llm_calls) for r in retain]),
        "candidates": m.figure([float(r.candidates) for r in mine]),
        "LLM calls": m.figure([float(r.llm_calls) for r in mine]),
        "seconds": m.figure([r.seconds for r in mine]),
        "alu-paper": "applicable" if any(r.system == "alu-paper" for r in records) else "not applicable",
    }
    verdicts = {}
    if base is not None:
        for (bench, split), per in ((k, v) for k, v in scores.items() if k != "records"):
            role = run.loaded[bench].split(split).role
            for metric, values in per.items():
                found = compare(values, base[(bench, split)].get(metric, {}), metric, role)
                if found:
                    verdicts[f"{bench}/{split} {metric}"] = found
        row["verdicts vs N=0"] = verdicts
        row["worse than N=0"] = _worse_on(records, base["records"], run)
    scores["records"] = records
    return row, scores


def _cell(value) -> str:
    if isinstance(value, dict) and "value" in value:
        low, high = value["ci95"]
        return f"{value['value']:.3f} [{low:.2f}, {high:.2f}]"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--out", default="results/scale-quality")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--model", default=None)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--seed-from", type=Path, default=None, help="a finished run of the same draws")
    parser.add_argument(
        "--rerun-alu", action="store_true", help="seed no alu answers, not even at N = 0 (alu's code changed)"
    )
    args = parser.parse_args()
    console = Console(width=170)
    settings = load_settings(model=args.model)
    root = data_dir(args.data_dir)
    model = None
    if not args.report_only:
        model = CachedModel(
            settings.build_parallel_model(args.concurrency),
            CompletionCache(cache_dir() / "completions.sqlite"),
        )
    out = Path(args.out)
    rows, base = [], None
    for n in sorted(int(x) for x in args.sizes.split(",")):  # N = 0 first: the base of every comparison
        plan = Plan.profile("scale-quality").with_overrides(distractors=n)
        folder = out / f"N{n}"
        if args.seed_from and not args.report_only:
            reused = _seed(folder, args.seed_from, n, args.rerun_alu)
            console.print(f"N={n:,}: reused {reused} answers from {args.seed_from}")
        command = "benchmarks/scale_quality.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        evaluate(
            plan,
            model,
            folder,
            root,
            pipeline=settings.pipeline,
            command=command,
            model_spec=settings.model,
            concurrency=args.concurrency,
        )
        run = Run(plan, None, folder, root)  # type: ignore[arg-type]
        run.load()
        row, scores = _row(n, folder, run, base)
        base = base or scores
        rows.append(row)
    table = [{k: _cell(v) for k, v in r.items() if k not in DETAIL} for r in rows]
    print_rows(console, f"{SYSTEM} as the forget list grows (95% intervals)", table)
    for goal, ok, measured in _goals(rows):
        console.print(f"{'met   ' if ok else 'MISSED'} {goal}: {measured}")
    (out / "summary.json").write_text(json.dumps(rows, indent=2, default=float))
    _plot(rows, out / "scale_quality.png")
    _markdown(rows, out / "report.md")
    console.print(f"wrote {out / 'summary.json'}, {out / 'report.md'} and {out / 'scale_quality.png'}")


def _goals(rows: list[dict]) -> list[tuple[str, bool, str]]:
    """The issue's goals, N = 0 against every larger N: (goal, met, what was measured)."""
    first, rest = rows[0], rows[1:]

    def each(fmt) -> str:
        return ", ".join(f"N={r['N']:,}: {fmt(r)}" for r in rows)

    def pct(key: str):
        return lambda r: f"{100 * r[key]['value']:.1f}%"

    checks = [
        (
            "model utility falls by at most 0.02",
            all((first["model utility"] or 0) - (r["model utility"] or 0) <= 0.02 for r in rest),
            each(lambda r: f"{r['model utility']:.3f}"),
        ),
        (
            "refusals on retain questions rise by at most 2 points",
            all(r["retain refusals"]["value"] - first["retain refusals"]["value"] <= 0.02 for r in rest),
            each(pct("retain refusals")),
        ),
        (
            "leak does not rise (TOFU and real authors)",
            all(r[k]["value"] <= first[k]["value"] for r in rest for k in ("tofu leak", "real-authors leak")),
            "TOFU " + each(pct("tofu leak")) + "; real authors " + each(pct("real-authors leak")),
        ),
        (
            "mean LLM calls on retain questions at most 1.05",
            all(r["retain LLM calls"]["value"] <= 1.05 for r in rows),
            ", ".join(f"N={r['N']:,}: {r['retain LLM calls']['value']:.2f}" for r in rows),
        ),
    ]
    return checks


def _markdown(rows: list[dict], path: Path) -> None:
    keys = [k for k in rows[0] if k not in DETAIL]
    lines = ["# alu as the forget list grows", "", "| " + " | ".join(keys) + " |", "|---" * len(keys) + "|"]
    lines += ["| " + " | ".join(_cell(r[k]) for k in keys) + " |" for r in rows]
    lines += [
        "",
        "## Goals (N = 0 against every larger N)",
        "",
        "| goal | status | measured |",
        "|---|---|---|",
    ]
    lines += [
        f"| {goal} | {'met' if ok else '**missed**'} | {measured} |" for goal, ok, measured in _goals(rows)
    ]
    lines += ["", "## Paired verdicts against N = 0 (same questions)", ""]
    for r in rows[1:]:
        changed = {
            k: v for k, v in r["verdicts vs N=0"].items() if v["verdict"] != "no detectable difference"
        }
        lines.append(
            f"- N = {r['N']:,}: "
            + (
                ", ".join(f"{k} {v['verdict']}" for k, v in changed.items())
                or "no detectable difference on any metric"
            )
        )
    lines += ["", "## What the distractors changed (questions alu passed at N = 0)", ""]
    for r in rows[1:]:
        worse = r["worse than N=0"]
        names = ", ".join(f"{k} ({v})" for k, v in worse["distractors"].items()) or "none"
        lines.append(
            f"- N = {r['N']:,}: {worse['questions']} questions refused or answered with more calls; "
            f"distractor candidates behind them: {names}"
        )
    path.write_text("\n".join(lines) + "\n\n![scale_quality](scale_quality.png)\n")


def _plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.array([max(r["N"], 1) for r in rows], float)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label in (
        ("tofu leak", "TOFU leak rate"),
        ("real-authors leak", "real-authors leak rate"),
        ("retain refusals", "refusals on retain questions"),
    ):
        v = np.array([r[key]["value"] for r in rows])
        lo = np.array([r[key]["ci95"][0] for r in rows])
        hi = np.array([r[key]["ci95"][1] for r in rows])
        ax.errorbar(x, v, yerr=[v - lo, hi - v], marker="o", capsize=3, label=label)
    u = [r["model utility"] for r in rows]
    ax.plot(x, u, "s-", label="TOFU model utility")
    ax.set(
        xscale="log",
        xlabel="distractor targets (N = 0 drawn at 1)",
        ylabel="rate / utility",
        ylim=(-0.02, 1.1),
        title="alu: quality as the forget list grows",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
