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
    gold: str = ""
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
