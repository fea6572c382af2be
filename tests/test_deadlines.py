"""Wall-clock deadlines per agent call and per request, whatever the backend does: here a
scripted backend that ignores its ``timeout`` and blocks until released."""

from __future__ import annotations

import threading

import pytest
from conftest import AUDIT, UNSURE, scripted

from alu.backends.scripted import Rule, ScriptedModel


@pytest.fixture
def release():
    event = threading.Event()
    yield event
    event.set()  # let the abandoned backend calls end


def blocking(release: threading.Event, reply: str = "OK"):
    """A reply that ignores any timeout: it comes when released (or after 20 s)."""
    return lambda _messages: (release.wait(20), reply)[1]


def test_an_agent_call_ends_at_its_deadline_whatever_the_backend_does(make_alu, release):
    model = ScriptedModel(default=blocking(release))
    answer = make_alu(model, timeout=0.3, deadline=None).ask("What is the capital of France?")
    assert answer.trace.verdict == "failed_closed" and answer.refused
    assert "timed out" in answer.trace.error
    assert answer.trace.steps[0].detail["timed_out"] is True
    assert answer.trace.steps[0].calls == 1  # no time was left for a retry


def test_a_request_ends_at_its_deadline_across_agent_calls(make_alu, release):
    model = scripted(draft=UNSURE)  # the screen is unsure: the auditor is asked
    model.rules.insert(0, Rule(AUDIT, blocking(release, '{"leaked": []}')))
    answer = make_alu(model, timeout=30, deadline=0.5).ask("Who went to the Yule Ball?")
    assert answer.trace.verdict == "failed_closed"
    vanilla, audit = answer.trace.steps[:2]
    assert vanilla.ok and not audit.ok and audit.detail["timed_out"]


def test_a_backend_that_answers_in_time_is_unaffected(make_alu):
    answer = make_alu(scripted(draft="Paris."), timeout=5, deadline=10).ask("Capital of France?")
    assert answer.text == "Paris." and answer.trace.verdict == "passed"
