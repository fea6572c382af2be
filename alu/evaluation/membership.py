"""Membership inference: simple attackers try to tell, from a system's answers alone,
whether a name is on the forget list.

What an attacker reads: each answer with the asked name replaced by ``NAME`` (the caller
wrote the name, so its spelling says nothing about the system), and what a caller can time.
Five attackers, each a set of features fed to a ridge classifier (least squares with both
classes weighted equally, i.e. Fisher's discriminant): refusal markers, answer length,
named-entity count, LLM calls and latency, word features (TF-IDF). Features are computed
once from all the answers of a comparison and never see a label (standardisation, the
TF-IDF vocabulary and weights), so every fit is one linear solve for the observed labels
and all the shuffled ones together.

Cross-validation is by name: the names are dealt into five folds (seeded, blind to their
groups) and a name's answers always sit on one side of a split, so no attacker can learn
the names themselves. The headline figure is nested: in each outer fold the attacker is
chosen by inner cross-validation over the other folds (the training names only) and the
chosen one predicts the held-out names; with 10-20 names a group, choosing the best of
five after the fact is biased upward. Balanced accuracy 0.5 is a coin; its 95% interval is
a bootstrap over names. The permutation baseline runs the same whole procedure with the
group labels shuffled across names (200 times, seeded): the p-value is the share of
shuffles scoring at least the observed figure (counting the observed one), and the null's
95th percentile is how high chance alone reaches with this many names. Each attacker's own
cross-validated figure stays in the JSON, for reading only.

Three comparisons: targets against invented names (can a forgotten person be told from one
never known? retraining answers both alike), against other people of the benchmark (known
to every system but a forgetting one, retrained or not), and pooled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import combinations

import numpy as np

from ..datasets.membership import asked_name, group_of, name_of
from .records import AnswerRecord

MARKERS = re.compile(
    r"\[redacted\]|\bsorry\b|can(?:'|no)?t help|can ?not help|unable to|don'?t have (?:any )?information|"
    r"no information|not familiar|don'?t know|not sure|couldn'?t find|no (?:record|knowledge)",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")
PLACEHOLDER = "NAME"  # not counted as a named entity (all capitals)

Feature = Callable[[AnswerRecord, str], list[float]]
ATTACKERS: dict[str, Feature] = {
    "markers or refusal phrases": lambda r, text: [float(bool(MARKERS.search(r.answer)))],
    "answer length": lambda r, text: [float(len(text.split()))],
    "named-entity count": lambda r, text: [float(len(_CAPITALISED.findall(text)))],
    "LLM calls and latency": lambda r, text: [float(r.llm_calls), float(r.seconds)],
}
WORDS = "word features (TF-IDF)"
COMPARISONS = {
    "targets vs invented names": ("invented",),
    "targets vs other authors": ("other",),
    "targets vs all non-targets": ("other", "invented"),
}
FOLDS = 5
PERMUTATIONS = 200
BOOTSTRAP = 1000
_TIE = 1e-9  # a decision this close to 0 is no decision: predict "not a target"


def masked(answer: str, name: str | None) -> str:
    """``answer`` with the asked name, each of its words and each hyphen-joined part,
    replaced by the placeholder (longest first, whole words, any case)."""
    if not name:
        return answer
    parts = {name, *name.split(), *re.findall(r"[^\W\d_]{2,}", name)}
    alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
    return re.sub(rf"(?<!\w)(?:{alternatives})(?!\w)", PLACEHOLDER, answer, flags=re.IGNORECASE)


def features(rows: list[AnswerRecord]) -> dict[str, np.ndarray]:
    """Each attacker's feature matrix over ``rows``, fitted on the rows alone (no labels)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import StandardScaler

    texts = [masked(r.answer, asked_name(r.question)) for r in rows]
    out = {
        name: StandardScaler().fit_transform(np.array([f(r, t) for r, t in zip(rows, texts, strict=True)]))
        for name, f in ATTACKERS.items()
    }
    words = np.zeros((len(rows), 1))
    for min_df in (2, 1):
        try:
            words = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df).fit_transform(texts).toarray()
            break
        except ValueError:  # no word kept (every answer empty or unique)
            continue
    out[WORDS] = words
    return out


