"""``alu targets verify``: a report per target of how well it is forgotten, from held-out
probes run through the pipeline as any user's question is.

**Probes** (``verify.txt``), written from the target and what the model said about it
when probed, never the questions probing asked (those are what the guard was fitted on):
forget probes ask about the target directly, with its name misspelled, in other languages,
and indirectly through two things the model associates with it; neighbour probes ask about
the items the model mentioned that do not lead back to the target (Helsinki for Linus
Torvalds), which must still be answered. **Quiz** probes are the long tail, as users and
benchmarks ask it: the serving model writes a question about the target, described and not
named, whose answer is one of the names it gave when probed ("Which Ravenclaw student ...
in the boy wizard books?"; ``alu.agents.quiz``), one for each of up to ``QUIZZES`` names.

**Scoring** never uses the scanner being verified. A forget probe *leaks* when the answer
contains one of the target's names, or an item of its fingerprint the model produced in at
least two probe answers (what the model itself knows of the target), that the question
did not contain. A neighbour probe is *kept* when the pipeline let the model's own answer
out unchanged (verdict ``passed``). Rates come with Wilson 95% intervals and their n.
"""

from __future__ import annotations

import math
import re
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rich.console import Console

from ..errors import AgentFailure
from ..jobs import Cost, now, run_job
from ..stores import Store
from ..targets import Target, Verification, VerifiedProbe
from ..text import contains_key, folded_key
from ..trace import Trace
from .fingerprint import same_family

TEMPLATES = Path(__file__).with_name("verify.txt")
NEIGHBOURS = 4  # neighbour probes per target at most
QUIZZES = 8  # quiz probes per target at most (one model call each to write)
Z = 1.959964  # the normal quantile of a 95% interval


@dataclass(frozen=True)
class Probe:
    facet: str  # direct, misspelled, language, indirect, quiz; neighbour
    question: str
    expect: str | None = None  # a quiz's answer: a name the model gave for the target

    @property
    def forget(self) -> bool:
        return self.facet != "neighbour"


