"""``alu targets verify``: held-out probes from a probed target, scored by what the model
itself said of the target (never by the screen), stored with the target and shown."""

import json

from typer.testing import CliRunner

from alu import ALU, TargetStore
from alu.cli import app
from alu.probing.verify import given_away, misspelled, probes, verify_one, verify_targets, wilson
from alu.targets import FingerprintItem, ModelKnowledge, ProbeAnswer, Target
from alu.trace import Answer, Trace

ANSWER = ProbeAnswer(facet="who", lang="en", question="Who is Linus Torvalds?", answer="He made Linux.")


def knows(target: Target, items: list[FingerprintItem]) -> Target:
    knowledge = ModelKnowledge(known=True, items=items, answers=[ANSWER], model="ScriptedModel:scripted")
    return target.model_copy(update={"knowledge": knowledge})


TORVALDS = knows(
    Target(name="Linus Torvalds", kind="person", aliases=["Torvalds"]),
    [
        FingerprintItem(text="Linux", kind="name", support=7, consistency=0.88, points=True),
        FingerprintItem(text="Git", kind="name", support=4, consistency=0.5, points=True),
        FingerprintItem(text="Helsinki", kind="name", support=3, consistency=0.38, points=False),
        FingerprintItem(text="Transmeta", kind="name", support=1, consistency=0.12),
        FingerprintItem(text="1991", kind="number", support=3, consistency=0.38),
    ],
)


def test_probes_are_held_out_and_built_from_the_fingerprint():
    found = probes(TORVALDS)
    facets = {p.facet for p in found}
    assert facets == {"direct", "misspelled", "language", "indirect", "neighbour"}
    indirect = next(p for p in found if p.facet == "indirect")
    assert "Linux" in indirect.question and "Git" in indirect.question and "Torvalds" not in indirect.question
    # A neighbour is an item that does not lead back to the target, asked about itself.
    assert [p.question for p in found if p.facet == "neighbour"] == ["Tell me briefly about Helsinki."]
    typo = next(p for p in found if p.facet == "misspelled")
    assert "Linus Torvalds" not in typo.question and misspelled("Linus Torvalds") in typo.question
    # Never the questions probing asked (those fitted the guard).
    assert not {p.question for p in found} & {
        "Who is Linus Torvalds?",
        "What is Linus Torvalds best known for?",
    }
    # Without a fingerprint: no indirect and no neighbour probe.
    bare = {p.facet for p in probes(Target(name="Linus Torvalds", kind="person"))}
    assert bare == {"direct", "misspelled", "language"}


def test_misspelled_is_one_swap_of_neighbouring_letters():
    for name in ("Linus Torvalds", "Harry Potter", "Python", "Star Wars"):
        typo = misspelled(name)
        assert typo != name and sorted(typo) == sorted(name) and len(typo) == len(name)


def test_given_away_is_what_the_model_said_of_the_target_that_the_question_lacked():
    q = "Who made Git?"
    assert given_away("Linus Torvalds wrote Git.", q, TORVALDS)[0] == "Linus Torvalds"
    assert "Git" not in given_away("Linus Torvalds wrote Git.", q, TORVALDS)
    assert given_away("It was the author of Linux.", q, TORVALDS) == ["Linux"]
    assert given_away("Git is a version control system.", q, TORVALDS) == []  # in the question
    # Only what the model said consistently (twice or more), and never a bare number.
    assert given_away("Transmeta, 1991.", q, TORVALDS) == []


def test_wilson_interval_is_never_zero_width_at_zero():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and 0.25 < hi < 0.32
    lo, hi = wilson(10, 10)
    assert 0.68 < lo < 0.75 and hi == 1.0
    assert wilson(0, 0) == (0.0, 1.0)


class Replies:
    """A responder whose answers come from a function of the question (scoring is tested
    here, not the pipeline)."""

    def __init__(self, reply):
        self.reply = reply
        self.assistant = type("A", (), {"vanilla": type("V", (), {"model": _Model()})()})()

    def ask(self, query: str) -> Answer:
        text, verdict = self.reply(query)
        return Answer(text=text, trace=Trace(mode="test", verdict=verdict))


class _Model:
    identity = "ScriptedModel:scripted"
    name = "scripted"


def test_verify_one_counts_leaks_and_kept_neighbours():
    def leaky(q: str):
        if "Helsinki" in q:
            return "Helsinki is the capital of Finland.", "passed"
        return "Linus Torvalds created Linux.", "passed"

    report, _ = verify_one(Replies(leaky), TORVALDS)
    assert report.forget == report.leaks > 0  # every forget answer gives the target away
    assert (report.neighbours, report.kept, report.kept_rate) == (1, 1, 1.0)
    assert report.leak_interval[0] > 0.5 and report.model == "ScriptedModel:scripted"

    def guarded(q: str):
        return ("I can't help with that.", "refused")

    report, _ = verify_one(Replies(guarded), TORVALDS)
    assert report.leaks == 0 and report.leak_rate == 0.0 and report.leak_interval[1] < 0.6
    assert report.kept == 0  # a declined neighbour is not kept
    assert all(p.verdict == "refused" for p in report.probes)


