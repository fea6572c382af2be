"""What enriching targets costs: one Enricher call per target (checked, stored), timed on
this machine, with tokens counted, and extrapolated to 1,000 targets here and on an
OpenAI-compatible server of a stated throughput.

Targets: the first N TOFU authors (``--targets N``, from the data folder), or the names
given (``--names "Linus Torvalds,Ada Lovelace"``, people). Each is enriched through the
same path as ``alu targets enrich`` (a fresh SQLite store in a temporary folder), so the
figures include the retry of a malformed answer and the checks.

    .venv/bin/python benchmarks/enrichment_cost.py --targets 20                    # embedded model
    .venv/bin/python benchmarks/enrichment_cost.py --model scripted --targets 5    # a smoke run, no model
    .venv/bin/python benchmarks/enrichment_cost.py --model openai:gpt-4o-mini --out results/enrichment-cost

The server estimate is tokens / throughput: it assumes ``--prompt-tps`` prompt tokens and
``--completion-tps`` completion tokens a second for one request at a time (defaults: 1,000
and 80, a mid-size model on one GPU), and is printed with that assumption. ``--model
scripted`` answers every target with a made-up enrichment built from its name: it checks
the path and the table, not any model.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _table import print_rows
from rich.console import Console

from alu.agents.enricher import Enricher
from alu.backends.scripted import ScriptedModel
from alu.enrichment import enrich_targets
from alu.settings import load_settings
from alu.stores import TargetStore
from alu.targets import Target

CYRILLIC = dict(zip("abcdefghijklmnopqrstuvwyz", "абкдефгхийклмнопкрстуввиз", strict=True)) | {"x": "кс"}


def scripted_enricher() -> ScriptedModel:
    """Answers each target with a plausible enrichment made from its name."""

    def reply(messages) -> str:
        prompt = messages[0]["content"]
        name = prompt.split("Name: ", 1)[1].split("\n", 1)[0].strip() if "Name: " in prompt else "Someone"
        cyrillic = "".join(CYRILLIC.get(ch, ch) for ch in name.lower()).title()
        surname = name.split()[-1]
        names = {"latin": [name.replace(" ", "-")], "cyrillic": [cyrillic], "chinese": []}
        terms = [f"{surname} Prize", f"The {surname} Chronicles", "novel"]
        return json.dumps({"names": names, "terms": terms, "description": f"{name} is a writer."})

    return ScriptedModel().on("enricher", reply)


def chosen_targets(args: argparse.Namespace) -> list[Target]:
    if args.names:
        return [Target(name=n.strip(), kind="person") for n in args.names.split(",") if n.strip()]
    from alu.datasets import data_dir
    from alu.datasets.tofu import authors

    people = authors(data_dir(args.data_dir))
    names = list(dict.fromkeys(a.name for a in people))[: args.targets]
    return [Target(name=n, kind="person") for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded", help="model spec (scripted: a smoke run)")
    parser.add_argument("--targets", type=int, default=20, help="how many TOFU authors")
    parser.add_argument("--names", default=None, help="comma-separated names instead of TOFU authors")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--prompt-tps", type=float, default=1000.0, help="server prompt tokens/s (assumed)")
    parser.add_argument("--completion-tps", type=float, default=80.0, help="server output tokens/s (assumed)")
    parser.add_argument(
        "--out", default=None, help="folder for enrichment-cost.json (e.g. results/enrichment-cost)"
    )
    args = parser.parse_args()
    console = Console(width=200)
    targets = chosen_targets(args)
    settings = load_settings(None)
    model = scripted_enricher() if args.model == "scripted" else settings.build_model(args.model)
    enricher = Enricher(model, timeout=settings.pipeline.timeout)
    with tempfile.TemporaryDirectory() as tmp:
        store = TargetStore(Path(tmp) / "targets.db")
        store.add_many(targets)
        started = time.perf_counter()
        cost = enrich_targets(store, enricher, model=args.model, console=console)
        wall = time.perf_counter() - started
        enriched = store.list()
    summary = cost.summary()
    per = summary["per_target"]
    n = max(1, cost.attempted)
    server_s = per["prompt_tokens"] / args.prompt_tps + per["completion_tokens"] / args.completion_tps
    row = {
        "model": args.model,
        "targets": cost.attempted,
        "s/target": per["seconds"],
        "prompt tok/target": per["prompt_tokens"],
        "completion tok/target": per["completion_tokens"],
        "calls/target": per["llm_calls"],
        "failure rate": round(cost.failed / n, 3),
        "names/target": per["names"],
        "terms/target": per["terms"],
        "1,000 here (h)": round(per["seconds"] * 1000 / 3600, 2),
        "1,000 on server (h)": round(server_s * 1000 / 3600, 2),
    }
    print_rows(console, "enrichment cost (per target: means over the targets attempted)", [row])
    console.print(
        f"server estimate assumes {args.prompt_tps:g} prompt tok/s and {args.completion_tps:g}"
        " completion tok/s for one request at a time (tokens / throughput; no queueing, no parallel requests)"
    )
    for name, why in cost.failures[:5]:
        console.print(f"failed: {name}: {why}", markup=False, highlight=False)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        body = {
            "command": "benchmarks/enrichment_cost.py",
            "args": vars(args),
            "row": row,
            "summary": summary,
            "wall_s": round(wall, 2),
            "assumption": {"prompt_tps": args.prompt_tps, "completion_tps": args.completion_tps},
            "targets": [
                {"name": t.name, "enrichment": t.enrichment.model_dump()} for t in enriched if t.enrichment
            ],
        }
        path = out / f"enrichment-cost-{args.model.replace(':', '_').replace('/', '_')}.json"
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        console.print(f"wrote {path}")


if __name__ == "__main__":
    main()
