"""ExampleWriter: the serving model writes the example questions a hazard target's label in
the learned scanner (``alu.scan.training``) is trained on, from the hazard's name and
description alone, and questions about ordinary topics to train against: a deployment with
no benchmark data still gets a classifier (issue 21). The model that serves is the one that
knows how people ask for the hazard, the same self-probing as ``alu targets probe``.

Each call asks for about ten questions, one per line, on one angle (agents, methods,
acquisition, ...) or topic in one voice (chat, exam, a stated reason), greedy: the calls
differ by what they ask, never by sampling, so a run is repeatable. The angles, topics and
voices are data in ``example_writer.txt``. A call that fails or writes nothing usable gives
nothing; fewer usable questions in all than training needs is a TargetError.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from ..errors import AgentFailure, TargetError
from ..models import Model
from ..scan.training import MIN_EXAMPLES
from ..targets import Target
from ..targets.target import check_text
from ..trace import Trace
from . import PROMPTS, Agent, quote

PER_CALL = 10  # questions one call asks for
TOKENS_PER_QUESTION = 40
MAX_FAILURES_IN_A_ROW = 3  # a backend that is down is given up on, not asked thirty times
MIN_CHARS, MAX_CHARS, MIN_WORDS = 12, 400, 3
# The first words of a question or request that does not end with "?" ("Explain how ...").
REQUESTS = frozenset(
    "how what which who whom whose where when why can could is are does do should would "
    "explain describe list give tell outline provide show name compare identify suggest "
    "summarize summarise walk detail recommend help teach write".split()
)
# What a model opens a line with: bullets, "1.", "(2)", "a)", "Q3:", "Question:", markdown.
LEAD = re.compile(
    r"^(?:\*\*[^*\n]{1,40}?(?::\*\*|\*\*:)|[-*•·–—>#]+|\(?\d{1,3}\s*[.):\]](?!\d)"
    r"|\(?[a-z][.)](?=\s)|q(?:uestion)?\s*\d*\s*[:.)])\s*",
    re.I,
)
Progress = Callable[[int], None]  # called after each model call with the questions kept so far


@dataclass(frozen=True)
class Batch:
    """One call: what it asks about (an angle of the hazard, or an ordinary topic) and how."""

    about: str  # the angle's or topic's name
    text: str  # what it is, as the prompt says it
    voice: str
    voice_text: str

    @property
    def step(self) -> str:
        return f"{self.about}/{self.voice}"


@cache
def sections() -> dict[str, list[str]]:
    """``example_writer.txt`` by section, comment lines dropped."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, line in enumerate(
        (PROMPTS / "example_writer.txt").read_text(encoding="utf-8").splitlines(), 1
    ):
        if line.startswith("#"):
            continue
        head = re.fullmatch(r"\[(\w+)\]\s*", line)
        if head:
            current = found.setdefault(head.group(1), [])
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise ValueError(f"example_writer.txt line {number}: text before the first [section]")
    return found


def template(section: str) -> string.Template:
    return string.Template("\n".join(sections()[section]).strip())


def entries(section: str) -> list[tuple[str, str]]:
    """A data section's NAME | TEXT lines."""
    out = []
    for line in sections()[section]:
        if line.strip():
            name, sep, text = line.partition("|")
            if not sep or not name.strip() or not text.strip():
                raise ValueError(f"example_writer.txt [{section}]: expected NAME | TEXT, not {line!r}")
            out.append((name.strip(), text.strip()))
    return out


def plan(section: str) -> list[Batch]:
    """Every call a run may make, in order: each angle (topic) in the first voice, then the next."""
    return [Batch(n, t, v, vt) for v, vt in entries("voices") for n, t in entries(section)]


def capacity(section: str = "angles") -> int:
    """The most questions a run can ask for."""
    return len(plan(section)) * PER_CALL


def check_count(count: int, section: str = "angles") -> int:
    """``count`` when a run can write that many questions, else a TargetError."""
    if not MIN_EXAMPLES <= count <= capacity(section):
        raise TargetError(f"ask for {MIN_EXAMPLES} to {capacity(section)} generated examples, not {count}")
    return count


def fold(text: str) -> str:
    """The key two questions are the same by: case, spacing and closing marks aside."""
    return " ".join(text.casefold().split()).rstrip("?.!: ")


