"""One SHA-256 over everything the pre-screen finds in a fixed set of texts: run it on two
commits (``PYTHONPATH`` pointing at the other's tree) to show that a change to how the screen
runs leaves what it finds alone, disguised names included.

Texts: every third stored question and answer of ``results/eval-medium/``,
``results/parametric/`` and ``results/hazards/``, and TOFU authors' question-and-answer rows
with a name part, a whole name or an ordinary word disguised eight ways (the encoding
attack's leetspeak, a hyphen inside, dotted letters, spaced letters, reversed, Cyrillic or
Greek look-alikes as ``name_forms.py`` swaps them, capitals, a letter doubled), and each of
100 names in every written form ``name_forms.py`` tries (joined, split by a zero-width
space, surname first, initial and surname, look-alikes): about 15,000. Targets:
``scale.py``'s pool (TOFU
authors and generated people, ``--enriched`` with its synthetic enrichment), in memory, or
with ``--index-file`` over an index file built from a SQLite store (the mapped screen). For
each text: every candidate's target, score, named and partial flags and signals; with
``--requests``, also whether a request's view (its scans sharing what they looked up) finds
the same as scans on their own.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/screen_digest.py --targets 5000
    PYTHONPATH=/path/to/other/tree .venv/bin/python benchmarks/screen_digest.py --targets 5000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from pathlib import Path

import name_forms
import scale

from alu import ALU
from alu.datasets import data_dir
from alu.datasets.tofu import authors
from alu.evaluation.attacks.encoding import LEET

RUNS = ("results/eval-medium", "results/parametric", "results/hazards")


def disguise(word: str, how: int, rng: random.Random, look_alikes: dict[str, list[str]]) -> str:
    """``word`` disguised the ``how``-th way (0-7)."""
    if how == 0:
        return word.translate(LEET)
    if how == 1:
        return f"{word[: len(word) // 2]}-{word[len(word) // 2 :]}"
    if how == 2:
        return ".".join(word)
    if how == 3:
        return " ".join(word)
    if how == 4:
        return word[::-1]
    if how == 5:
        return name_forms.swapped(word, None, rng, look_alikes)
    if how == 6:
        return word.upper()
    return word[:-1] + word[-1] * 2


def texts(root: Path, repo: Path, names: list[str]) -> list[str]:
    rng = random.Random(7)
    look_alikes = name_forms._look_alikes()
    found: list[str] = []
    for run in RUNS:
        path = repo / run / "answers.jsonl"
        for i, line in enumerate(path.open(encoding="utf-8") if path.is_file() else []):
            if i % 3 == 0:
                row = json.loads(line)
                found += [row["question"], str(row.get("answer") or "")]
    for author in authors(root)[:60]:
        for row in author.rows[:6]:
            text = f"{row['question']} {row['answer']}"
            for how in range(8):
                parts = author.name.split()
                k = rng.randrange(len(parts))
                parts[k] = disguise(parts[k], how, rng, look_alikes)
                found.append(text.replace(author.name, " ".join(parts)))
                words = text.split()
                j = rng.randrange(len(words))
                words[j] = disguise(words[j], how, rng, look_alikes)
                found.append(" ".join(words))
                found.append(text.replace(author.name, disguise(author.name, how, rng, look_alikes)))
    for name in names:
        for form in name_forms.forms(name, rng, look_alikes).values():
            found.append(f"Did {form} write it? The J.R.R. Tolkien book, LGBTQ+ 25th award-winning, café.")
        found.append(f"I met {name.split()[0]} at the café.")
    return found


def brief(scan) -> list:
    return [
        (c.target.name, round(c.score, 6), c.named, c.partial, sorted(str(s) for s in c.signals))
        for c in scan.candidates
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--enriched", action="store_true")
    parser.add_argument("--index-file", action="store_true", help="over an index file (SQLite store)")
    parser.add_argument("--requests", action="store_true", help="also check a request's shared scans")
    args = parser.parse_args()
    root = data_dir(args.data_dir)
    repo = Path(__file__).resolve().parents[1]
    pool = scale.target_pool(root, args.targets, args.enriched)
    with tempfile.TemporaryDirectory() as tmp:
        if args.index_file:
            from alu.scan import TargetIndex
            from alu.stores import open_store

            store = open_store(str(Path(tmp) / "targets.db"))
            store.import_file(scale.write_import_file(iter(pool), Path(tmp), "targets"))
            index = TargetIndex(store, index_file=Path(tmp) / "index.alu")
            index.sync()
        else:
            index = ALU(scale.agents_script(pool[0].name), pool).index
        names = [a.name for a in authors(root)[:60]] + [t.name for t in pool[300:340]]
        found = texts(root, repo, names)
        digest = hashlib.sha256()
        for text in found:
            digest.update(json.dumps(brief(index.scan(text)), ensure_ascii=False).encode() + b"\n")
        differing = None
        if args.requests:
            differing = 0
            for i in range(0, len(found) - 2, 3):
                view = index.view()
                group = found[i : i + 3]
                differing += [brief(view.scan(t)) for t in group] != [brief(index.scan(t)) for t in group]
    print(
        json.dumps(
            {
                "texts": len(found),
                "targets": args.targets,
                "enriched": args.enriched,
                "index_file": args.index_file,
                "sha256": digest.hexdigest(),
                **({"request_groups_differing": differing} if differing is not None else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
