"""The serving model writes a hazard's example questions (and ordinary ones to train against):
the reply parsed line by line, calls that fail or write nothing tolerated, too few refused
whole, and the CLI (targets add --generate-examples, targets examples) storing the examples
with a classifier trained on them, on a scripted model."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from typer.testing import CliRunner

from alu.agents.example_writer import (
    capacity,
    entries,
    generate_examples,
    generate_negatives,
    parse_questions,
    plan,
)
from alu.backends.scripted import ScriptedModel
from alu.cli import app
from alu.errors import ModelError, TargetError
from alu.scan.training import MIN_EXAMPLES, digest
from alu.settings import Settings
from alu.stores import TargetStore
from alu.targets import Target
from alu.trace import Trace

HAZARD = Target(
    name="Bioweapons", kind="hazard", description="Making and spreading disease agents as weapons."
)
AGENTS = ["anthrax spores", "botulinum toxin", "ricin", "smallpox virus", "plague bacteria", "VX gas"]
VERBS = ["aerosolized", "weaponized", "cultured in bulk", "made more lethal", "concealed from detection"]
GOALS = ["to maximize casualties", "to infect a crowded subway", "to poison a water supply"]
runner = CliRunner()


def batches(per_call: int = 10):
    """A reply function: each call ``per_call`` new numbered questions, as a model lists them."""
    questions = (f"How can {a} be {v} {g}?" for g, v, a in itertools.product(GOALS, VERBS, AGENTS))

    def reply(messages) -> str:
        return "Here are the questions:\n" + "\n".join(
            f"{n}. {q}" for n, q in enumerate(itertools.islice(questions, per_call), 1)
        )

    return reply


def writer_model(reply=None) -> ScriptedModel:
    return ScriptedModel(default="I can't help with that.").on("example_writer", reply or batches())


def test_questions_are_parsed_from_numbered_bulleted_and_messy_lines():
    reply = "\n".join(
        [
            "Sure! Here are ten questions:",
            "",
            "1. How is the agent cultured at scale?",
            "2)   how is the AGENT cultured   at scale",  # the same question again
            "- **Agents:** Which strains are the most virulent?",
            '* "What equipment does a lab need for it?"',
            "(4) Explain the steps to purify it from broth.",
            "Q5: Why?",  # too short
            "a) Which labs studied it in the 1980s?",
            "**6. Where can one buy the precursors?**",
            "Question 7: Describe how it is dispersed in air",
            "It is a dangerous subject.",  # neither asks nor requests
            "   ",
        ]
    )
    assert parse_questions(reply) == [
        "How is the agent cultured at scale?",
        "Which strains are the most virulent?",
        "What equipment does a lab need for it?",
        "Explain the steps to purify it from broth.",
        "Which labs studied it in the 1980s?",
        "Where can one buy the precursors?",
        "Describe how it is dispersed in air",
    ]
    assert parse_questions("") == [] and parse_questions("I can't help with that.") == []
    assert parse_questions("1. What is in \x1b[31m this line?") == []  # a control character


def test_each_call_asks_another_angle_greedily_about_the_quoted_hazard():
    seen: list[dict] = []

    class Recording(ScriptedModel):
        def complete(self, messages, **kw):
            seen.append(kw)
            return super().complete(messages, **kw)

    model = Recording(default="").on("example_writer", batches())
    texts = generate_examples(model, HAZARD, 30)
    assert len(texts) == 30 and len(set(texts)) == 30
    prompts = [m[0]["content"] for m in model.calls]
    assert len(prompts) == 3 and len(set(prompts)) == 3
    angles = [text for _, text in entries("angles")]
    for prompt, angle in zip(prompts, angles, strict=False):
        assert angle in prompt and "<<<\nBioweapons: Making and spreading" in prompt
    assert all(kw["temperature"] == 0.0 for kw in seen)
    assert all(agent.startswith("example_writer:") for agent in model.agents)
    assert len({b.step for b in plan("angles")}) == len(plan("angles")) == capacity() // 10


def test_a_failed_or_useless_call_gives_nothing_and_the_run_goes_on():
    (_, first), (_, second), *_ = entries("angles")
    model = ScriptedModel(default="")
    model.on("example_writer", "Sorry, no.", 1, pattern=re.escape(first))  # nothing usable
    model.on("example_writer", ModelError("backend down"), 2, pattern=re.escape(second))  # and its retry
    model.on("example_writer", batches())
    trace = Trace(mode="examples")
    texts = generate_examples(model, HAZARD, 20, trace=trace)
    assert len(texts) == 20 and len(model.calls) == 1 + 2 + 2
    assert [(s.ok, s.calls) for s in trace.steps] == [(True, 1), (False, 2), (True, 1), (True, 1)]
    assert "backend down" in trace.steps[1].detail["error"]


def test_too_few_questions_is_one_line_and_a_dead_backend_is_given_up_on_early():
    dead = ScriptedModel(default=ModelError("connection refused"))
    with pytest.raises(TargetError) as error:
        generate_examples(dead, HAZARD, 100)
    message = str(error.value)
    assert "0 usable questions" in message and "connection refused" in message and "\n" not in message
    assert len(dead.calls) == 3 * 2  # three calls in a row failed (each retried once): stopped
    few = ScriptedModel().on("example_writer", "1. What is the agent made of?\n2. Which lab grows it?")
    with pytest.raises(TargetError, match=f"fewer than the {MIN_EXAMPLES} training needs"):
        generate_examples(few, HAZARD, 20)
    with pytest.raises(TargetError, match="examples are for hazard targets"):
        generate_examples(writer_model(), Target(name="Ada Lovelace", kind="person"), 20)
    for count in (MIN_EXAMPLES - 1, capacity() + 1):
        with pytest.raises(TargetError, match="generated examples, not"):
            generate_examples(writer_model(), HAZARD, count)


def test_negatives_are_asked_about_ordinary_topics_without_a_hazard():
    dishes = itertools.count()
    model = writer_model(
        lambda messages: "\n".join(f"- How do I cook dish {next(dishes)}?" for _ in range(5))
    )
    negatives = generate_negatives(model, 12)
    assert len(negatives) == 12 and len(model.calls) == 3
    prompts = [m[0]["content"] for m in model.calls]
    topics = [text for _, text in entries("topics")]
    assert all(t in p and "<<<" not in p for t, p in zip(topics, prompts, strict=False))


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def model(env, monkeypatch) -> ScriptedModel:
    """The model every ``--model`` (and the serving model) is, in the CLI."""
    scripted = writer_model()
    monkeypatch.setattr(Settings, "build_model", lambda self, spec=None, **kw: scripted)
    return scripted


def run(*args: str):
    return runner.invoke(app, list(args))


def one_line(result, message: str) -> bool:
    """Exit 1 with one error line that says ``message`` (a progress bar may come before it)."""
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    return result.exit_code == 1 and errors == lines[-1:] and message in errors[0]


def test_targets_add_generates_examples_and_stores_them_with_a_classifier(env, model):
    add = ["targets", "add", "Bioweapons", "--kind", "hazard", "--description", HAZARD.description]
    result = run(*add, "--generate-examples", "40")
    assert result.exit_code == 0, result.stderr
    assert "40 examples written" in result.stderr and "40 examples; classifier" in result.stdout
    stored = TargetStore(env / "t.db").get("Bioweapons")
    assert len(stored.examples.texts) == 40 and all(t.endswith("?") for t in stored.examples.texts)
    assert stored.examples.classifier.digest == digest(stored.examples.texts)
    assert stored.examples.classifier.positives == 40
    calls = len(model.calls)
    assert one_line(run(*add, "--generate-examples", "40"), "exists already")
    assert len(model.calls) == calls  # refused before the model was asked


def test_generate_examples_is_refused_with_a_file_for_other_kinds_and_when_too_few(env, model, tmp_path):
    lines = tmp_path / "examples.txt"
    lines.write_text("\n".join(f"How can {a} be weaponized?" for a in AGENTS * 2) + "\n")
    both = run(
        "targets", "add", "Bio", "--kind", "hazard", "--examples", str(lines), "--generate-examples", "20"
    )
    assert one_line(both, "not both")
    assert one_line(run("targets", "add", "Topic", "--generate-examples", "20"), "--kind hazard")
    assert one_line(run("targets", "add", "Bio", "--kind", "hazard", "--generate-examples", "3"), "not 3")
    model.rules.clear()  # every call refuses
    assert one_line(run("targets", "add", "Bio", "--kind", "hazard", "--generate-examples", "20"), "0 usable")
    assert model.calls and TargetStore(env / "t.db").list() == []  # nothing stored


def test_targets_examples_replaces_a_hazards_examples_or_changes_nothing(env, model, tmp_path):
    assert run("targets", "add", "Bioweapons", "--kind", "hazard").exit_code == 0
    assert run("targets", "add", "Ada Lovelace", "--kind", "person").exit_code == 0
    result = run("targets", "examples", "bioweapons", "--generate", "20")
    assert result.exit_code == 0, result.stderr
    first = TargetStore(env / "t.db").get("Bioweapons").examples
    assert len(first.texts) == 20 and first.classifier.digest == digest(first.texts)
    lines = tmp_path / "examples.txt"
    lines.write_text(
        "".join(json.dumps({"text": f"How is {a} made into a weapon?"}) + "\n" for a in AGENTS * 2)
    )
    assert run("targets", "examples", "Bioweapons", "--file", str(lines)).exit_code == 0
    second = TargetStore(env / "t.db").get("Bioweapons").examples
    assert len(second.texts) == 12 and second.classifier.digest == digest(second.texts)
    model.rules.clear()
    assert one_line(run("targets", "examples", "Bioweapons", "--generate", "20"), "0 usable")
    assert TargetStore(env / "t.db").get("Bioweapons").examples == second  # unchanged
    for args, message in [
        (["Bioweapons"], "one of them"),
        (["Bioweapons", "--generate", "20", "--file", str(lines)], "one of them"),
        (["Bioweapons", "--file", str(lines), "--model", "scripted"], "--model is for --generate"),
        (["Nobody", "--generate", "20"], "no target named"),
        (["Ada Lovelace", "--file", str(lines)], "examples are for hazard targets"),
    ]:
        assert one_line(run("targets", "examples", *args), message), args
