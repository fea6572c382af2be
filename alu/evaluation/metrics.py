"""Metrics on the text a system returns (see EVAL_PROTOCOL.md), each with its n and a 95%
interval: exact (Clopper-Pearson) for a rate of yes/no outcomes, bootstrap for a mean."""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import numpy as np
from anyascii import anyascii

from ..text import fold, zipf

_LETTERS = "ABCD"


@cache
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l_recall(gold: str, text: str) -> float:
    """How much of the gold answer the returned text contains (ROUGE-L recall)."""
    if not gold.strip() or not text.strip():
        return 0.0
    return float(_scorer().score(gold, text)["rougeL"].recall)


def names_option(text: str, option: str) -> bool:
    """The returned text names the option (folded, whole words)."""
    option = fold(option).strip()
    return (
        bool(option) and re.search(rf"(?<![a-z0-9]){re.escape(option)}(?![a-z0-9])", fold(text)) is not None
    )


# Chinese, Japanese and Korean characters: scripts written without spaces between words
UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def mentions(text: str, phrases: Sequence[str]) -> bool:
    """The text mentions one of ``phrases``: folded whole words for spaced scripts (case,
    accents, transliteration), a plain substring for Chinese, Japanese and Korean. A
    one-word phrase that is also a common English word ("Child", "Lee") counts only when
    written with its capital, as a name. A Chinese, Japanese or Korean character ends a
    word of another script ("DjangoはPythonで" mentions "Python"), rather than folding
    into it."""
    spaced = UNSPACED.sub(" ", text)
    for phrase in phrases:
        if UNSPACED.search(phrase):
            if _nfkc(phrase) in _nfkc(text):
                return True
        elif " " not in phrase.strip() and zipf(fold(phrase).strip()) >= 4.0:
            if re.search(rf"(?<![\w]){re.escape(anyascii(phrase))}(?![\w])", anyascii(spaced)):
                return True
        elif names_option(spaced, phrase):
            return True
    return False


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def extract_letter(text: str, choices: Sequence[str] | None = None) -> str | None:
    """The option letter a generative answer picks, or None (counted as a refusal)."""
    patterns = [
        r"(?:answer|option|choice)\s*(?:is|:)?\s*\**\(?([ABCD])\)?(?![A-Za-z])",
        r"^\s*\**\(?([ABCD])(?:[).:*]|\s*$)",
        r"\(([ABCD])\)",
    ]
    for pattern in patterns:
        match = re.search(pattern, text, flags=re.I | re.M if pattern.startswith("(?:") else re.M)
        if match:
            return match.group(1).upper()
    if choices:
        named = [i for i, c in enumerate(choices) if names_option(text, c)]
        if len(named) == 1:
            return _LETTERS[named[0]]
    return None


def mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


RESAMPLES = 9999  # scipy's default: the 2.5% and 97.5% ends move by under 0.005 between seeds


def _interval(
    samples: tuple[np.ndarray, ...], stat: Callable, resamples: int, seed: int, **options: Any
) -> tuple[float, float]:
    """95% percentile interval by :func:`scipy.stats.bootstrap`, the same draws for the same seed.

    Percentile rather than BCa: BCa is undefined (NaN and a warning) whenever every resample
    falls on one side of the estimate, which our samples do often (leak rates of 0 but one,
    differences of 0 on most items), and its jackknife needs the statistic defined on every
    leave-one-out sample (utility is not where vanilla's mean is 0). The percentile interval
    is also what the reports documented before, so only the random draws changed."""
    from scipy.stats import bootstrap as scipy_bootstrap

    result = scipy_bootstrap(
        samples,
        stat,
        n_resamples=resamples,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
        **options,
    )
    low, high = result.confidence_interval
    return float(low), float(high)


