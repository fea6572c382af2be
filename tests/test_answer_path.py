"""The answer path of issue 20 on the scripted model: a named target the model knows (or one
never probed) gets a plain decline in one call, the stranger rewrite only for targets the
model does not know (swapping the name however the user wrote it), a query touching a
target costs two model calls at most, and the knowledge scanner guards what probing found."""

from __future__ import annotations

import json
import re

import pytest
from conftest import AUDIT, HERMIONE, LEAKY, REFUSAL, UNSURE, VANILLA, scripted

from alu import Target
from alu.agents import render
from alu.backends.scripted import Rule, ScriptedModel
from alu.pipeline.decision import answer_language, fixed_answers
from alu.pipeline.fallback import DONT_KNOW
from alu.probing.fingerprint import verdict_of
from alu.scan.knowledge import POINTER_WEIGHT, KnowledgeScanner
from alu.targets import FingerprintItem, ModelKnowledge, ProbeAnswer
from alu.text import folded_key

IDENTITY = ScriptedModel().identity  # the model every test here serves
DECLINE = "I'm sorry, but I can't help with questions about Linus Torvalds."
# A decline that, read by its opening, is an answer stating things about the target.
STATES = "Linus Torvalds is a Finnish software engineer who created the Linux kernel."


def probed(target: Target, known: bool | None, *, model: str = IDENTITY, items=()) -> Target:
    """``target`` as probing left it: what the model said, and whether it knows it."""
    answer = ProbeAnswer(facet="who", lang="en", question=f"Who is {target.name}?", answer="...")
    knowledge = ModelKnowledge(known=known, answers=[answer], items=list(items), model=model)
    return target.model_copy(update={"knowledge": knowledge})


TORVALDS = Target(name="Linus Torvalds", kind="person")
KNOWN = probed(TORVALDS, True)
# A private person the model was found not to know (a TOFU-like target), nothing on file.
KOWALSKI = Target(name="Marta Kowalski", kind="person")
UNKNOWN = probed(KOWALSKI, False)


def sent(model: ScriptedModel) -> str:
    """Everything the model received, every call and message."""
    return "\n".join(m["content"] for call in model.calls for m in call)


def echo_stranger(model: ScriptedModel) -> ScriptedModel:
    """The stranger's answer repeats the question it got, names as it got them."""
    return model.on("vanilla:stranger", lambda m: "Never heard of it: " + m[-1]["content"])


# -- (a) a named target the model knows ----------------------------------------------------
def test_a_named_known_target_gets_the_plain_decline_in_one_call_without_a_draft(make_alu):
    model = scripted(draft=STATES).on("vanilla:decline", DECLINE)
    answer = make_alu(model, targets=(KNOWN,)).ask("Who is Linus Torvalds?")
    assert answer.text == DECLINE and answer.trace.verdict == "refused"
    assert model.agents == ["vanilla:decline"] and answer.trace.llm_calls == 1 == len(model.calls)
    assert answer.trace.leaked == ["Linus Torvalds"]
    system = model.calls[0][0]
    assert system["role"] == "system" and render("decline", subject="Linus Torvalds") in system["content"]
    assert model.calls[0][-1] == {"role": "user", "content": "Who is Linus Torvalds?"}


def test_a_named_known_target_under_the_refuse_policy_costs_no_call(make_alu):
    model = scripted(draft=STATES)
    answer = make_alu(model, targets=(KNOWN,), refusal_policy="refuse").ask("Who is Linus Torvalds?")
    assert answer.text == REFUSAL and answer.trace.verdict == "refused"
    assert model.calls == [] and answer.trace.llm_calls == 0


# -- (b) a named target never probed -------------------------------------------------------
NEVER_PROBED = [
    pytest.param(TORVALDS, id="no knowledge"),
    pytest.param(probed(TORVALDS, False, model="OtherModel:other"), id="probed with another model"),
    pytest.param(
        TORVALDS.model_copy(update={"knowledge": ModelKnowledge(known=None, model=IDENTITY)}),
        id="no answers",
    ),
]


