"""The learned hazard scanner: one linear multi-label model over hashed word and character
n-grams, each hazard target with a trained classifier (``Target.examples.classifier``) a label.

Why this shape: a hazard question rarely repeats another's words, so matching evidence word
by word (the lexical scanner) misses most of them; a linear model over n-grams learns the
vocabulary of a hazard from a few hundred examples against general questions, and runs as
one sparse dot product. Features are hashed (no vocabulary to ship or to keep in step):
what a replica loads is each label's sparse weights, bias and threshold, plain numbers in
the target store (never a pickle), so serving needs numpy only. Training, which needs
scikit-learn, is ``alu.scan.training``.

All labels' weights sit in one table grouped by feature id (compressed rows over the hash
buckets): a text's features are looked up directly and summed per label in one numpy pass,
so the cost is one featurization plus the weights the text touches (measured flat from 3 to
300 hazard targets: benchmarks/hazard_scanner.py), not one pass per target.
"""

from __future__ import annotations

import re
import threading
import unicodedata
import zlib

import numpy as np

from ..targets.target import FEATURE_BUCKETS, HazardClassifier, Target
from .base import Candidate, Scanner, Signal, SignalKind, register_scanner
from .lexical import CANDIDATE_THRESHOLD

# The feature recipe, versioned: weights trained under another recipe are ignored (a replica
# of a newer ALU never applies weights to features they were not trained on).
FEATURIZER = "hash-v1:w12c35:b20"
BUCKETS = FEATURE_BUCKETS  # 1 << 20 (alu.targets.target)
CHAR_SIZES = (3, 4, 5)
MAX_CHARS = 4000  # a longer text is scored in overlapping windows (``windows``)
WINDOW_CHARS = 1000
LEARNED: SignalKind = "learned"  # the kind of signal a flagged text carries (the default mode looks for it)