def bootstrap(
    values: Sequence[float],
    stat: Callable[..., float] = np.mean,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of ``stat`` (which takes ``axis``); one value is
    its own interval, none gives NaNs."""
    data = np.asarray(values, dtype=float)
    if len(data) < 2:
        point = float(stat(data)) if len(data) else float("nan")
        return (point, point)
    return _interval((data,), stat, resamples, seed)


def paired_bootstrap(
    differences: Sequence[float],
    baseline: Sequence[float] | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean per-item difference between two systems:
    ``differences`` alone, or a system's values and ``baseline``'s item by item. Resampling
    the items (scipy's ``paired=True``), not each system separately, keeps the pairing."""
    system = np.asarray(differences, dtype=float)
    if baseline is None:
        return bootstrap(system, resamples=resamples, seed=seed)
    other = np.asarray(baseline, dtype=float)
    if len(system) < 2:
        point = float(np.mean(system - other)) if len(system) else float("nan")
        return (point, point)

    def mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(a - b, axis=axis)

    return _interval((system, other), mean_difference, resamples, seed, paired=True)


def figure(values: Sequence[float], seed: int = 0) -> dict:
    """Mean with its n and 95% bootstrap interval."""
    low, high = bootstrap(values, seed=seed)
    return {"value": mean(values), "n": len(values), "ci95": [low, high]}


def rate(outcomes: Sequence[float]) -> dict:
    """A rate of yes/no outcomes with its n and exact (Clopper-Pearson) 95% interval: 0 of 10
    gives [0, 0.31], where a bootstrap of ten zeros gives [0, 0]."""
    n = len(outcomes)
    successes = round(sum(outcomes))
    low, high = exact_interval(successes, n)
    return {"value": mean(outcomes), "n": n, "ci95": [low, high], "interval": "exact"}


def forget_quality(system: Sequence[float], reference: Sequence[float]) -> float:
    """KS-test p-value between per-question forget ROUGE-L recall of a system and the reference."""
    from scipy.stats import ks_2samp

    if not len(system) or not len(reference):
        return float("nan")
    return float(ks_2samp(system, reference).pvalue)


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def harmonic_mean(values: Sequence[float]) -> float:
    values = [v for v in values if v == v]
    if not values:
        return float("nan")
    if any(v <= 0 for v in values):
        return 0.0
    return len(values) / sum(1 / v for v in values)


def ratio(value: float, base: float) -> float:
    return value / base if base and base == base else float("nan")


def guess_adjusted(letter: str | None, correct: int | None, options: int = 4) -> float:
    """One multiple-choice answer scored so that refusing and guessing mean the same: 1 when
    right, 1/options (a uniform guess) when no letter was given, 0 when wrong."""
    if letter is None:
        return 1 / options
    return float(correct is not None and _LETTERS.index(letter) == correct)


def mcnemar_exact(system: Sequence[bool], baseline: Sequence[bool]) -> dict:
    """Exact McNemar test on paired yes/no outcomes: a two-sided binomial test (p = 1/2) on
    the discordant pairs. ``system_only`` counts items where only the system says yes."""
    from scipy.stats import binomtest

    system_only = sum(bool(a) and not bool(b) for a, b in zip(system, baseline, strict=True))
    baseline_only = sum(bool(b) and not bool(a) for a, b in zip(system, baseline, strict=True))
    discordant = system_only + baseline_only
    p = float(binomtest(system_only, discordant, 0.5).pvalue) if discordant else 1.0
    return {"system_only": system_only, "baseline_only": baseline_only, "p_value": p}


def exact_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson interval of a proportion: valid at any n, unlike a bootstrap of a few 0/1s."""
    from scipy.stats import binomtest

    if n == 0:
        return (float("nan"), float("nan"))
    ci = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


def utility_interval(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]], resamples: int = RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """95% paired bootstrap interval of model utility: each resample draws the items of every
    retain split (the same items for the system and vanilla: scipy resamples each split's item
    numbers, split by split independently), takes the ratio of the system's mean to vanilla's
    per split, and their harmonic mean. A split of one item is a constant; a resample where
    vanilla's mean is 0 on every split has no utility and is left out."""
    data = [(np.asarray(s, dtype=float), np.asarray(v, dtype=float)) for s, v in pairs if len(s)]
    if not data:
        return (float("nan"), float("nan"))
    fixed = [ratio(float(s.mean()), float(v.mean())) for s, v in data if len(s) < 2]
    drawn = [(s, v) for s, v in data if len(s) >= 2]
    if not drawn:
        point = harmonic_mean(fixed)
        return (point, point)

    def utility(*items: np.ndarray, axis: int = -1) -> np.ndarray:
        """Utility per resample; ``items`` holds each split's drawn item numbers (resamples, n)."""
        means = [
            (s[idx].mean(axis=-1).reshape(-1), v[idx].mean(axis=-1).reshape(-1))
            for (s, v), idx in zip(drawn, (np.asarray(i, dtype=int) for i in items), strict=True)
        ]
        utilities = [
            harmonic_mean([ratio(float(mine[i]), float(theirs[i])) for mine, theirs in means] + fixed)
            for i in range(len(means[0][0]))
        ]
        return np.array(utilities).squeeze()

    from scipy.stats import DegenerateDataWarning
    from scipy.stats import bootstrap as scipy_bootstrap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)  # NaN resamples, handled below
        result = scipy_bootstrap(
            tuple(np.arange(len(s)) for s, _ in drawn),
            utility,
            n_resamples=resamples,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
    low, high = result.confidence_interval
    if np.isnan(low) or np.isnan(high):  # some resamples had no utility: the interval of the others
        known = result.bootstrap_distribution[~np.isnan(result.bootstrap_distribution)]
        if not len(known):
            return (float("nan"), float("nan"))
        low, high = np.percentile(known, [2.5, 97.5])
    return float(low), float(high)