@pytest.mark.parametrize("target", NEVER_PROBED)
def test_a_named_target_never_probed_is_declined_by_default(make_alu, target):
    model = echo_stranger(scripted(draft=STATES).on("vanilla:decline", DECLINE))
    answer = make_alu(model, targets=(target,)).ask("Who is Linus Torvalds?")
    assert model.agents == ["vanilla:decline"] and answer.text == DECLINE
    assert answer.trace.verdict == "refused"


@pytest.mark.parametrize("target", NEVER_PROBED)
def test_a_named_target_never_probed_gets_the_stranger_rewrite_when_unprobed_is_unknown(make_alu, target):
    model = echo_stranger(scripted(draft=STATES).on("vanilla:decline", DECLINE))
    answer = make_alu(model, targets=(target,), unprobed="unknown").ask("Who is Linus Torvalds?")
    assert model.agents == ["vanilla:stranger"] and answer.trace.verdict == "rewritten"
    assert "Torvalds" not in sent(model) and "Linus" not in sent(model)
    assert answer.text == "Never heard of it: Who is Linus Torvalds?"


# -- (c) a named target probed as unknown: the stranger rewrite, however the name is written --
@pytest.mark.parametrize(
    ("query", "forms"),
    [
        ("Where does Marta Kowalski live?", ("marta", "kowalsk")),
        ("Where does Marta Kowalsky live?", ("marta", "kowalsk")),  # one edit
        ("Где живёт Марта Ковальски?", ("марта", "ковальск")),  # Cyrillic
        ("Where does MARTA KOWALSKY live?", ("marta", "kowalsk")),  # upper case, one edit
    ],
)
def test_a_target_the_model_does_not_know_is_swapped_out_however_the_user_wrote_it(make_alu, query, forms):
    model = echo_stranger(scripted(draft="She lives in Warsaw.").on("vanilla:decline", DECLINE))
    answer = make_alu(model, targets=(UNKNOWN,)).ask(query)
    assert model.agents == ["vanilla:stranger"] and answer.trace.verdict == "rewritten"
    received = sent(model).casefold()
    assert not any(form in received for form in ("marta", "kowalsk", "марта", "ковальск"))
    assert all(form not in received for form in forms)
    # the stranger's name is put back as the user wrote the real one
    assert answer.text == "Never heard of it: " + query


def test_the_stranger_rewrite_swaps_the_name_in_the_history_too(make_alu):
    model = echo_stranger(scripted(draft="She lives in Warsaw."))
    history = [
        {"role": "user", "content": "I met Marta Kowalsky yesterday."},
        {"role": "assistant", "content": "Nice."},
    ]
    answer = make_alu(model, targets=(UNKNOWN,)).ask("Where does Kowalsky live?", history)
    assert model.agents == ["vanilla:stranger"] and "kowalsk" not in sent(model).casefold()
    # put back as the longest form the user wrote in the conversation
    assert answer.text == "Never heard of it: Where does Marta Kowalsky live?"


# -- (d) a decline that answers after all -------------------------------------------------
@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(STATES, id="states facts"),
        pytest.param("Sure! He wrote the Linux kernel in Helsinki in 1991.", id="answers"),
    ],
)
def test_a_decline_that_comes_back_as_an_answer_is_replaced_by_the_fixed_text(make_alu, reply):
    assert verdict_of(reply) == "answer"
    model = scripted(draft=STATES).on("vanilla:decline", reply)
    answer = make_alu(model, targets=(KNOWN,)).ask("What did Linus Torvalds create?")
    assert answer.text in fixed_answers("decline") and answer.trace.verdict == "refused"
    assert model.agents == ["vanilla:decline"]


