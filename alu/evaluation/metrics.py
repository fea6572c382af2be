"""Metrics on the text a system returns (see EVAL_PROTOCOL.md), each with a bootstrap CI."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache

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


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def mentions(text: str, phrases: Sequence[str]) -> bool:
    """The text mentions one of ``phrases``: folded whole words for spaced scripts (case,
    accents, transliteration), a plain substring for Chinese, Japanese and Korean. A
    one-word phrase that is also a common English word ("Child", "Lee") counts only when
    written with its capital, as a name. A Chinese, Japanese or Korean character ends a
    word of another script ("DjangoはPythonで" mentions "Python"), rather than folding
    into it."""
    spaced = _UNSPACED.sub(" ", text)
    for phrase in phrases:
        if _UNSPACED.search(phrase):
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


def bootstrap(
    values: Sequence[float],
    stat: Callable[[np.ndarray], float] = np.mean,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile bootstrap interval of ``stat``."""
    data = np.asarray(values, dtype=float)
    if len(data) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    stats = [stat(data[rng.integers(0, len(data), len(data))]) for _ in range(resamples)]
    low, high = np.percentile(stats, [2.5, 97.5])
    return float(low), float(high)


def paired_bootstrap(
    differences: Sequence[float], resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean per-item difference between two systems.
    Resampling the items (not each system separately) keeps the pairing; the resamples are
    drawn in one batch so that every pair of systems can be compared quickly."""
    data = np.asarray(differences, dtype=float)
    if len(data) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), (resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def figure(values: Sequence[float], seed: int = 0) -> dict:
    """Mean with its n and 95% bootstrap interval."""
    low, high = bootstrap(values, seed=seed)
    return {"value": mean(values), "n": len(values), "ci95": [low, high]}


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
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]], resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% paired bootstrap interval of model utility: each resample draws the items of every
    retain split (the same items for the system and vanilla), takes the ratio of the system's
    mean to vanilla's per split, and their harmonic mean."""
    data = [(np.asarray(s, dtype=float), np.asarray(v, dtype=float)) for s, v in pairs if len(s)]
    if not data:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(resamples):
        ratios = []
        for system, vanilla in data:
            idx = rng.integers(0, len(system), len(system))
            ratios.append(ratio(float(system[idx].mean()), float(vanilla[idx].mean())))
        stats.append(harmonic_mean(ratios))
    stats = [s for s in stats if s == s]
    if not stats:
        return (float("nan"), float("nan"))
    low, high = np.percentile(stats, [2.5, 97.5])
    return float(low), float(high)
