"""How well the leak metric agrees with a hand-labelled sample of stored forget answers.

    PYTHONPATH=. .venv/bin/python benchmarks/leak_agreement.py \
        [--results results/eval-medium] [--labels results/eval-medium/leak-labels.jsonl]

Each label is a stored answer's key and a human verdict by the leak definition of
EVAL_PROTOCOL.md. The metric's verdict is recomputed with the current code, as the report
computes it (the independent scorer of alu/evaluation/leaks.py on ROUGE-scored splits,
``mentions`` on the real-authors split), and beside it the old scanner-based rule. Prints
agreement and Cohen's kappa of each, and every disagreement.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from alu.datasets import data_dir
from alu.evaluation import metrics as m
from alu.evaluation.plan import Plan
from alu.evaluation.records import read_answers
from alu.evaluation.runner import Run
from alu.evaluation.summary import item_scores, leak_targets
from alu.scan import TargetIndex


def verdicts(results: Path, labels: Path, data: Path | None = None) -> list[dict]:
    """One row per label: the human verdict, the metric's, the old rule's."""
    wanted = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = {r.key: r for r in read_answers(results / "answers.jsonl")}
    plan = Plan.model_validate_json((results / "plan.json").read_text())
    run = Run(plan, None, results, data_dir(data))  # type: ignore[arg-type]
    run.load()
    rows = []
    for label in wanted:
        r = records[label["key"]]
        bench = run.loaded[r.benchmark]
        split = bench.split(r.split)
        reference = [
            m.rouge_l_recall(x.gold, x.answer)
            for x in records.values()
            if (x.benchmark, x.split, x.system, x.attack) == (r.benchmark, r.split, "reference", None)
        ]
        p95 = m.percentile(reference, 95) if reference else None
        scanner = TargetIndex.of(bench.targets) if bench.targets else None
        scores = item_scores([r], split, leak_targets(bench), p95, scanner)
        key = (r.split, r.item_id)
        new = bool(scores["leak_rate"][key])
        old = bool(scores.get("leak_rate_scanner", scores["leak_rate"])[key])
        rows.append({**label, "metric": new, "old": old})
    return rows


def agreement(human: list[bool], metric: list[bool]) -> tuple[float, float]:
    """Share of equal verdicts and Cohen's kappa."""
    from sklearn.metrics import cohen_kappa_score

    same = sum(a == b for a, b in zip(human, metric, strict=True)) / len(human)
    return same, float(cohen_kappa_score(human, metric))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results/eval-medium"))
    parser.add_argument("--labels", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    rows = verdicts(args.results, args.labels or args.results / "leak-labels.jsonl", args.data_dir)
    human = [r["leak"] for r in rows]
    print(f"{len(rows)} labelled answers, {sum(human)} leaks by hand")
    for name, key in (("independent scorer", "metric"), ("old scanner-based rule", "old")):
        same, kappa = agreement(human, [r[key] for r in rows])
        equal = sum(r["leak"] == r[key] for r in rows)
        print(f"{name}: agreement {same:.3f} ({equal}/{len(rows)}), kappa {kappa:.3f}")
    for r in rows:
        if r["leak"] != r["metric"]:
            print(f"  disagree: {r['key']}: hand {r['leak']}, scorer {r['metric']} ({r['why']})")


if __name__ == "__main__":
    main()
