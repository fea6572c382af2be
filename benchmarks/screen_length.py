"""The screen's time and memory against the length of the text, in three scripts, and what a
long screen does to an ordinary question asked meanwhile.

Targets: the first ``--targets`` of benchmarks/scale.py's list (TOFU's authors, then
generated people and hazards), each with its synthetic enrichment (names in Cyrillic,
Greek, Chinese, Japanese, Korean; associated terms). Texts, cut to each length:

* Latin prose: TOFU's answers about its authors, run together (names, titles, places);
* CJK: common Chinese characters, with some targets' Chinese names written in, a full stop
  after each name (sentences of some 200 characters);
* CJK unbroken: common Chinese characters without a stop (one run of 20,000: the case that
  made the screen quadratic);
* base64-like: base64 of random bytes, no spaces (a pasted key or blob).

For each script and length: p50 and p95 of ``TargetIndex.scan`` over ``--repeat`` runs, and
the peak memory one scan allocates (tracemalloc, a separate pass); then the ratio of the
time at 20,000 characters to that at 2,500 (8 x the text: linear is about 8). Last, an
ordinary question (the pipeline on the scripted model of scale.py, query and gold answer
as draft) timed idle and while other threads screen 20,000-character CJK texts.

    .venv/bin/python benchmarks/screen_length.py            # writes results/screen-length/

Goals (issue 19): 20,000 characters of any script in <= 500 ms, ratio 20,000 / 2,500 <= 10,
an ordinary request within 20% of its idle latency beside one 20,000-character request
(`--model embedded` for a real request; the default scripted model times the pipeline alone),
and, reported too, beside a flood of them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import statistics
import subprocess
import threading
import time
import tracemalloc
from pathlib import Path

from _table import print_rows
from rich.console import Console
from scale import agents_script, pct, query_set, target_pool, tofu_targets

from alu import ALU, PipelineConfig
from alu.datasets import data_dir
from alu.scan import TargetIndex

SIZES = [1_000, 2_500, 5_000, 10_000, 20_000]
GOALS = {"ms_at_20000": 500.0, "ratio": 10.0, "question_slowdown": 1.2}
COMMON_HAN = "的一是不了人在有我他这中大来上个国到说们为子和地也时道出就要以会可你对生能而学年着"


def texts(targets: list, longest: int, rng: random.Random) -> dict[str, str]:
    prose = " ".join(e for t in tofu_targets(data_dir()) for e in t.evidence)
    while len(prose) < longest:
        prose += " " + prose
    han_names = [n for t in targets if t.enrichment for n in t.enrichment.names if "·" in n]
    cjk = []
    while sum(map(len, cjk)) < longest:
        cjk.append("".join(rng.choice(COMMON_HAN) for _ in range(200)))
        cjk.append(rng.choice(han_names) + "。")
    blob = base64.b64encode(rng.randbytes(longest)).decode()
    unbroken = "".join(rng.choice(COMMON_HAN) for _ in range(longest))
    return {"latin": prose, "cjk": "".join(cjk), "cjk-unbroken": unbroken, "base64": blob}


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each of ``repeat`` calls (the CPU time of this
    thread: on a shared machine it leaves out the time others held the cores)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return wall, cpu


def peak_kb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def question_latency(
    alu: ALU, questions: list[tuple[str, str]], repeat: int, busy: str | None, once: bool = False
) -> list[float]:
    """Milliseconds per question, with a thread screening ``busy`` meanwhile when given:
    over and over (a flood of long requests), or ``once`` as each question starts (one long
    request beside each ordinary one)."""
    stop = threading.Event()
    go = threading.Event()

    def screen_forever() -> None:
        while not stop.is_set():
            if once:
                if not go.wait(0.05):
                    continue
                go.clear()
            alu.index.scan(busy)

    workers = [threading.Thread(target=screen_forever, daemon=True) for _ in range(1 if busy else 0)]
    for w in workers:
        w.start()
    try:
        times = []
        for _ in range(repeat):
            for q, _gold in questions:
                go.set()
                start = time.perf_counter()
                alu.ask(q)
                times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        stop.set()
        for w in workers:
            w.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=1_000)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeat", type=int, default=10, help="scans timed per script and length")
    parser.add_argument("--questions", type=int, default=10, help="ordinary questions timed, each way")
    parser.add_argument("--out", type=Path, default=Path("results/screen-length"))
    parser.add_argument(
        "--model",
        default="scripted",
        help="the model an ordinary request is answered by: scripted (the pipeline's own cost "
        "alone), or a model spec such as embedded (a real request)",
    )
    args = parser.parse_args()
    console = Console(width=160)
    sizes = [int(s) for s in args.sizes.split(",")]
    targets = target_pool(data_dir(), args.targets, enriched=True)
    index = TargetIndex.of(targets)
    corpus = texts(targets, max(sizes), random.Random(5))
    index.scan(corpus["latin"][:1_000])  # load the word lists and name tables once
    rows = []
    for script, text in corpus.items():
        for size in sizes:
            piece = text[:size]
            times, cpu = timed(lambda piece=piece: index.scan(piece), args.repeat)
            rows.append(
                {
                    "script": script,
                    "chars": size,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(pct(times, 0.95), 1),
                    "cpu_p50_ms": round(statistics.median(cpu), 1),
                    "cpu_p95_ms": round(pct(cpu, 0.95), 1),
                    "peak_kb": round(peak_kb(lambda piece=piece: index.scan(piece)), 1),
                }
            )
        console.print(f"{script}: done")
    print_rows(console, f"screen time against text length, {args.targets:,} targets", rows)

    ratios, cpu_ratios = {}, {}
    for script in corpus:
        at = {r["chars"]: r for r in rows if r["script"] == script}
        if 2_500 in at and 20_000 in at:
            ratios[script] = round(at[20_000]["p50_ms"] / at[2_500]["p50_ms"], 2)
            cpu_ratios[script] = round(at[20_000]["cpu_p50_ms"] / at[2_500]["cpu_p50_ms"], 2)
    console.print(f"ratio p50 20,000 / 2,500 characters: wall {ratios}, CPU {cpu_ratios}")

    _, pairs = query_set(data_dir())
    questions = [p for p in pairs[20:]][: args.questions]  # unrelated questions: the ordinary case
    if args.model == "scripted":
        model = agents_script(targets[0].name)
        for q, gold in questions:
            model.on(q, gold)
    else:
        from alu.models import get_model

        model = get_model(args.model, cache=False)
    alu = ALU(model, targets, config=PipelineConfig(answer_tokens=32))
    question_latency(alu, questions[:2], 1, None)  # warm
    idle = question_latency(alu, questions, 1, None)
    one = question_latency(alu, questions, 1, corpus["cjk"][:20_000], once=True)
    flood = question_latency(alu, questions, 1, corpus["cjk"][:20_000])
    question = {"model": args.model, "idle_p50_ms": round(statistics.median(idle), 1)}
    for name, times in (("one", one), ("flood", flood)):
        question[f"{name}_p50_ms"] = round(statistics.median(times), 1)
        question[f"{name}_p95_ms"] = round(pct(times, 0.95), 1)
        question[f"slowdown_{name}_p50"] = round(question[f"{name}_p50_ms"] / question["idle_p50_ms"], 2)
    question["idle_p95_ms"] = round(pct(idle, 0.95), 1)
    console.print(
        "an ordinary request, idle, beside one 20,000-character CJK request, and beside a flood of "
        f"them: {question}"
    )

    at_20k = [r for r in rows if r["chars"] == 20_000]
    goals = {
        "20,000 characters <= 500 ms (p95, worst script)": bool(at_20k)
        and max(r["p95_ms"] for r in at_20k) <= GOALS["ms_at_20000"],
        "20,000 characters <= 500 ms CPU (p95, worst script)": bool(at_20k)
        and max(r["cpu_p95_ms"] for r in at_20k) <= GOALS["ms_at_20000"],
        "ratio 20,000 / 2,500 <= 10 (p50, every script)": bool(ratios)
        and max(ratios.values()) <= GOALS["ratio"],
        "ratio 20,000 / 2,500 <= 10 (CPU p50, every script)": bool(cpu_ratios)
        and max(cpu_ratios.values()) <= GOALS["ratio"],
        "request within 20% of idle beside one long request (p50)": question["slowdown_one_p50"]
        <= GOALS["question_slowdown"],
        "request within 20% of idle beside a flood of long requests (p50)": question["slowdown_flood_p50"]
        <= GOALS["question_slowdown"],
    }
    for goal, met in goals.items():
        console.print(f"goal {goal}: {'met' if met else 'NOT met'}")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {
        "targets": args.targets,
        "rows": rows,
        "ratio_20000_2500": ratios,
        "cpu_ratio_20000_2500": cpu_ratios,
        "question": question,
        "goals": goals,
        "commit": _commit(),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    (args.out / "screen_length.json").write_text(json.dumps(result, indent=2))
    plot(rows, args.out / "screen_length.png")
    console.print(f"wrote {args.out}/screen_length.json and .png")


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for script in dict.fromkeys(r["script"] for r in rows):
        mine = [r for r in rows if r["script"] == script]
        a.plot([r["chars"] for r in mine], [r["p50_ms"] for r in mine], "o-", label=f"{script} p50")
        a.plot([r["chars"] for r in mine], [r["p95_ms"] for r in mine], "s--", label=f"{script} p95")
        b.plot([r["chars"] for r in mine], [r["peak_kb"] / 1024 for r in mine], "o-", label=script)
    a.axhline(GOALS["ms_at_20000"], color="grey", ls=":", label="goal at 20,000: 500 ms")
    a.set(xlabel="characters", ylabel="ms per screen", title="screen time")
    a.legend(fontsize=7)
    b.set(xlabel="characters", ylabel="MiB", title="peak memory one screen allocates")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