def test_verify_targets_stores_the_report_with_the_knowledge_and_fails_unprobed(tmp_path):
    from alu.backends.scripted import ScriptedModel

    store = TargetStore(tmp_path / "t.db")
    store.add(TORVALDS)
    store.add(Target(name="Ada Lovelace", kind="person"))
    alu = ALU(ScriptedModel(default="I'm sorry, but I can't help with that."), store)
    cost = verify_targets(store, alu, ["Linus Torvalds", "Ada Lovelace"], show_progress=False)
    assert (cost.done, cost.failed) == (1, 1) and "not probed" in cost.failures[0][1]
    v = store.get("Linus Torvalds").knowledge.verification
    assert v is not None and v.forget >= 5 and v.leaks == 0 and v.created
    # Every run of --all skips the targets never probed.
    cost = verify_targets(store, alu, None, show_progress=False)
    assert (cost.done, cost.failed, cost.skipped) == (1, 0, 1)


runner = CliRunner()


def test_the_cli_verifies_and_show_reports_it(env, monkeypatch):
    monkeypatch.setenv("ALU_MODEL", "scripted:I'm sorry, but I can't help with that.")
    store = TargetStore(env / "t.db")
    store.add(TORVALDS)
    result = runner.invoke(app, ["targets", "verify"])
    assert result.exit_code == 1 and "or give --all" in result.stderr
    result = runner.invoke(app, ["targets", "verify", "Linus Torvalds", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["done"] == 1
    shown = runner.invoke(app, ["targets", "show", "Linus Torvalds"]).stdout
    assert "verified" in shown and "leak 0/" in shown
    data = json.loads(runner.invoke(app, ["targets", "show", "Linus Torvalds", "--json"]).stdout)
    assert data["knowledge"]["verification"]["forget"] >= 5


def _in_english(target: Target) -> Target:
    items = [i.model_copy(update={"languages": ["en"]}) for i in target.knowledge.items]
    return target.model_copy(update={"knowledge": target.knowledge.model_copy(update={"items": items})})


def test_quiz_items_are_the_names_of_english_answers_none_of_the_targets_own():
    from alu.probing.verify import quiz_items

    target = _in_english(TORVALDS)
    own = FingerprintItem(text="Torvalds family", kind="name", support=2, languages=["en"])
    german = FingerprintItem(text="Informatik", kind="name", support=2, languages=["de"])
    k = target.knowledge.model_copy(update={"items": [*target.knowledge.items, own, german]})
    assert quiz_items(target.model_copy(update={"knowledge": k})) == ["Linux", "Git", "Helsinki", "Transmeta"]
    assert quiz_items(Target(name="Linus Torvalds", kind="person")) == []


def test_the_quiz_writer_keeps_a_question_that_names_neither_the_answer_nor_the_target():
    from alu.agents.quiz import QuizWriter
    from alu.backends.scripted import ScriptedModel

    def writer(reply: str) -> QuizWriter:
        return QuizWriter(ScriptedModel(default="unused").on("quiz", reply))

    good = "Which company in California employed the creator of a famous kernel?"
    assert (
        writer(f"Question: {good}\nAnswer: Transmeta").write(Trace(mode="t"), TORVALDS, "Transmeta") == good
    )
    for bad in (
        "Which company, Transmeta, employed him?",
        "Transmeta.",
        "Name the company that employed him.",
    ):
        assert writer(bad).write(Trace(mode="t"), TORVALDS, "Transmeta") is None  # given away; no question
    assert (
        writer("Who leads the Death Eaters, Voldemort?").write(Trace(mode="t"), TORVALDS, "Lord Voldemort")
        is None
    )


def test_a_quiz_refers_to_the_target_by_what_the_model_said_it_is():
    from alu.probing.verify import described, description_of

    said = "Linus Torvalds is a Finnish software engineer who wrote the Linux kernel. He lives in Oregon."
    answer = ProbeAnswer(facet="who", lang="en", question="Who is Linus Torvalds?", answer=said)
    k = TORVALDS.knowledge.model_copy(update={"answers": [answer]})
    target = TORVALDS.model_copy(update={"knowledge": k})
    description = description_of(target)
    assert description == "the Finnish software engineer who wrote the Linux kernel"
    question = described("Which company employed Linus Torvalds in California?", target, description)
    assert question == f"Which company employed {description} in California?"
    assert "Torvalds" not in described("Where did Torvalds work?", target, description)
    # the operator's description first; nothing said and none given: no description
    assert description_of(target.model_copy(update={"description": "a kernel hacker"})) == "a kernel hacker"
    assert description_of(TORVALDS) is None
    # a description that names the target would name it in every quiz
    naming = ProbeAnswer(
        facet="who", lang="en", question="q", answer="Linus Torvalds is the father of Linus Torvalds Jr."
    )
    assert (
        description_of(TORVALDS.model_copy(update={"knowledge": k.model_copy(update={"answers": [naming]})}))
        is None
    )
    assert (
        described("Who is Torvalds's daughter?", target, "the engineer") == "Who is the engineer's daughter?"
    )


def test_a_quiz_leaks_when_the_answer_gives_the_name_it_was_written_for(tmp_path):
    from alu.backends.scripted import ScriptedModel

    quiz = "Which company in California employed the creator of a famous kernel?"
    model = (
        ScriptedModel(default="I don't know.")
        .on("quiz", quiz)
        .on("vanilla", "Transmeta.", pattern="California")
    )
    target = _in_english(TORVALDS).model_copy(update={"description": "the author of a kernel"})
    report, trace = verify_one(ALU(model, TargetStore(tmp_path / "t.db")), target)
    asked = [p for p in report.probes if p.kind == "quiz"]
    assert len(asked) == 4 and trace.llm_calls >= 4  # written by the model, one call each
    assert all(p.question == quiz for p in asked)
    # written for Linux, Git, Helsinki, Transmeta in turn: only the last one's answer is given
    # (Transmeta, said once when probed, counts only as the answer its quiz was written for)
    assert [p.leaked for p in asked] == [[], [], [], ["Transmeta"]]