_WORD = re.compile(r"\w+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1_000_003)
_SHIFT = np.uint64(64 - 20)
_SEEDS = {"w1": 0x51ED27, "w2": 0xA3B1C5, 3: 0x1F3D5B, 4: 0x2C4E6A, 5: 0x3B5D7F}


def windows(text: str) -> list[str]:
    """``text`` whole up to ``MAX_CHARS``; a longer one in overlapping pieces of
    ``WINDOW_CHARS`` (about a question's size), the last ending with it: a question at the
    end of a long conversation, or inside a long benign text, is scored on a piece of its
    own size instead of being diluted (the cost stays linear in the text)."""
    if len(text) <= MAX_CHARS:
        return [text]
    step = WINDOW_CHARS // 2
    starts = [*range(0, len(text) - WINDOW_CHARS, step), len(text) - WINDOW_CHARS]
    return [text[i : i + WINDOW_CHARS] for i in starts]


def normalise(text: str) -> str:
    """Lower case, compatibility forms folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower().split())


def _buckets(hashes: np.ndarray, seed: int) -> np.ndarray:
    """64-bit hashes mixed with a family seed and cut to a bucket (Fibonacci hashing)."""
    with np.errstate(over="ignore"):
        mixed = (hashes ^ np.uint64(seed)) * _MIX
        mixed ^= mixed >> np.uint64(31)
        mixed *= _MIX
    return (mixed >> _SHIFT).astype(np.int64)


def featurize(text: str, char_sizes: tuple[int, ...] = CHAR_SIZES) -> tuple[np.ndarray, np.ndarray]:
    """A text's features: sorted bucket ids and their values (log counts, L2 normalised).

    Word unigrams and bigrams, and character 3-, 4- and 5-grams over the normalised text,
    each family hashed with its own seed; all in numpy but one CRC per word."""
    clean = normalise(text)
    words = _WORD.findall(clean)
    parts: list[np.ndarray] = []
    if words:
        word_hashes = np.fromiter((zlib.crc32(w.encode()) for w in words), np.uint64, len(words))
        parts.append(_buckets(word_hashes, _SEEDS["w1"]))
        if len(words) > 1:
            with np.errstate(over="ignore"):
                pairs = word_hashes[:-1] * _PRIME + word_hashes[1:]
            parts.append(_buckets(pairs, _SEEDS["w2"]))
    codes = np.frombuffer(f" {clean} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        for size in char_sizes:
            if len(codes) < size:
                continue
            grams = codes[: len(codes) - size + 1].copy()
            for k in range(1, size):
                grams = grams * _PRIME + codes[k : len(codes) - size + 1 + k]
            parts.append(_buckets(grams, _SEEDS[size]))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    ids, counts = np.unique(np.concatenate(parts), return_counts=True)
    values = np.log1p(counts.astype(np.float64))
    values /= np.sqrt(values @ values)
    return ids, values


class LabelTable:
    """Every label's sparse weights in one table, grouped by feature id (compressed rows over
    the hash buckets: a text's features are found by direct lookup, no search), with biases
    and thresholds: scoring a text is one gather and one sum per label."""

    def __init__(self, labels: list[tuple[int, HazardClassifier]]):
        self.ids = [target_id for target_id, _ in labels]
        features = [np.asarray(c.features, np.int64) for _, c in labels]
        flat = np.concatenate(features) if features else np.zeros(0, np.int64)
        rows = np.concatenate(
            [np.full(len(f), n, np.int32) for n, f in enumerate(features)] or [np.zeros(0, np.int32)]
        )
        weights = np.concatenate([np.asarray(c.weights, np.float64) for _, c in labels] or [np.zeros(0)])
        order = np.argsort(flat, kind="stable")
        self.rows, self.weights = rows[order], weights[order]
        self.starts = np.zeros(BUCKETS + 1, np.int64)
        np.cumsum(np.bincount(flat, minlength=BUCKETS), out=self.starts[1:])
        self.bias = np.asarray([c.bias for _, c in labels], np.float64)
        self.threshold = np.asarray([c.threshold for _, c in labels], np.float64)

    def scores(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Each label's margin over its threshold (>= 0: flagged) for a featurized text."""
        start = self.starts[ids]
        counts = self.starts[ids + 1] - start
        total = int(counts.sum())
        if total:
            ends = np.cumsum(counts)
            positions = np.arange(total) + np.repeat(start - (ends - counts), counts)
            dots = np.bincount(
                self.rows[positions],
                weights=self.weights[positions] * np.repeat(values, counts),
                minlength=len(self.ids),
            )
        else:
            dots = np.zeros(len(self.ids))
        return dots + self.bias - self.threshold


def usable(classifier: HazardClassifier | None) -> bool:
    """A classifier this ALU can apply: trained under the current feature recipe."""
    return classifier is not None and classifier.featurizer == FEATURIZER


@register_scanner("learned")
class LearnedScanner(Scanner):
    """Flags texts that read like a hazard target's examples (hazard targets that carry a
    classifier; the others are the lexical scanner's). A flagged text gives the target a
    candidate with a ``learned`` signal at the candidate threshold."""

    wants_rule = "hazard-classifier-v1"

    def wants(self, target: Target) -> bool:
        """Hazards with a classifier, whatever its recipe (``add`` keeps the usable ones)."""
        examples = target.examples
        return target.kind == "hazard" and examples is not None and examples.classifier is not None

    def __init__(self) -> None:
        self._labels: dict[int, tuple[Target, HazardClassifier]] = {}
        self._table: LabelTable | None = None
        self._lock = threading.Lock()  # the table is rebuilt lazily, once, after changes

    def copy(self) -> LearnedScanner:
        """A copy to change while this one scans (see ``Scanner.copy``): the labels copied,
        the built table shared until a change drops it, a lock of its own."""
        other = LearnedScanner()
        other._labels = dict(self._labels)
        other._table = self._table
        return other

    def add(self, target: Target) -> None:
        self.remove(target.id)
        classifier = target.examples.classifier if target.examples else None
        if target.kind == "hazard" and usable(classifier):
            self._labels[target.id] = (target, classifier)
            self._table = None

    def remove(self, target_id: int) -> None:
        if self._labels.pop(target_id, None) is not None:
            self._table = None

    def _current(self) -> LabelTable:
        table = self._table
        if table is None:
            with self._lock:
                table = self._table
                if table is None:
                    ordered = sorted(self._labels.items())
                    table = self._table = LabelTable([(tid, c) for tid, (_, c) in ordered])
        return table

    def margins(self, text: str) -> dict[int, float]:
        """Each label's score over its threshold for ``text`` (target id -> margin)."""
        if not self._labels:
            return {}
        table = self._current()
        best: np.ndarray | None = None
        for window in windows(text):
            ids, values = featurize(window)
            scores = table.scores(ids, values)
            best = scores if best is None else np.maximum(best, scores)
        return dict(zip(table.ids, best.tolist(), strict=True))

    def scan(self, text: str) -> list[Candidate]:
        found = []
        for target_id, margin in self.margins(text).items():
            if margin >= 0 and target_id in self._labels:
                target = self._labels[target_id][0]
                weight = CANDIDATE_THRESHOLD
                found.append(Candidate(target, weight, signals=[Signal(LEARNED, "hazard", weight)]))
        return found


def trained(target: Target) -> bool:
    """Whether the learned scanner judges ``target``: a hazard with a classifier it can apply
    (its flag, not word-for-word evidence and the auditor, decides whether a text is about it)."""
    return target.kind == "hazard" and usable(target.examples.classifier if target.examples else None)


def flagged(candidates: list[Candidate]) -> list[Candidate]:
    """The hazard candidates the learned scanner flagged."""
    return [c for c in candidates if c.target.kind == "hazard" and any(s.kind == LEARNED for s in c.signals)]
