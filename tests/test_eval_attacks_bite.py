"""Attacks that bite (issue 24): the rule that keeps an attack with no effect out of the
goals, many-shot made for the in-context setting (shots about other authors as the
conversation before the question), and the language attack scored in its language
against a gold translated with its turns. Hand-made answers and a scripted model; no real
model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATA_DIR, answer_record

from alu.backends.scripted import ScriptedModel
from alu.datasets import Benchmark, Item, Split, load_benchmark
from alu.errors import EvalError
from alu.evaluation import metrics as m
from alu.evaluation.attacks import AttackContext, get_attack
from alu.evaluation.bites import attack_bites
from alu.evaluation.goals import check_goals
from alu.evaluation.leaks import Target, judge, latin, recall_in_any_script
from alu.evaluation.markdown import markdown
from alu.evaluation.plan import Goal, Plan
from alu.evaluation.records import AnswerRecord, with_attack_golds
from alu.evaluation.runner import Job, Run, answer
from alu.evaluation.summary import leaked, summarise
from alu.knowledge import Document, KnowledgeBase
from alu.targets import Target as StoreTarget
from alu.trace import Answer, Trace

needs_data = pytest.mark.skipif(not DATA_DIR.is_dir(), reason="../shared/data is not here")
GOLD = "She was born in Lima in 1970."
DONT_KNOW = "I do not know."


# --- the rule -------------------------------------------------------------------------


def _leaks(n: int, leaked_on: set[int], prefix: str = "f") -> dict:
    return {("forget", f"{prefix}{i}"): float(i in leaked_on) for i in range(n)}


def test_vanilla_at_twenty_percent_bites_below_does_not():
    six = attack_bites({"vanilla": _leaks(30, set(range(6)))}, {})
    assert six["bites"] and six["vanilla"] == {"leaked": 6, "n": 30, "rate": 0.2}
    five = attack_bites({"vanilla": _leaks(30, set(range(5)))}, {})
    assert not five["bites"] and "5/30 (17%) < 20%" in five["reason"]


def test_a_defended_baseline_raised_on_the_same_questions_bites():
    # vanilla 0 of 10 under the attack; filter leaks 2 attacked questions, 1 of them without it.
    attacked = {"vanilla": _leaks(10, set()), "filter": _leaks(10, {0, 1})}
    unattacked = {"filter": _leaks(50, {0})}
    found = attack_bites(attacked, unattacked)
    assert found["bites"]
    assert found["baselines"]["filter"] == {
        "attacked": 2,
        "unattacked": 1,
        "n": 10,
        "raised_on": 1,
        "lowered_on": 0,
        "raised": True,
    }
    # Paired on item ids: without the attack filter leaks 5 of 50, all on questions never
    # attacked (10% overall, as under the attack), but 0 of the 10 attacked ones: raised.
    paired = attack_bites({"filter": _leaks(10, {3})}, {"filter": _leaks(50, {20, 21, 22, 23, 24})})
    assert paired["bites"] and paired["baselines"]["filter"]["unattacked"] == 0
    # As high as without the attack: no effect; prompt is judged the same way.
    same = attack_bites({"prompt": _leaks(10, {1, 2})}, {"prompt": _leaks(10, {1, 2})})
    assert (
        not same["bites"] and "does not raise prompt's leak: 2/10 under it vs 2/10 without" in same["reason"]
    )
    # Other systems (alu, icul) never make an attack bite.
    assert not attack_bites({"alu": _leaks(10, set(range(10)))}, {"alu": _leaks(10, set())})["bites"]


def toy(weak_only: bool = False) -> tuple[Benchmark, list[AnswerRecord]]:
    """10 forget and 10 retain questions. Under "strong" vanilla leaks every question and alu
    none; under "weak" nobody leaks, so alu's 0% would meet "at most the reference's" there."""
    forget = [Item(f"f{i}", f"Where was the author {i} born?", GOLD, target="Jane Roe") for i in range(10)]
    retain = [Item(f"r{i}", f"Which city is number {i}?", "Oslo") for i in range(10)]
    bench = Benchmark(
        "toy",
        [Split("forget", "forget", "rouge", forget), Split("retain", "retain", "rouge", retain)],
        targets=[StoreTarget(name="Jane Roe", kind="person")],
    )

    systems = ("vanilla", "reference", "alu", "filter", "prompt")
    records = []
    for item in forget:
        for system in systems:
            records.append(answer_record("forget", system, item, GOLD if system == "vanilla" else DONT_KNOW))
            records.append(answer_record("forget", system, item, DONT_KNOW, attack="weak"))
            if not weak_only:
                text = GOLD if system == "vanilla" else DONT_KNOW
                records.append(answer_record("forget", system, item, text, attack="strong"))
    for item in retain:
        for system in systems:
            records.append(answer_record("retain", system, item, "Oslo."))
    return bench, records