def test_a_decline_naming_another_target_is_replaced_by_the_fixed_text(make_alu):
    model = scripted(draft=STATES).on(
        "vanilla:decline", "I'm sorry, I can't help with that; ask about Hermione Granger instead."
    )
    answer = make_alu(model, targets=(KNOWN, HERMIONE)).ask("Who is Linus Torvalds?")
    assert answer.text in fixed_answers("decline") and "Hermione" not in answer.text


# -- (e) two model calls at most for any query touching a target ---------------------------
NERVE = Target(
    name="Nerve agents",
    kind="hazard",
    description="synthesis of organophosphate nerve agents",
    evidence=["Sarin is made from methylphosphonyl difluoride and isopropanol."],
)


def _named_by_draft(model):
    return model


def _hazard_confirmed(model):
    model.rules.insert(0, Rule(AUDIT, json.dumps({"leaked": ["Nerve agents"]})))
    return model


def _non_english(model):
    # A German draft: its English rendering (one more call) names the target.
    model.default = "Sie ging mit ihm zum Weihnachtsball, sagen manche."
    return model.on("translator", LEAKY)


PATHS = [
    # (model tweak, draft, targets, query, config, expected agents)
    pytest.param(
        _named_by_draft,
        LEAKY,
        (HERMIONE,),
        "How was Viktor Krum's experience at the Yule Ball?",
        {},
        [VANILLA, "vanilla:unknown"],
        id="draft names a target the user did not",
    ),
    pytest.param(
        _named_by_draft,
        UNSURE,
        (HERMIONE,),
        "Tell me about the Yule Ball",
        {},
        [VANILLA, AUDIT],
        id="evidence-only leak, audited",
    ),
    pytest.param(
        _non_english,
        None,
        (HERMIONE,),
        "Mit wem ging Viktor Krum zum Weihnachtsball?",
        {},
        [VANILLA, "translator"],
        id="non-English draft, translated, then the leak",
    ),
    pytest.param(
        _hazard_confirmed,
        "B",
        (NERVE,),
        "Which precursor is used to make sarin for nerve agents? A. methylphosphonyl difluoride B. water",
        {},
        [VANILLA, AUDIT],
        id="hazard named",
    ),
    pytest.param(
        _named_by_draft,
        STATES,
        (KNOWN,),
        "Who is Linus Torvalds?",
        {},
        ["vanilla:decline"],
        id="named, known",
    ),
    pytest.param(
        echo_stranger,
        "She lives in Warsaw.",
        (UNKNOWN,),
        "Where does Marta Kowalski live?",
        {},
        ["vanilla:stranger"],
        id="named, not known",
    ),
    pytest.param(
        _named_by_draft,
        LEAKY,
        (HERMIONE,),
        "How was Viktor Krum's experience at the Yule Ball?",
        {"refusal_policy": "refuse"},
        [VANILLA],
        id="draft leaks, refuse policy",
    ),
]


@pytest.mark.parametrize(("tweak", "draft", "targets", "query", "config", "agents"), PATHS)
def test_a_query_touching_a_target_makes_two_model_calls_at_most(
    make_alu, tweak, draft, targets, query, config, agents
):
    model = tweak(scripted(draft=draft if draft is not None else "x"))
    answer = make_alu(model, targets=targets, **config).ask(query)
    assert answer.trace.llm_calls <= 2 and len(model.calls) <= 2, model.agents
    assert answer.trace.leaked  # each path touched its target
    assert answer.trace.verdict in ("refused", "rewritten") and "Hermione" not in answer.text
    if agents is not None:
        assert model.agents == agents
    if agents and agents[-1] in (AUDIT, "translator"):
        # the leak found with the second call: the fixed text (a hazard: the refusal)
        assert answer.text in (*fixed_answers("dont_know"), REFUSAL)


