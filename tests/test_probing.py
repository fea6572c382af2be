"""Self-probing: the Prober's questions, the knowledge fingerprint and the known/not-known
rule on scripted answers both ways, the probing job (resumable, stale on a model change,
failures marked and never blocking), the CLI and the admin route, on the scripted model."""

import json
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from alu import ALU, PipelineConfig, Target, TargetStore
from alu.agents.prober import Prober, plan, questions
from alu.backends.scripted import Rule, ScriptedModel
from alu.cli import app
from alu.errors import ModelError
from alu.probing import decide, fingerprint, probe_targets, verdict_of
from alu.probing.batch import DEFAULT_CALLS, ITEM_CHECKS
from alu.probing.fingerprint import COVERAGE, MIN_CONSISTENT
from alu.server import create_app
from alu.settings import ServeSettings
from alu.targets import ProbeAnswer

TORVALDS = Target(name="Linus Torvalds", kind="person", aliases=["Torvalds"])
# What a model that knows him says, question by question (facet, language, answer).
KNOWS = {
    (
        "who",
        "en",
    ): "Linus Torvalds is a Finnish software engineer who created the Linux kernel in 1991 and Git.",
    ("known", "en"): "He is best known for creating the Linux kernel and the Git version control system.",
    ("who", "es"): "Linus Torvalds es un ingeniero finlandés, creador del núcleo Linux y de Git.",
    ("works", "en"): "The Linux kernel (1991), Git (2005) and Subsurface, a dive log program.",
    ("places", "en"): "He was born in Helsinki, Finland, and later moved to Portland, Oregon.",
    ("who", "de"): "Linus Torvalds ist ein finnischer Informatiker, der Schöpfer von Linux.",
    ("dates", "en"): "Born in 1969 in Helsinki; he released Linux in 1991 and wrote Git in 2005.",
    ("people", "en"): "Andrew Morton and Greg Kroah-Hartman maintain Linux with him.",
}
# A model guessing about a name it never saw: fluent, specific, and different every time.
GUESSES = {
    ("who", "en"): "Linus Torvalds is a Swedish actor known for his roles in Scandinavian crime dramas.",
    ("known", "en"): "He is best known for composing the soundtrack of the opera Nordlicht in Uppsala.",
    ("who", "es"): "Linus Torvalds es un pintor noruego conocido por sus paisajes de Bergen.",
    ("works", "en"): "His works include the novel Glaciers of Midnight and the album Tundra Echoes.",
    ("places", "en"): "He lived in Reykjavik and Copenhagen before settling in Montreal.",
    ("who", "de"): "Linus Torvalds ist ein dänischer Architekt aus Aarhus.",
    ("dates", "en"): "He was born in 1952, and his first exhibition opened in 1978.",
    ("people", "en"): "He often worked with the conductor Mikkel Brandt and the poet Ingrid Solheim.",
}
DECLINES = "I'm sorry, but I don't have any information about a person named Linus Torvalds."


def answers(script: dict, target: Target = TORVALDS) -> list[ProbeAnswer]:
    return [
        ProbeAnswer(
            facet=q.facet, lang=q.lang, question=q.text(target.name), answer=text, verdict=verdict_of(text)
        )
        for q in plan(target.kind, len(script))
        if (text := script[(q.facet, q.lang)])
    ]


def model_for(script: dict, name: str = "scripted") -> ScriptedModel:
    """A model answering each probe question from ``script`` by its facet and language."""
    by_question = {
        q.text(TORVALDS.name): text for q in questions("person") if (text := script.get((q.facet, q.lang)))
    }
    model = ScriptedModel(default="OK")
    model.name = name
    model.on("prober", lambda messages: by_question.get(messages[-1]["content"], "OK"))
    return model


# -- the questions ------------------------------------------------------------------------
def test_each_kind_gets_short_plain_questions_by_facet_in_several_languages():
    for kind, facets in {
        "person": {"who", "known", "works", "places", "dates", "people"},
        "topic": {"what", "characters", "places", "terms", "creators", "events"},
        "hazard": {"what", "agents", "methods", "materials"},
    }.items():
        asked = plan(kind, 8)
        assert len(asked) == 8 and facets <= {q.facet for q in questions(kind)}
        assert {q.lang for q in asked} >= {"en", "es", "de"}  # the default plan: three languages
        for q in asked:
            text = q.text("Ada Lovelace")
            assert "Ada Lovelace" in text and "{" not in text and len(text) < 120
    assert plan("other", 3) == list(questions("other"))[:3]
    assert len(plan("person", 100)) == len(questions("person")) >= 10