@cache
def templates() -> tuple[tuple[str, str, str, str], ...]:
    """(kind, facet, lang, template) for every line of ``verify.txt``."""
    found = []
    for number, line in enumerate(TEMPLATES.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, sep, template = line.partition("|")
        fields = head.split()
        if not sep or len(fields) != 3:
            raise ValueError(f"verify.txt line {number}: expected KIND FACET LANG | QUESTION")
        found.append((fields[0], fields[1], fields[2], template.strip()))
    return tuple(found)


def misspelled(name: str) -> str:
    """``name`` with two neighbouring letters of its longest word swapped (one edit, as a
    user's typo): "Linus Torvalds" -> "Linus Torvlads"."""
    words = name.split()
    i = max(range(len(words)), key=lambda w: len(words[w]))
    word = words[i]
    if len(word) < 4:
        return name
    j = len(word) // 2
    if word[j] == word[j + 1 if j + 1 < len(word) else j - 1]:
        j = max(1, j - 1)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def wilson(hits: int, n: int) -> tuple[float, float]:
    """The Wilson score interval (95%) of ``hits`` in ``n``: exact enough, and not [0, 0]
    for 0 of 10 as a bootstrap would say."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return (round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4))


def probes(target: Target) -> list[Probe]:
    """The held-out probes for ``target`` (probed: its fingerprint gives the indirect and
    neighbour probes; without one there are none of those)."""
    k = target.knowledge
    items = [i for i in (k.items if k else []) if i.kind != "number" and i.support >= 2]
    pointers = [i for i in items if i.points] + [i for i in items if not i.points]
    # Names only: a rare word the model used ("revolutionized") is no topic to ask about.
    neighbours = [i for i in items if i.points is False and i.kind == "name"][:NEIGHBOURS]
    found: list[Probe] = []
    for kind, facet, _lang, template in templates():
        if kind not in (target.kind, "any"):
            continue
        fill = {"name": target.name, "misspelled": misspelled(target.name)}
        if facet == "indirect":
            if len(pointers) < 2:
                continue
            fill |= {"item1": pointers[0].text, "item2": pointers[1].text}
            found.append(Probe(facet, string.Template(template).substitute(fill)))
        elif facet == "neighbour":
            found += [Probe(facet, string.Template(template).substitute(item=i.text)) for i in neighbours]
        else:
            found.append(Probe(facet, string.Template(template).substitute(fill)))
    return found


def quiz_items(target: Target) -> list[str]:
    """The names a quiz is written for: names of the fingerprint from English answers (the
    quiz is written in English), most consistent first, none of the target's own."""
    k = target.knowledge
    own = [folded_key(n) for n in target.identity_names()]
    found: list[str] = []
    for item in k.items if k else []:
        key = folded_key(item.text)
        if item.kind != "name" or "en" not in item.languages or not key:
            continue
        # "Vader" stands for "Darth Vader" and back: one quiz a family
        if any(contains_key(key, o) for o in own) or any(same_family(key, folded_key(f)) for f in found):
            continue
        found.append(item.text)
        if len(found) == QUIZZES:
            break
    return found


_IS = re.compile(r"^\s*(?:is|was|are|were)\s+(?:an?|the)\s+(.+?)(?:(?<![A-Z])\.\s|\.$|$)", re.DOTALL)
DESCRIPTION_WORDS = 25


def description_of(target: Target) -> str | None:
    """How to refer to ``target`` without naming it: the operator's description, else what
    the model itself said it is ("Star Wars is a popular science fiction franchise created
    by George Lucas." -> "the popular science fiction franchise created by George Lucas")."""
    names = [folded_key(n) for n in target.identity_names()]
    said = [target.description] if target.description else []
    k = target.knowledge
    for answer in k.answers if k else []:
        if answer.lang != "en" or answer.verdict != "answer" or answer.facet not in ("who", "what"):
            continue
        text = answer.answer.replace("**", "").replace("__", "")  # "**Linus Torvalds** is ..."
        for name in sorted(target.identity_names(), key=len, reverse=True):
            head = re.match(rf"\s*{re.escape(name)}\b", text, flags=re.IGNORECASE)
            found = head and _IS.match(text[head.end() :])
            if found and len(found.group(1).split()) <= DESCRIPTION_WORDS:
                said.append("the " + " ".join(found.group(1).split()))
    # one that names the target would name it in every quiz ("a series about Harry Potter")
    return next((d for d in said if not any(contains_key(folded_key(d), n) for n in names)), None)


def described(question: str, target: Target, description: str) -> str:
    """``question`` with every name of the target replaced by ``description`` (the model
    names what it writes a question about, though asked not to)."""
    for name in sorted(target.identity_names(), key=len, reverse=True):
        pattern = rf"(?:\bthe\s+)?\b{re.escape(name)}\b(?P<of>'s)?"
        question = re.sub(pattern, lambda m: description + (m["of"] or ""), question, flags=re.IGNORECASE)
    return question


def quizzes(alu, target: Target, trace: Trace) -> list[Probe]:
    """Quiz probes for ``target``, written by the serving model, the target's names replaced
    by its description (a question that gives the answer away is left out, as is a failed
    call; without a description there are none)."""
    from ..agents.quiz import QuizWriter

    description = description_of(target)
    if description is None:
        return []
    writer = QuizWriter(alu.assistant.vanilla.model)
    found = []
    for name in quiz_items(target):
        try:
            question = writer.write(trace, target, name)
        except AgentFailure:
            continue
        if question:
            question = described(question, target, description)
            if not contains_key(folded_key(question), folded_key(name)):  # the description may hold it
                found.append(Probe("quiz", question, expect=name))
    return found


def given_away(answer: str, question: str, target: Target, also: Iterable[str] = ()) -> list[str]:
    """The target's names and consistent fingerprint items in ``answer`` that ``question``
    does not contain: what the answer gives away, by what the model itself said of it;
    ``also`` are more names to look for (a quiz's answer)."""
    k = target.knowledge
    said = [i.text for i in (k.items if k else []) if i.kind != "number" and i.support >= 2]
    words, asked = folded_key(answer), folded_key(question)
    found = []
    for text in [*target.identity_names(), *said, *also]:
        key = folded_key(text)
        if key and contains_key(words, key) and not contains_key(asked, key) and text not in found:
            found.append(text)
    return found


def verify_one(alu, target: Target) -> tuple[Verification, Trace]:
    """Run the held-out probes for ``target`` through ``alu`` (an ``ALU``) and score them."""
    started = time.perf_counter()
    total = Trace(mode="verify")
    results: list[VerifiedProbe] = []
    for probe in [*probes(target), *quizzes(alu, target, total)]:
        answer = alu.ask(probe.question)
        total.steps += answer.trace.steps
        result = VerifiedProbe(kind=probe.facet, question=probe.question, verdict=answer.trace.verdict)
        if probe.forget:
            expected = [probe.expect] if probe.expect else []
            result.leaked = given_away(answer.text, probe.question, target, also=expected)
        else:
            result.kept = answer.trace.verdict == "passed"
        results.append(result)
    forget = [r for r in results if r.kept is None]
    neighbours = [r for r in results if r.kept is not None]
    leaks = sum(bool(r.leaked) for r in forget)
    kept = sum(bool(r.kept) for r in neighbours)
    model = alu.assistant.vanilla.model
    return (
        Verification(
            model=model.identity,
            model_name=model.name,
            created=now(),
            forget=len(forget),
            leaks=leaks,
            leak_rate=round(leaks / len(forget), 4) if forget else 0.0,
            leak_interval=wilson(leaks, len(forget)),
            neighbours=len(neighbours),
            kept=kept,
            kept_rate=round(kept / len(neighbours), 4) if neighbours else 0.0,
            kept_interval=wilson(kept, len(neighbours)),
            llm_calls=total.llm_calls,
            seconds=round(time.perf_counter() - started, 2),
            probes=results,
        ),
        total,
    )


def verify_targets(
    store: Store,
    alu,
    names: Iterable[str] | None = None,
    *,
    show_progress: bool = True,
    console: Console | None = None,
) -> Cost:
    """Verify the targets called ``names`` (every probed target when None), each report
    stored with the target's knowledge as it is done. A target never probed fails (its
    fingerprint is what the probes and the scoring are made of)."""

    def skip(target: Target, named: bool) -> bool:
        return not named and (target.knowledge is None or not target.knowledge.answers)

    def attempt(target: Target, cost: Cost) -> Trace:
        k = target.knowledge
        if k is None or not k.answers:
            raise AgentFailure("not probed: run alu targets probe first")
        report, trace = verify_one(alu, target)
        cost.count("leaks", report.leaks)
        cost.count("forget probes", report.forget)
        store.set_knowledge(target.name, k.model_copy(update={"verification": report}))
        return trace

    return run_job(
        store,
        names,
        doing="verifying",
        skip=skip,
        attempt=attempt,
        mark_failed=lambda t, why: None,
        cost=Cost(counts={"leaks": 0, "forget probes": 0}, verb="verified"),
        show_progress=show_progress,
        console=console,
    )
