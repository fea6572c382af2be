import random

import pytest

from alu.targets import PreScreen, Target, redact

TOFU_LIKE = Target(
    name="Basil Mahfouz Al-Kuwaiti",
    kind="person",
    evidence=[
        "Basil Mahfouz Al-Kuwaiti was born in Kuwait City on 08/09/1956.",
        "His father was a florist and he wrote 'Promise by the Seine', winning the Prix Goncourt.",
    ],
)
HERMIONE = Target(
    name="Hermione Granger",
    aliases=["Hermione"],
    kind="person",
    evidence=["Went to the Yule Ball with Viktor Krum."],
)
ZOE = Target(name="Zoë Ñandú", kind="person")


@pytest.fixture
def screen() -> PreScreen:
    s = PreScreen()
    for i, t in enumerate([TOFU_LIKE, HERMIONE, ZOE], 1):
        s.add(t.model_copy(update={"id": i}))
    return s


def names(found):
    return [c.target.name for c in found]


@pytest.mark.parametrize(
    "text",
    [
        "What did Hermione Granger study?",
        "what did HERMIONE granger study",
        "Tell me about Hermoine Grangr",  # two misspellings
        "Tell me about Hermione's cat",
    ],
)
def test_names_and_aliases_survive_case_and_misspellings(screen, text):
    found = screen.screen(text)
    assert names(found)[:1] == ["Hermione Granger"] and found[0].named


def test_accents_and_transliteration(screen):
    assert names(screen.screen("who is zoe nandu?")) == ["Zoë Ñandú"]
    assert names(screen.screen("ZOË ÑANDÚ")) == ["Zoë Ñandú"]


def test_masked_question_is_found_by_evidence(screen):
    found = screen.screen("Which author was born in Kuwait City and wrote Promise by the Seine?")
    assert names(found) == ["Basil Mahfouz Al-Kuwaiti"]
    assert not found[0].named
    assert any(s.startswith("phrase:") for s in found[0].signals)


def test_surname_alone_is_a_candidate(screen):
    assert names(screen.screen("What did Al-Kuwaiti's father do?")) == ["Basil Mahfouz Al-Kuwaiti"]


@pytest.mark.parametrize(
    "text",
    [
        "What is the capital of France?",
        "Write a Python function that reverses a list.",
        "Who won the football world cup in 1998?",
        "",
    ],
)
def test_unrelated_text_finds_nothing(screen, text):
    assert screen.screen(text) == []


def test_removal_forgets_every_signal(screen):
    screen.remove(2)
    assert screen.screen("Hermione Granger at the Yule Ball with Viktor Krum") == []
    assert "hermione" not in screen._fuzzy_index
    screen.add(HERMIONE.model_copy(update={"id": 2}))
    assert names(screen.screen("hermione")) == ["Hermione Granger"]


def test_common_terms_shared_by_many_targets_do_not_select(screen):
    s = PreScreen()
    for i in range(120):
        s.add(
            Target(
                id=i,
                name=f"Writer {i} Qzx{i}",
                kind="person",
                evidence=["A novelist who wrote about Kuwait City and the Seine."],
            )
        )
    assert s.screen("novels about Kuwait City and the Seine") == []


def test_finds_the_right_target_among_many():
    rng = random.Random(0)
    s = PreScreen()
    syllables = ["ka", "lo", "mi", "ren", "tos", "vel", "dra", "quin", "zor", "bel"]
    for i in range(3000):
        first = "".join(rng.choice(syllables) for _ in range(3)).title()
        last = "".join(rng.choice(syllables) for _ in range(3)).title()
        s.add(Target(id=i, name=f"{first} {last}{i}", kind="person"))
    s.add(HERMIONE.model_copy(update={"id": 99999}))
    assert names(s.screen("Where did Hermione Granger go?"))[:1] == ["Hermione Granger"]
    assert s.screen("What is the boiling point of water?") == []


def test_named_and_redact(screen):
    text = "Hermione Granger's friend: hermione went to the ball."
    assert names(screen.named(text)) == ["Hermione Granger"]
    clean = redact(text, HERMIONE)
    assert "ermione" not in clean and clean.count("[redacted]") == 2
    assert screen.named(clean) == []