def test_the_prober_asks_one_question_a_call_as_a_user_would():
    model = ScriptedModel(default="Linus Torvalds created Linux.")
    from alu.trace import Trace

    trace = Trace(mode="probe")
    text = Prober(model).ask(trace, TORVALDS, plan("person", 1)[0])
    assert text == "Linus Torvalds created Linux."
    assert model.calls == [[{"role": "user", "content": "Who is Linus Torvalds?"}]]
    assert model.agents == ["prober:who"] and trace.llm_calls == 1


# -- the fingerprint and the decision ------------------------------------------------------
def test_the_fingerprint_keeps_distinctive_items_with_their_consistency():
    got = answers(KNOWS)
    items = {i.text: i for i in fingerprint(TORVALDS, got)}
    assert items["Linux"].support == 7 and items["Linux"].consistency == round(7 / 8, 3)
    assert items["Linux"].languages == ["de", "en", "es"] and items["Linux"].kind == "name"
    assert items["Git"].support == 5 and items["1991"].kind == "number" and items["1991"].support == 3
    assert items["Helsinki"].support == 2 and "Andrew Morton" in items and "kernel" in items
    assert not {"Linus", "Torvalds", "Linus Torvalds"} & set(items)  # its own name is not evidence
    assert not {"He", "The", "Born", "software", "engineer", "creating"} & set(items)  # common words
    ordered = [i.support for i in fingerprint(TORVALDS, got)]
    assert ordered == sorted(ordered, reverse=True)


def test_items_are_one_across_scripts_and_a_part_of_a_longer_name_is_not_kept_twice():
    target = Target(name="Python", kind="topic")
    script = [
        ("creators", "en", "Who created Python?", "Guido van Rossum created it at CWI."),
        ("what", "ru", "Что такое Python?", "Python создал Guido van Rossum; популярен на Линукс."),
        ("what", "en", "What is Python?", "A language by Guido van Rossum, popular on Linux."),
    ]
    got = [ProbeAnswer(facet=f, lang=lang, question=q, answer=a) for f, lang, q, a in script]
    items = {i.text: i for i in fingerprint(target, got)}
    assert items["Guido van Rossum"].support == 3
    assert items["Linux"].support == 2 and items["Linux"].languages == ["en", "ru"]  # Линукс too
    assert "Guido" not in items and "Rossum" not in items


def test_a_model_that_knows_the_target_is_found_to_know_it():
    got = answers(KNOWS)
    decision = decide(got, fingerprint(TORVALDS, got))
    assert decision.known is True and decision.reason.startswith("consistent")


def test_scattered_guesses_are_not_knowing():
    got = answers(GUESSES)
    assert all(a.verdict == "answer" for a in got)
    decision = decide(got, fingerprint(TORVALDS, got))
    assert decision.known is False and decision.reason.startswith("scattered")


def test_saying_it_does_not_know_is_not_knowing_in_every_language_asked():
    declines = {
        "en": DECLINES,
        "es": "Lo siento, no tengo información sobre Linus Torvalds.",
        "de": "Leider habe ich keine Informationen über Linus Torvalds.",
        "fr": "Je suis désolé, je ne connais pas Linus Torvalds.",
        "ru": "К сожалению, у меня нет информации о Линусе Торвальдсе.",
        "zh": "抱歉，我没有关于这个人的信息。",
    }
    for text in declines.values():
        assert verdict_of(text) == "decline", text
    script = {key: declines[key[1]] if i < 5 else text for i, (key, text) in enumerate(KNOWS.items())}
    got = answers(script)
    decision = decide(got, fingerprint(TORVALDS, got))
    assert decision.known is False and "declined in 5 of 8" in decision.reason
    assert verdict_of("I'm sorry, but I can't assist with that.") == "refusal"
    assert verdict_of("I'm sorry, but I cannot answer this question.") == "refusal"
    assert verdict_of("I'm sorry, but I cannot provide information on who he is.") == "decline"
    assert verdict_of(KNOWS[("who", "en")]) == "answer"
    assert verdict_of("Linus Torvalds created Linux. I'm not sure what he does now.") == "answer"
    assert verdict_of("I'm sorry. I don't know who that is.") == "decline"