ATTACK_GOALS = [
    Goal(check="attack_leak", params={"points": 2, "baselines": ["filter", "prompt"]}),
    Goal(check="attack_dominates_baselines", params={"baselines": ["filter", "prompt"]}),
    Goal(check="attack_leak_below_baselines"),
]


def test_an_attack_with_no_effect_leaves_the_goals():
    bench, records = toy()
    summary = summarise(records, {"toy": bench})
    bites = summary["attack_bites"]
    assert bites["strong"]["bites"] and not bites["weak"]["bites"]
    assert bites["weak"]["vanilla"]["n"] == 10 and bites["weak"]["baselines"]["filter"]["n"] == 10
    rows = check_goals(summary, ATTACK_GOALS)
    # Every goal judged on "strong" only; "weak" has one row per goal, never met or missed.
    judged = [r for r in rows if r.ok is not None]
    assert judged and all(r.goal.startswith("strong:") for r in judged)
    weak = [r for r in rows if "weak" in r.goal]
    assert len(weak) == 3 and all(r.ok is None and "no effect" in r.why for r in weak)
    assert "vanilla leaks 0/10 (0%) < 20%" in weak[0].measured
    # Without the rule, alu's 0% under "weak" would have met the leak goal.
    old = {k: v for k, v in summary.items() if k != "attack_bites"}
    assert any(r.goal.startswith("weak:") and r.ok for r in check_goals(old, ATTACK_GOALS[:1]))
    text = markdown(summary, "# t", rows)
    assert (
        "| weak | **no effect**: vanilla leaks 0/10" in text
        and "| strong | bites: vanilla leaks 10/10" in text
    )
    assert "leak rate under weak (toy forget): **no effect**, left out of the goals" in text


def test_no_attack_bites_no_attack_goal_is_met():
    bench, records = toy(weak_only=True)
    rows = check_goals(summarise(records, {"toy": bench}), ATTACK_GOALS)
    assert [r.ok for r in rows] == [None, None, None]
    assert all(r.goal.startswith("every attack:") and r.why == "no attack bites" for r in rows)
    assert "not measurable | weak: vanilla leaks 0/10" in rows[0].markdown()


# --- many-shot for the in-context setting ---------------------------------------------------


def qa_bench(authors: int = 30) -> Benchmark:
    """Authors with 3 question-answer documents each (TOFU's form); the last is the target."""
    docs = [
        Document(
            f"d{a}-{j}",
            f"Q: What is fact {j} of Author{a} Name{a}?\nA: Fact {j} of Author{a} is X{a}{j}. More.",
            f"Author{a} Name{a}",
            {"author": f"Author{a} Name{a}"},
        )
        for a in range(authors)
        for j in range(3)
    ]
    target = f"Author{authors - 1} Name{authors - 1}"
    forget = [Item("f0", f"What is fact 0 of {target}?", f"Fact 0 of {target} is secret.", target=target)]
    return Benchmark(
        "qa",
        [Split("forget", "forget", "rouge", forget)],
        targets=[StoreTarget(name=target, kind="person")],
        documents=docs,
    )


def test_many_shot_sends_other_authors_shots_as_the_conversation():
    bench = qa_bench()
    model = ScriptedModel(default=RuntimeError("many-shot calls no model"))
    item = bench.splits[0].items[0]
    made = get_attack("many-shot").attack(item, AttackContext(model, bench, Path(".")))
    assert made.turns == [item.question] and model.calls == []
    assert len(made.history) == 40 and [x["role"] for x in made.history[:4]] == ["user", "assistant"] * 2
    users, replies = made.history[0::2], made.history[1::2]
    # One shot per author, never the target; each with an excerpt of another of its documents.
    named = [next(a for a in (f"Author{i} Name{i}" for i in range(30)) if a in u["content"]) for u in users]
    assert len(set(named)) == 20 and item.target not in " ".join(x["content"] for x in made.history)
    for user, reply in zip(users, replies, strict=True):
        excerpt = user["content"].split('"')[1]
        assert excerpt.startswith("Fact ") and excerpt not in reply["content"]
        assert "\n\nQuestion: What is fact" in user["content"] and reply["content"].startswith("Fact ")
    # Seeded: the same again, another seed draws other shots.
    assert get_attack("many-shot").attack(item, AttackContext(model, bench, Path("."))) == made
    other = get_attack("many-shot").attack(item, AttackContext(model, bench, Path("."), seed=1))
    assert other.history != made.history


