"""The alu-enriched evaluation system on the scripted model: the benchmark's targets are
enriched once by the run's model, saved for inspection, reused by a resumed run with the
same model, and guard by their generated names; a failure never stops the system."""

import json

import pytest

from alu.backends.scripted import ScriptedModel
from alu.datasets import load_benchmark
from alu.evaluation.systems import SystemContext, build_system
from alu.pipeline import PipelineConfig

NAMES = {"Linus Torvalds": "林纳斯·托瓦兹", "Albert Einstein": "阿尔伯特·爱因斯坦"}


def enricher_reply(messages) -> str:
    prompt = messages[0]["content"]
    for name, chinese in NAMES.items():
        if f"Name: {name}" in prompt:
            return json.dumps({"names": {"chinese": [chinese]}, "terms": ["Transmeta"], "description": "x."})
    return "no JSON"  # the other targets' enrichment fails


def context(model, tmp_path):
    bench = load_benchmark("parametric", None)
    return SystemContext(model, bench, None, PipelineConfig(timeout=30), out=tmp_path)


def test_targets_are_enriched_once_saved_and_guard_by_their_generated_names(tmp_path):
    model = ScriptedModel(default="I know nothing.").on("enricher", enricher_reply)
    ctx = context(model, tmp_path)
    plain = build_system("alu", ctx)
    enriched = build_system("alu-enriched", ctx)
    targets = ctx.benchmark.targets
    assert model.agents.count("enricher") == len(targets) + (len(targets) - len(NAMES))  # failures retried
    saved = json.loads((tmp_path / "enrichment-parametric.json").read_text())
    assert saved["model"] == model.identity and [t["name"] for t in saved["targets"]] == [
        t.name for t in targets
    ]
    by_name = {t["name"]: t for t in saved["targets"]}
    assert by_name["Linus Torvalds"]["enrichment"]["names"] == ["林纳斯·托瓦兹"]
    assert by_name["Linus Torvalds"]["llm_calls"] == 1 and by_name["Linus Torvalds"]["prompt_tokens"] > 0
    failed = [t for t in saved["targets"] if t["name"] not in NAMES]
    assert failed and all("malformed output" in t["enrichment"]["error"] for t in failed)
    question = "林纳斯·托瓦兹是谁？"
    assert plain.index.scan(question).named == []
    assert [c.target.name for c in enriched.index.scan(question).named] == ["Linus Torvalds"]
    assert {t.name for t in enriched.index.targets()} == {t.name for t in targets}
    # A resumed run with the same model takes the file back: no call; another model does not.
    calls = len(model.calls)
    build_system("alu-enriched", ctx)
    assert len(model.calls) == calls
    other = ScriptedModel(default="x").on("enricher", enricher_reply)
    other.name = "scripted-other"
    build_system("alu-enriched", context(other, tmp_path))
    assert other.agents.count("enricher") > 0
    assert json.loads((tmp_path / "enrichment-parametric.json").read_text())["model"] == other.identity


@pytest.mark.parametrize("profile", ["parametric", "parametric-described"])
def test_the_parametric_profiles_compare_alu_probed_not_alu_enriched(profile):
    """alu-enriched changed nothing measurable on parametric (issue 20): the profiles compare
    alu with its targets probed instead."""
    from alu.evaluation.plan import Plan

    systems = Plan.profile(profile).systems
    assert "alu-probed" in systems and "alu-enriched" not in systems