def _balanced(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Balanced accuracy of every column (labels and predictions, rows x columns); 0.5
    where a column lacks a class."""
    pos = y == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (predicted * pos).sum(0) / pos.sum(0)
        tnr = ((1 - predicted) * ~pos).sum(0) / (~pos).sum(0)
    return np.nan_to_num((tpr + tnr) / 2, nan=0.5)


def _predict(x: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Fit on ``train`` rows for every label column at once and predict ``test`` rows (0/1).

    Each column is coded n/n1 for targets and -n/n0 for the rest: least squares then weighs
    the classes equally (Fisher's discriminant), so a feature that says nothing predicts
    nothing, whatever the training names' mix."""
    from sklearn.linear_model import Ridge

    y = labels[train]
    n, pos = len(y), y.sum(0)
    neg = n - pos
    with np.errstate(divide="ignore"):
        coded = np.where(y == 1, n / pos, -n / neg)
    coded[:, (pos == 0) | (neg == 0)] = 0.0
    decision = Ridge(alpha=1.0).fit(x[train], coded).predict(x[test]).reshape(int(test.sum()), -1)
    return (decision > _TIE).astype(np.int8)


def nested(found: dict[str, np.ndarray], labels: np.ndarray, fold: np.ndarray) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of every attacker and of the nested choice, for every label
    column (the observed labels and each shuffle).

    ``fold`` is each row's fold (a name's rows share one). For outer fold f the attacker is
    the one with the best balanced accuracy over the other folds, each of them predicted by
    a model trained on the folds that are neither it nor f: the training names only. Ties go
    to the attacker listed first."""
    k = int(fold.max()) + 1
    attackers = list(found)
    outer = {a: np.zeros(labels.shape, np.int8) for a in attackers}
    inner = {a: {f: np.zeros(labels.shape, np.int8) for f in range(k)} for a in attackers}
    for a, x in found.items():
        for f in range(k):
            outer[a][fold == f] = _predict(x, labels, fold != f, fold == f)
        for f, g in combinations(range(k), 2):
            both = (fold == f) | (fold == g)
            predicted = _predict(x, labels, ~both, both)
            in_f = fold[both] == f
            inner[a][g][fold == f] = predicted[in_f]  # fold f predicted without f or g: inner to g
            inner[a][f][fold == g] = predicted[~in_f]
    chosen = np.zeros((k, labels.shape[1]), int)
    out = np.zeros(labels.shape, np.int8)
    for f in range(k):
        train, test = fold != f, fold == f
        scores = np.stack([_balanced(labels[train], inner[a][f][train]) for a in attackers])
        chosen[f] = scores.argmax(0)
        stacked = np.stack([outer[a][test] for a in attackers])
        out[test] = np.take_along_axis(stacked, chosen[f][None, None, :], 0)[0]
    return {"nested": out, "chosen": chosen, **outer}


def _interval(y: np.ndarray, predicted: np.ndarray, names: np.ndarray, seed: int) -> list[float]:
    """95% bootstrap interval of balanced accuracy, resampling names."""
    rng = np.random.default_rng(seed)
    n = int(names.max()) + 1
    counts = np.zeros((BOOTSTRAP, n))
    np.add.at(counts, (np.arange(BOOTSTRAP)[:, None], rng.integers(0, n, (BOOTSTRAP, n))), 1)
    weight = counts[:, names]  # each row's weight in each resample
    pos = y == 1
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = weight @ (predicted * pos) / (weight @ pos)
        tnr = weight @ ((1 - predicted) * ~pos) / (weight @ ~pos)
    stats = ((tpr + tnr) / 2)[~np.isnan(tpr + tnr)]
    if not len(stats):
        return [float("nan"), float("nan")]
    low, high = np.percentile(stats, [2.5, 97.5])
    return [float(low), float(high)]


def _p_value(scores: np.ndarray) -> float:
    """Share of label columns scoring at least the observed one (column 0), itself counted."""
    return float(np.mean(scores >= scores[0] - 1e-12))


def attack(
    records: list[AnswerRecord], negatives: tuple[str, ...], seed: int = 0, permutations: int = PERMUTATIONS
) -> dict:
    """The nested cross-validated balanced accuracy of telling targets from ``negatives``,
    its interval and permutation baseline, and each attacker's own figure."""
    from threadpoolctl import threadpool_limits

    rows = [r for r in records if group_of(r.item_id) in ("target", *negatives)]
    names, name_idx = np.unique([name_of(r.item_id) for r in rows], return_inverse=True)
    per_name = np.array([int(group_of(n) == "target") for n in names])
    out: dict = {
        "n": len(rows),
        "names": {g: int(sum(group_of(n) == g for n in names)) for g in ("target", *negatives)},
        "attackers": {},
    }
    if len(set(per_name)) < 2 or len(names) < 3:
        return out
    rng = np.random.default_rng(seed)
    k = min(FOLDS, len(names))
    name_fold = rng.permutation(len(names)) % k
    shuffled = [per_name, *(rng.permutation(per_name) for _ in range(permutations))]
    labels = np.stack(shuffled, axis=1)[name_idx]
    fold = name_fold[name_idx]
    with threadpool_limits(1):  # many small solves: threads only fight over them (6x slower)
        predicted = nested(features(rows), labels, fold)
    y = labels[:, 0]
    for a in [*ATTACKERS, WORDS]:
        scores = _balanced(labels, predicted[a])
        out["attackers"][a] = {
            "balanced_accuracy": float(scores[0]),
            "ci95": _interval(y, predicted[a][:, 0], name_idx, seed),
            "p_value": _p_value(scores),
        }
    scores = _balanced(labels, predicted["nested"])
    picked = [[*ATTACKERS, WORDS][i] for i in predicted["chosen"][:, 0]]
    out["nested"] = {
        "balanced_accuracy": float(scores[0]),
        "ci95": _interval(y, predicted["nested"][:, 0], name_idx, seed),
        "folds": k,
        "chosen": {a: picked.count(a) for a in dict.fromkeys(picked)},
        "permutations": permutations,
        "p_value": _p_value(scores),
        "null_mean": float(np.mean(scores[1:])) if permutations else float("nan"),
        "null_p95": float(np.percentile(scores[1:], 95)) if permutations else float("nan"),
    }
    return out


def analyse(records: list[AnswerRecord], seed: int = 0, permutations: int = PERMUTATIONS) -> dict:
    """Per system and comparison, the nested attacker's figure and each attacker's."""
    by_system: dict[str, list[AnswerRecord]] = {}
    for r in records:
        by_system.setdefault(r.system, []).append(r)
    return {
        system: {
            label: attack(rows, negatives, seed, permutations) for label, negatives in COMPARISONS.items()
        }
        for system, rows in sorted(by_system.items())
    }
