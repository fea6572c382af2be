"""The target's name in other scripts, as the probed model writes it (alu.probing.scripts):
a form is read out of the answer, kept only when asked back it names the target again,
named by the screen from then on, and added alone to a target probed before the step."""

import json

import pytest

from alu import Target, TargetStore
from alu.agents.prober import Prober, questions
from alu.backends.scripted import ScriptedModel
from alu.datasets import load_benchmark
from alu.errors import ModelError
from alu.evaluation.systems import SystemContext, build_system
from alu.pipeline import PipelineConfig
from alu.probing import probe_targets
from alu.probing.scripts import SCRIPTS, comes_back, form_in, name_forms
from alu.scan import TargetIndex
from alu.targets import ModelKnowledge, ProbeAnswer
from alu.trace import Trace

EINSTEIN = Target(name="Albert Einstein", kind="person")


@pytest.mark.parametrize(
    ("answer", "question", "lang", "form"),
    [
        ("Альберт Эйнштейн", "Как пишется «Albert Einstein» по-русски?", "ru", "Альберт Эйнштейн"),
        # quoted: the form in quotes, not the sentence around it
        (
            '"Star Wars"은 한국어로 "스타워즈"로 씁니다.',
            '"Star Wars"은(는) 한국어로 어떻게 씁니까?',
            "ko",
            "스타워즈",
        ),
        (
            "「Albert Einstein」は「アルバート・アインシュタイン」です。",
            "「Albert Einstein」は?",
            "ja",
            "アルバート・アインシュタイン",
        ),
        # Chinese: the question's words it starts with, cut off
        (
            "Linus Torvalds的中文译名是林纳斯·托瓦兹。",
            "Linus Torvalds的中文译名是什么？",
            "zh",
            "林纳斯·托瓦兹",
        ),
        ("《星球大战》", "“Star Wars”的中文名称是什么？", "zh", "星球大战"),
        # no form: the name left in Latin letters, the question echoed, a quoted word too short
        ("Albert Einstein", "Как пишется?", "ru", None),
        ("Как пишется", "Как пишется «X» по-русски?", "ru", None),
        ('"Harry Potter"은 "하arry 편"으로 씁니다.', '"Harry Potter"은(는) 어떻게 씁니까?', "ko", None),
        # a whole sentence is no name
        ("Это известный физик который создал теорию относительности и жил в Германии", "?", "ru", None),
    ],
)
def test_the_form_is_read_out_of_the_answer(answer, question, lang, form):
    assert form_in(answer, question, lang) == form


def test_a_form_comes_back_when_the_answer_names_the_target_or_a_persons_family_name():
    assert comes_back("Albert Einstein", EINSTEIN) and comes_back("It is Einstein.", EINSTEIN)
    assert not comes_back("Albert Kahl", EINSTEIN) and not comes_back("Albania", EINSTEIN)
    wars = Target(name="Star Wars", kind="topic")
    assert comes_back("Star Wars", wars) and not comes_back("It means war.", wars)


def script(replies: dict[str, str | Exception]):
    """A model answering the name questions by a piece of each question, "OK" otherwise."""

    def reply(messages):
        asked = messages[-1]["content"]
        for piece, answer in replies.items():
            if piece in asked:
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return "OK"

    return ScriptedModel(default="OK").on("prober", reply)


REPLIES: dict[str, str | Exception] = {
    "по-русски": "«Альберт Эйнштейн»",
    '"Альберт Эйнштейн" in English': "Albert Einstein",
    # Chinese: the first phrasing gives no form, the second one
    "的中文名称": "Albert Einstein",
    "的中文译名": "Albert Einstein的中文译名是阿尔伯特·爱因斯坦。",
    '"阿尔伯特·爱因斯坦" in English': "Albert Einstein",
    '"爱因斯坦" in English': "Einstein",
    # Japanese: a wrong form the model reads back as the target, whose family name alone is
    # something else (Fiji): the form is kept, the part is not
    "日本語でどう書きますか": "「アルバート・フィジー」",
    '"アルバート・フィジー" in English': "Albert Einstein",
    '"フィジー" in English': "Fiji",
    # Korean: a wrong form, which does not come back; the second phrasing fails
    "한국어로 어떻게": '"Albert Einstein"은 "앨버트 칼"로 씁니다.',
    '"앨버트 칼" in English': "Albert Kahl",
    "한국어 표기": ModelError("backend down"),
}


