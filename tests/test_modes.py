"""Modes as modules, typed decisions: each outcome's verdict recorded once, a mode added by
one module with its own settings, the gate and the stranger rewrite on a ``Request``, and
no import cycle inside ``alu.pipeline``."""

from __future__ import annotations

import ast
import importlib
import sys
import textwrap
from pathlib import Path
from typing import get_args

import pytest
from conftest import HERMIONE, LEAKY, VANILLA, scripted
from pydantic import ValidationError

from alu import ALU, ModelError, PipelineConfig
from alu.backends.scripted import Rule
from alu.errors import ConfigError
from alu.pipeline import engine
from alu.pipeline.decision import DONT_KNOW, VERDICTS, Decision, Outcome, Request
from alu.pipeline.gate import Gate
from alu.pipeline.modes import MODES, Mode, ModeContext, modes
from alu.pipeline.modes.default import DefaultMode
from alu.pipeline.modes.paper import PaperMode
from alu.pipeline.stranger import Stranger
from alu.scan import TargetIndex
from alu.settings import load_settings
from alu.trace import Trace

# The package (``alu.pipeline.modes`` as an attribute is the ``modes()`` function).
modes_package = importlib.import_module("alu.pipeline.modes")


def test_each_outcome_has_the_verdict_traces_have_always_carried():
    verdicts = {outcome: Decision(outcome, "text").verdict for outcome in get_args(Outcome)}
    assert verdicts == {
        "pass": "passed",
        "rewrite": "rewritten",
        "decline": "refused",
        "refuse": "refused",
        "fail_closed": "failed_closed",
    }
    assert set(VERDICTS.values()) <= set(get_args(Trace.model_fields["verdict"].annotation))
    with pytest.raises(ValueError, match="unknown outcome 'redact'"):
        Decision("redact", "text")  # type: ignore[arg-type]


@pytest.fixture
def verdict_writes(monkeypatch) -> list[str]:
    """Every assignment of ``trace.verdict`` in the traces ``ALU.ask`` makes."""
    writes: list[str] = []

    class CountingTrace(Trace):
        def __setattr__(self, name, value):
            if name == "verdict":
                writes.append(value)
            super().__setattr__(name, value)

    monkeypatch.setattr(engine, "Trace", CountingTrace)
    return writes


@pytest.fixture
def decisions(monkeypatch) -> list[Decision]:
    """The decisions the built-in modes return (none when a mode raised)."""
    returned: list[Decision] = []
    for cls in (DefaultMode, PaperMode):

        def spy(self, request, _run=cls.run):
            decision = _run(self, request)
            returned.append(decision)
            return decision

        monkeypatch.setattr(cls, "run", spy)
    return returned


def _unknown_says(model, text: str):
    model.on("vanilla:unknown", text)
    return model


# (outcome, mode, model, pipeline settings, query): one real path through the pipeline each.
PATHS = [
    ("pass", "default", lambda: scripted(draft="Paris."), {}, "What is the capital of France?"),
    (
        "rewrite",
        "default",
        lambda: scripted(draft=LEAKY),
        {"default": {"leak_answer": "rewrite"}},
        "How was Viktor Krum's experience at the Yule Ball?",
    ),
    (
        "decline",
        "default",
        lambda: _unknown_says(scripted(draft=LEAKY), "I'm not sure about that ball."),
        {},
        "How was Viktor Krum's experience at the Yule Ball?",
    ),
    (
        "decline",
        "default",
        lambda: _unknown_says(scripted(draft=LEAKY, scores=(3, 4, 2)), "I'm not sure about that ball."),
        {},
        "Tell me about the Yule Ball",
    ),
    (
        "refuse",
        "default",
        lambda: scripted(draft=LEAKY, scores=(3, 4, 2)),
        {"refusal_policy": "refuse"},
        "Tell me about the Yule Ball",
    ),
    ("rewrite", "paper", lambda: scripted(draft=LEAKY, scores=(5, 5, 4, 1, 1)), {}, "Yule Ball?"),
    ("refuse", "paper", lambda: scripted(draft=LEAKY, scores=(5, 4, 2, 2, 1)), {}, "Yule Ball?"),
]


@pytest.mark.parametrize(("outcome", "mode", "model", "config", "query"), PATHS)
def test_the_modes_decision_is_recorded_once_as_the_verdict(
    make_alu, verdict_writes, decisions, outcome, mode, model, config, query
):
    answer = make_alu(model(), **config).ask(query, mode=mode)
    [decision] = decisions
    assert decision.outcome == outcome and decision.reason
    assert verdict_writes == [VERDICTS[outcome]] == [answer.trace.verdict]
    assert answer.text == decision.text and "Hermione" not in answer.text
    assert answer.trace.error is None


