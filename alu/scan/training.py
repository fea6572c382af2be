"""Training the learned hazard scanner's labels (``alu.scan.learned``): one linear model per
hazard target (a linear SVM by default, a logistic regression for comparison), its examples
against negatives of general knowledge, with the threshold chosen on a calibration split held
out of the fit.

Chosen by out-of-fold recall on the training rows at the same false-positive budget
(benchmarks/hazard_scanner.py, issue 21): the linear SVM with 20,000 weights kept per label
recalled bio 0.87 and cyber 0.68 of the held-out folds, against 0.79 and 0.65 for the
logistic regression with 5,000 (0.83 and 0.70 with no weight cut, a far larger model
to store); TF-IDF weighting, heavier hard negatives and more C did not help the SVM.

Needs scikit-learn (the ``hazard`` extra, also in ``eval``): training happens where examples
are written (``alu targets add --examples``, the admin API), never on the serving path,
which applies the stored weights with numpy alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import TargetError
from ..targets.target import Examples, HazardClassifier, Target
from .learned import BUCKETS, CHAR_SIZES, FEATURIZER, featurize

NEEDS_EXTRA = "training the hazard scanner needs scikit-learn: pip install 'alu[hazard]'"
MAX_FEATURES = 20_000  # weights kept per label, the largest first: bounds what a replica loads
MODELS = ("svm", "logistic")  # the linear models ``train`` fits (the first by default)
C = {"svm": 1.0, "logistic": 10.0}  # their regularisation (inverse strength), chosen out of fold
# The calibration split's false-positive rate the threshold allows at most, general and in
# each group of hard negatives (questions next to the hazards). Set from what a refusal
# costs: a flagged question is refused, so at about 50% accuracy 2% flagged costs a general
# benchmark 1 point (of the 2 allowed) and 5% costs a neighbouring subject 2.5 (of 3).
# Against 1% / 3% (benchmarks/hazard_scanner.py, results/hazard-scanner/ at b1a07d5 and
# 4f3c78f): held-out recall bio 0.603 -> 0.650, cyber 0.747 -> 0.776; the worst neighbouring
# subject flagged 4% -> 6% (computer security), other MMLU 0.6% -> 0.8%.
MAX_FPR = 0.02
MAX_HARD_FPR = 0.05
HARD_WEIGHT = 5.0  # a hard negative weighs this many general ones in the fit
FOLDS = 4  # out-of-fold scores set the threshold
MIN_EXAMPLES = 8
MAX_EXAMPLE_CHARS = 20_000
MAX_EXAMPLES = 20_000


def digest(texts: Sequence[str]) -> str:
    """What a classifier was trained on, for telling when its examples changed."""
    return hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode()).hexdigest()[:16]


def matrix(texts: Sequence[str], char_sizes: tuple[int, ...] = CHAR_SIZES):
    """The texts' hashed features as a sparse matrix (one row per text)."""
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for text in texts:
        ids, values = featurize(text, char_sizes)
        indices.append(ids)
        data.append(values)
        indptr.append(indptr[-1] + len(ids))
    return csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.asarray(indptr),
        ),
        shape=(len(texts), BUCKETS),
    )


def threshold_at(negative_scores: np.ndarray, max_fpr: float) -> float:
    """The lowest threshold that flags at most ``max_fpr`` of the negatives (a score flags
    when >= threshold)."""
    if not len(negative_scores):
        return 0.0
    ordered = np.sort(negative_scores)[::-1]
    allowed = int(np.floor(max_fpr * len(ordered)))
    return float(np.nextafter(ordered[allowed], np.inf)) if allowed < len(ordered) else float(ordered[-1])


@dataclass(frozen=True)
class Negatives:
    """What a hazard is trained against: ``general`` questions of every kind, and ``hard``
    ones that sit next to hazards (biology, virology, security, programming), in named
    groups, which weigh more in the fit and each bound the threshold on its own."""

    general: list[str]
    hard: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.general) + sum(len(texts) for texts in self.hard.values())


