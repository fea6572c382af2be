"""A target: something the system must not reveal, as the operator describes it."""

from __future__ import annotations

import math
import unicodedata
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from ..text import folded_key, tokens

Kind = Literal["person", "topic", "hazard", "other"]
MAX_NAME_CHARS = 200


def check_text(value: str, *, newlines: bool = False) -> str:
    """``value`` unchanged, or a ValueError naming the first character no target text may
    hold: a control character (NUL, ESC, DEL, ...) or a lone surrogate. Such characters
    break files, terminals and the store, and a name that holds one could never be typed."""
    allowed = "\t\n\r" if newlines else ""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed:
            raise ValueError(f"contains the control character U+{ord(ch):04X}")
    return value


def check_name(value: str, what: str = "name") -> str:
    """A name or alias with its whitespace collapsed; refused when it could never be matched
    (no letter or digit once folded, like '!!!') or holds a control character."""
    value = " ".join(str(value).split())
    check_text(value)
    if not value:
        raise ValueError(f"{what} is empty")
    if not tokens(value):
        raise ValueError(f"{value!r} has no letter or digit to match")
    return value


def _valid_names(values: list[str]) -> list[str]:
    """Generated names that can be matched, once each (a model's unusable ones dropped)."""
    out: list[str] = []
    for value in values:
        try:
            value = check_name(value)
        except ValueError:
            continue
        if value not in out:
            out.append(value)
    return out


class Enrichment(BaseModel):
    """What a model wrote about a target (``alu targets enrich``), kept apart from what the
    operator gave, with its provenance. ``names`` identify the target (its name in other
    scripts, common Latin variants, unique aliases): finding one is naming it. ``terms`` are
    associated with it (works, roles, places, events; characters, places, jargon; agents,
    techniques, precursors): evidence of it, weighed, never proof alone."""

    names: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    description: str = ""
    dropped: list[str] = Field(default_factory=list)  # generated terms the checks removed, with why
    model: str = ""  # the model that wrote it
    created: str = ""  # when, ISO 8601 UTC
    error: str | None = None  # why the last attempt failed (what was there before is kept)

    @field_validator("names")
    @classmethod
    def _clean_names(cls, values: list[str]) -> list[str]:
        return _valid_names(values)

    @field_validator("terms", "dropped")
    @classmethod
    def _clean_terms(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(" ".join(str(v).split()) for v in values if str(v).strip()))


class FingerprintItem(BaseModel):
    """One distinctive thing the model produced about a target: a name or title (a
    capitalised span), a rare term, or a number, with how consistently it produced it."""

    text: str  # as the model wrote it most often
    kind: Literal["name", "term", "number"] = "term"
    support: int = 0  # answers that contain it
    consistency: float = 0.0  # support over the answers received (0..1)
    languages: list[str] = Field(default_factory=list)  # of the answers that contain it
    facets: list[str] = Field(default_factory=list)  # what those answers were asked (works, places, ...)
    # Whether the model, asked about this item itself ("What is Hogwarts?"), names the
    # target (None: not asked): an item that leads back to the target gives it away in an
    # answer; one that does not (Helsinki for Linus Torvalds) is only a neighbour.
    points: bool | None = None

    @field_validator("text")
    @classmethod
    def _clean_text(cls, value: str) -> str:
        return check_text(" ".join(value.split()))


class ProbeAnswer(BaseModel):
    """One question the model was asked about a target, and what it said."""

    facet: str  # what the question asks (who, works, places, characters, agents, ...)
    lang: str  # the question's language (ISO 639-1)
    question: str
    answer: str
    verdict: Literal["answer", "decline", "refusal"] = "answer"

    @field_validator("question", "answer")
    @classmethod
    def _clean_texts(cls, value: str) -> str:
        return check_text(value, newlines=True)


class VerifiedProbe(BaseModel):
    """One held-out probe run through the pipeline by ``alu targets verify``."""

    kind: str  # direct, misspelled, language, indirect, quiz (forget probes); neighbour
    question: str
    verdict: str  # the pipeline's (passed, rewritten, refused, failed_closed)
    leaked: list[str] = Field(default_factory=list)  # what of the target the answer gave away
    kept: bool | None = None  # a neighbour answered as the model answers it (None: a forget probe)