def test_failing_closed_is_recorded_once_with_the_reason_as_the_error(make_alu, verdict_writes, decisions):
    model = scripted(draft=LEAKY)
    model.rules.insert(0, Rule(VANILLA, ModelError("backend down")))
    answer = make_alu(model).ask("How was Viktor Krum's experience at the Yule Ball?")
    assert decisions == []  # the mode raised; ALU decided
    assert verdict_writes == ["failed_closed"] == [answer.trace.verdict]
    assert answer.text in DONT_KNOW and "backend down" in answer.trace.error


def test_the_stop_strings_cut_the_decisions_text(make_alu):
    from alu.models import Sampling

    answer = make_alu(scripted(draft="Paris. Then Lyon.")).ask("Capital?", sampling=Sampling(stop=[" Then"]))
    assert answer.text == "Paris." and answer.trace.verdict == "passed"


def _request(query: str, targets=(HERMIONE,)) -> Request:
    view = TargetIndex.of(list(targets)).view()
    return Request(query, [], None, view, Trace(mode="test"))


def test_the_gate_returns_the_decision_it_was_given_or_a_decline():
    gate = Gate(1.5)
    request = _request("Was Hermione at the ball?")
    asked = request.targets.scan(request.asked)
    passed = gate.check(request, Decision("rewrite", "Hermione Granger was there.", "why"), [], asked)
    # An echo goes out as the user wrote it, with the outcome and reason it came with.
    assert passed == Decision("rewrite", "Hermione was there.", "why")
    assert request.trace.gate.detail["action"] == "passed"

    request = _request("Who went to the Yule Ball?")
    asked = request.targets.scan(request.asked)
    blocked = gate.check(request, Decision("pass", LEAKY, "why"), [], asked)
    assert blocked.outcome == "decline" and not blocked.goes_out and blocked.text in DONT_KNOW
    assert "name" in blocked.reason and request.trace.gate.detail == {"action": "blocked", "reason": "name"}


class FakeAssistant:
    """Answers with the question it was asked; records what it saw."""

    def __init__(self):
        self.asked: list[str] = []

    def answer(self, trace, query, history=None, **kwargs) -> str:
        self.asked.append(query)
        return f"I know nothing of {query.removeprefix('Who is ').rstrip('?')}."


def test_the_stranger_rewrite_takes_the_request_and_returns_a_rewrite():
    assistant = FakeAssistant()
    request = _request("Who is Hermione Granger?")
    leaked = request.targets.scan(request.asked).above()
    decision = Stranger(assistant).answer(request, leaked)  # type: ignore[arg-type]
    assert "Hermione" not in assistant.asked[0] and "Granger" not in assistant.asked[0]
    assert decision.outcome == "rewrite" and decision.text == "I know nothing of Hermione Granger."


# -- a mode added by one module -------------------------------------------------------------
TOY_MODULE = '''
"""``toy``: a greeting before the guarded draft, through the gate."""

from pydantic import BaseModel, ConfigDict, Field

from alu.pipeline.modes import Decision, Mode, Request, register


class ToyModeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    greeting: str = "Hello"
    repeat: int = Field(1, ge=1, le=3)


@register("toy", ToyModeConfig)
class ToyMode(Mode[ToyModeConfig]):
    def run(self, request: Request) -> Decision:
        ctx = self.ctx
        draft = ctx.assistant.answer(request.trace, request.query, request.history, guard=request.targets)
        text = " ".join([self.config.greeting] * self.config.repeat) + " " + draft
        asked = request.targets.scan(request.asked)
        return self.gated(request, Decision("pass", text, "a toy"), [], asked)
'''


@pytest.fixture
def toy_mode(tmp_path, monkeypatch):
    """``alu/pipeline/modes/toy.py`` as if a newcomer had added it (from a folder of the
    test's own, on the package's path): the registry finds it as it finds the others."""
    folder = tmp_path / "modes"
    folder.mkdir()
    (folder / "toy.py").write_text(textwrap.dedent(TOY_MODULE))
    monkeypatch.setattr(modes_package, "__path__", [*modes_package.__path__, str(folder)])
    monkeypatch.setattr(MODES, "_items", dict(MODES._items))
    monkeypatch.setattr(MODES, "_loaded", False)
    yield
    sys.modules.pop("alu.pipeline.modes.toy", None)


