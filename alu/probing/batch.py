"""Probing targets: a few short questions each to the serving model, distilled into what it
knows of the target, written to the store as soon as each is done (``alu.jobs``: progress,
cost, resumable, failures marked and never blocking).

A target already probed with the same model (``Model.identity``) is skipped unless
``force``, whatever was found, a target the model does not know included: asking again
would find the same; one probed before a step was added (the forms of its name in other
scripts) gets that step alone. A target probed with another model is stale and probed again. One
question that fails is left out; a target fails (keeping what it had, with ``error``) when
fewer than half of its questions were answered.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.console import Console

from ..agents.prober import Prober, item_question, plan
from ..errors import AgentFailure
from ..jobs import Cost, now, run_job
from ..stores import Store
from ..targets import ModelKnowledge, ProbeAnswer, Target
from ..trace import Trace
from .asking import Pace, exchange
from .fingerprint import distil, pointer_candidates
from .scripts import name_forms

# Questions per target: the main facets, the first in two more languages, and two lists of
# names (the long tail: minor characters, places, tools).
DEFAULT_CALLS = 12
# Fingerprint items asked about themselves, for a target the model knows: does each lead
# back to the target (alu.scan.knowledge)? Part of the probe's cost: one short call each.
ITEM_CHECKS = 36
CHECK_TOKENS = 48  # enough for "a character in the Harry Potter series"; the rest costs time only


def probe_one(
    prober: Prober,
    target: Target,
    *,
    calls: int = DEFAULT_CALLS,
    checks: int = ITEM_CHECKS,
    pace: Pace | None = None,
) -> tuple[ModelKnowledge, Trace]:
    """Ask ``calls`` questions about ``target`` and distil what the model knows; when it
    knows the target, ask about up to ``checks`` of the items it produced, to tell the
    items that lead back to the target from its neighbours, and how it writes the target's
    name in other scripts (``alu.probing.scripts``). Raises AgentFailure (the trace
    in ``exc.trace``) when fewer than half of the questions were answered."""
    trace = Trace(mode="probe")
    started = time.perf_counter()
    answers: list[ProbeAnswer] = []
    asked = plan(target.kind, calls)
    errors: list[str] = []
    for question in asked:
        try:
            answers.append(exchange(prober, trace, target, question, pace=pace))
        except AgentFailure as exc:
            errors.append(str(exc))
    if len(answers) * 2 < len(asked):
        failure = AgentFailure(f"{len(asked) - len(answers)} of {len(asked)} questions failed: {errors[0]}")
        failure.trace = trace  # type: ignore[attr-defined]
        raise failure
    answers, items, decision = distil(target, answers)
    checked: list[ProbeAnswer] = []
    if decision.known is not False:
        for item in pointer_candidates(items, checks):
            question = item_question(item.kind)
            try:
                checked.append(
                    exchange(
                        prober,
                        trace,
                        target,
                        question,
                        subject=item.text,
                        facet=f"item:{item.text}",
                        max_tokens=CHECK_TOKENS,
                        pace=pace,
                    )
                )
            except AgentFailure:
                continue  # an item left unchecked weighs as a neighbour
        answers, items, decision = distil(target, answers, checked)
    forms, written = name_forms(prober, trace, target, pace) if decision.known is not False else ([], [])
    model = prober.model
    return (
        ModelKnowledge(
            known=decision.known,
            reason=decision.reason,
            items=items,
            answers=answers,
            checks=checked,
            names=forms,
            written=written,
            model=model.identity,
            model_name=model.name,
            created=now(),
            llm_calls=trace.llm_calls,
            prompt_tokens=trace.prompt_tokens,
            completion_tokens=trace.completion_tokens,
            seconds=round(time.perf_counter() - started, 2),
        ),
        trace,
    )


def lacks_name_forms(knowledge: ModelKnowledge | None, identity: str) -> bool:
    """Probed with this model, before the forms of the name in other scripts were asked:
    only that step is left to do (``add_name_forms``)."""
    k = knowledge
    return k is not None and k.error is None and bool(k.answers) and k.model == identity and k.names is None


def add_name_forms(prober: Prober, target: Target, pace: Pace | None = None) -> tuple[ModelKnowledge, Trace]:
    """``target``'s knowledge with the forms of its name in other scripts added, its cost
    added to the probe's: the rest of a probe is kept, as asking again would find the same."""
    knowledge = target.knowledge
    assert knowledge is not None
    trace = Trace(mode="probe")
    started = time.perf_counter()
    forms, written = name_forms(prober, trace, target, pace) if knowledge.known is not False else ([], [])
    return (
        knowledge.model_copy(
            update={
                "names": forms,
                "written": written,
                "llm_calls": knowledge.llm_calls + trace.llm_calls,
                "prompt_tokens": knowledge.prompt_tokens + trace.prompt_tokens,
                "completion_tokens": knowledge.completion_tokens + trace.completion_tokens,
                "seconds": round(knowledge.seconds + time.perf_counter() - started, 2),
            }
        ),
        trace,
    )


def probe_or_complete(
    prober: Prober, target: Target, *, calls: int = DEFAULT_CALLS, pace: Pace | None = None
) -> tuple[ModelKnowledge, Trace]:
    """A whole probe, or only the step a probe made before it existed lacks."""
    if lacks_name_forms(target.knowledge, prober.model.identity):
        return add_name_forms(prober, target, pace)
    return probe_one(prober, target, calls=calls, pace=pace)


def failed(target: Target, reason: str, identity: str, name: str) -> ModelKnowledge:
    """What a target keeps after a failed probe: what it had, and why; it is probed again
    on the next run."""
    if target.knowledge is not None:
        return target.knowledge.model_copy(update={"error": reason})
    return ModelKnowledge(model=identity, model_name=name, created=now(), error=reason)


def probe_targets(
    store: Store,
    prober: Prober,
    names: Iterable[str] | None = None,
    *,
    force: bool = False,
    calls: int = DEFAULT_CALLS,
    pace: Pace | None = None,
    show_progress: bool = True,
    console: Console | None = None,
) -> Cost:
    """Probe the targets called ``names`` (every target when None), writing each result to
    the store as it comes. Unknown names are an error before anything is done."""
    identity = prober.model.identity

    def skip(target: Target, named: bool) -> bool:
        old = target.knowledge
        done = old is not None and old.error is None and old.model == identity
        return not force and done and not lacks_name_forms(old, identity)

    def attempt(target: Target, cost: Cost) -> Trace:
        if force:
            knowledge, trace = probe_one(prober, target, calls=calls, pace=pace)
        else:
            knowledge, trace = probe_or_complete(prober, target, calls=calls, pace=pace)
        cost.count("items", len(knowledge.items))
        cost.count("known", int(knowledge.known is True))
        store.set_knowledge(target.name, knowledge)
        return trace

    return run_job(
        store,
        names,
        doing="probing",
        skip=skip,
        attempt=attempt,
        mark_failed=lambda t, why: store.set_knowledge(t.name, failed(t, why, identity, prober.model.name)),
        cost=Cost(counts={"items": 0, "known": 0}, verb="probed"),
        show_progress=show_progress,
        console=console,
    )