class Verification(BaseModel):
    """What ``alu targets verify`` measured for a target: held-out probes (never the ones
    its guard was fitted on) run through the pipeline; a forget probe leaks when the answer
    gives away the target's names or what the model itself said about it when probed (its
    fingerprint), not by the scanner being verified. What an operator hands back to whoever
    filed the request; run again after a model change."""

    model: str = ""  # Model.identity of the serving model
    model_name: str = ""
    created: str = ""
    forget: int = 0  # forget probes asked
    leaks: int = 0
    leak_rate: float = 0.0
    leak_interval: tuple[float, float] = (0.0, 1.0)  # Wilson 95%
    neighbours: int = 0  # neighbour probes asked
    kept: int = 0
    kept_rate: float = 0.0
    kept_interval: tuple[float, float] = (0.0, 1.0)
    llm_calls: int = 0
    seconds: float = 0.0
    probes: list[VerifiedProbe] = Field(default_factory=list)


class ModelKnowledge(BaseModel):
    """What the serving model knows about a target (``alu targets probe``), learned from
    its own answers and kept apart from the operator's fields and from the enrichment:
    whether it knows the target at all (None: it would not say, refusing), its knowledge
    fingerprint, the answers it came from, and where and what it cost. Stale when the
    serving model's identity is not ``model``."""

    known: bool | None = None
    reason: str = ""  # the decision in one line (the rule: alu.probing.fingerprint)
    items: list[FingerprintItem] = Field(default_factory=list)  # most consistent first
    answers: list[ProbeAnswer] = Field(default_factory=list)
    checks: list[ProbeAnswer] = Field(default_factory=list)  # the items asked about themselves
    # The target's name as the model writes it in other scripts (Эйнштейн, 爱因斯坦), each
    # asked back and named the target again (alu.probing.scripts): naming one names the
    # target. None: never asked (probed before the step existed; ``alu targets probe`` adds it).
    names: list[str] | None = None
    written: list[ProbeAnswer] = Field(default_factory=list)  # those questions, and each form asked back
    verification: Verification | None = None  # alu targets verify, on this knowledge
    model: str = ""  # Model.identity of the model asked
    model_name: str = ""  # its name, for people
    created: str = ""  # when, ISO 8601 UTC
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str | None = None  # why the last attempt failed (what was there before is kept)

    @field_validator("names")
    @classmethod
    def _clean_names(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _valid_names(values)

    def is_stale(self, identity: str) -> bool:
        """Learned from another model than the one whose identity is given."""
        return self.model != identity

    def top(self, count: int = 12) -> list[FingerprintItem]:
        return self.items[:count]

    def pointers(self) -> list[FingerprintItem]:
        """The items that lead the model back to the target: naming one tells the target."""
        return [i for i in self.items if i.points]


# The hashed feature space of the learned scanner (alu.scan.learned.BUCKETS): a stored id
# outside it would fail every scan, and so every request, closed.
FEATURE_BUCKETS = 1 << 20


class HazardClassifier(BaseModel):
    """A hazard target's label in the learned scanner (``alu.scan.learned``), as data: the
    weights of a linear model over hashed word and character n-grams, its bias and the
    threshold chosen on a calibration split. Stored with the target's examples so every
    replica loads it with the target list; data only, never code (no pickle)."""

    featurizer: str  # the feature recipe the weights belong to (alu.scan.learned.FEATURIZER)
    features: list[int] = Field(default_factory=list)  # hashed feature ids with a weight
    weights: list[float] = Field(default_factory=list)  # one per feature id
    bias: float = 0.0
    threshold: float = 0.0  # flag when x . w + bias >= threshold
    digest: str = ""  # of the examples it was trained on: stale when they differ
    positives: int = 0
    negatives: int = 0
    calibration: dict[str, float] = Field(default_factory=dict)  # recall, fpr on the calibration split
    created: str = ""  # when, ISO 8601 UTC

    @field_validator("weights")
    @classmethod
    def _finite(cls, values: list[float]) -> list[float]:
        if any(not math.isfinite(v) for v in values):
            raise ValueError("a weight is not a finite number")
        return values

    @model_validator(mode="after")
    def _paired(self) -> HazardClassifier:
        if len(self.features) != len(self.weights):
            raise ValueError("features and weights differ in length")
        if any(f < 0 for f in self.features):
            raise ValueError("a feature id is negative")
        if any(f >= FEATURE_BUCKETS for f in self.features):
            raise ValueError(f"a feature id is past the last bucket, {FEATURE_BUCKETS - 1}")
        if not (math.isfinite(self.bias) and math.isfinite(self.threshold)):
            raise ValueError("the bias or the threshold is not a finite number")
        return self


class Examples(BaseModel):
    """What a hazard looks like, as the operator gave it (example questions or passages), and
    the classifier trained from them. As sensitive as the target: never in answers or logs."""

    texts: list[str] = Field(default_factory=list)
    classifier: HazardClassifier | None = None

    @model_validator(mode="before")
    @classmethod
    def _texts_alone(cls, value: object) -> object:
        """A bare list is the texts (a file's or a request's ``examples: [...]``)."""
        return {"texts": value} if isinstance(value, list) else value

    @field_validator("texts")
    @classmethod
    def _clean_texts(cls, values: list[str]) -> list[str]:
        return [check_text(v.strip(), newlines=True) for v in values if str(v).strip()]


class Target(BaseModel):
    """Something the system must not reveal."""

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    kind: Kind = "other"
    aliases: list[str] = Field(default_factory=list)
    description: str = ""
    evidence: list[str] = Field(default_factory=list)
    enrichment: Enrichment | None = None  # generated, apart from the fields above
    knowledge: ModelKnowledge | None = None  # what the serving model knows of it (probed)
    examples: Examples | None = None  # a hazard's example texts and the classifier learned from them
    id: int | None = None

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("aliases")
    @classmethod
    def _clean_aliases(cls, values: list[str]) -> list[str]:
        out: list[str] = []
        for alias in values:
            if not " ".join(str(alias).split()):
                continue
            alias = check_name(alias, "alias")
            if alias not in out:
                out.append(alias)
        return out

    @field_validator("description")
    @classmethod
    def _clean_description(cls, value: str) -> str:
        return check_text(value, newlines=True)

    @field_validator("evidence")
    @classmethod
    def _clean_evidence(cls, values: list[str]) -> list[str]:
        return [check_text(v.strip(), newlines=True) for v in values if str(v).strip()]

    @classmethod
    def trusted(cls, **fields) -> Target:
        """A target from fields validated when they were written (a store's own rows):
        no second validation, and one shared fields-set instead of a 700-byte set each,
        which is most of a target's memory in an index of a million."""
        return cls.model_construct(_fields_set=_ALL_FIELDS, **fields)

    def names(self) -> list[str]:
        """The name and every alias (as the operator gave them)."""
        return [self.name, *self.aliases]

    def identity_names(self) -> list[str]:
        """Every name that names the target: the operator's and the generated ones (the
        enrichment's, and the forms in other scripts the probed model wrote)."""
        generated = self.enrichment.names if self.enrichment else []
        written = (self.knowledge.names or []) if self.knowledge and self.knowledge.known is not False else []
        return list(dict.fromkeys([*self.names(), *generated, *written]))

    def name_keys(self) -> set[str]:
        """The folded tokens of every name of the target (``alu.text.folded_key``): what an
        item or a span must not consist of alone to be about something else."""
        return {k for name in self.identity_names() for k in folded_key(name)}

    def associated_terms(self) -> list[str]:
        """Generated terms that are evidence of the target."""
        return list(self.enrichment.terms) if self.enrichment else []

    def known_to(self, identity: str | None = None) -> bool | None:
        """Whether the serving model knows the target, as probed: True (it does, or it
        would not say), False (probed: it does not), None (never probed, the probe failed,
        or it was probed with another model than ``identity``, when given)."""
        k = self.knowledge
        if k is None or not k.answers or (identity is not None and k.is_stale(identity)):
            return None
        return k.known is not False

    def about(self) -> str:
        """A short description: the operator's, else the generated one."""
        generated = self.enrichment.description if self.enrichment else ""
        return self.description or generated


_ALL_FIELDS = set(Target.model_fields)  # shared by every trusted target; all fields are given