def test_a_mode_module_registers_itself_with_its_settings(toy_mode):
    assert "toy" in modes()
    spec = MODES.get("toy")
    assert spec.config.__name__ == "ToyModeConfig" and issubclass(spec.mode, Mode)
    assert PipelineConfig().toy.repeat == 1  # its defaults, beside the built-in modes'
    config = PipelineConfig(mode="toy", toy={"repeat": "2"})
    assert isinstance(config.toy, spec.config) and config.toy.repeat == 2
    assert config.mode_settings("toy") is config.toy
    assert PipelineConfig.model_validate(config.model_dump()).toy.repeat == 2
    with pytest.raises(ValidationError) as bad:
        PipelineConfig(toy={"repeat": 9})
    assert bad.value.errors()[0]["loc"] == ("toy", "repeat")
    with pytest.raises(ValidationError) as bad:
        PipelineConfig(toy={"greting": "Hi"})
    assert bad.value.errors()[0]["loc"] == ("toy", "greting")
    with pytest.raises(ValidationError) as bad:
        PipelineConfig(tyo={})
    assert bad.value.errors()[0]["loc"] == ("tyo",)
    config.toy = {"greeting": "Hi"}  # assigned as a dict, kept as its class
    assert isinstance(config.toy, spec.config) and config.toy.greeting == "Hi"


def test_a_mode_modules_settings_come_from_the_config_file(toy_mode, tmp_path, monkeypatch):
    monkeypatch.delenv("ALU_MODE", raising=False)
    file = tmp_path / "alu.toml"
    file.write_text('[pipeline]\nmode = "toy"\n[pipeline.toy]\nrepeat = 2\n[pipeline.default]\nk = 4\n')
    settings = load_settings(file)
    assert settings.pipeline.mode == "toy" and settings.pipeline.toy.repeat == 2
    assert settings.pipeline.default.k == 4
    file.write_text("[pipeline.toy]\nrepeat = 7\n")
    with pytest.raises(ConfigError, match=r"bad setting 'pipeline\.toy\.repeat'"):
        load_settings(file)


def test_a_mode_modules_mode_answers_through_its_context(toy_mode, make_alu):
    alu = make_alu(scripted(draft="Paris."), mode="toy", toy={"repeat": 2})
    answer = alu.ask("What is the capital of France?")
    assert answer.text == "Hello Hello Paris." and answer.trace.mode == "toy"
    assert answer.trace.verdict == "passed"
    runner = alu.mode("toy")
    assert isinstance(runner.ctx, ModeContext) and not hasattr(runner, "alu")
    alu.config.toy = {"greeting": "Hi"}  # a mode's settings replaced: the next request has them
    assert alu.ask("What is the capital of France?").text == "Hi Paris."
    # What the gate blocks, the refusal policy answers, as in the built-in modes.
    leaked = make_alu(scripted(draft=LEAKY), mode="toy").ask("Who went to the Yule Ball?")
    assert leaked.trace.verdict == "refused" and "Hermione" not in leaked.text


def test_a_mode_named_like_a_shared_setting_is_refused(toy_mode):
    MODES.add("timeout", MODES.get("toy"))
    with pytest.raises(TypeError, match="timeout"):
        PipelineConfig()


def test_the_alu_builds_no_enricher_the_admin_api_builds_its_own():
    other = scripted(draft="x")
    alu = ALU(scripted(), [HERMIONE], agent_models={"enricher": other})
    assert not hasattr(alu, "enricher") and alu.agent_models["enricher"] is other
    with pytest.raises(ValueError, match="unknown agents"):
        ALU(scripted(), [HERMIONE], agent_models={"enrichr": other})


def _imports(file: Path, package: str) -> set[str]:
    """The modules (and names that may be modules) every import statement of ``file`` names."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module, *(f"{module}.{a.name}" for a in node.names)}
    return found


def test_the_pipeline_has_no_import_cycles():
    """Every import statement counts: module level, under TYPE_CHECKING, inside functions."""
    root = Path(modes_package.__file__).resolve().parents[1]  # alu/pipeline
    files = {}  # module name: (file, the package its relative imports start from)
    for file in root.rglob("*.py"):
        parts = ["alu", *file.relative_to(root.parent).with_suffix("").parts]
        if parts[-1] == "__init__":
            name = package = ".".join(parts[:-1])
        else:
            name, package = ".".join(parts), ".".join(parts[:-1])
        files[name] = (file, package)
    graph = {name: {m for m in _imports(*where) if m in files and m != name} for name, where in files.items()}

    def in_a_cycle(start: str) -> bool:
        seen, todo = set(), list(graph[start])
        while todo:
            name = todo.pop()
            if name == start:
                return True
            if name not in seen:
                seen.add(name)
                todo += graph[name]
        return False

    assert "alu.pipeline.config" in graph["alu.pipeline.engine"]  # the walk sees the imports
    assert sorted(name for name in graph if in_a_cycle(name)) == []
