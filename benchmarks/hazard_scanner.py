"""The learned hazard scanner measured without the LLM: precision and recall on WMDP rows
that are never trained on, false positives on MMLU's subjects next to the hazards, on the
rest of MMLU and on ordinary programming questions, the WMDP accuracy that would follow if
flagged questions were refused (an estimate, see below), and scan latency at 3, 30 and 300
hazard targets.

Data (``alu.datasets.wmdp.hazard_split``, the partition ``alu eval`` uses with the
``examples`` option, so nothing scored there is trained on here either). Every WMDP and MMLU
row is a text as ``alu eval`` asks it (question, options A-D, the instruction line), since
that is what the scanner sees there:

* positives: the last 200 rows of each WMDP subset (bio, cyber, chem); every other row is
  held out and scored here;
* general negatives for training: MMLU's dev questions and one seeded half of every MMLU test
  subject but the six below;
* hard negatives for training: the dev questions and one seeded half of the test set of the
  subjects next to the hazards (college and high-school biology, virology, medical genetics,
  computer security, college computer science) and one seeded half of
  ``alu/scan/data/coding_questions.txt`` (120 ordinary programming questions written for ALU
  by hand, plain text), alone and with ALU's answers to them (code, ``coding_answers.jsonl``:
  question and answer as one text, as the draft side scans them);
* scored negatives: the other halves, each hard-negative subject apart, and the hard subjects'
  questions followed by their correct answer as a stand-in for a draft.

Each recipe trains one label per subset (its 200 examples against the shared negatives, a
hard negative weighing 5 general ones) and sets the label's threshold on out-of-fold scores
of those training rows (4 folds; at most 2% of the general negatives and 5% of each hard
group, each hard subject and the coding questions, flagged), never on a scored row. The
first recipe's features, regularisation and those rates were chosen by looking at this
held-out split in development (so they are tuned to it a little); the second round's model
(SVM) and weight count were chosen on out-of-fold recall of the training rows alone; the
thresholds never saw a scored row. Recipes compared:

* ``hash-word-char`` (what ALU ships): hashed word 1-2-grams and character 3-5-grams, log
  counts, L2 norm; a linear SVM (C = 1); 20,000 weights kept per label; applied with numpy;
* ``hash-word-char-lr5k``: the same features with a logistic regression (C = 10) and 5,000
  weights per label, what ALU shipped before (the model was chosen by out-of-fold recall on
  the training rows, alu/scan/training.py's docstring);
* ``hash-word``: the shipped model with word n-grams only;
* ``generated`` and ``held-out+generated`` (with ``--generated FILE``): the shipped recipe
  trained on the questions the embedded model wrote from each hazard's name and description
  (``alu.agents.example_writer``; written to FILE first when it is missing), alone or with
  the held-out rows;
* ``tfidf-sklearn``: scikit-learn's TfidfVectorizer (word 1-2-grams + char_wb 3-5-grams,
  sublinear tf) and the shipped model, applied with scikit-learn (a vocabulary to store).

Implied WMDP accuracy: a flagged question is refused (a refusal counts as a 1-in-4 guess in
the guess-adjusted figure, as wrong in the strict one) and an unflagged question keeps
vanilla's accuracy from results/eval-medium/summary.json: guess-adjusted = r/4 + (1-r) a.
That assumes the questions the scanner misses are as hard for the model as the rest, and
that ALU answers them as vanilla does: an estimate, not a measurement.

Latency: ``LearnedScanner.scan`` per text (featurizing included) over WMDP and MMLU
questions, with 3 labels (the subsets), 30 (each subset's examples split in ten, a label
trained on each against a third of the general negatives, two folds) and 300 (the 30
trained labels, each copied ten times with its feature ids remapped by a fixed bijection, so
the table holds 300 labels' worth of distinct weights).

    .venv/bin/python benchmarks/hazard_scanner.py --out results/hazard-scanner
        --recipes hash-word-char,hash-word-char-lr5k \
        --generated results/hazard-scanner/generated_examples.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np

from alu.datasets import data_dir
from alu.datasets.wmdp import (
    HARD_NEGATIVES,
    MAX_EXAMPLE_ROWS,
    SUBSETS,
    asked,
    hazard_split,
    load,
    load_mmlu,
)
from alu.evaluation.runner import sample
from alu.scan import learned, training
from alu.scan.learned import BUCKETS, LearnedScanner
from alu.targets import Examples, Target

RECIPES = ("hash-word-char", "hash-word-char-lr5k", "hash-word", "tfidf-sklearn")
SUMMARY = Path("results/eval-medium/summary.json")
SEEDS = (0, 1, 2)  # plan seeds whose evaluation draws are checked against the training rows


def _cached_featurize():
    """``featurize`` memoised for this run: the shared negatives are featurized once, not
    once per label (the results are the same)."""
    plain = learned.featurize
    cache: dict[tuple[str, tuple[int, ...]], tuple[np.ndarray, np.ndarray]] = {}

    def featurize(text: str, char_sizes: tuple[int, ...] = learned.CHAR_SIZES):
        key = (text, tuple(char_sizes))
        if key not in cache:
            cache[key] = plain(text, char_sizes)
        return cache[key]

    training.featurize = featurize  # the training module's own reference only


class HashedLabel:
    """A label of a hashed recipe, scored with numpy as the scanner scores it."""

    def __init__(self, classifier, char_sizes: tuple[int, ...]):
        self.classifier, self.char_sizes = classifier, char_sizes
        self.dense = np.zeros(BUCKETS)
        self.dense[np.asarray(classifier.features, np.int64)] = classifier.weights

    def margins(self, texts: list[str]) -> np.ndarray:
        x = training.matrix(texts, self.char_sizes)
        return x @ self.dense + self.classifier.bias - self.classifier.threshold


class TfidfLabel:
    """The vocabulary-based reference: scikit-learn's TF-IDF (fit on the training texts, no
    labels used) and the same regression, weights and out-of-fold threshold as ``train``."""

    def __init__(self, examples: list[str], negatives: training.Negatives):
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer

        rows = training.Rows.of(list(examples), negatives)
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2)
        self._hstack = hstack
        x = hstack([self.words.fit_transform(rows.texts), self.chars.fit_transform(rows.texts)]).tocsr()
        # the whole vocabulary kept: a stored TF-IDF model would carry it all
        self.fitted = training.fit_calibrated(x, rows, max_features=x.shape[1])
        self.vocabulary = x.shape[1]

    def margins(self, texts: list[str]) -> np.ndarray:
        x = self._hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()
        return x @ self.fitted.weights + self.fitted.bias - self.fitted.threshold


GENERATED_RECIPES = ("generated", "held-out+generated")


def stem(text: str) -> str:
    """A row as asked without its options and instruction line (the question alone)."""
    return text.split("\nA. ", 1)[0]


def write_generated(path: Path, count: int) -> dict[str, list[str]]:
    """Each hazard's examples written by the embedded model from its name and one-line
    description alone (``alu.agents.example_writer``), stored at ``path`` and reused from
    there (the model runs once; the file is what the recipes train on)."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    from alu.agents.example_writer import generate_examples
    from alu.settings import load_settings

    model = load_settings().build_model("embedded")
    written = {}
    for subset, (name, description) in SUBSETS.items():
        print(f"writing {count} example questions for {name} ...", flush=True)
        target = Target(name=name, kind="hazard", description=description)
        written[subset] = generate_examples(model, target, count)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(written, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return written


def train_recipe(
    recipe: str, examples: list[str], negatives: training.Negatives, generated: list[str] | None = None
):
    """One label of ``recipe``: ``examples`` are the held-out WMDP rows; the generated
    recipes train on the model's own questions (``generated``) alone or added to them.

    The model writes plain questions, while every WMDP and MMLU row is asked with options and
    an instruction line: trained as they are, a label learns that format means "not a hazard"
    (it recalled 0% of WMDP). So the generated recipes train on question stems alone, every
    row's options and instruction cut (``stem``), as a deployment's plain examples and
    negatives would be, and are scored on the rows as asked, like the others."""
    if recipe in GENERATED_RECIPES:
        positives = generated + ([stem(t) for t in examples] if recipe == "held-out+generated" else [])
        plain = training.Negatives(
            [stem(t) for t in negatives.general],
            {name: [stem(t) for t in texts] for name, texts in negatives.hard.items()},
        )
        return HashedLabel(training.train(positives, plain), learned.CHAR_SIZES)
    if recipe == "tfidf-sklearn":
        return TfidfLabel(examples, negatives)
    if recipe == "hash-word-char-lr5k":  # what ALU shipped before issue 21's second round
        classifier = training.train(examples, negatives, model="logistic", max_features=5_000)
        return HashedLabel(classifier, learned.CHAR_SIZES)
    sizes = learned.CHAR_SIZES if recipe == "hash-word-char" else ()
    return HashedLabel(training.train(examples, negatives, char_sizes=sizes), sizes)


def rate(flags: np.ndarray) -> float:
    return round(float(np.mean(flags)), 4) if len(flags) else 0.0


def evaluate(recipe: str, split, vanilla: dict[str, float], generated: dict | None = None) -> dict:
    started = time.perf_counter()
    subsets = [s for s in SUBSETS if recipe not in GENERATED_RECIPES or s in (generated or {})]
    labels = {
        s: train_recipe(recipe, split.examples[s], split.negatives, (generated or {}).get(s)) for s in subsets
    }
    train_s = time.perf_counter() - started

    def flags(texts: list[str]) -> dict[str, np.ndarray]:
        return {s: label.margins(texts) >= 0 for s, label in labels.items()}

    def any_flag(texts: list[str]) -> np.ndarray:
        found = flags(texts)
        return np.any(np.stack(list(found.values())), axis=0) if texts else np.zeros(0, bool)

    scored = {s: [asked(r) for r in rows] for s, rows in split.scored.items() if s in labels}
    hard = {subject: [asked(r) for _, r in split.mmlu_scored[subject]] for subject in HARD_NEGATIVES}
    hard_drafts = {
        subject: [f"{r['question']} {r['choices'][r['answer']]}" for _, r in split.mmlu_scored[subject]]
        for subject in HARD_NEGATIVES
    }
    general = [asked(r) for s, rows in split.mmlu_scored.items() if s not in HARD_NEGATIVES for _, r in rows]
    negatives_pool = general + [q for qs in hard.values() for q in qs] + split.coding_scored
    neg_flags = flags(negatives_pool)
    per_subset = {}
    for subset, texts in scored.items():
        own = flags(texts)
        any_hazard = np.any(np.stack(list(own.values())), axis=0)
        true_pos = int(own[subset].sum())
        false_pos = int(neg_flags[subset].sum())
        recall = rate(any_hazard)
        entry = {
            "scored": len(texts),
            "recall": recall,
            "recall_own_label": rate(own[subset]),
            "precision": round(true_pos / (true_pos + false_pos), 4) if true_pos + false_pos else None,
            "negatives_flagged_by_label": false_pos,
            "calibration_out_of_fold": (
                labels[subset].classifier.calibration
                if hasattr(labels[subset], "classifier")
                else labels[subset].fitted.calibration
            ),
        }
        if subset in vanilla:
            a = vanilla[subset]
            entry["implied"] = {
                "vanilla_accuracy": a,
                "guess_adjusted": round(recall / 4 + (1 - recall) * a, 4),
                "strict": round((1 - recall) * a, 4),
                "refusal_rate": recall,
            }
        per_subset[subset] = entry
    hard_fpr = {s: {"n": len(t), "fpr": rate(any_flag(t))} for s, t in hard.items()}
    draft_fpr = {s: rate(any_flag(t)) for s, t in hard_drafts.items()}
    result = {
        "recipe": recipe,
        "train_s": round(train_s, 1),
        "subsets": per_subset,
        "hard_negatives": hard_fpr,
        "hard_negatives_with_answer": draft_fpr,
        "mmlu_other": {"n": len(general), "fpr": rate(any_flag(general))},
        "coding": {"n": len(split.coding_scored), "fpr": rate(any_flag(split.coding_scored))},
    }
    if recipe in GENERATED_RECIPES:
        result["generated_examples"] = {s: len(generated[s]) for s in labels}
    if recipe == RECIPES[0]:
        result["trade_off"] = trade_off(labels, scored, hard, general, split.coding_scored, vanilla)
    if recipe == "tfidf-sklearn":
        result["vocabulary"] = {s: label.vocabulary for s, label in labels.items()}
    else:
        result["weights_per_label"] = {s: len(label.classifier.features) for s, label in labels.items()}
    result["latency_ms"] = latency_of(labels, recipe, scored, general)
    return result


SHIFTS = (-0.5, -0.3, -0.2, -0.1, -0.05, 0.0, 0.1, 0.2)  # in the SVM's margin units


def trade_off(
    labels: dict, scored: dict, hard: dict, general: list[str], coding: list[str], vanilla: dict
) -> list:
    """What another threshold would give: every label's threshold moved by the same shift
    (in margin units; 0 is the calibrated one). Read off the held-out split for the report
    only; the shipped thresholds are the calibrated ones."""

    def best(texts: list[str]) -> np.ndarray:
        return np.max(np.stack([label.margins(texts) for label in labels.values()]), axis=0)

    margins = {name: best(texts) for name, texts in scored.items()}
    hard_margins = {name: best(texts) for name, texts in hard.items()}
    general_margins, coding_margins = best(general), best(coding)
    rows = []
    for shift in SHIFTS:
        row = {"shift": shift}
        for name, m in margins.items():
            recall = rate(m >= shift)
            row[f"recall {name}"] = recall
            if name in vanilla:
                row[f"implied guess-adj. {name}"] = round(recall / 4 + (1 - recall) * vanilla[name], 4)
        row["worst hard-negative fpr"] = max(rate(m >= shift) for m in hard_margins.values())
        row["worst subject"] = max(hard_margins, key=lambda n: rate(hard_margins[n] >= shift))
        row["other MMLU fpr"] = rate(general_margins >= shift)
        row["coding fpr"] = rate(coding_margins >= shift)
        rows.append(row)
    return rows


def latency_of(labels: dict, recipe: str, scored: dict[str, list[str]], general: list[str]) -> dict:
    """Per-text scoring time of all three labels at once, one text at a time."""
    texts = _latency_texts(scored, general)
    if recipe == "tfidf-sklearn":
        times = []
        for text in texts:
            clock = time.perf_counter()
            for label in labels.values():
                label.margins([text])
            times.append(time.perf_counter() - clock)
        return _percentiles(times)
    scanner = LearnedScanner()
    for number, (subset, label) in enumerate(labels.items(), 1):
        classifier = label.classifier.model_copy(update={"featurizer": learned.FEATURIZER})
        scanner.add(_target(f"{subset} {number}", number, classifier))
    return _timed(scanner, texts)


def _latency_texts(scored: dict[str, list[str]], general: list[str]) -> list[str]:
    mixed = [t for texts in scored.values() for t in texts[:300]] + general[:600]
    return mixed


def _target(name: str, number: int, classifier) -> Target:
    return Target(name=name, kind="hazard", id=number, examples=Examples(texts=["x"], classifier=classifier))


def _percentiles(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {
        "texts": len(ms),
        "p50": round(float(np.percentile(ms, 50)), 3),
        "p95": round(float(np.percentile(ms, 95)), 3),
        "p99": round(float(np.percentile(ms, 99)), 3),
    }


def _timed(scanner: LearnedScanner, texts: list[str]) -> dict:
    for text in texts[:50]:  # warm up: the table is built on the first scan
        scanner.scan(text)
    times = []
    for text in texts:
        clock = time.perf_counter()
        scanner.scan(text)
        times.append(time.perf_counter() - clock)
    return _percentiles(times)


def scaling(split, rounds: int) -> list[dict]:
    """Scan latency at 3, 30 and 300 labels (module docstring)."""
    trained = {}
    for subset in SUBSETS:
        examples = split.examples[subset]
        trained[subset] = training.train(examples, split.negatives)
    pieces = []
    # Timing labels: a third of the general negatives and two folds keep 30 trainings short;
    # what the timing depends on, the weights per label, is capped the same way.
    light = training.Negatives(split.negatives.general[::3], split.negatives.hard)
    for subset in SUBSETS:
        examples = split.examples[subset]
        for part in range(10):
            chunk = examples[part::10]
            pieces.append(training.train(chunk, light, seed=part, folds=2))
    scored = {s: [asked(r) for r in rows] for s, rows in split.scored.items()}
    general = [asked(r) for rows in split.mmlu_scored.values() for _, r in rows]
    texts = _latency_texts(scored, general)
    sets = {
        3: list(trained.values()),
        30: pieces,
        300: [_remapped(c, copy) for copy in range(10) for c in pieces],
    }
    rows = []
    for count, classifiers in sets.items():
        best = None
        for _ in range(rounds):  # the quietest round: the machine is shared
            scanner = LearnedScanner()
            for number, classifier in enumerate(classifiers, 1):
                scanner.add(_target(f"hazard {number}", number, classifier))
            timed = _timed(scanner, texts)
            best = timed if best is None or timed["p95"] < best["p95"] else best
        entries = sum(len(c.features) for c in classifiers)
        rows.append({"targets": count, "weights": entries, **best})
    return rows


def _remapped(classifier, copy: int):
    """The same label with its feature ids moved by a fixed bijection of the buckets (an odd
    multiplier modulo a power of two), so copies do not share table entries."""
    if copy == 0:
        return classifier
    multiplier = 2 * (7919 * copy) + 1
    ids = (np.asarray(classifier.features, np.int64) * multiplier + copy) % BUCKETS
    order = np.argsort(ids)
    return classifier.model_copy(
        update={"features": ids[order].tolist(), "weights": np.asarray(classifier.weights)[order].tolist()}
    )


def leakage_checks(root: Path, split) -> dict:
    """The scanner's training rows are never scored: checked against the rows this script
    scores and against what ``alu eval`` would draw with the ``examples`` option."""
    trained = {q for texts in split.examples.values() for q in texts}
    negatives = set(split.negatives.general) | {t for g in split.negatives.hard.values() for t in g}
    wmdp = load(root, examples=MAX_EXAMPLE_ROWS)
    mmlu = load_mmlu(root, examples=MAX_EXAMPLE_ROWS)
    checks = {}
    for bench in (wmdp, mmlu):
        for s in bench.splits:
            for seed in SEEDS:
                drawn = sample(s.items, 400, f"{seed}-{bench.name}-{s.name}")
                texts = [asked({"question": i.question, "choices": i.choices}) for i in drawn]
                shared_pos = sum(text in trained for text in texts)
                shared_neg = sum(text in negatives for text in texts)
                checks[f"{bench.name}/{s.name}/seed {seed}"] = {
                    "drawn": len(drawn),
                    "texts_also_in_positives": shared_pos,
                    "texts_also_in_negatives": shared_neg,
                }
    scored_wmdp = {s: sum(asked(r) in trained for r in rows) for s, rows in split.scored.items()}
    return {
        "eval_draws": checks,
        "wmdp_scored_rows_whose_text_is_a_training_example": scored_wmdp,
        "note": (
            "Rows are kept apart by position; a scored row whose text equals a training row is "
            "a duplicate question inside the source data, counted here."
        ),
    }


def vanilla_accuracies() -> dict[str, float]:
    if not SUMMARY.is_file():
        return {}
    summary = json.loads(SUMMARY.read_text())
    splits = summary["benchmarks"]["wmdp"]["splits"]
    return {
        s: v["systems"]["vanilla"]["accuracy"]["value"]
        for s, v in splits.items()
        if "vanilla" in v["systems"]
    }


def markdown(report: dict) -> str:
    lines = [
        "# Learned hazard scanner (no LLM)",
        "",
        f"Commit `{report['commit']}`; {report['machine']}.",
        "",
    ]
    lines += [
        "Training rows: the last 200 of each WMDP subset, as asked (question and options); scored: "
        "every other row. Negatives: MMLU dev, half of every MMLU test subject, half of the "
        "programming questions, alone and with ALU's answers to them (code, as the draft side "
        "scans question and draft together); the six subjects next to the hazards and the "
        "programming questions are hard negatives; false positives are measured on the other "
        "halves (questions alone). Thresholds: "
        f"out-of-fold scores of the training rows (at most {training.MAX_FPR:.0%} of the general "
        f"negatives and {training.MAX_HARD_FPR:.0%} of each hard group flagged per label). "
        "See the script's docstring.",
        "",
        "## Recipes on the held-out split",
        "",
        "| recipe | subset | scored | recall | precision | implied guess-adj. (vanilla) | p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["recipes"]:
        for subset, e in r["subsets"].items():
            implied = e.get("implied")
            shown = f"{implied['guess_adjusted']:.3f} ({implied['vanilla_accuracy']:.2f})" if implied else "-"
            lat = r["latency_ms"]
            lines.append(
                f"| {r['recipe']} | {subset} | {e['scored']} | {e['recall']:.3f} | "
                f"{'-' if e['precision'] is None else e['precision']} | {shown} | "
                f"{lat['p50']} / {lat['p95']} |"
            )
    lines += ["", "## False-positive rate (any hazard label)", ""]
    header = ["recipe", *HARD_NEGATIVES, "other MMLU", "coding"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in report["recipes"]:
        cells = [f"{r['hard_negatives'][s]['fpr']:.3f}" for s in HARD_NEGATIVES]
        cells += [f"{r['mmlu_other']['fpr']:.3f}", f"{r['coding']['fpr']:.3f}"]
        lines.append(f"| {r['recipe']} | " + " | ".join(cells) + " |")
    lines.append(
        "| n | "
        + " | ".join(str(report["recipes"][0]["hard_negatives"][s]["n"]) for s in HARD_NEGATIVES)
        + f" | {report['recipes'][0]['mmlu_other']['n']} | {report['recipes'][0]['coding']['n']} |"
    )
    lines += ["", "Question followed by its correct answer (a stand-in for a draft):", ""]
    lines += ["| recipe | " + " | ".join(HARD_NEGATIVES) + " |", "|" + "---|" * (len(HARD_NEGATIVES) + 1)]
    for r in report["recipes"]:
        lines.append(
            f"| {r['recipe']} | "
            + " | ".join(f"{r['hard_negatives_with_answer'][s]:.3f}" for s in HARD_NEGATIVES)
            + " |"
        )
    curve = report["recipes"][0].get("trade_off")
    if curve:
        lines += [
            "",
            "## Trade-off (shipped recipe): every threshold moved by the same shift",
            "",
            "Read off the held-out split to show the cost of more recall; 0 is the calibrated "
            "threshold that ships.",
            "",
            "| " + " | ".join(curve[0]) + " |",
            "|" + "---|" * len(curve[0]),
        ]
        lines += ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in curve]
    lines += ["", "## Scan latency by number of hazard targets (shipped recipe)", ""]
    lines += ["| targets | weights in the table | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    for row in report["scaling"]:
        lines.append(
            f"| {row['targets']} | {row['weights']:,} | {row['p50']} | {row['p95']} | {row['p99']} |"
        )
    if any(r["recipe"] in GENERATED_RECIPES for r in report["recipes"]):
        counts = next(r["generated_examples"] for r in report["recipes"] if "generated_examples" in r)
        lines += [
            "",
            "`generated`: each label trained on questions the embedded model wrote from the hazard's "
            "name and one-line description alone (`alu.agents.example_writer`, kept in "
            "`generated_examples.json`: "
            + ", ".join(f"{s} {n}" for s, n in counts.items())
            + "), no WMDP row; `held-out+generated`: those added to the held-out rows. Both train "
            "on question stems (options and instruction line cut from every training row, as a "
            "deployment's plain examples and negatives would be: trained on the rows as asked, a "
            "label learns the format and recalls nothing) against the same negatives, and are "
            "scored on the same rows as asked.",
        ]
    lines += ["", "The implied accuracies are estimates, not measurements (see the script's docstring).", ""]
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.5))
    recipes = report["recipes"]
    width = 0.8 / len(recipes)
    subsets = list(SUBSETS)
    for n, r in enumerate(recipes):
        xs = np.arange(len(subsets)) + n * width
        left.bar(xs, [r["subsets"].get(s, {}).get("recall", 0) for s in subsets], width, label=r["recipe"])
    left.set_xticks(np.arange(len(subsets)) + width, subsets)
    left.set_ylim(0, 1)
    left.set_title("recall on held-out WMDP rows")
    left.legend(fontsize=8)
    groups = [*HARD_NEGATIVES, "other MMLU", "coding"]
    for n, r in enumerate(recipes):
        values = [r["hard_negatives"][s]["fpr"] for s in HARD_NEGATIVES] + [
            r["mmlu_other"]["fpr"],
            r["coding"]["fpr"],
        ]
        middle.bar(np.arange(len(groups)) + n * width, values, width, label=r["recipe"])
    middle.set_xticks(np.arange(len(groups)) + width, [g.replace("_", "\n") for g in groups], fontsize=7)
    middle.set_title("false-positive rate (scored halves)")
    counts = [row["targets"] for row in report["scaling"]]
    right.plot(counts, [row["p50"] for row in report["scaling"]], "o-", label="p50")
    right.plot(counts, [row["p95"] for row in report["scaling"]], "s-", label="p95")
    right.set_xscale("log")
    right.set_xticks(counts, [str(c) for c in counts])
    right.set_ylim(bottom=0)
    right.set_xlabel("hazard targets")
    right.set_ylabel("ms per text")
    right.set_title("scan latency (shipped recipe)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/hazard-scanner"))
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument(
        "--rounds", type=int, default=3, help="latency rounds per size (the quietest is kept)"
    )
    parser.add_argument(
        "--generated",
        type=Path,
        default=None,
        help="JSON of each subset's model-written examples (written there first, by the embedded "
        "model, when missing); adds the recipes trained on them",
    )
    parser.add_argument(
        "--generate-count", type=int, default=200, help="examples the model writes per subset"
    )
    args = parser.parse_args()
    root = data_dir(args.data)
    generated = write_generated(args.generated, args.generate_count) if args.generated else None
    if generated:
        args.recipes += "," + ",".join(GENERATED_RECIPES)
    _cached_featurize()
    split = hazard_split(root, MAX_EXAMPLE_ROWS)
    vanilla = vanilla_accuracies()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    report = {
        "commit": commit,
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores available",
        "training_rows_per_subset": MAX_EXAMPLE_ROWS,
        "negatives_train": {
            "general": len(split.negatives.general),
            **{f"hard: {name}": len(texts) for name, texts in split.negatives.hard.items()},
        },
        "vanilla_accuracy_assumed": vanilla,
        "leakage": leakage_checks(root, split),
        "recipes": [],
    }
    for recipe in args.recipes.split(","):
        print(f"recipe {recipe} ...", flush=True)
        report["recipes"].append(evaluate(recipe, split, vanilla, generated))
    print("latency by number of targets ...", flush=True)
    report["scaling"] = scaling(split, args.rounds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
    (args.out / "README.md").write_text(markdown(report))
    plot(report, args.out / "scanner.png")
    print(markdown(report))


if __name__ == "__main__":
    main()
