"""Throughput and latency of ``alu serve`` under N concurrent ``openai`` clients on loopback,
against calling the same backend directly, in one run.

Backends: the scripted model (the server's own overhead: HTTP, validation, pre-screen,
logging) and the embedded model (what a user sees). Queries touch no target, so the
pipeline makes one LLM call and "direct" sends that same Vanilla prompt to the model.

    .venv/bin/python benchmarks/server_load.py                 # both backends
    .venv/bin/python benchmarks/server_load.py --no-embedded   # scripted only
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
from _table import print_rows
from rich.console import Console
from rich.progress import Progress

from alu import ALU, Target, Trace
from alu.backends.scripted import ScriptedModel
from alu.models import Model, get_model
from alu.server import LiveServer, ServerConfig, create_app

QUESTIONS = [
    "What is the capital of France? Answer in one word.",
    "How many legs does a spider have? Answer with a number.",
    "What colour is the sky on a clear day? One word.",
    "What is 7 times 6? Answer with a number.",
    "Which planet is known as the red planet? One word.",
    "What is the opposite of cold? One word.",
]
TARGETS = [
    Target(name=f"Person Number{i}", kind="person", evidence=[f"Born in Town{i}."]) for i in range(1000)
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_load(call, total: int, clients: int) -> dict:
    latencies: list[float] = []

    def one(i: int) -> None:
        t0 = time.perf_counter()
        call(QUESTIONS[i % len(QUESTIONS)])
        latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, range(total)))
    wall = time.perf_counter() - started
    return {
        "rps": total / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": pct(latencies, 0.95) * 1000,
    }


def bench(name: str, model: Model, total: int, levels: list[int], progress: Progress) -> list[dict]:
    alu = ALU(model, TARGETS)
    app = create_app(alu, ServerConfig(max_in_flight=max(levels) * 2))
    rows = []
    task = progress.add_task(name, total=len(levels) * 2)
    with LiveServer(app) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0, timeout=600)

        def via_server(q: str) -> None:
            r = client.chat.completions.create(model="alu", messages=[{"role": "user", "content": q}])
            assert r.choices[0].message.content

        def direct(q: str) -> None:
            alu.vanilla.answer(Trace(mode="direct"), q, [], [])

        via_server(QUESTIONS[0])  # warm up both paths
        direct(QUESTIONS[0])
        for clients in levels:
            d = run_load(direct, total, clients)
            progress.advance(task)
            s = run_load(via_server, total, clients)
            progress.advance(task)
            rows.append(
                {
                    "backend": name,
                    "clients": clients,
                    "requests": total,
                    "direct_rps": d["rps"],
                    "server_rps": s["rps"],
                    "direct_p50_ms": d["p50_ms"],
                    "server_p50_ms": s["p50_ms"],
                    "direct_p95_ms": d["p95_ms"],
                    "server_p95_ms": s["p95_ms"],
                    "overhead_p50_ms": s["p50_ms"] - d["p50_ms"],
                    "throughput_ratio": s["rps"] / d["rps"],
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--requests", type=int, default=200, help="per level, scripted backend")
    parser.add_argument("--embedded-clients", default="1,2")
    parser.add_argument("--embedded-requests", type=int, default=6)
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument("--out", default="results/server")
    args = parser.parse_args()
    console = Console(width=150)
    rows = []
    with Progress(console=console) as progress:
        scripted = ScriptedModel(default="The answer is short.")
        rows += bench(
            "scripted", scripted, args.requests, [int(c) for c in args.clients.split(",")], progress
        )
        if not args.no_embedded:
            embedded = get_model("embedded", parallel=2)
            levels = [int(c) for c in args.embedded_clients.split(",")]
            rows += bench("embedded", embedded, args.embedded_requests, levels, progress)
    print_rows(console, "alu serve vs the same backend called directly (1,000 targets loaded)", rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "server_load.json").write_text(json.dumps(rows, indent=2))
    console.print(f"wrote {out / 'server_load.json'}")


if __name__ == "__main__":
    main()