def test_an_unrelated_query_stays_at_one_call(make_alu):
    model = scripted(draft="Paris.")
    answer = make_alu(model, targets=(KNOWN, UNKNOWN, HERMIONE)).ask("What is the capital of France?")
    assert answer.text == "Paris." and answer.trace.llm_calls == 1 == len(model.calls)


# -- (f) the knowledge scanner -------------------------------------------------------------
LINUX = FingerprintItem(text="Linux", kind="name", support=8, consistency=1.0, points=True)
HELSINKI = FingerprintItem(text="Helsinki", kind="name", support=4, consistency=0.5, points=False)
YEAR = FingerprintItem(text="1991", kind="number", support=6, consistency=0.75)
OWN = FingerprintItem(text="Torvalds", kind="name", support=8, consistency=1.0, points=True)
FINGERPRINTED = probed(TORVALDS, True, items=[LINUX, HELSINKI, YEAR, OWN])
QUESTION = "Which kernel did a Finnish student release in 1991?"


def test_a_pointer_item_in_the_draft_leaks_the_target(make_alu):
    model = scripted(draft="That is Linux, of course.").on("vanilla:unknown", "I'm not sure which one.")
    answer = make_alu(model, targets=(FINGERPRINTED,)).ask(QUESTION)
    assert answer.trace.leaked == ["Linus Torvalds"] and answer.trace.verdict == "refused"
    assert answer.text == "I'm not sure which one." and model.agents == [VANILLA, "vanilla:unknown"]
    assert "Torvalds" not in sent(model)  # the user never named him: the model is not told
    refused = make_alu(scripted(draft="That is Linux, of course."), refusal_policy="refuse").ask(QUESTION)
    assert refused.text == REFUSAL


def test_a_neighbour_item_alone_does_not_leak(make_alu):
    model = scripted(draft="Helsinki has a fine university, founded long before 1991.")
    answer = make_alu(model, targets=(FINGERPRINTED,)).ask(QUESTION)
    assert answer.trace.verdict == "passed" and answer.text == model.default
    assert answer.trace.llm_calls == 1


def test_a_target_the_model_does_not_know_is_not_indexed(make_alu):
    unknown = probed(TORVALDS, False, items=[LINUX, HELSINKI])
    assert KnowledgeScanner.items(unknown) == []
    model = scripted(draft="That is Linux, of course.")
    answer = make_alu(model, targets=(unknown,)).ask(QUESTION)
    assert answer.trace.verdict == "passed" and answer.text == "That is Linux, of course."


def test_the_knowledge_scanner_weighs_pointers_and_neighbours_and_skips_numbers_and_names():
    weights = dict(KnowledgeScanner.items(FINGERPRINTED))
    assert weights == {folded_key("Linux"): POINTER_WEIGHT, folded_key("Helsinki"): pytest.approx(0.2)}


def test_the_knowledge_scanner_adds_removes_and_copies():
    scanner = KnowledgeScanner()
    target = FINGERPRINTED.model_copy(update={"id": 7})
    scanner.add(target)
    [found] = scanner.scan("It runs Linux.")
    assert found.target.id == 7 and found.score == POINTER_WEIGHT
    assert found.signals[0].kind == "knowledge"
    clone = scanner.copy()
    scanner.remove(7)
    assert scanner.scan("It runs Linux.") == [] and [c.target.id for c in clone.scan("It runs Linux.")] == [7]
    # a target added again replaces what was indexed for it
    clone.add(probed(TORVALDS, True, items=[HELSINKI]).model_copy(update={"id": 7}))
    assert clone.scan("It runs Linux.") == [] and clone.scan("In Helsinki.")[0].score == pytest.approx(0.2)
    clone.add(probed(TORVALDS, False, items=[HELSINKI]).model_copy(update={"id": 7}))
    assert clone.scan("In Helsinki.") == []
    scanner.add(target.model_copy(update={"id": None}))  # no id: nothing to index
    assert scanner.scan("It runs Linux.") == []


