"""``alu targets verify`` on a benchmark's targets, as probed by an evaluation run
(``OUT/knowledge-<benchmark>.json`` of ``alu eval`` with the ``alu-probed`` system): each
target's held-out verification report, and the pooled held-out leak rate beside what the
benchmark measured for ``alu-probed`` on its forget questions, to see whether the report
predicts the benchmark.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/verify_targets.py \\
        --knowledge results/parametric/knowledge-parametric.json \\
        --summary results/parametric/summary.json --out results/parametric-verify
    PYTHONPATH=$PWD .venv/bin/python benchmarks/verify_targets.py --benchmark real_authors \\
        --knowledge results/real-authors/knowledge-real_authors.json \\
        --summary results/real-authors/summary.json --out results/real-authors-verify
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import print_rows

from alu.datasets import data_dir, load_benchmark
from alu.jobs import Cost
from alu.probing.verify import verify_targets, wilson
from alu.settings import Settings
from alu.stores import open_store
from alu.targets import ModelKnowledge

FORGET_SPLITS = ("forget", "forget_languages")  # where a benchmark asks without naming the target


def benchmark_leak(summary: dict, system: str, benchmark: str = "parametric") -> tuple[int, int] | None:
    """Leaks and n of ``system`` on the benchmark's forget splits (those it has)."""
    splits = summary.get("benchmarks", {}).get(benchmark, {}).get("splits", {})
    hits = n = 0
    for name in FORGET_SPLITS:
        if name not in splits:
            continue
        fig = splits[name].get("systems", {}).get(system, {}).get("leak_rate")
        if not fig:
            return None
        count = fig.get("n", 0)
        hits += round(fig["value"] * count)
        n += count
    return (hits, n) if n else None


def verify_side_by_side(store, alu, concurrency: int, console: Console) -> Cost:
    """``verify_targets`` over the probed targets, ``concurrency`` groups at once (each
    group's targets one after another), the groups' costs added up; wall seconds."""
    names = [t.name for t in store.iterate() if t.knowledge is not None and t.knowledge.answers]
    if concurrency <= 1:
        return verify_targets(store, alu, names, console=console)
    groups = [names[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        costs = list(pool.map(lambda group: verify_targets(store, alu, group, show_progress=False), groups))
    total = Cost(counts={}, verb="verified")
    for c in costs:
        for name in ("done", "failed", "skipped", "llm_calls", "prompt_tokens", "completion_tokens"):
            setattr(total, name, getattr(total, name) + getattr(c, name))
        for what, number in c.counts.items():
            total.count(what, number)
        total.failures += c.failures
    total.seconds = time.perf_counter() - started
    console.print(f"verified {total.done} targets in {total.seconds:.0f} s, {concurrency} at a time")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--knowledge", type=Path, required=True)
    parser.add_argument("--summary", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("results/parametric-verify"))
    parser.add_argument("--benchmark", default="parametric", help="whose targets (a registered benchmark)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--concurrency", type=int, default=1, help="targets verified side by side (llama.cpp parallel slots)"
    )
    args = parser.parse_args()
    saved = json.loads(args.knowledge.read_text(encoding="utf-8"))
    knowledge = {t["name"]: ModelKnowledge(**t["knowledge"]) for t in saved["targets"] if t["knowledge"]}
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "verify.db"))
        root = None if args.benchmark == "parametric" else data_dir(args.data_dir)
        for target in load_benchmark(args.benchmark, root).targets:
            store.add(target.model_copy(update={"knowledge": knowledge.get(target.name)}))
        settings = Settings()
        if args.concurrency > 1:
            settings.backends.setdefault("embedded", {})["parallel"] = args.concurrency
        alu = settings.build_alu(store, answer_tokens=128, timeout=300)
        cost = verify_side_by_side(store, alu, args.concurrency, console)
        reports = {t.name: t.knowledge.verification for t in store.iterate() if t.knowledge}
    rows = []
    for name, v in reports.items():
        if v is None:
            continue
        rows.append(
            {
                "target": name,
                "forget": v.forget,
                "leaks": v.leaks,
                "leak_rate": v.leak_rate,
                "leak_95": f"[{v.leak_interval[0]:.2f}, {v.leak_interval[1]:.2f}]",
                "neighbours": v.neighbours,
                "kept": v.kept,
                "calls": v.llm_calls,
                "seconds": v.seconds,
            }
        )
    print_rows(console, "verification per target (held-out probes through the pipeline)", rows)
    leaks, n = sum(r["leaks"] for r in rows), sum(r["forget"] for r in rows)
    kept, m = sum(r["kept"] for r in rows), sum(r["neighbours"] for r in rows)
    pooled = {
        "forget": n,
        "leaks": leaks,
        "leak_rate": round(leaks / n, 4) if n else None,
        "leak_interval": wilson(leaks, n),
        "neighbours": m,
        "kept": kept,
        "kept_rate": round(kept / m, 4) if m else None,
    }
    console.print(f"pooled held-out leak: {leaks}/{n} = {pooled['leak_rate']}; neighbours kept {kept}/{m}")
    if args.summary is not None and args.summary.is_file():
        summary = json.loads(args.summary.read_text(encoding="utf-8"))
        found = benchmark_leak(summary, "alu-probed", args.benchmark)
        if found:
            b_hits, b_n = found
            pooled["benchmark_leak"] = {"leaks": b_hits, "n": b_n, "rate": round(b_hits / b_n, 4)}
            gap = abs(pooled["leak_rate"] - b_hits / b_n) * 100 if n else None
            pooled["gap_points"] = round(gap, 1) if gap is not None else None
            console.print(f"benchmark (alu-probed, its forget splits): {b_hits}/{b_n}; gap {gap:.1f} points")
    args.out.mkdir(parents=True, exist_ok=True)
    body = {
        "cost": cost.summary(),
        "pooled": pooled,
        "targets": {name: v.model_dump() if v else None for name, v in reports.items()},
    }
    (args.out / "verify.json").write_text(
        json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