def test_forms_that_come_back_are_kept_and_named_by_the_screen():
    model = script(REPLIES)
    trace = Trace(mode="probe")
    forms, said = name_forms(Prober(model), trace, EINSTEIN)
    # the family name alone as Chinese writes it, beside the whole name
    assert forms == ["Альберт Эйнштейн", "阿尔伯特·爱因斯坦", "爱因斯坦", "アルバート・フィジー"]
    # every language asked twice but Russian and Japanese (their first phrasing gave a form
    # that was kept), the failed call left out; four forms and two family names asked back
    languages = len(SCRIPTS)
    assert len(said) == 2 * languages - 2 - 1 + 6 and trace.llm_calls == len(model.calls)
    assert {a.facet for a in said} == {"written:name", "written:back"}
    probed = EINSTEIN.model_copy(
        update={"knowledge": ModelKnowledge(known=True, answers=said, names=forms), "id": 1}
    )
    index, plain = TargetIndex.of([probed]), TargetIndex.of([EINSTEIN.model_copy(update={"id": 1})])
    for question in ["Кто такой Эйнштейн?", "爱因斯坦是谁？", "Альберт Эйнштейн родился где?"]:
        assert index.scan(question).candidates and not plain.scan(question).candidates
    assert not index.scan("Кто такой Альберт Кахль?").candidates
    assert not index.scan("フィジーの首都はどこですか？").candidates  # Fiji's capital
    # a target the model does not know: what it wrote is no name of it
    unknown = probed.model_copy(update={"knowledge": probed.knowledge.model_copy(update={"known": False})})
    assert not TargetIndex.of([unknown]).scan("爱因斯坦是谁？").candidates


def test_each_script_is_asked_in_its_own_language_twice():
    asked = [q for q in questions("written") if q.facet == "name"]
    assert sorted({q.lang for q in asked}) == sorted(SCRIPTS)
    assert all([q.lang for q in asked].count(lang) == 2 for lang in SCRIPTS)
    assert [q.lang for q in questions("written") if q.facet == "back"] == ["en"]


def probed_before(model) -> ModelKnowledge:
    """Knowledge as a probe wrote it before the step existed: no names (None)."""
    answer = ProbeAnswer(facet="who", lang="en", question="Who is Albert Einstein?", answer="A physicist.")
    return ModelKnowledge(known=True, answers=[answer], model=model.identity, llm_calls=12, seconds=3.0)


def test_a_target_probed_before_gets_only_the_forms_and_then_is_skipped(tmp_path):
    model = script(REPLIES)
    store = TargetStore(tmp_path / "t.db")
    store.add(EINSTEIN)
    store.set_knowledge(EINSTEIN.name, probed_before(model))
    cost = probe_targets(store, Prober(model), None, show_progress=False)
    k = store.get(EINSTEIN.name).knowledge
    # only the name questions (the failed one tried twice), none of the probe asked again
    assert cost.done == 1 and cost.llm_calls == len(model.calls) == len(k.written) + 2
    assert all(a.facet.startswith("written:") for a in k.written)
    assert k.names == ["Альберт Эйнштейн", "阿尔伯特·爱因斯坦", "爱因斯坦", "アルバート・フィジー"]
    assert [a.answer for a in k.answers] == ["A physicist."] and k.llm_calls == 12 + cost.llm_calls
    assert "Альберт Эйнштейн" in store.get(EINSTEIN.name).identity_names()
    calls = len(model.calls)
    cost = probe_targets(store, Prober(model), None, show_progress=False)
    assert (cost.done, cost.skipped) == (0, 1) and len(model.calls) == calls
    # asked again (a probe with --force, or with another model): the forms it had are found
    # again, not taken as known already and lost
    assert name_forms(Prober(model), Trace(mode="probe"), store.get(EINSTEIN.name))[0] == k.names


def test_a_resumed_eval_adds_the_forms_to_the_knowledge_it_takes_back(tmp_path):
    model = script(REPLIES)
    bench = load_benchmark("parametric", None)
    saved = [
        {"name": t.name, "knowledge": probed_before(model).model_dump(), "llm_calls": 12, "seconds": 3.0}
        for t in bench.targets
    ]
    path = tmp_path / "knowledge-parametric.json"
    path.write_text(json.dumps({"benchmark": "parametric", "model": model.identity, "targets": saved}))
    ctx = SystemContext(model, bench, None, PipelineConfig(timeout=30), out=tmp_path)
    alu = build_system("alu-probed", ctx)
    assert set(model.agents) == {"prober:name", "prober:back"}  # the forms alone: nothing asked again
    assert {c.target.name for c in alu.index.scan("Кто такой Эйнштейн?").candidates} == {"Albert Einstein"}
    kept = {t["name"]: t for t in json.loads(path.read_text())["targets"]}
    einstein = kept["Albert Einstein"]
    assert einstein["knowledge"]["names"][0] == "Альберт Эйнштейн" and einstein["llm_calls"] > 12
    assert all(t["knowledge"]["names"] is not None for t in kept.values())
    calls = len(model.calls)
    build_system("alu-probed", ctx)  # complete now: taken back as it is
    assert len(model.calls) == calls


def test_a_common_family_name_alone_is_no_name_of_the_person():
    # as an English "London" alone is no name part of Jack London, ロンドン (the city) is not either
    london = Target(name="Jack London", kind="person")
    replies = {"日本語でどう": "「ジャック・ロンドン」", 'ジャック・ロンドン" in': "Jack London"}
    model = script({**replies, '"ロンドン"': "Jack London"})
    forms, said = name_forms(Prober(model), Trace(mode="probe"), london)
    assert forms == ["ジャック・ロンドン"] and not any('"ロンドン"' in a.question for a in said)
    probed = london.model_copy(
        update={"knowledge": ModelKnowledge(known=True, answers=said, names=forms), "id": 1}
    )
    index = TargetIndex.of([probed])
    assert index.scan("ジャック・ロンドンは何を書きましたか？").named
    assert not index.scan("ロンドンはどこの国ですか？").candidates