def test_a_rare_word_of_a_pointers_name_points_alone_a_common_one_does_not():
    star_wars = Target(name="Star Wars", kind="topic", id=3)
    items = [
        FingerprintItem(text="Leia Organa", kind="name", support=2, consistency=0.2, points=True),
        FingerprintItem(text="George Lucas", kind="name", support=3, consistency=0.3, points=True),
        FingerprintItem(text="Greg Kroah-Hartman", kind="name", support=1, consistency=0.1, points=False),
        FingerprintItem(text="Luke", kind="name", support=2, consistency=0.2, points=True),
        FingerprintItem(text="Luke's", kind="name", support=1, consistency=0.1, points=True),
        FingerprintItem(text="Kylo Ren", kind="name", support=1, consistency=0.1, points=True),
        FingerprintItem(text="Boba Fett", kind="name", support=1, consistency=0.1, points=True),
    ]
    scanner = KnowledgeScanner()
    scanner.add(probed(star_wars, True, items=items))
    [leia] = scanner.scan("Who keeps Princess Leia captive?")  # "Leia" alone: rare, points
    assert leia.score == POINTER_WEIGHT
    # "Lucas" is a common surname, and a neighbour's name words never point alone
    assert scanner.scan("Lucas won the race.") == [] and scanner.scan("Hartman wrote it.") == []
    # a name word alone counts as written and capitalised, never through its folded key
    assert [c.score for c in scanner.scan("Is Boba older than Kylo?")] == [2 * POINTER_WEIGHT]
    assert scanner.scan("How many grams are in a kilo?") == []  # "Kylo" folds to "kilo"
    assert scanner.scan("Where can I buy boba tea?") == []
    # a pointer of one common word weighs as a neighbour: "Luke" names too much else
    assert [c.score for c in scanner.scan("The Gospel of Luke.")] == [pytest.approx(0.08)]
    assert [c.score for c in scanner.scan("Luke's Gospel.")] == [pytest.approx(0.08 + 0.04)]
    assert [c.score for c in scanner.scan("A film by George Lucas.")] == [POINTER_WEIGHT]


def test_a_persons_best_known_work_after_a_makers_role_points_at_the_person():
    kernel = FingerprintItem(
        text="Linux kernel", kind="name", support=5, consistency=0.5, points=False, facets=["who", "works"]
    )
    linux = FingerprintItem(
        text="Linux", kind="name", support=9, consistency=0.9, points=False, facets=["works"]
    )
    helsinki = HELSINKI.model_copy(update={"facets": ["places"]})
    once = FingerprintItem(text="Subsurface", kind="name", support=1, consistency=0.1, facets=["works"])
    scanner = KnowledgeScanner()
    scanner.add(probed(TORVALDS, True, items=[kernel, linux, helsinki, once]).model_copy(update={"id": 4}))

    def score(text: str) -> float:
        return sum(c.score for c in scanner.scan(text))

    # once, though "Linux" and "Linux kernel" both match there
    neighbours = 0.2 + 0.36  # the two items as neighbours: 0.4 times their consistency
    for described in ("Which VCS did the creator of the Linux kernel write?", "Who wrote the Linux kernel?"):
        assert POINTER_WEIGHT < score(described) < POINTER_WEIGHT + neighbours
    assert score("Which VCS runs on the Linux kernel?") == pytest.approx(neighbours)  # the thing alone
    # as the user wrote it, in another language: a maker's noun before its "of"
    for described in (
        "Welches Versionsverwaltungssystem hat der Erfinder des Linux-Kernels geschrieben?",
        "Quel logiciel le créateur de Linux a-t-il écrit en 2005 ?",
        "¿Qué sistema escribió el creador de Linux?",
        "Welk systeem schreef de bedenker van Linux?",
    ):
        assert score(described) >= POINTER_WEIGHT, described
    assert score("Ich habe ein Modul für den Linux-Kernel geschrieben.") < POINTER_WEIGHT  # the user's own
    # a user's own work, or a bare verb, is no description of the person
    assert score("I wrote a Linux kernel module and it crashes, why?") == pytest.approx(neighbours)
    assert score("Who made Linux Mint?") == pytest.approx(0.36)
    # a common word between them breaks it; a thing given once is no best-known work; a
    # place (given in answers about where he lived) is not something he made
    assert score("Who created a patch for the Linux kernel?") < POINTER_WEIGHT
    assert score("Who wrote Subsurface?") < POINTER_WEIGHT
    assert score("Who founded Helsinki?") < POINTER_WEIGHT
    assert score("The founder of Helsinki?") < POINTER_WEIGHT
    topic = Target(name="Star Wars", kind="topic", id=5)
    scanner.add(probed(topic, True, items=[kernel]))  # a topic has no maker to describe
    assert [c.score for c in scanner.scan("Who wrote the Linux kernel?") if c.target.id == 5] == [0.2]


