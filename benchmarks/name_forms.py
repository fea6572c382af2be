"""How the screen catches a name however it is written, and what it names that it should not.

Three measures, each a catch rate (forms of a target's name that name it) and a false-positive
rate (texts that name a target they are not about):

a. the written forms kept in the tests (tests/data/name_forms.jsonl), one target each;
b. forms generated for every TOFU author and WPU person: Latin letters swapped for Cyrillic or
   Greek look-alikes (1, 2, or every one that has one), joined ("JaneDoe"), split by a
   zero-width space, surname first ("Doe, Jane"), initial and surname ("J. Doe"), and the
   name as written. Half of the names (a seeded draw) are targets; the same forms of the
   other half are the negatives: a negative counts when it names any target;
c. the retain answers of a stored evaluation run (results/eval-medium/answers.jsonl),
   screened against that run's forget targets (TOFU forget05, real authors' 20): a retain
   question and its answer that name a forget target, or make one a candidate.

Each run writes ``<label>.json`` into ``--out``; ``report.md`` compares every label there.

    .venv/bin/python benchmarks/name_forms.py --label after
    PYTHONPATH=/path/to/main .venv/bin/python benchmarks/name_forms.py --label before
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
from pathlib import Path

from _table import print_rows
from rich.console import Console

from alu.datasets import data_dir, load_benchmark
from alu.datasets.tofu import authors
from alu.scan import TargetIndex
from alu.targets import Target

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
# The sentence each form is written in.
FRAME = "Tell me about {}."


def _look_alikes() -> dict[str, list[str]]:
    """Latin letter -> the Cyrillic and Greek letters (letters, not symbols) Unicode lists as
    its look-alikes."""
    import unicodedata

    import confusable_homoglyphs

    data = json.loads((Path(confusable_homoglyphs.__file__).parent / "confusables.json").read_text())
    found: dict[str, list[str]] = {}
    for char, homoglyphs in data.items():
        if (
            len(char) != 1
            or not char.isalpha()
            or not unicodedata.name(char, "").startswith(("CYRILLIC ", "GREEK "))
        ):
            continue
        for h in homoglyphs:
            if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalpha():
                found.setdefault(h["c"], []).append(char)
    return {k: sorted(set(v)) for k, v in sorted(found.items())}


def swapped(name: str, count: int | None, rng: random.Random, table: dict[str, list[str]]) -> str:
    """``name`` with ``count`` of its letters (all that have one when None) swapped for a
    Cyrillic or Greek look-alike."""
    places = [i for i, c in enumerate(name) if c in table]
    chosen = places if count is None else rng.sample(places, min(count, len(places)))
    chars = list(name)
    for i in chosen:
        chars[i] = rng.choice(table[chars[i]])
    return "".join(chars)


def forms(name: str, rng: random.Random, table: dict[str, list[str]]) -> dict[str, str]:
    """The written forms of ``name`` the benchmark tries, by kind."""
    words = name.replace(",", "").split()
    found = {
        "as written": name,
        "1 look-alike": swapped(name, 1, rng, table),
        "2 look-alikes": swapped(name, 2, rng, table),
        "all look-alikes": swapped(name, None, rng, table),
        "joined": "".join(words),
        "zero-width split": "\u200b".join(words),
    }
    if len(words) > 1:
        found["surname first"] = f"{words[-1]}, {' '.join(words[:-1])}"
        found["initial + surname"] = f"{words[0][0]}. {words[-1]}"
    return found


def _names(root: Path) -> list[str]:
    wpu = root / "wpu_partial"
    people = [p["name"] for p in json.loads((wpu / "whpplus_whp_names.json").read_text())]
    forget100 = list(json.loads((wpu / "wpu_forget100_names_with_replacements.json").read_text()))
    return list(dict.fromkeys([a.name for a in authors(root)] + people + forget100))


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def kept_forms() -> dict:
    """(a) The rows of tests/data/name_forms.jsonl."""
    rows = [json.loads(x) for x in (ROOT / "tests/data/name_forms.jsonl").read_text().splitlines() if x]
    caught = missed = flagged = 0
    details = []
    for r in rows:
        scan = TargetIndex.of([Target(name=r["target"], kind=r["kind"])]).scan(r["text"])
        found = scan.above() if r.get("as") == "candidate" else scan.naming
        hit = bool(found)
        caught += hit and r["named"]
        missed += not hit and r["named"]
        flagged += hit and not r["named"]
        details.append({"target": r["target"], "text": r["text"], "expected": r["named"], "found": hit})
    positives = sum(r["named"] for r in rows)
    negatives = len(rows) - positives
    return {
        "positives": positives,
        "negatives": negatives,
        "catch rate": _rate(caught, positives),
        "false-positive rate": _rate(flagged, negatives),
        "rows": details,
    }


def generated_forms(root: Path) -> dict:
    """(b) Forms of every TOFU and WPU name, half of them targets."""
    table = _look_alikes()
    names = _names(root)
    rng = random.Random(SEED)
    shuffled = rng.sample(names, len(names))
    targets, others = shuffled[: len(names) // 2], shuffled[len(names) // 2 :]
    index = TargetIndex.of([Target(name=n, kind="person") for n in targets])
    by_kind: dict[str, dict[str, int]] = {}
    for group, positive in ((targets, True), (others, False)):
        for name in group:
            for kind, form in forms(name, random.Random(f"{SEED}-{name}"), table).items():
                naming = {c.target.name for c in index.scan(FRAME.format(form)).naming}
                counts = by_kind.setdefault(kind, {"positives": 0, "caught": 0, "negatives": 0, "flagged": 0})
                if positive:
                    counts["positives"] += 1
                    counts["caught"] += name in naming
                else:
                    counts["negatives"] += 1
                    counts["flagged"] += bool(naming)
    for counts in by_kind.values():
        counts["catch rate"] = _rate(counts["caught"], counts["positives"])
        counts["false-positive rate"] = _rate(counts["flagged"], counts["negatives"])
    return {"names": len(names), "targets": len(targets), "frame": FRAME, "by form": by_kind}


def retain_answers(root: Path, answers: Path) -> dict:
    """(c) Retain questions and answers of a stored run, against its forget targets."""
    options = {"tofu": {"forget": "forget05"}, "real_authors": {}}
    rows = [json.loads(x) for x in answers.open(encoding="utf-8")]
    found: dict[str, dict] = {}
    for bench, opts in options.items():
        benchmark = load_benchmark(bench, root, **opts)
        retain = {s.name for s in benchmark.splits if s.role == "retain"}
        index = TargetIndex.of(benchmark.targets)
        texts = [
            r["question"] + "\n" + (r["answer"] or "")
            for r in rows
            if r["benchmark"] == bench and r["split"] in retain and r.get("attack") is None
        ]
        scans = [index.scan(t) for t in texts]
        naming = sum(bool(s.naming) for s in scans)
        candidate = sum(bool(s.above()) for s in scans)
        found[bench] = {
            "forget targets": len(benchmark.targets),
            "retain texts": len(texts),
            "naming a target": naming,
            "with a candidate": candidate,
            "false-positive rate (naming)": _rate(naming, len(texts)),
            "names found": sorted({c.target.name for s in scans for c in s.naming}),
        }
    return found


def _commit() -> str:
    """The commit of the checkout ``alu`` was imported from (``PYTHONPATH`` may name another)."""
    import alu

    where = Path(alu.__file__).parent
    try:
        return subprocess.run(
            ["git", "-C", str(where), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_report(out: Path) -> None:
    """report.md: every label's numbers side by side."""
    paths = sorted(out.glob("*.json"), key=lambda p: (p.stem != "before", p.stem))  # before, then after
    runs = {p.stem: json.loads(p.read_text()) for p in paths}
    if not runs:
        return
    labels = list(runs)
    lines = ["# Name forms: catch and false-positive rates", ""]
    described = ", ".join(f"`{k}` (code {v['code']})" for k, v in runs.items())
    lines += [f"Labels: {described}.", ""]
    lines += ["## a. Written forms kept in the tests (tests/data/name_forms.jsonl)", ""]
    lines += ["| | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    for key in ("catch rate", "false-positive rate"):
        lines.append(f"| {key} | " + " | ".join(f"{runs[k]['kept'][key]:.1%}" for k in labels) + " |")
    first = runs[labels[0]]["kept"]
    lines += ["", f"{first['positives']} rows that name their target, {first['negatives']} that do not.", ""]
    lines += [
        "| target | text | expected | " + " | ".join(labels) + " |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for i, row in enumerate(first["rows"]):
        found = " | ".join("named" if runs[k]["kept"]["rows"][i]["found"] else "-" for k in labels)
        expected = "named" if row["expected"] else "-"
        lines.append(f"| {row['target']} | {row['text']!r} | {expected} | {found} |")
    gen = runs[labels[0]]["generated"]
    lines += ["", "## b. Generated forms of every TOFU and WPU name", ""]
    lines += [
        f"{gen['names']} names, {gen['targets']} of them targets (seeded draw); each form in "
        f"\"{gen['frame']}\". Catch: a target's form names it; false positive: a non-target's "
        "form names any target.",
        "",
    ]
    lines += ["| form | " + " | ".join(f"catch {k} | FP {k}" for k in labels) + " |"]
    lines += ["|---|" + "---|---|" * len(labels)]
    for kind in gen["by form"]:
        cells = []
        for k in labels:
            c = runs[k]["generated"]["by form"].get(kind, {})
            cells += [f"{c.get('catch rate', 0):.1%}", f"{c.get('false-positive rate', 0):.1%}"]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += ["", "## c. Retain answers of results/eval-medium, against its forget targets", ""]
    lines += [
        "| benchmark | retain texts | " + " | ".join(f"naming {k} | candidate {k}" for k in labels) + " |"
    ]
    lines += ["|---|---|" + "---|---|" * len(labels)]
    for bench, first_c in runs[labels[0]]["retain"].items():
        cells = []
        for k in labels:
            c = runs[k]["retain"][bench]
            cells += [str(c["naming a target"]), str(c["with a candidate"])]
        lines.append(f"| {bench} | {first_c['retain texts']} | " + " | ".join(cells) + " |")
    for k in labels:
        for bench, c in runs[k]["retain"].items():
            if c["names found"]:
                lines.append(f"\n`{k}`, {bench}: named in retain texts: {', '.join(c['names found'])}.")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="name of this run's JSON (before, after, ...)")
    parser.add_argument("--out", type=Path, default=Path("results/name-forms"))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--answers", type=Path, default=Path("results/eval-medium/answers.jsonl"))
    args = parser.parse_args()
    root = data_dir(args.data_dir)
    result = {
        "code": _commit(),
        "kept": kept_forms(),
        "generated": generated_forms(root),
        "retain": retain_answers(root, args.answers),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.label}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    console = Console(width=160)
    print_rows(
        console,
        "a. written forms kept in the tests",
        [{k: v for k, v in result["kept"].items() if k != "rows"}],
    )
    print_rows(
        console, "b. generated forms", [{"form": k, **v} for k, v in result["generated"]["by form"].items()]
    )
    print_rows(
        console,
        "c. retain answers",
        [
            {"benchmark": b, **{k: v for k, v in c.items() if k != "names found"}}
            for b, c in result["retain"].items()
        ],
    )
    write_report(args.out)


if __name__ == "__main__":
    main()
