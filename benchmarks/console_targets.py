"""Server-side latency of the console's targets list and search at 100,000 targets (goal:
p95 <= 100 ms).

A target store of ``--targets`` generated people (Faker names, two aliases each) in SQLite
(or the PostgreSQL database ``--db`` names: a fresh schema there, dropped after),
the server built as ``alu serve`` builds it (scripted model: no LLM is called), an operator
signed in; then each request is timed in-process (the ASGI app through Starlette's test
client: routing, session check, store revision check, search, template; no network):

* ``list``: pages spread over the whole list;
* ``search, common``: a substring many targets share (``son``: thousands of matches);
* ``search, rare``: a full name (one or two matches);
* ``search, none``: a string no target has.

The first request, which reads every target into the console's list, is timed apart
(``first load``); a change to the store between requests is caught up with from the
change log, timed as ``after a change``.

    .venv/bin/python benchmarks/console_targets.py                  # 100,000 targets
    .venv/bin/python benchmarks/console_targets.py --targets 10000 --requests 50
    .venv/bin/python benchmarks/console_targets.py --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _table import print_rows
from faker import Faker
from fastapi.testclient import TestClient
from rich.console import Console

from alu import ALU, Target
from alu.backends.scripted import ScriptedModel
from alu.console.store import ConsoleStore
from alu.server import create_app
from alu.settings import ServeSettings
from alu.stores import open_store

PASSWORD = "benchmark password"


def people(count: int, seed: int = 7) -> list[Target]:
    fake = Faker()
    Faker.seed(seed)
    seen: set[str] = set()
    out = []
    while len(out) < count:
        name = fake.name()
        if name in seen:
            name = f"{name} {len(out)}"
        seen.add(name)
        out.append(Target(name=name, kind="person", aliases=[fake.user_name(), name.split()[-1] + " J."]))
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def timed(client: TestClient, path: str, params: dict) -> float:
    started = time.perf_counter()
    response = client.get(path, params=params)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path} {params}: {response.status_code}")
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per kind")
    parser.add_argument("--db", help="a postgresql:// URL (default: an SQLite file in a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_console_{uuid.uuid4().hex[:8]}"
        if args.db:
            store = open_store(args.db + ("&" if "?" in args.db else "?") + f"schema={schema}")
        else:
            store = open_store(str(Path(tmp) / "targets.db"))
        targets = people(args.targets)
        started = time.perf_counter()
        store.add_stream(iter(targets))
        console.print(f"{args.targets:,} targets stored in {time.perf_counter() - started:.1f} s")
        ConsoleStore.beside(store).add_operator("bench", PASSWORD)
        app = create_app(
            ALU(ScriptedModel(), store), ServeSettings(log=Path(tmp) / "log.jsonl"), admin_token="t"
        )
        with TestClient(app) as client:
            login = client.get("/console/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
            client.post("/console/login", data={"name": "bench", "password": PASSWORD, "csrf": csrf})
            first = timed(client, "/console/targets", {})
            pages = -(-args.targets // 50)
            rng = random.Random(1)
            kinds = {
                "list": lambda: {"page": rng.randint(1, pages)},
                "search, common": lambda: {"q": "son"},
                "search, rare": lambda: {"q": rng.choice(targets).name},
                "search, none": lambda: {"q": "qqxqq"},
            }
            rows = []
            for kind, params in kinds.items():
                times = [timed(client, "/console/targets", params()) for _ in range(args.requests)]
                rows.append(
                    {
                        "request": kind,
                        "targets": args.targets,
                        "median_ms": round(statistics.median(times), 1),
                        "p95_ms": round(p95(times), 1),
                        "max_ms": round(max(times), 1),
                        "goal_met": "yes" if p95(times) <= 100 else "no",
                    }
                )
            store.add(Target(name="Added Meanwhile"))
            changed = timed(client, "/console/targets", {"q": "added meanwhile"})
        store.close()
        if args.db:
            import psycopg

            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    where = "PostgreSQL" if args.db else "SQLite"
    print_rows(console, f"console targets page, server-side (in-process), {where}", rows)
    console.print(f"first load (reads every target): {first:.0f} ms; after a change: {changed:.1f} ms")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "first_load_ms": first, "after_change_ms": changed}))


if __name__ == "__main__":
    main()