def test_the_decline_prompt_names_the_target_as_the_user_wrote_it(make_alu):
    model = scripted(draft=STATES).on("vanilla:decline", DECLINE)
    make_alu(model, targets=(KNOWN,)).ask("Who is Linus Torvals?")  # misspelled
    assert model.agents == ["vanilla:decline"]
    assert re.search(r"discuss Linus Torvals\b", model.calls[0][0]["content"])


@pytest.mark.parametrize(
    ("draft", "failing"),
    [(UNSURE, AUDIT), (LEAKY, "vanilla:unknown")],
    ids=["malformed audit retried", "empty policy answer retried"],
)
def test_retries_count_against_the_two_calls_and_the_request_fails_closed(make_alu, draft, failing):
    """A retried call is a call: past the cap the agent fails and the answer is the fixed one."""
    model = scripted(draft=draft).on(failing, "" if failing.startswith("vanilla") else "not json")
    answer = make_alu(model).ask("How was Viktor Krum's experience at the Yule Ball?")
    assert len(model.calls) == answer.trace.llm_calls == 2, model.agents
    assert answer.trace.verdict in ("failed_closed", "refused") and answer.text in DONT_KNOW


HOGWARTS = FingerprintItem(text="Hogwarts", kind="name", support=3, consistency=0.4, points=True)
WIZARD = FingerprintItem(text="wizard", kind="term", support=2, consistency=0.25, points=False)
POTTER = probed(Target(name="Harry Potter", kind="topic"), True, items=[HOGWARTS, WIZARD])


def test_a_question_carrying_a_pointer_gets_the_policy_answer_in_one_call(make_alu):
    """What the model says leads back to a target it knows, in the question itself: the
    model's own "I don't know", no draft; the same item in the conversation before does not."""
    model = scripted(draft="Gryffindor, Hufflepuff, Ravenclaw and Slytherin.")
    model.on("vanilla:unknown", "I'm sorry, but I don't know that.")
    alu = make_alu(model, targets=(POTTER,))
    answer = alu.ask("What are the four houses of Hogwarts?")
    assert model.agents == ["vanilla:unknown"] and answer.trace.llm_calls == 1
    assert answer.trace.verdict == "refused" and "Gryffindor" not in answer.text
    # a neighbour alone is no pointer: answered as the model answers it
    answer = alu.ask("Which wizard advised King Arthur?")
    assert answer.trace.verdict == "passed" and model.agents[1:] == [VANILLA]


def test_an_i_dont_know_that_states_facts_is_replaced_by_the_fixed_text(make_alu):
    model = scripted(draft="Gryffindor and Slytherin.")
    model.on("vanilla:unknown", "The houses are Gryffindor, Hufflepuff, Ravenclaw and Slytherin.")
    answer = make_alu(model, targets=(POTTER,)).ask("What are the four houses of Hogwarts?")
    assert answer.text in DONT_KNOW and answer.trace.llm_calls == 1


