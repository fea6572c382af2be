"""Fetch the public data sets from the Hugging Face hub into the layout of ../shared/data,
for machines that have the ``datasets`` package and a network (not this project's CI).

    alu eval --data-dir "$(python -m alu.datasets.hub ~/.cache/alu/data)"
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from ..errors import DataError

TOFU_CONFIGS = [
    "full",
    "forget01_perturbed",
    "forget05_perturbed",
    "forget10_perturbed",
    "retain_perturbed",
    "real_authors",
    "world_facts",
    "holdout10",  # authors outside the knowledge base: the pieces of membership's invented names
]


def _datasets():
    try:
        import datasets
    except ImportError as exc:
        raise DataError("no data folder, and the 'datasets' package is not installed to fetch one") from exc
    return datasets


def materialize(root: Path) -> Path:
    """Write TOFU, WMDP and MMLU from the hub under ``root`` (WPU is not on the hub in this form)."""
    ds = _datasets()
    (root / "tofu").mkdir(parents=True, exist_ok=True)
    for config in TOFU_CONFIGS:
        rows = [dict(r) for r in ds.load_dataset("locuslab/TOFU", config, split="train")]
        (root / "tofu" / f"{config}.json").write_text(json.dumps(rows))
    (root / "wmdp").mkdir(exist_ok=True)
    for subset in ("bio", "chem", "cyber"):
        rows = [dict(r) for r in ds.load_dataset("cais/wmdp", f"wmdp-{subset}", split="test")]
        (root / "wmdp" / f"wmdp-{subset}.json").write_text(json.dumps(rows))
    (root / "mmlu" / "test").mkdir(parents=True, exist_ok=True)
    by_subject: dict[str, list] = {}
    for r in ds.load_dataset("cais/mmlu", "all", split="test"):
        by_subject.setdefault(r["subject"], []).append(r)
    for subject, rows in by_subject.items():
        with open(root / "mmlu" / "test" / f"{subject}_test.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["question", "choice0", "choice1", "choice2", "choice3", "answer"])
            for r in rows:
                writer.writerow([r["question"], *r["choices"], r["answer"]])
    return root


if __name__ == "__main__":
    print(materialize(Path(sys.argv[1] if len(sys.argv) > 1 else "data")))