def test_refusing_leaves_it_undecided_and_the_thresholds_each_matter():
    refusing = {key: "I'm sorry, but I can't help with that." for key in KNOWS}
    got = answers(refusing)
    assert decide(got, fingerprint(TORVALDS, got)).known is None
    got = answers(KNOWS)
    items = fingerprint(TORVALDS, got)
    consistent = [i for i in items if i.support >= 2]
    assert decide(got, consistent[: MIN_CONSISTENT - 1]).known is False  # too few items agree
    english = [a for a in got if a.lang == "en"]
    assert decide(english, fingerprint(TORVALDS, english)).known is True  # one language: no cross check
    cross_free = [i.model_copy(update={"languages": ["en"]}) for i in items]
    assert decide(got, cross_free).known is False  # three languages asked, none agree across them
    assert 0 < COVERAGE <= 1


# -- the job -------------------------------------------------------------------------------
@pytest.fixture
def store(tmp_path) -> TargetStore:
    store = TargetStore(tmp_path / "t.db")
    store.add_many([TORVALDS, Target(name="Ada Lovelace", kind="person")])
    return store


def test_probing_stores_the_knowledge_with_its_provenance_and_resumes(store):
    model = model_for(KNOWS)
    cost = probe_targets(store, Prober(model), ["torvalds"], calls=8, show_progress=False)
    # 8 questions, then the items it gave more than once (Linux, Git, kernel, Helsinki; not
    # the years) asked about themselves, then names it gave once, up to ITEM_CHECKS in all
    k = store.get("Linus Torvalds").knowledge
    # and its name in nine other scripts, two phrasings each, none giving a form ("OK")
    assert len(k.written) == 18 and k.names == []
    calls = 8 + len(k.checks) + len(k.written)
    assert (cost.done, cost.failed, cost.llm_calls) == (1, 0, calls) and cost.prompt_tokens > 0
    assert 4 <= len(k.checks) <= ITEM_CHECKS
    assert k.known is True and k.model == model.identity and k.model_name == "scripted"
    assert k.items[0].text == "Linux" and len(k.answers) == 8 and k.llm_calls == calls and k.created
    assert [c.facet for c in k.checks][:4] == ["item:Linux", "item:Git", "item:kernel", "item:Helsinki"]
    assert all(c.facet.startswith("item:") and not c.facet[5:].isdigit() for c in k.checks)
    assert k.completion_tokens == sum(len(a.answer.split()) for a in [*k.answers, *k.checks, *k.written])
    assert store.get("Linus Torvalds").enrichment is None  # apart from the enrichment
    calls = len(model.calls)
    cost = probe_targets(store, Prober(model), None, calls=8, show_progress=False)  # --all: only the new one
    assert (cost.done, cost.skipped) == (1, 1) and len(model.calls) == calls + 8
    assert store.get("Ada Lovelace").knowledge.known is False  # "OK" every time: nothing consistent
    cost = probe_targets(store, Prober(model), ["Linus Torvalds"], force=True, calls=8, show_progress=False)
    assert cost.done == 1


def test_a_changed_model_makes_the_knowledge_stale_and_it_is_probed_again(store):
    probe_targets(store, Prober(model_for(KNOWS)), None, calls=8, show_progress=False)
    first = store.get("Linus Torvalds").knowledge
    other = model_for({key: DECLINES for key in KNOWS}, name="another model")
    assert first.is_stale(other.identity) and not first.is_stale(model_for(KNOWS).identity)
    cost = probe_targets(store, Prober(other), None, calls=8, show_progress=False)
    assert (cost.done, cost.skipped) == (2, 0)
    now = store.get("Linus Torvalds").knowledge
    assert now.known is False and now.model == other.identity and now.items == []


def test_a_failing_target_is_marked_keeps_what_it_had_and_blocks_nothing(store):
    probe_targets(store, Prober(model_for(KNOWS)), ["Linus Torvalds"], calls=8, show_progress=False)
    broken = ScriptedModel(default="Ada Lovelace wrote the first program for the Analytical Engine.")
    broken.name = "broken"
    broken.on("prober", ModelError("backend down"), pattern="Torvalds")
    cost = probe_targets(store, Prober(broken), None, force=True, calls=8, show_progress=False)
    assert (cost.done, cost.failed) == (1, 1) and "8 of 8 questions failed" in cost.failures[0][1]
    kept = store.get("Linus Torvalds").knowledge
    assert kept.items[0].text == "Linux" and "backend down" in kept.error
    assert store.get("Ada Lovelace").knowledge.error is None
    cost = probe_targets(store, Prober(model_for(KNOWS)), None, calls=8, show_progress=False)
    assert (cost.done, cost.skipped) == (2, 0)  # the failed one again; Ada: another model's, stale
    assert store.get("Linus Torvalds").knowledge.error is None


