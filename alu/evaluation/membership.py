"""Membership inference: simple attackers try to tell, from a system's answers alone,
whether a name is on the forget list.

Each attacker is a feature of what a caller sees, fed to a logistic regression and
cross-validated with the names as groups (a name's questions never sit on both sides of a
fold, so no attacker can learn the names themselves). Balanced accuracy 0.5 means the
answers give membership away no better than a coin; its 95% interval comes from a
bootstrap over names. Three comparisons: targets against invented names (can a forgotten
person be told from one never known? retraining answers both alike), against other people
of the benchmark (known to every system but a forgetting one, retrained or not), and
pooled.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from ..datasets.membership import group_of
from .records import AnswerRecord

MARKERS = re.compile(
    r"\[redacted\]|\bsorry\b|can(?:'|no)?t help|can ?not help|unable to|don'?t have (?:any )?information|"
    r"no information|not familiar|don'?t know|not sure|couldn'?t find|no (?:record|knowledge)",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+")

Feature = Callable[[AnswerRecord], list[float]]
ATTACKERS: dict[str, Feature] = {
    "markers or refusal phrases": lambda r: [float(bool(MARKERS.search(r.answer)))],
    "answer length": lambda r: [float(len(r.answer.split()))],
    "named-entity count": lambda r: [float(len(_CAPITALISED.findall(r.answer)))],
    "LLM calls and latency": lambda r: [float(r.llm_calls), float(r.seconds)],
}
WORDS = "word features (TF-IDF + logistic regression)"
COMPARISONS = {
    "targets vs invented names": ("invented",),
    "targets vs other authors": ("other",),
    "targets vs all non-targets": ("other", "invented"),
}


def _name(record: AnswerRecord) -> str:
    return "-".join(record.item_id.split("-")[:3])


def _balanced(y: np.ndarray, predicted: np.ndarray) -> float:
    tpr = float(np.mean(predicted[y == 1])) if np.any(y == 1) else float("nan")
    tnr = float(np.mean(1 - predicted[y == 0])) if np.any(y == 0) else float("nan")
    return (tpr + tnr) / 2


def _out_of_fold(x, y: np.ndarray, groups: np.ndarray, words: bool) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    predicted = np.zeros(len(y))
    folds = GroupKFold(n_splits=min(5, len(set(groups))))
    for train, test in folds.split(np.zeros(len(y)), y, groups):
        if len(set(y[train])) < 2:
            predicted[test] = float(np.mean(y[train]) >= 0.5)
            continue
        if words:
            model = make_pipeline(
                TfidfVectorizer(ngram_range=(1, 2), min_df=2), LogisticRegression(max_iter=1000, C=1.0)
            )
            model.fit([x[i] for i in train], y[train])
            predicted[test] = model.predict([x[i] for i in test])
        else:
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            model.fit(x[train], y[train])
            predicted[test] = model.predict(x[test])
    return predicted


def _interval(y: np.ndarray, predicted: np.ndarray, groups: np.ndarray, seed: int) -> list[float]:
    """95% bootstrap interval of balanced accuracy, resampling names."""
    rng = np.random.default_rng(seed)
    names = np.unique(groups)
    rows = {n: np.flatnonzero(groups == n) for n in names}
    stats = []
    for _ in range(1000):
        picked = np.concatenate([rows[n] for n in rng.choice(names, len(names))])
        if len(set(y[picked])) == 2:
            stats.append(_balanced(y[picked], predicted[picked]))
    low, high = np.percentile(stats, [2.5, 97.5]) if stats else (float("nan"), float("nan"))
    return [float(low), float(high)]


def attack(records: list[AnswerRecord], negatives: tuple[str, ...], seed: int = 0) -> dict:
    """Every attacker's cross-validated balanced accuracy, targets against ``negatives``."""
    rows = [r for r in records if group_of(r.item_id) in ("target", *negatives)]
    y = np.array([int(group_of(r.item_id) == "target") for r in rows])
    groups = np.array([_name(r) for r in rows])
    out: dict = {"n": len(rows), "attackers": {}}
    if len(set(y)) < 2:
        return out
    for name, feature in ATTACKERS.items():
        x = np.array([feature(r) for r in rows])
        predicted = _out_of_fold(x, y, groups, words=False)
        out["attackers"][name] = {
            "balanced_accuracy": _balanced(y, predicted),
            "ci95": _interval(y, predicted, groups, seed),
        }
    predicted = _out_of_fold([r.answer for r in rows], y, groups, words=True)
    out["attackers"][WORDS] = {
        "balanced_accuracy": _balanced(y, predicted),
        "ci95": _interval(y, predicted, groups, seed),
    }
    best = max(out["attackers"], key=lambda a: out["attackers"][a]["balanced_accuracy"])
    out["best"] = {"attacker": best, **out["attackers"][best]}
    return out


def analyse(records: list[AnswerRecord], seed: int = 0) -> dict:
    """Per system and comparison, the attackers' balanced accuracies and the best one."""
    by_system: dict[str, list[AnswerRecord]] = {}
    for r in records:
        by_system.setdefault(r.system, []).append(r)
    return {
        system: {label: attack(rows, negatives, seed) for label, negatives in COMPARISONS.items()}
        for system, rows in sorted(by_system.items())
    }
