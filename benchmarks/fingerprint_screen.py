"""The pre-screen with and without knowledge fingerprints (``alu targets probe``), side by
side: does guarding with what the model said about each target keep the screen's cost flat?

The same target list as ``scale.py`` (TOFU's authors, then generated people and hazards),
built twice in this process: as it is, and with every target carrying a synthetic probed
knowledge, as ``alu targets probe`` would leave it for a target the model knows: 12 items
(4 names that lead back to the target, 5 of its own terms, 3 shared with other targets
from a Zipf-weighted pool, and a year). The fixed query set of ``scale.py`` (each question
screened with its gold answer as the draft) is scanned on both lists in alternating rounds,
so a busy machine's drift falls on both; the table gives p50 and p95 per text and the
ratio with fingerprints over without (goal: p95 at most 1.5x at 100,000 targets).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/fingerprint_screen.py --sizes 1000,100000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import print_rows
from scale import SYLLABLES, pct, query_set, target_pool

from alu.datasets import data_dir
from alu.scan import TargetIndex
from alu.targets import FingerprintItem, ModelKnowledge, ProbeAnswer, Target

SHARED = 5_000
GOAL_P95_X = 1.5


def _shared_pool() -> tuple[list[str], list[float]]:
    rng = random.Random(7)
    word = lambda: "".join(rng.choice(SYLLABLES) for _ in range(3)).title()  # noqa: E731
    terms = [
        f"{word()} {rng.choice(('Engine', 'Order', 'League', 'Station', 'Method'))}" for _ in range(SHARED)
    ]
    cumulative, total = [], 0.0
    for rank in range(1, SHARED + 1):
        total += 1 / rank
        cumulative.append(total)
    return terms, cumulative


POOL, WEIGHTS = _shared_pool()


def synthetic_knowledge(target: Target, rng: random.Random) -> ModelKnowledge:
    word = lambda k: "".join(rng.choice(SYLLABLES) for _ in range(k)).title()  # noqa: E731
    items = [
        FingerprintItem(text=f"{word(2)} {word(3)}", kind="name", support=5, consistency=0.6, points=True)
    ]
    items += [
        FingerprintItem(text=word(3), kind="name", support=4, consistency=0.5, points=True) for _ in range(3)
    ]
    items += [
        FingerprintItem(text=word(3).lower(), kind="term", support=3, consistency=0.4, points=False)
        for _ in range(5)
    ]
    items += [
        FingerprintItem(text=t, kind="name", support=2, consistency=0.25, points=False)
        for t in sorted(set(rng.choices(POOL, cum_weights=WEIGHTS, k=3)))
    ]
    items.append(
        FingerprintItem(text=str(1900 + rng.randrange(120)), kind="number", support=3, consistency=0.4)
    )
    answer = ProbeAnswer(facet="who", lang="en", question=f"Who is {target.name}?", answer="synthetic")
    return ModelKnowledge(known=True, items=items, answers=[answer], model="synthetic")


def timings(index: TargetIndex, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        started = time.perf_counter()
        index.scan(text)
        out.append((time.perf_counter() - started) * 1000)
    return out


def measure(n: int, rounds: int, root: Path) -> dict:
    plain = [t.model_copy(update={"id": i}) for i, t in enumerate(target_pool(root, n), 1)]
    rng = random.Random(3)
    probed = [t.model_copy(update={"knowledge": synthetic_knowledge(t, rng)}) for t in plain]
    _, pairs = query_set(root)
    texts = [q for q, _ in pairs] + [f"{q}\n{a}" for q, a in pairs]
    started = time.perf_counter()
    without = TargetIndex.of(plain)
    build_plain = time.perf_counter() - started
    started = time.perf_counter()
    with_fp = TargetIndex.of(probed)
    build_fp = time.perf_counter() - started
    timings(without, texts), timings(with_fp, texts)  # warm both
    a, b = [], []
    for r in range(rounds):
        first, second = (without, with_fp) if r % 2 == 0 else (with_fp, without)
        x, y = timings(first, texts), timings(second, texts)
        plain_run, fp_run = (x, y) if first is without else (y, x)
        a.append(plain_run)
        b.append(fp_run)
    p50 = lambda runs: statistics.median(pct(r, 0.5) for r in runs)  # noqa: E731
    p95 = lambda runs: statistics.median(pct(r, 0.95) for r in runs)  # noqa: E731
    return {
        "targets": n,
        "build_plain_s": round(build_plain, 2),
        "build_fp_s": round(build_fp, 2),
        "p50_plain_ms": round(p50(a), 3),
        "p50_fp_ms": round(p50(b), 3),
        "p95_plain_ms": round(p95(a), 3),
        "p95_fp_ms": round(p95(b), 3),
        "p95_x": round(p95(b) / p95(a), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, default=Path("results/fingerprint-screen"))
    args = parser.parse_args()
    root = data_dir(args.data_dir)
    console = Console()
    rows = [measure(int(n), args.rounds, root) for n in args.sizes.split(",")]
    print_rows(console, "pre-screen per text, without and with knowledge fingerprints", rows)
    last = rows[-1]
    verdict = "met" if last["p95_x"] <= GOAL_P95_X else "missed"
    console.print(
        f"goal p95 with / without <= {GOAL_P95_X} at {last['targets']:,} targets: {last['p95_x']} ({verdict})"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "fingerprint_screen.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