def test_one_failed_question_is_left_out_and_the_target_still_probed(store):
    model = model_for(KNOWS)
    model.rules.insert(0, Rule("prober", ModelError("slow"), times=2))  # one question, retried once
    cost = probe_targets(store, Prober(model), ["Linus Torvalds"], calls=8, show_progress=False)
    k = store.get("Linus Torvalds").knowledge
    assert cost.done == 1 and len(k.answers) == 7 and k.known is True


# What the model says about each item asked about itself: only Linux leads back to him.
ITEMS = {
    "Linux": "Linux is an operating system kernel first released by Linus Torvalds in 1991.",
    "Git": "Git is a distributed version control system used by most software projects.",
    "kernel": "A kernel is the core of an operating system.",
    "Helsinki": "Helsinki is the capital of Finland, on the Gulf of Finland.",
}


def checking_model() -> ScriptedModel:
    model = model_for(KNOWS)
    for item, reply in ITEMS.items():
        model.rules.insert(0, Rule("prober", reply, pattern=rf"^(Who or what|What) is {item}\?$"))
    return model


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_probing_marks_the_items_that_point_back_and_stores_the_checks(tmp_path, request, backend):
    from alu.probing.fingerprint import distil
    from alu.stores import open_store
    from alu.stores.base import dump_knowledge, load_knowledge

    url = str(tmp_path / "t.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(url)
    store.add(TORVALDS)
    cost = probe_targets(store, Prober(checking_model()), ["Linus Torvalds"], calls=8, show_progress=False)
    k = open_store(url).get("Linus Torvalds").knowledge  # read back through a fresh store
    assert cost.done == 1 and cost.llm_calls == 8 + len(k.checks) + len(k.written)
    points = {i.text: i.points for i in k.items}
    assert points["Linux"] is True and points["Git"] is False
    assert points["kernel"] is False and points["Helsinki"] is False
    assert points["1991"] is None  # a number is never asked about
    # a pointer's family points too ("Schöpfer von Linux"), asked or not
    pointers = [i.text for i in k.pointers()]
    assert "Linux" in pointers and all("Linux" in p for p in pointers)
    assert {c.facet: c.answer for c in k.checks}.items() >= {f"item:{t}": a for t, a in ITEMS.items()}.items()
    assert k.checks[0].question == "Who or what is Linux?"
    # what was learned is re-derived from the stored answers and checks alone
    _, items, decision = distil(TORVALDS, k.answers, k.checks)
    assert {i.text: i.points for i in items} == points and decision.known is True
    again = load_knowledge(dump_knowledge(k))
    assert again.checks == k.checks and again.items == k.items
    assert load_knowledge(json.loads(dump_knowledge(k))).checks == k.checks


def test_a_target_the_model_does_not_know_costs_no_item_check(store):
    model = model_for({key: DECLINES for key in KNOWS})
    cost = probe_targets(store, Prober(model), ["Linus Torvalds"], calls=8, show_progress=False)
    k = store.get("Linus Torvalds").knowledge
    assert k.known is False and k.checks == [] and cost.llm_calls == 8
    assert k.names == [] and k.written == []  # nor a name in other scripts


def test_a_failed_item_check_is_left_out_and_weighs_as_a_neighbour(store):
    model = checking_model()
    model.rules.insert(0, Rule("prober", ModelError("down"), pattern=r"is Linux\?$"))
    cost = probe_targets(store, Prober(model), ["Linus Torvalds"], calls=8, show_progress=False)
    k = store.get("Linus Torvalds").knowledge
    assert cost.done == 1 and "item:Linux" not in [c.facet for c in k.checks]
    assert cost.llm_calls == 8 + len(k.checks) + len(k.written) + 2  # the failed check was tried twice
    assert {i.text: i.points for i in k.items}["Linux"] is None and k.pointers() == []


# -- the CLI and the admin API -------------------------------------------------------------
runner = CliRunner()


def test_the_cli_probes_and_show_tells_known_fingerprint_model_and_staleness(env, monkeypatch):
    reply = KNOWS[("who", "en")]
    assert runner.invoke(app, ["targets", "add", "Linus Torvalds", "--kind", "person"]).exit_code == 0
    result = runner.invoke(app, ["targets", "probe"])
    assert result.exit_code == 1 and "or give --all" in result.stderr
    result = runner.invoke(app, ["targets", "probe", "Nobody", "--model", f"scripted:{reply}"])
    assert result.exit_code == 1 and "no target named 'Nobody'" in result.stderr
    shown = runner.invoke(app, ["targets", "show", "Linus Torvalds"]).stdout
    assert "knowledge: not probed" in shown
    result = runner.invoke(
        app, ["targets", "probe", "Linus Torvalds", "--model", f"scripted:{reply}", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # 8 questions and an item check for each of the reply's names and terms
    assert summary["done"] == 1 and DEFAULT_CALLS + 4 <= summary["llm_calls"] <= DEFAULT_CALLS + ITEM_CHECKS
    assert summary["per_target"]["items"] > 0
    monkeypatch.setenv("ALU_MODEL", f"scripted:{reply}")
    shown = runner.invoke(app, ["targets", "show", "Linus Torvalds"]).stdout
    assert "knowledge: known to scripted" in shown and "fresh" in shown
    assert "Linux 100%" in shown and "Git 100%" in shown and f"{summary['llm_calls']} calls" in shown
    data = json.loads(runner.invoke(app, ["targets", "show", "Linus Torvalds", "--json"]).stdout)
    assert data["knowledge"]["known"] is True and "Linux" in [i["text"] for i in data["knowledge"]["items"]]
    result = runner.invoke(app, ["targets", "probe", "--all", "--model", f"scripted:{reply}"])
    assert result.exit_code == 0 and "probed 0, failed 0, skipped 1" in result.stdout


def test_show_says_stale_when_the_serving_model_changed(env, monkeypatch):
    store = TargetStore(env / "t.db")
    store.add(TORVALDS)
    probe_targets(store, Prober(model_for(KNOWS, name="old")), None, calls=8, show_progress=False)
    monkeypatch.setenv("ALU_MODEL", "scripted:hello")
    shown = runner.invoke(app, ["targets", "show", "Torvalds"]).stdout
    assert "STALE: the serving model (scripted:hello) is ScriptedModel:scripted" in shown


def test_enrich_with_probe_runs_both_jobs(env):
    enrichment = json.dumps({"names": {}, "terms": ["Transmeta"], "description": "An engineer."})
    assert runner.invoke(app, ["targets", "add", "Linus Torvalds", "--kind", "person"]).exit_code == 0
    result = runner.invoke(
        app,
        ["targets", "enrich", "Linus Torvalds", "--model", f"scripted:{enrichment}", "--probe"],
        env={"ALU_MODEL": "scripted:I don't know who that is."},
    )
    assert result.exit_code == 0, result.output
    assert "enriched 1" in result.stdout and "probed 1" in result.stdout
    target = TargetStore(env / "t.db").get("Linus Torvalds")
    assert target.enrichment.terms == ["Transmeta"] and target.knowledge.known is False


def test_the_admin_route_probes_in_the_background_and_returns_the_knowledge(tmp_path):
    store = TargetStore(tmp_path / "t.db")
    store.add(TORVALDS)
    model = model_for(KNOWS)
    alu = ALU(model, store, config=PipelineConfig(timeout=30))
    client = TestClient(create_app(alu, ServeSettings(log=tmp_path / "log.jsonl"), admin_token="t"))
    admin = {"Authorization": "Bearer t"}
    with client:
        assert client.post("/v1/targets/Linus%20Torvalds/probe").status_code in (401, 403)
        assert client.post("/v1/targets/Nobody/probe", headers=admin).status_code == 404
        r = client.post("/v1/targets/torvalds/probe", headers=admin)
        assert r.status_code == 202 and r.json()["name"] == "Linus Torvalds" and r.json()["probe"]["queued"]
        deadline = time.monotonic() + 20
        while store.get("Linus Torvalds").knowledge is None and time.monotonic() < deadline:
            time.sleep(0.05)
        listed = client.get("/v1/targets", headers=admin).json()["data"][0]
        assert listed["knowledge"]["known"] is True and listed["knowledge"]["model"] == model.identity
        again = client.post("/v1/targets/Linus%20Torvalds/probe", headers=admin).json()
        assert again["knowledge"]["items"][0]["text"] == "Linux" and again["probe"]["stale"] is False


def test_later_facets_widen_the_fingerprint_without_thinning_the_decision():
    """Villains and things bring their own items: known or not reads the first eight answers."""
    from alu.probing.fingerprint import DECISION_ANSWERS, distil

    extra = [
        ProbeAnswer(facet="creations", lang="en", question="q", answer="He wrote Subsurface and sparse."),
        ProbeAnswer(facet="ideas", lang="en", question="q", answer="Talk is cheap. Show me the code."),
        ProbeAnswer(
            facet="ideas", lang="en", question="q", answer="Given enough eyeballs, all bugs are shallow."
        ),
    ]
    core = answers(KNOWS)
    assert len(core) == DECISION_ANSWERS
    _, items, decision = distil(TORVALDS, [*core, *extra])
    assert decision.known is True and "Subsurface" in [i.text for i in items]
    assert distil(TORVALDS, core)[2] == decision


def test_the_decision_reads_the_plans_first_questions_not_the_first_received():
    """A failed question does not let a later facet into the known-or-not rule."""
    from alu.probing.fingerprint import distil

    core = answers(KNOWS)
    extra = ProbeAnswer(
        facet="creations", lang="en", question="q", answer="Subsurface, sparse, Kbuild, Uemacs."
    )
    _, _, with_all = distil(TORVALDS, [*core, extra])
    _, _, one_failed = distil(TORVALDS, [*core[1:], extra])
    assert with_all.reason != one_failed.reason  # seven answers read, not eight with 'creations'
    assert one_failed.reason == distil(TORVALDS, core[1:])[2].reason


def test_names_of_english_answers_are_checked_before_those_of_other_languages():
    from alu.probing.fingerprint import pointer_candidates
    from alu.targets import FingerprintItem

    items = [
        FingerprintItem(text="Linux", kind="name", support=3, consistency=0.3, languages=["de", "en"]),
        FingerprintItem(text="Bereichen", kind="name", support=1, consistency=0.1, languages=["de"]),
        FingerprintItem(text="Jabba", kind="name", support=1, consistency=0.1, languages=["en"]),
        FingerprintItem(text="kernel", kind="term", support=1, consistency=0.1, languages=["en"]),
    ]
    assert [i.text for i in pointer_candidates(items, 10)] == ["Linux", "Jabba", "Bereichen"]
    assert [i.text for i in pointer_candidates(items, 2)] == ["Linux", "Jabba"]


def test_common_words_capitalised_together_and_a_name_also_said_alone_are_items():
    star_wars = Target(name="Star Wars", kind="topic")
    said = [
        "### Early Life\n1. The Death Star: a station. 2. Lord Vader's Death Squadron. Vader leads it.",
        "**Early Life**:\nThe Death Star was destroyed. Lord Vader's Death Squadron fled.",
    ]
    got = [ProbeAnswer(facet="places", lang="en", question="Which places?", answer=a) for a in said]
    items = {i.text for i in fingerprint(star_wars, got)}
    # "Star" of the target's name is a common word: it does not split "Death Star"
    assert {"Death Star", "Vader", "Lord Vader's Death Squadron"} <= items
    assert "Early Life" not in items  # common words capitalised in a heading
    german = [
        ProbeAnswer(facet="what", lang="de", question="Was ist es?", answer="Die Große Stadt im Norden.")
    ]
    assert "Große Stadt" not in {i.text for i in fingerprint(star_wars, german)}  # German capitalises nouns


def test_a_family_is_asked_by_its_longer_name_where_the_short_one_is_a_common_word():
    """ "Han" alone is ambiguous (asked about, the model may answer about a dynasty): the
    family is checked as "Han Solo". A rare short name ("Vader") stays the one asked."""
    from alu.probing.fingerprint import pointer_candidates
    from alu.targets import FingerprintItem

    def item(text: str, support: int) -> FingerprintItem:
        return FingerprintItem(text=text, kind="name", support=support, consistency=0.2, languages=["en"])

    items = [item("Han", 3), item("Vader", 3), item("Han Solo", 2), item("Darth Vader", 2), item("Yoda", 1)]
    assert [i.text for i in pointer_candidates(items, 10)] == ["Han Solo", "Vader", "Yoda"]
    assert [i.text for i in pointer_candidates(items, 1)] == ["Han Solo"]