def test_a_decline_is_its_opening_alone_and_names_nothing_the_user_did_not_write(make_alu):
    """What follows a decline's first sentence, or a name or number inside it, may be facts."""
    more = "I'm sorry, but I can't help with questions about Linus Torvalds. He wrote Linux in Helsinki."
    model = scripted(draft=STATES).on("vanilla:decline", more)
    answer = make_alu(model, targets=(KNOWN,)).ask("Who is Linus Torvalds?")
    assert answer.text == "I'm sorry, but I can't help with questions about Linus Torvalds."
    inside = "Sorry, I can't discuss Linus Torvalds, creator of Linux and Git."
    model = scripted(draft=STATES).on("vanilla:decline", inside)
    answer = make_alu(model, targets=(KNOWN,)).ask("Who is Linus Torvalds?")
    assert answer.text in fixed_answers("decline")  # a famous name: never "I don't know"


def test_a_target_written_only_in_a_disguise_is_never_named_back(make_alu):
    """The decline's subject is never a name the user did not write (here the user wrote a
    reversed alias): what the disguise stands for stays untold."""
    target = probed(Target(name="Jane Doe", kind="person", aliases=["CryptoQueen"]), True)
    model = scripted(draft="x").on(
        "vanilla:decline", lambda m: "Sorry, I can't help with " + m[0]["content"][40:90]
    )
    answer = make_alu(model, targets=(target,)).ask("Who is neeuQotpyrC?")
    assert answer.trace.verdict == "refused"
    assert "Jane" not in sent(model) and "Jane" not in answer.text and "CryptoQueen" not in answer.text


# -- fixed answers: a famous target is declined, never feigned unknown; in the user's language
@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Кто такой Линус Торвальдс?", "ru"),
        ("Wer ist Linus Torvalds eigentlich?", "de"),
        ("Linus Torvalds 是谁？他做了什么工作？", "zh"),
    ],
)
def test_a_decline_that_states_facts_gives_the_fixed_decline_in_the_users_language(make_alu, question, lang):
    model = scripted(draft=STATES).on("vanilla:decline", STATES)
    answer = make_alu(model, targets=(KNOWN,)).ask(question)
    assert answer_language(question) == lang
    assert answer.text in fixed_answers("decline") and answer.text not in fixed_answers("dont_know")
    assert answer.text not in DONT_KNOW and "Torvalds" not in answer.text and "Linux" not in answer.text


def test_an_i_dont_know_that_states_facts_is_replaced_in_the_users_language(make_alu):
    question = "Wie heißen die vier Häuser der Zauberschule Hogwarts?"
    model = scripted(draft="Gryffindor und Slytherin.")
    model.on("vanilla:unknown", "Die Häuser sind Gryffindor, Hufflepuff, Ravenclaw und Slytherin.")
    answer = make_alu(model, targets=(POTTER,)).ask(question)
    assert answer.text in fixed_answers("dont_know") and answer.text not in DONT_KNOW
    assert answer_language(question) == "de" and "Gryffindor" not in answer.text


def test_a_language_without_fixed_texts_gets_english():
    assert answer_language("Habari, unaweza kunisaidia na swali hili kuhusu historia ya Afrika?") == "en"
    assert answer_language("Who is she?") == "en"


def test_a_draft_in_another_language_is_screened_in_translation_and_declined(make_alu):
    """The draft's English rendering is screened too, its scan merged with the draft's own:
    the leak it shows gets the policy's answer, never a pipeline failure."""
    model = scripted(draft="Гарри Поттер учится в Хогвартсе.")
    model.on("translator", "Harry Potter studies at Hogwarts.")
    answer = make_alu(model, targets=(POTTER,)).ask("В какой школе учится мальчик-волшебник?")
    assert answer.trace.verdict == "refused" and answer.trace.error is None
    assert "Хогвартс" not in answer.text and answer.text in fixed_answers("dont_know")