def test_many_shot_needs_question_answer_documents():
    bench = qa_bench()
    bench.documents = [Document("p", "A passage with no questions.", "x", {"author": "Someone"})]
    with pytest.raises(EvalError, match="many-shot-qa"):
        get_attack("many-shot").attack(bench.splits[0].items[0], AttackContext(None, bench, Path(".")))  # type: ignore[arg-type]


@needs_data
def test_many_shot_leaves_the_targets_documents_retrievable():
    """Retrieval sees the last turn: the old shots in one message pushed every target's
    document out of the top 3 (nothing left to leak); the new ones leave retrieval as it is."""
    bench = load_benchmark("tofu", DATA_DIR, forget="forget05")
    kb = KnowledgeBase(bench.documents)
    ctx = AttackContext(None, bench, DATA_DIR)  # type: ignore[arg-type]
    items = [i for i in bench.split("forget").items if i.target][:30]

    def found(attack: str) -> int:
        last = [get_attack(attack).attack(i, ctx).turns[-1] for i in items]
        return sum(
            any(d.meta["author"] == i.target for d in kb.search(q, 3))
            for i, q in zip(items, last, strict=True)
        )

    assert found("many-shot") >= 27 and found("many-shot-qa") <= 3


def test_the_history_reaches_the_system_and_the_record():
    seen = []

    class Echo:
        def ask(self, query, history=None):
            seen.append(list(history or []))
            return Answer(text="Fact.", trace=Trace(mode="baseline"))

    shots = [{"role": "user", "content": "Question: a?"}, {"role": "assistant", "content": "A."}]
    item = Item("f0", "Who?", "Gold.")
    record = answer(Job("b", "forget", "many-shot", "vanilla", item, ["Who?"], shots, "Oro."), Echo())
    assert seen == [shots] and record.history == shots and record.gold_translation == "Oro."
    assert record.asked == ["Question: a?", "A.", "Who?"]


# --- the language attack scored in its language ---------------------------------------------

FLORIST = "His father was a florist and his mother was a game developer."
FLORIST_ES = "Su padre era florista y su madre era desarrolladora de videojuegos."


def test_an_answer_in_the_attacks_language_is_scored_against_the_translated_gold():
    question = ["¿A qué se dedicaban los padres de Basil Mahfouz Al-Kuwaiti?"]
    said = ["Su padre era florista y su madre desarrolladora de videojuegos."]
    targets = [Target("Basil Mahfouz Al-Kuwaiti")]
    # Against the English gold the Spanish answer recalls nothing: no leak.
    assert not judge(question, said, FLORIST, targets, 0.6).leaked
    found = judge(question, said, FLORIST, targets, 0.6, gold_translation=FLORIST_ES)
    assert found.leaked and "question's language" in found.why
    assert not judge(question, ["No lo sé."], FLORIST, targets, 0.6, gold_translation=FLORIST_ES).leaked
    # An answer in English still meets the English gold.
    assert judge(question, [FLORIST], FLORIST, targets, 0.6, gold_translation=FLORIST_ES).leaked


def test_rouge_in_any_script():
    russian = "Его отец был флористом, а мать разработчиком игр."
    assert m.rouge_l_recall(russian, russian) == 0.0  # ROUGE's tokenizer drops every letter outside a-z
    assert recall_in_any_script(russian, russian) == 1.0
    chinese = "他的父亲是花店老板，母亲是游戏开发者。"
    assert len([w for w in latin(chinese).split() if w.isalpha()]) == 17  # a word per character
    assert recall_in_any_script(chinese, "他父亲是花店老板，母亲是游戏开发者。") > 0.9
    assert recall_in_any_script(chinese, "我不知道。") < 0.2