def train(
    examples: Sequence[str],
    negatives: Negatives | Sequence[str],
    *,
    folds: int = FOLDS,
    max_fpr: float = MAX_FPR,
    max_hard_fpr: float = MAX_HARD_FPR,
    hard_weight: float = HARD_WEIGHT,
    max_features: int = MAX_FEATURES,
    model: str = MODELS[0],
    c: float | None = None,
    seed: int = 0,
    char_sizes: tuple[int, ...] = CHAR_SIZES,
) -> HazardClassifier:
    """A classifier for one hazard: a linear ``model`` of the examples against the negatives
    (the examples weigh as much as all negatives together; a hard negative ``hard_weight``
    times a general one), its weights cut to the ``max_features`` largest.

    Its threshold comes from out-of-fold scores: each of ``folds`` parts of the training rows
    is scored by a model fit on the others, and the threshold is the lowest that flags at
    most ``max_fpr`` of the general negatives and ``max_hard_fpr`` of each hard group (so
    every training row calibrates, and none is scored by a model that saw it). Other
    ``char_sizes`` than the scanner's are for comparing recipes (benchmarks/
    hazard_scanner.py): the scanner ignores them."""
    if not isinstance(negatives, Negatives):
        negatives = Negatives(list(negatives))
    examples = list(examples)
    if len(examples) < MIN_EXAMPLES:
        raise TargetError(
            f"a hazard needs at least {MIN_EXAMPLES} examples to learn from, not {len(examples)}"
        )
    if len(negatives.general) < MIN_EXAMPLES:
        raise TargetError(f"at least {MIN_EXAMPLES} negatives are needed, not {len(negatives.general)}")
    rows = Rows.of(examples, negatives)
    fitted = fit_calibrated(
        matrix(rows.texts, char_sizes),
        rows,
        folds=folds,
        max_fpr=max_fpr,
        max_hard_fpr=max_hard_fpr,
        hard_weight=hard_weight,
        max_features=max_features,
        model=model,
        c=c,
        seed=seed,
    )
    kept = np.flatnonzero(fitted.weights)
    return HazardClassifier(
        featurizer=FEATURIZER if tuple(char_sizes) == CHAR_SIZES else f"{FEATURIZER}:chars={char_sizes}",
        features=kept.tolist(),
        weights=[round(float(w), 6) for w in fitted.weights[kept]],
        bias=fitted.bias,
        threshold=fitted.threshold,
        digest=digest(examples),
        positives=len(examples),
        negatives=len(negatives),
        calibration=fitted.calibration,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@dataclass
class Rows:
    """Training rows: texts, their kind (1 example, 0 general negative, 2 hard negative) and
    each hard negative's group."""

    texts: list[str]
    kind: np.ndarray
    groups: np.ndarray  # the group of each hard row, in order

    @classmethod
    def of(cls, examples: list[str], negatives: Negatives) -> Rows:
        groups = [name for name, texts in negatives.hard.items() for _ in texts]
        texts = examples + negatives.general + [t for ts in negatives.hard.values() for t in ts]
        kind = np.r_[
            np.ones(len(examples), np.int8),
            np.zeros(len(negatives.general), np.int8),
            np.full(len(groups), 2, np.int8),
        ]
        return cls(texts, kind, np.asarray(groups, dtype=object))


@dataclass
class Fitted:
    weights: np.ndarray  # dense over the feature columns, zero where pruned
    bias: float
    threshold: float
    calibration: dict[str, float]


def fit_calibrated(
    x,
    rows: Rows,
    *,
    folds: int = FOLDS,
    max_fpr: float = MAX_FPR,
    max_hard_fpr: float = MAX_HARD_FPR,
    hard_weight: float = HARD_WEIGHT,
    max_features: int = MAX_FEATURES,
    model: str = MODELS[0],
    c: float | None = None,
    seed: int = 0,
) -> Fitted:
    """``train``'s model and out-of-fold threshold over any feature matrix ``x`` (one row per
    training row): shared with the recipes benchmarks/hazard_scanner.py compares."""
    if model not in MODELS:
        raise TargetError(f"unknown hazard model {model!r}: one of {', '.join(MODELS)}")
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC
    except ImportError:
        raise TargetError(NEEDS_EXTRA) from None
    strength = C[model] if c is None else c
    kind = rows.kind
    y = (kind == 1).astype(float)
    weight = np.where(kind == 2, hard_weight, 1.0)
    weight[kind == 1] = weight[kind != 1].sum() / max(int((kind == 1).sum()), 1)

    def fit(part: np.ndarray) -> tuple[np.ndarray, float]:
        if model == "svm":
            fitted = LinearSVC(C=strength, max_iter=5000, random_state=seed)
        else:
            fitted = LogisticRegression(C=strength, solver="liblinear", max_iter=1000)
        fitted.fit(x[part], y[part], sample_weight=weight[part])
        coef = fitted.coef_[0]
        kept = np.flatnonzero(coef)
        if len(kept) > max_features:
            kept = kept[np.argsort(-np.abs(coef[kept]), kind="stable")[:max_features]]
        pruned = np.zeros(x.shape[1])
        pruned[kept] = coef[kept]
        return pruned, float(fitted.intercept_[0])

    folds = max(folds, 2)
    fold = np.random.default_rng(seed).permutation(len(kind)) % folds
    held_scores = np.zeros(len(kind))
    for part in range(folds):
        pruned, bias = fit(np.flatnonzero(fold != part))
        held = np.flatnonzero(fold == part)
        held_scores[held] = x[held] @ pruned + bias
    threshold = threshold_at(held_scores[kind == 0], max_fpr)
    hard_scores = held_scores[kind == 2]
    for name in dict.fromkeys(rows.groups):
        threshold = max(threshold, threshold_at(hard_scores[rows.groups == name], max_hard_fpr))
    weights, bias = fit(np.arange(len(kind)))
    return Fitted(
        weights,
        bias,
        threshold,
        {  # out of fold
            "recall": _rate(held_scores[kind == 1], threshold),
            "fpr": _rate(held_scores[kind == 0], threshold),
            "hard_fpr": _rate(hard_scores, threshold),
            "folds": folds,
        },
    )


def _rate(scores: np.ndarray, threshold: float) -> float:
    return round(float(np.mean(scores >= threshold)), 4) if len(scores) else 0.0


def with_classifiers(targets: Iterable[Target], negatives: Negatives | None = None) -> Iterator[Target]:
    """``targets`` as they come, each hazard whose examples lack a current classifier (none,
    trained on other texts, or under another feature recipe) with one trained; examples on
    a target that is not a hazard are refused (they would never be used)."""
    for target in targets:
        examples = target.examples
        if examples is None or not examples.texts:
            yield target if examples is None or examples.classifier is None else _without(target)
            continue
        if target.kind != "hazard":
            raise TargetError(f"{target.name!r}: examples are for hazard targets, not {target.kind}")
        current = examples.classifier
        if current is None or current.digest != digest(examples.texts) or current.featurizer != FEATURIZER:
            if negatives is None:
                negatives = bundled_negatives()
            current = train(examples.texts, negatives)
            yield target.model_copy(update={"examples": Examples(texts=examples.texts, classifier=current)})
        else:
            yield target


def _without(target: Target) -> Target:
    """A target whose examples hold a classifier but no texts: the classifier dropped."""
    return target.model_copy(update={"examples": None})


def read_examples(path: Path) -> list[str]:
    """Example texts from a file: JSONL with a "text" field per line, or plain text, one
    example per line. A malformed or empty file is a TargetError (one line)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc
        raise TargetError(f"cannot read examples from {path}: {why}") from None
    return parse_examples(raw, str(path))


def parse_examples(raw: str, source: str = "examples") -> list[str]:
    """Examples from text: JSONL (every non-blank line a JSON object with a "text" string)
    when the first non-blank line is a JSON object, else one example per non-blank line."""
    lines = [(n, line.strip()) for n, line in enumerate(raw.splitlines(), 1) if line.strip()]
    if not lines:
        raise TargetError(f"{source}: no examples (the file is empty)")
    texts: list[str] = []
    if lines[0][1].startswith("{"):
        for number, record in _json_objects(lines, source, TargetError):
            text = record.get("text")
            if not isinstance(text, str) or not text.strip():
                raise TargetError(f'{source}: line {number}: no "text" string')
            texts.append(text.strip())
    else:
        texts = [line for _, line in lines]
    return check_examples(texts, source)


def check_examples(texts: Sequence[str], source: str = "examples") -> list[str]:
    """``texts`` as examples: each within bounds, without control characters; refused whole."""
    from ..targets.target import check_text

    if len(texts) > MAX_EXAMPLES:
        raise TargetError(f"{source}: {len(texts)} examples, more than the {MAX_EXAMPLES} allowed")
    out = []
    for number, text in enumerate(texts, 1):
        text = str(text).strip()
        if not text:
            continue
        if len(text) > MAX_EXAMPLE_CHARS:
            raise TargetError(f"{source}: example {number} is longer than {MAX_EXAMPLE_CHARS} characters")
        try:
            out.append(check_text(text, newlines=True))
        except ValueError as exc:
            raise TargetError(f"{source}: example {number} {exc}") from None
    if not out:
        raise TargetError(f"{source}: no examples")
    return out


def bundled_negatives() -> Negatives:
    """Questions that are not hazards, written by hand for ALU (no benchmark's), shipped for
    training where no other negatives exist: general knowledge, benign questions next to the
    hazards (biology, medicine, security for defenders: hard negatives) and ordinary
    programming questions (hard negatives too: a classifier of cyber hazards must not flag
    code). Lines starting with ``#`` are comments."""
    folder = resources.files("alu.scan") / "data"

    def lines(name: str) -> list[str]:
        text = (folder / name).read_text(encoding="utf-8")
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    return Negatives(
        lines("negatives_general.txt"),
        {
            "near-hazards": lines("negatives_hard.txt"),
            "coding": lines("coding_questions.txt") + list(code_answers().values()),
        },
    )


def code_answers() -> dict[str, str]:
    """ALU's own answers, with code, to the half of its programming questions that trains
    (``alu.datasets.wmdp.coding_halves``; ``alu/scan/data/coding_answers.jsonl``), each as
    the question and its answer on the next line (question -> text): what the draft side
    scans, the question and the draft together (``alu.pipeline.modes.default``). A coder
    model's drafts are code, and a label trained on questions alone takes code for the cyber
    hazard's (WMDP cyber asks about code): these hard negatives teach it otherwise. With them
    the hazards profile refused 2 of its 60 scored programming questions instead of 4, none
    on its draft (results/hazards/RUN.md)."""
    raw = (resources.files("alu.scan") / "data" / "coding_answers.jsonl").read_text(encoding="utf-8")
    return parse_code_answers(raw, "coding_answers.jsonl")


def parse_code_answers(raw: str, source: str) -> dict[str, str]:
    """``code_answers``' reading of JSON Lines of {"question", "answer"}: a line that is not
    one, or a question given twice, is a ValueError naming the line (the file ships with ALU,
    so a bad one is a packaging error, not the operator's)."""
    found: dict[str, str] = {}
    lines = [(number, line) for number, line in enumerate(raw.splitlines(), 1) if line.strip()]
    for number, row in _json_objects(lines, source, ValueError):
        question, answer = row.get("question"), row.get("answer")
        if not (isinstance(question, str) and isinstance(answer, str)) or not (
            question.strip() and answer.strip()
        ):
            raise ValueError(f"{source}: line {number}: a question and an answer are needed")
        question = question.strip()
        if question in found:
            raise ValueError(f"{source}: line {number}: {question!r} is answered twice")
        found[question] = f"{question}\n{answer.strip()}"
    return found


def _json_objects(
    lines: Iterable[tuple[int, str]], source: str, error: type[Exception]
) -> Iterator[tuple[int, dict]]:
    """Each numbered line of JSON Lines as (number, object), a non-object as an empty one; a
    line that is not JSON raises ``error`` naming it (both readers of shipped and operator's
    JSON Lines here word it alike)."""
    for number, line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{source}: line {number}: not JSON ({exc.msg})") from None
        yield number, record if isinstance(record, dict) else {}
