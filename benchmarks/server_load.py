"""Throughput and latency of ``alu serve`` under N concurrent ``openai`` clients on loopback,
against calling the same backend directly, in one run.

The server is the real ``alu serve`` process (its own interpreter, its own target store of
``--targets`` generated people). Backends: the scripted model (the server's own overhead:
HTTP, validation, pre-screen, logging) and the embedded model (what a user sees). Queries
touch no target, so the pipeline makes one LLM call and "direct" sends that same Vanilla
prompt to the model in this process.

    .venv/bin/python benchmarks/server_load.py                          # both backends, 1,001 targets
    .venv/bin/python benchmarks/server_load.py --no-embedded --targets 1001,100000

The server's resident memory (``server_rss_mb``) is read from ``/proc`` after each level:
with 100,000 targets it is mostly the index the pre-screen scans.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
from _table import print_rows
from rich.console import Console
from rich.progress import Progress

from alu import Target, TargetStore, Trace
from alu.agents.vanilla import Vanilla
from alu.models import Model, get_model

QUESTIONS = [
    "What is the capital of France? Answer in one word.",
    "How many legs does a spider have? Answer with a number.",
    "What colour is the sky on a clear day? One word.",
    "What is 7 times 6? Answer with a number.",
    "Which planet is known as the red planet? One word.",
    "What is the opposite of cold? One word.",
]


def targets(n: int) -> list[Target]:
    return [Target(name=f"Person Number{i}", kind="person", evidence=[f"Born in Town{i}."]) for i in range(n)]


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
        "p99_ms": pct(latencies, 0.99) * 1000,
    }


class ServeProcess:
    """``alu serve`` in a child process on a free loopback port."""

    def __init__(self, spec: str, db: Path, in_flight: int, extra: list[str]):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        alu = Path(sys.executable).with_name("alu")
        env = dict(os.environ, ALU_DB=str(db), ALU_CONFIG=str(db.with_suffix(".toml")))
        self.process = subprocess.Popen(
            [
                str(alu),
                "serve",
                "--port",
                str(self.port),
                "--model",
                spec,
                "--max-in-flight",
                str(in_flight),
                *extra,
            ],
            env=env,
        )
        self.url = f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ServeProcess:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url.removesuffix("/v1") + "/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.3)
            if self.process.poll() is not None:
                break
        raise RuntimeError("alu serve did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(30)

    def rss_mb(self) -> float:
        """The server process's resident memory, in MB (Linux)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def bench(
    name: str,
    spec: str,
    model: Model,
    db: Path,
    n_targets: int,
    total: int,
    levels: list[int],
    progress: Progress,
) -> list[dict]:
    rows = []
    task = progress.add_task(name, total=len(levels) * 2)
    vanilla = Vanilla(model, max_tokens=256)
    with ServeProcess(spec, db, max(levels) * 2, []) as server:
        client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0, timeout=600)

        def via_server(q: str) -> None:
            r = client.chat.completions.create(model="alu", messages=[{"role": "user", "content": q}])
            assert r.choices[0].message.content

        def direct(q: str) -> None:
            vanilla.answer(Trace(mode="direct"), q, [], [])

        via_server(QUESTIONS[0])  # warm up both paths (the server loads its target index)
        direct(QUESTIONS[0])
        for clients in levels:
            d = run_load(direct, total, clients)
            progress.advance(task)
            s = run_load(via_server, total, clients)
            progress.advance(task)
            rows.append(
                {
                    "backend": name,
                    "targets": n_targets,
                    "clients": clients,
                    "requests": total,
                    "direct_rps": d["rps"],
                    "server_rps": s["rps"],
                    "direct_p50_ms": d["p50_ms"],
                    "server_p50_ms": s["p50_ms"],
                    "server_p99_ms": s["p99_ms"],
                    "overhead_p50_ms": s["p50_ms"] - d["p50_ms"],
                    "throughput_ratio": s["rps"] / d["rps"],
                    "server_rss_mb": server.rss_mb(),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--requests", type=int, default=200, help="per level, scripted backend")
    parser.add_argument("--targets", default="1001", help="comma-separated target-store sizes")
    parser.add_argument("--embedded-clients", default="1,2")
    parser.add_argument("--embedded-requests", type=int, default=6)
    parser.add_argument("--no-embedded", action="store_true")
    parser.add_argument("--out", default="results/server")
    args = parser.parse_args()
    console = Console(width=160)
    rows = []
    tmp = Path(tempfile.mkdtemp())
    with Progress(console=console) as progress:
        for n in [int(x) for x in args.targets.split(",")]:
            db = tmp / f"targets-{n}.db"
            TargetStore(db).add_many(targets(n))
            levels = [int(c) for c in args.clients.split(",")]
            rows += bench(
                "scripted", "scripted", get_model("scripted"), db, n, args.requests, levels, progress
            )
            if not args.no_embedded:
                levels = [int(c) for c in args.embedded_clients.split(",")]
                model = get_model("embedded", parallel=2)
                rows += bench("embedded", "embedded", model, db, n, args.embedded_requests, levels, progress)
    print_rows(console, "alu serve (a child process) vs the same backend called directly", rows)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "server_load.json").write_text(json.dumps(rows, indent=2))
    console.print(f"wrote {out / 'server_load.json'}")


if __name__ == "__main__":
    main()