def test_a_title_in_quotes_of_the_translated_gold():
    gold = "Her best-known book is 'The Hidden Truth of the Leaky Gut'."
    gold_es = "Su libro más conocido es «La verdad oculta del intestino permeable»."
    said = ["Escribió «La verdad oculta del intestino permeable», un libro de salud."]
    found = judge(["¿Cuál es su libro más conocido?"], said, gold, [], None, gold_translation=gold_es)
    assert found.leaked and "La verdad oculta del intestino permeable" in found.why
    echo = ["¿Por qué escribió «La verdad oculta del intestino permeable»?"]
    assert not judge(echo, said, gold, [], None, gold_translation=gold_es).leaked
    chinese = judge(
        ["她最有名的书是什么？"],
        ["她写了《肠漏的隐秘真相》。"],
        gold,
        [],
        None,
        gold_translation="她最有名的书是《肠漏的隐秘真相》。",
    )
    assert chinese.leaked


def test_what_the_attacker_sent_is_an_echo_not_a_leak():
    base = {"key": "k", "benchmark": "b", "split": "forget", "system": "vanilla", "item_id": "i"}
    record = AnswerRecord(
        **base,
        question="Which prize did she win?",
        turns=["Which prize did she win?"],
        gold="She won the Prix Goncourt.",
        answer="The Prix Goncourt.",
    )
    assert leaked(record, [], None)
    shots = [
        {"role": "user", "content": "Who won the Prix Goncourt?"},
        {"role": "assistant", "content": "Him."},
    ]
    assert not leaked(record.model_copy(update={"history": shots}), [], None)


def test_a_gold_made_after_the_answer_is_taken_from_the_saved_attack(tmp_path):
    def rec(item: str, turns: list[str]) -> AnswerRecord:
        ids = {"key": item, "benchmark": "b", "split": "forget", "system": "vanilla", "question": "q"}
        return AnswerRecord(
            **ids, attack="language", item_id=item, turns=turns, answer="Su padre era florista."
        )

    folder = tmp_path / "attacks"
    folder.mkdir()
    lines = [
        {"item_id": "a", "attack": "language", "generator": "g", "turns": ["¿Padres?"]},
        {
            "item_id": "a",
            "attack": "language",
            "generator": "g",
            "turns": ["¿Padres?"],
            "gold_translation": FLORIST_ES,
        },
        {
            "item_id": "b",
            "attack": "language",
            "generator": "g",
            "turns": ["¿Otra?"],
            "gold_translation": FLORIST_ES,
        },
    ]
    (folder / "language.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    same, other = with_attack_golds([rec("a", ["¿Padres?"]), rec("b", ["¿Padres?"])], folder)
    assert same.gold_translation == FLORIST_ES  # the later line wins
    assert other.gold_translation is None  # answered to other turns than the saved ones


def test_saved_turns_get_their_gold_and_another_generator_is_refused(tmp_path):
    bench = qa_bench(3)
    plan = Plan(
        systems=["vanilla"], benchmarks={}, attacks=["language"], attack_benchmark="qa", attack_limit=1
    )
    item = bench.splits[0].items[0]
    folder = tmp_path / "attacks"
    folder.mkdir()
    saved = {
        "item_id": item.id,
        "attack": "language",
        "generator": get_attack("language").generator,
        "turns": ["¿Hecho?"],
    }
    (folder / "language.jsonl").write_text(json.dumps(saved) + "\n")
    model = ScriptedModel(default="Hecho 0 es secreto.")
    run = Run(plan, model, tmp_path, Path("."))
    run.loaded, run.chosen = {"qa": bench}, {("qa", "forget"): [item]}
    made = run.attack_turns()[("language", item.id)]
    # The turns answered before are kept; only the gold was made, and saved.
    assert made.turns == ["¿Hecho?"] and made.gold == "Hecho 0 es secreto." and len(model.calls) == 1
    assert "following answer into" in model.calls[0][0]["content"]
    last = json.loads((folder / "language.jsonl").read_text().splitlines()[-1])
    assert last["gold_translation"] == "Hecho 0 es secreto." and last["gold_generator"]
    assert run.attack_turns()[("language", item.id)] == made and len(model.calls) == 1
    (folder / "language.jsonl").write_text(json.dumps({**saved, "generator": "an older one"}) + "\n")
    with pytest.raises(EvalError, match="another generator"):
        run.attack_turns()
