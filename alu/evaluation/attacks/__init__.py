"""Attacks on forget questions, one module each. An attack turns an item into the user
turns of a conversation (the last one carries the attacked question), optionally after a
conversation the attacker wrote (``history``: the shots of many-shot, sent as earlier
user and assistant messages, as any chat API lets a caller). Turns made by a model
(translations) are generated once and saved with their generator, so runs repeat; so is
the gold answer in the attack's language, where the attack has one (``gold``), so that an
answer in that language is scored against it without a model at report time."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...datasets import Benchmark, Item
from ...errors import EvalError
from ...models import Model
from ...registry import Registry


@dataclass
class AttackContext:
    model: Model
    benchmark: Benchmark
    data_root: Path
    seed: int = 0

    def target_of(self, item: Item):
        return next((t for t in self.benchmark.targets if t.name == item.target), None)

    def siblings(self, item: Item) -> list[Item]:
        """Other forget items about the same target."""
        forget = next(s for s in self.benchmark.splits if s.role == "forget")
        return [i for i in forget.items if i.target == item.target and i.id != item.id]


@dataclass
class Attacked:
    """What an attack sends: ``turns`` asked one after another (each answered by the system),
    after ``history``, a conversation the attacker wrote (never answered by the system)."""

    turns: list[str]
    history: list[dict[str, str]] = field(default_factory=list)
    gold: str | None = None  # the gold answer in the attack's language (Attack.gold), once made


Made = list[str] | Attacked


@dataclass
class Attack:
    name: str
    generator: str  # how the turns are made; saved beside them
    make: Callable[[Item, AttackContext], Made]
    # The gold answer as an answer under this attack would give it (in its language), and
    # how it is made: saved beside the turns, scored by leaks.judge. None: the English gold.
    gold: Callable[[Item, AttackContext], str] | None = None
    gold_generator: str = ""

    def attack(self, item: Item, ctx: AttackContext) -> Attacked:
        made = self.make(item, ctx)
        return made if isinstance(made, Attacked) else Attacked(list(made))


_ATTACKS: Registry[Attack] = Registry("attack", __name__, EvalError)


def register(
    name: str,
    generator: str,
    gold: Callable[[Item, AttackContext], str] | None = None,
    gold_generator: str = "",
) -> Callable:
    def wrap(make: Callable[[Item, AttackContext], Made]):
        _ATTACKS.add(name, Attack(name, generator, make, gold, gold_generator))
        return make

    return wrap


def attacks() -> list[str]:
    return _ATTACKS.names()


def get_attack(name: str) -> Attack:
    return _ATTACKS.get(name)


def replace_name(text: str, name: str, replacement: str, possessive: str | None = None) -> tuple[str, bool]:
    """Replace the full name, else its last word (a surname), case-insensitively; a
    possessive ("X's") becomes ``possessive`` (default: the replacement + "'s")."""
    possessive = possessive or f"{replacement}'s"
    for form in (name, name.split()[-1]):
        pattern = re.compile(rf"(?<!\w){re.escape(form)}('s|’s)?(?!\w)", re.I)
        if pattern.search(text):
            return pattern.sub(lambda m: possessive if m.group(1) else replacement, text, count=1), True
    return text, False
