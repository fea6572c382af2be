"""Stored answers screened again by the current pre-screen, without calling a model: how a
change to the screen moves what it finds in answers already written.

Two counts, per target store of a scale-quality run (its N<n>/targets-*.db):

* forget answers (of the runs given with ``--forget-from``) that name their own target, and
  that make it a candidate: what the leak metric and the agents would see;
* N = 0's retain-side questions and answers (vanilla's and alu's) in which the store names
  a target, or makes one a candidate: what the gate would block, what the agents would audit.

    .venv/bin/python benchmarks/rescan_answers.py
    PYTHONPATH=/path/to/an/older/checkout .venv/bin/python benchmarks/rescan_answers.py   # the same, before
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _table import print_rows
from rich.console import Console

from alu.scan import TargetIndex
from alu.stores import TargetStore


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")] if path.is_file() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-quality", type=Path, default=Path("results/scale-quality"))
    parser.add_argument("--sizes", default="1000,10000,100000")
    runs = "results/eval-medium,results/parametric"
    parser.add_argument("--forget-from", default=runs, help="runs whose forget answers to scan")
    args = parser.parse_args()
    base = [
        r
        for r in _read(args.scale_quality / "N0" / "answers.jsonl")
        if r["system"] in ("vanilla", "alu") and r["split"] != "forget"
    ]
    forget = [
        r
        for run in args.forget_from.split(",")
        for r in _read(Path(run) / "answers.jsonl")
        if r["split"] == "forget" and r.get("target")
    ]
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        for bench in ("tofu", "real_authors"):
            path = args.scale_quality / f"N{n}" / f"targets-{bench}.db"
            if not path.is_file():
                continue
            index = TargetIndex.of(TargetStore(path).list())
            row = {"N": n, "benchmark": bench}
            own = [r for r in forget if r["benchmark"] == bench]
            scans = [(r["target"], index.scan(r["answer"] or "")) for r in own]
            row["forget answers"] = len(own)
            row["naming their target"] = sum(t in {c.target.name for c in s.naming} for t, s in scans)
            row["their target a candidate"] = sum(t in {c.target.name for c in s.above()} for t, s in scans)
            texts = [r["question"] + "\n" + (r["answer"] or "") for r in base if r["benchmark"] == bench]
            retain = [index.scan(t) for t in texts]
            row["retain texts"] = len(texts)
            row["naming a target"] = sum(bool(s.naming) for s in retain)
            row["with a candidate"] = sum(bool(s.above()) for s in retain)
            rows.append(row)
    print_rows(Console(width=160), "stored answers, screened again", rows)


if __name__ == "__main__":
    main()
