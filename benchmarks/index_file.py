"""The index file against the store alone, side by side, on SQLite: the file's build time
and size, time from a replica's start to its first scan, memory (PSS) of one replica and
of four on one host, and pre-screen p50/p95 per text.

Replicas are child processes (``--as-replica``): each opens the store, builds its index
(from the file, or from the store alone), scans one text, reports, then times the query
set and waits; the parent reads their PSS from /proc while they all hold their index.

    .venv/bin/python benchmarks/index_file.py --sizes 100000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scale import generated, pct, pss_bytes, query_set, tofu_targets

from alu.datasets import data_dir
from alu.scan import TargetIndex
from alu.stores import open_store

REPO = Path(__file__).resolve().parents[1]


def replica(args: argparse.Namespace) -> None:
    store = open_store(args.db)
    index = TargetIndex(store, index_file=args.file or None)
    index.sync()
    index.scan("Warm up.")
    print(json.dumps({"ready": True}), flush=True)
    _, queries = query_set(data_dir(None))
    texts = [f"{q} {a}" for q, a in queries]
    times = []
    for _ in range(args.rounds):
        for text in texts:
            started = time.perf_counter()
            index.scan(text)
            times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95)}), flush=True)
    sys.stdin.readline()  # held until the parent has read every replica's memory


def start(db: str, file: str | None, rounds: int) -> tuple[subprocess.Popen, float]:
    cmd = [sys.executable, __file__, "--as-replica", "--db", db, "--rounds", str(rounds)]
    if file:
        cmd += ["--file", file]
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'benchmarks'}"}
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    return proc, time.perf_counter()


def run(db: str, file: str | None, count: int, rounds: int) -> dict:
    """``count`` replicas at once: their start-to-ready time, summed PSS, latency."""
    procs = [start(db, file, rounds) for _ in range(count)]
    ready, stats = [], []
    for proc, started in procs:
        json.loads(proc.stdout.readline())
        ready.append(time.perf_counter() - started)
    for proc, _ in procs:
        stats.append(json.loads(proc.stdout.readline()))
    pss = [pss_bytes(proc.pid) or 0 for proc, _ in procs]
    for proc, _ in procs:
        proc.stdin.write("\n")
        proc.stdin.flush()
        proc.wait()
    return {
        "ready_s": round(max(ready), 2),
        "pss_mb": round(sum(pss) / 2**20, 1),
        "p50_ms": round(stats[0]["p50_ms"], 3),
        "p95_ms": round(stats[0]["p95_ms"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--as-replica", action="store_true")
    parser.add_argument("--db")
    parser.add_argument("--file")
    args = parser.parse_args()
    if args.as_replica:
        replica(args)
        return
    for n in map(int, args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            db, file = f"{tmp}/targets.db", f"{tmp}/index.alu"
            targets = tofu_targets(data_dir(None))
            targets += generated(n - len(targets), random.Random(0))
            store = open_store(db)
            started = time.perf_counter()
            store.add_many(targets)
            import_s = time.perf_counter() - started
            started = time.perf_counter()
            TargetIndex(store, index_file=file).sync()
            build_s = time.perf_counter() - started
            row = {"targets": n, "import_s": round(import_s, 1), "file_build_s": round(build_s, 1)}
            row["file_mb"] = round(Path(file).stat().st_size / 2**20, 1)
            for label, path in (("store", None), ("file", file)):
                one = run(db, path, 1, args.rounds)
                four = run(db, path, 4, 1)
                row[label] = {"one": one, "four": {k: four[k] for k in ("ready_s", "pss_mb")}}
            s, f = row["store"]["one"], row["file"]["one"]
            row["ratios_file_over_store"] = {
                k: round(f[k] / s[k], 2) for k in ("ready_s", "pss_mb", "p50_ms", "p95_ms")
            }
            row["ratios_file_over_store"]["four_pss"] = round(
                row["file"]["four"]["pss_mb"] / row["store"]["four"]["pss_mb"], 2
            )
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
