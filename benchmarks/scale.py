"""Pre-screen latency and LLM cost per query as the target list grows (1 ... 100,000).

Targets: TOFU's 200 authors (evidence: their QA answers) plus generated people and topics.
Queries: 20 questions about TOFU authors in the list and 20 unrelated ones (TOFU
world_facts), each screened together with its gold answer standing in for the draft, as
the pipeline screens query + draft. LLM calls and tokens per query come from running the
whole pipeline, in both modes, on the scripted model (tokens = its whitespace word count),
so they count what the agents are sent, not what a real model would take to answer.

    .venv/bin/python benchmarks/scale.py            # table on stdout, PNG + JSON in results/
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from _table import print_rows
from rich.console import Console
from rich.progress import track

from alu import ALU, PipelineConfig, Target
from alu.backends.scripted import ScriptedModel
from alu.datasets import data_dir
from alu.datasets.tofu import authors, split
from alu.targets import PreScreen

SIZES = [1, 10, 100, 1_000, 10_000, 100_000]
SYLLABLES = (
    "ba be bi bo ka ke ki ko la le li lo ma me mi mo na ne ni no ra re ri ro sa se si so ta te ti to"
    " va ve vi vo za ze zi zo dra gor lin mar tes vel quin"
).split()
TOPIC_WORDS = (
    "synthesis protocol enrichment culture strain exploit payload precursor reactor toxin vector"
    " aerosol cipher botnet centrifuge isotope pathogen rootkit"
).split()


def generated(n: int, rng: random.Random) -> list[Target]:
    out = []
    for i in range(n):
        word = lambda k: "".join(rng.choice(SYLLABLES) for _ in range(k)).title()  # noqa: E731
        if i % 10 == 9:
            name = f"{word(2)} {rng.choice(TOPIC_WORDS)} {i}"
            out.append(
                Target(name=name, kind="hazard", description=f"{rng.choice(TOPIC_WORDS)} of {word(3)}")
            )
        else:
            out.append(
                Target(
                    name=f"{word(2)} {word(3)}{i}",
                    kind="person",
                    evidence=[f"Born in {word(2)}ville in {1900 + i % 120}, wrote The {word(3)} {word(2)}."],
                )
            )
    return out


def tofu_targets(root: Path) -> list[Target]:
    return [Target(name=a.name, kind="person", evidence=[r["answer"] for r in a.rows]) for a in authors(root)]


def agents_script(name: str) -> ScriptedModel:
    """Agents that find the author leaked, rewrite, score 5 and compose: the full chain."""
    model = ScriptedModel(default="The answer.")
    model.on("audit_erase:audit", json.dumps({"leaked": [name]}))
    model.on("audit_erase:erase", json.dumps({"variants": ["A rewrite."] * 3}))
    model.on("critic", lambda m: json.dumps({"scores": [5] * (m[0]["content"].count("<<<\n") - 1)}))
    model.on("composer", "A composed answer.")
    model.on("audit_erase:audit+erase", json.dumps({"leaked": [name], "variants": ["A rewrite."] * 5}))
    return model


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--out", default="results/scale")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes over the query set")
    args = parser.parse_args()
    root = data_dir(args.data_dir)
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(0)
    tofu = tofu_targets(root)
    pool = tofu + generated(max(sizes), rng)
    about = [a for a in authors(root)][:1]  # the author every list contains
    forget_q = [(r["question"], r["answer"]) for r in about[0].rows]
    unrelated = [(r["question"], r["answer"]) for r in split(root, "world_facts")[:20]]
    queries = forget_q + unrelated
    rows = []
    console = Console(width=150)
    for n in track(sizes, description="target list sizes", console=console):
        targets = pool[:n]
        screen = PreScreen()
        started = time.perf_counter()
        for i, t in enumerate(targets, 1):
            screen.add(t.model_copy(update={"id": i}))
        build_s = time.perf_counter() - started
        latencies, hits = [], 0
        for _ in range(args.repeat):
            for q, a in queries:
                t0 = time.perf_counter()
                found = screen.screen(f"{q}\n{a}", limit=5)
                latencies.append((time.perf_counter() - t0) * 1000)
                hits += bool(found)
        cost = {}
        for mode in ("default", "paper"):
            model = agents_script(about[0].name)
            alu = ALU(model, targets, config=PipelineConfig(mode=mode))
            calls = tokens = 0
            for q, a in queries:
                model.default = a  # the draft the vanilla agent returns
                answer = alu.ask(q)
                calls += answer.trace.llm_calls
                tokens += answer.trace.prompt_tokens + answer.trace.completion_tokens
            cost[mode] = (calls / len(queries), tokens / len(queries))
        rows.append(
            {
                "targets": n,
                "build_s": round(build_s, 3),
                "p50_ms": round(statistics.median(latencies), 3),
                "p95_ms": round(pct(latencies, 0.95), 3),
                "flagged_share": round(hits / (args.repeat * len(queries)), 3),
                "default_calls": round(cost["default"][0], 2),
                "default_tokens": round(cost["default"][1], 1),
                "paper_calls": round(cost["paper"][0], 2),
                "paper_tokens": round(cost["paper"][1], 1),
            }
        )
    print_rows(console, "pre-screen latency and LLM cost per query vs target count", rows)
    first, last = rows[0], rows[-1]
    console.print(
        f"ratios {last['targets']:,} vs {first['targets']:,} targets: "
        f"pre-screen p95 x{last['p95_ms'] / first['p95_ms']:.1f}, "
        f"default tokens/query x{last['default_tokens'] / first['default_tokens']:.2f}, "
        f"paper tokens/query x{last['paper_tokens'] / first['paper_tokens']:.1f}"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps(rows, indent=2))
    plot(rows, out / "scale.png")
    console.print(f"wrote {out / 'scale.json'} and {out / 'scale.png'}")


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["targets"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(n, [r["p50_ms"] for r in rows], "o-", label="p50")
    a.plot(n, [r["p95_ms"] for r in rows], "s-", label="p95")
    a.axhline(20, color="grey", ls="--", label="goal: p95 < 20 ms")
    a.set(xscale="log", xlabel="targets", ylabel="ms per query", title="pre-screen latency")
    a.legend()
    b.plot(n, [r["default_tokens"] for r in rows], "o-", label="default mode")
    b.plot(n, [r["paper_tokens"] for r in rows], "s-", label="paper mode")
    b.set(
        xscale="log",
        yscale="log",
        xlabel="targets",
        ylabel="tokens per query (agents' prompts + outputs)",
        title="LLM tokens per query",
    )
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