def parse_questions(text: str) -> list[str]:
    """The questions in a model's reply, one per line: numbering, bullets, markdown and quotes
    stripped; a blank, short, overlong or malformed line, a heading ("Here are ten
    questions:") or a line that neither asks nor requests dropped; duplicates once."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        while (match := LEAD.match(line)) and match.end():
            line = line[match.end() :]
        line = " ".join(line.strip(" *_`\"'“”‘’").split())
        first = line.split(" ", 1)[0].strip(",.:;").casefold()
        if not (line.endswith("?") or first in REQUESTS):
            continue
        if len(line) < MIN_CHARS or len(line) > MAX_CHARS or len(line.split()) < MIN_WORDS:
            continue
        try:
            check_text(line)
        except ValueError:
            continue
        found.setdefault(fold(line), line)
    return list(found.values())


class ExampleWriter(Agent):
    name = "example_writer"

    def __init__(self, model: Model, *, timeout: float | None = None):
        super().__init__(model, timeout=timeout, max_tokens=PER_CALL * TOKENS_PER_QUESTION)

    def batch(self, trace: Trace, batch: Batch, target: Target | None = None) -> list[str]:
        """One call's questions: about the hazard ``target`` from ``batch``'s angle, or
        without a target about ``batch``'s ordinary topic. Raises AgentFailure."""
        if target is None:
            prompt = template("ordinary").substitute(count=PER_CALL, topic=batch.text, voice=batch.voice_text)
            detail = {"topic": batch.about}
        else:
            hazard = target.name + (f": {target.description}" if target.description else "")
            prompt = template("hazard").substitute(
                count=PER_CALL, hazard=quote(hazard), angle=batch.text, voice=batch.voice_text
            )
            detail = {"target": target.name}
        text = self._call(trace, [{"role": "user", "content": prompt}], step=batch.step, detail=detail)
        return parse_questions(text)

    def write(
        self, trace: Trace, count: int, target: Target | None = None, progress: Progress | None = None
    ) -> list[str]:
        """Up to ``count`` different questions over as many calls as it takes (at most two more
        than twice the calls ``count`` needs, within the plan): about the hazard ``target``, or
        about ordinary topics when it is None. Fewer than training needs is a TargetError."""
        section = "topics" if target is None else "angles"
        check_count(count, section)
        calls = min(len(plan(section)), 2 * math.ceil(count / PER_CALL) + 2)
        found: dict[str, str] = {}
        failures, last_error = 0, ""
        for batch in plan(section)[:calls]:
            try:
                questions = self.batch(trace, batch, target)
                failures = 0
            except AgentFailure as exc:
                questions, failures = [], failures + 1
                last_error = " ".join(str(exc).split())[:200]
            for question in questions:
                found.setdefault(fold(question), question)
            if progress is not None:
                progress(min(len(found), count))
            if len(found) >= count or failures >= MAX_FAILURES_IN_A_ROW:
                break
        if len(found) < MIN_EXAMPLES:
            what = f"about {target.name!r}" if target is not None else "about ordinary topics"
            why = f" (last failure: {last_error})" if last_error else ""
            raise TargetError(
                f"the model wrote {len(found)} usable questions {what} in {trace.llm_calls} calls,"
                f" fewer than the {MIN_EXAMPLES} training needs{why}"
            )
        return list(found.values())[:count]


def generate_examples(
    model: Model,
    target: Target,
    count: int = 200,
    *,
    timeout: float | None = None,
    trace: Trace | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Up to ``count`` example questions for the hazard ``target``, written by ``model`` from
    its name and description; the calls are counted into ``trace`` when given."""
    if target.kind != "hazard":
        raise TargetError(f"{target.name!r}: examples are for hazard targets, not {target.kind}")
    writer = ExampleWriter(model, timeout=timeout)
    return writer.write(trace or Trace(mode="examples"), count, target, progress)


def generate_negatives(
    model: Model,
    count: int = 200,
    *,
    timeout: float | None = None,
    trace: Trace | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Up to ``count`` questions about ordinary topics written by ``model``: negatives to train
    against where no benchmark's exist (``alu.scan.training.Negatives``'s general ones)."""
    writer = ExampleWriter(model, timeout=timeout)
    return writer.write(trace or Trace(mode="negatives"), count, None, progress)
