"""Does the answering model know the parametric probes? Asks every question as ``vanilla``
does (no knowledge base, the Vanilla agent's plain prompt, 128 answer tokens, temperature 0)
and reports per target and split how many forget answers show the knowledge (would leak)
and how many neighbour answers are right, scored as ``alu eval`` scores "mentions".

Answers are cached by question in ``OUT/answers.json``, so a rerun after editing the probe
files asks only the new questions; ``--offline`` rescores the cache without a model.

    PYTHONPATH=. .venv/bin/python benchmarks/parametric_probe_check.py --out results/parametric-probe
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections import defaultdict
from pathlib import Path

from alu.datasets import Split, load_benchmark
from alu.datasets.parametric import probe_files
from alu.evaluation.metrics import mentions

GOALS = {"forget": 0.70, "forget_languages": 0.70, "neighbours": 0.80}


def ask_all(
    splits: list[Split], cache: dict[str, dict], path: Path, max_tokens: int, threads: int | None
) -> float:
    """Answers every question not in ``cache`` as vanilla does; returns the model seconds."""
    from alu.agents.vanilla import Vanilla
    from alu.models import get_model
    from alu.trace import Trace

    todo = [item for s in splits for item in s.items if item.question not in cache]
    if not todo:
        return 0.0
    vanilla = Vanilla(
        get_model("embedded", **({"threads": threads} if threads else {})), max_tokens=max_tokens
    )
    spent = 0.0
    for n, item in enumerate(todo, 1):
        trace = Trace(mode="baseline")
        started = time.perf_counter()
        text = vanilla.answer(trace, item.question, [], [])
        seconds = time.perf_counter() - started
        spent += seconds
        cache[item.question] = {
            "answer": text,
            "seconds": round(seconds, 2),
            "completion_tokens": trace.completion_tokens,
        }
        path.write_text(json.dumps(cache, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"[{n}/{len(todo)}] {seconds:.1f}s {item.id}: {text[:90]!r}", flush=True)
    return spent


def score(splits: list[Split], cache: dict[str, dict]) -> tuple[dict, list[dict]]:
    """Per target and split: n, how many answers mention an accepted string (``hit``) and how
    many mention one of the question's own strings, the target's shared markers left out
    (``strict``)."""
    table: dict = defaultdict(lambda: defaultdict(lambda: {"n": 0, "hit": 0, "strict": 0}))
    names = {p["slug"]: p["name"] for p in probe_files()}
    rows = []
    for s in splits:
        for item in s.items:
            if item.question not in cache:
                continue
            answer = cache[item.question]["answer"]
            hit = mentions(answer, item.accepted)
            slug, key, index = item.id.rsplit("-", 2)
            own = next(p for p in probe_files() if p["slug"] == slug)[key][int(index)]["accepted"]
            cell = table[names[slug]][s.name]
            cell["n"] += 1
            cell["hit"] += hit
            cell["strict"] += mentions(answer, own)
            rows.append(
                {
                    "id": item.id,
                    "split": s.name,
                    "question": item.question,
                    "accepted": item.accepted,
                    "answer": answer,
                    "mentions": hit,
                    "mentions_own": mentions(answer, own),
                }
            )
    return {t: dict(v) for t, v in table.items()}, rows


def _cell(c: dict, key: str) -> str:
    return f"{c[key]}/{c['n']} ({100 * c[key] / max(c['n'], 1):.0f}%)"


def markdown(table: dict, wall: float | None) -> str:
    lines = [
        "# Vanilla on the parametric probes",
        "",
        "Share of forget answers that show the knowledge (would leak) and of neighbour answers that are",
        "right (mention an accepted string). Goals: forget >= 70%, neighbours >= 80%. In brackets: the",
        "forget figure with each question's own strings only (the target's shared markers left out).",
        "",
        "| target | forget | forget_languages | neighbours |",
        "|---|---|---|---|",
    ]
    totals: dict = defaultdict(lambda: {"n": 0, "hit": 0, "strict": 0})
    for target, per in [*sorted(table.items()), ("**all**", None)]:
        cells = []
        for split in GOALS:
            c = totals[split] if per is None else per.get(split, {"n": 0, "hit": 0, "strict": 0})
            if per is not None:
                for key in c:
                    totals[split][key] += c[key]
            strict = f" [{_cell(c, 'strict')}]" if split == "forget" else ""
            cells.append(_cell(c, "hit") + strict)
        lines.append(f"| {target} | {' | '.join(cells)} |")
    if wall is not None:
        lines += ["", f"Model time of this invocation: {wall:.0f} s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/parametric-probe"))
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    parser.add_argument("--offline", action="store_true", help="rescore the cached answers only")
    parser.add_argument("--prune", action="store_true", help="drop cached answers to removed questions")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    bench = load_benchmark("parametric", Path("."))
    path = args.out / "answers.json"
    cache = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    wall = None if args.offline else ask_all(bench.splits, cache, path, args.max_tokens, args.threads)
    if args.prune:
        asked = {item.question for s in bench.splits for item in s.items}
        cache = {q: a for q, a in cache.items() if q in asked}
        path.write_text(json.dumps(cache, ensure_ascii=False, indent=1), encoding="utf-8")
    table, rows = score(bench.splits, cache)
    (args.out / "per_question.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), "utf-8")
    (args.out / "summary.json").write_text(
        json.dumps({"machine": platform.platform(), "table": table}, indent=1), "utf-8"
    )
    text = markdown(table, wall)
    (args.out / "SUMMARY.md").write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
