"""The one record that flows from the runner to the metrics: a system's answer to one
(possibly attacked) question, with its cost. Stored one JSON line each in answers.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

NO_ATTACK = "-"  # how answers.jsonl keys and older files spell "no attack"


class AnswerRecord(BaseModel):
    key: str
    benchmark: str
    split: str
    attack: str | None = None  # None: the question as written
    system: str
    item_id: str
    question: str
    turns: list[str]
    # a conversation the attacker wrote, sent before the first turn (many-shot's shots)
    history: list[dict[str, str]] = Field(default_factory=list)
    gold: str = ""
    gold_translation: str | None = None  # the gold in the attack's language, made with its turns
    choices: list[str] | None = None
    correct: int | None = None
    target: str | None = None
    answer: str = ""  # the answer to the last turn
    answers: list[str] = Field(default_factory=list)  # one per turn
    translation: str | None = None  # an English translation of the answer, where one was stored
    verdict: str = "passed"
    error: str | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0  # what answering took, calls served from the cache at their original cost
    cached_calls: int = 0  # calls served from the completion cache
    candidates: int = 0  # targets the pre-screen put forward (the most in any turn)
    candidate_names: list[str] = Field(default_factory=list)  # which ones, over all turns

    @field_validator("attack", mode="before")
    @classmethod
    def _no_attack(cls, value: str | None) -> str | None:
        return None if value in (None, NO_ATTACK) else value

    @property
    def refused(self) -> bool:
        return self.verdict in ("refused", "failed_closed")

    @property
    def asked(self) -> list[str]:
        """Everything the user sent: the attacker's conversation (both sides: the user wrote
        it) and the turns. Repeating any of it is an echo, not a leak."""
        return [*(m.get("content", "") for m in self.history), *self.turns]

    @property
    def texts(self) -> list[str]:
        """Every answer the system gave in the conversation (the last one at least)."""
        return self.answers or [self.answer]


def record_key(benchmark: str, split: str, attack: str | None, system: str, item_id: str) -> str:
    return f"{benchmark}|{split}|{attack or NO_ATTACK}|{system}|{item_id}"


def read_answers(path: Path) -> list[AnswerRecord]:
    if not path.is_file():
        return []
    return [
        AnswerRecord.model_validate(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def read_attack_file(path: Path) -> dict[str, dict]:
    """An attack's saved turns (``out/attacks/NAME.jsonl``) by item id; a later line for an
    item replaces an earlier one (the record written again with its gold translation)."""
    if not path.is_file():
        return {}
    saved: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            saved[record["item_id"]] = record
    return saved


def with_attack_golds(records: list[AnswerRecord], folder: Path) -> list[AnswerRecord]:
    """Answers under an attack that has a gold in its language (``language``), given the
    gold saved in ``folder`` (``out/attacks``) where they were stored before it was made:
    only for the very turns the answer was given to."""
    saved = {p.stem: read_attack_file(p) for p in sorted(folder.glob("*.jsonl"))} if folder.is_dir() else {}
    out = []
    for r in records:
        found = saved.get(r.attack or "", {}).get(r.item_id, {})
        if r.gold_translation is None and found.get("gold_translation") and found.get("turns") == r.turns:
            r = r.model_copy(update={"gold_translation": found["gold_translation"]})
        out.append(r)
    return out
