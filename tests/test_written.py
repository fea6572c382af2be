"""How a name is written decides whether it names a target: initials, the words beside a
name part, titles (alu/scan/written.py, used by the pre-screen)."""

import pytest

from alu.scan import PreScreen
from alu.scan.written import Written
from alu.targets import Target
from alu.text import tokens


def _screen(*targets: Target) -> PreScreen:
    s = PreScreen()
    for i, t in enumerate(targets, 1):
        s.add(t.model_copy(update={"id": i}))
    return s


def _naming(s: PreScreen, text: str) -> list[str]:
    return sorted(c.target.name for c in s.scan(text) if c.names_it)


@pytest.mark.parametrize(
    "text",
    [
        "Gabriel García Márquez wrote it.",
        "Кто такой Фёдор Достоевский?",
        "Zoë Ñandú\u200b met 李小龙 — «quoted» O'Brien's 3rd book, 😀 done.",
        "ALL CAPS TEXT, a\x00b and tabs\tand\nlines",
        "",
    ],
)
def test_written_tokens_are_the_prescreens_tokens(text):
    assert Written(text).tokens == tokens(text)


def test_an_alias_with_an_initial_names_only_where_written_as_one():
    s = _screen(
        Target(name="Ayhan Strong", kind="person", aliases=["A. Strong"]),
        Target(name="Sahir Lewis", kind="person", aliases=["S. Lewis"]),
        Target(name="Seda Best", kind="person", aliases=["S. Best"]),
        Target(name="Ferat Scott", kind="person", aliases=["F. Scott"]),
    )
    assert _naming(s, "Her parents had a strong influence on her.") == []
    assert _naming(s, "A strong wind blew.") == []
    assert _naming(s, "C.S. Lewis wrote the Narnia books.") == []
    assert _naming(s, "C. S. Lewis was born in Belfast.") == []
    assert _naming(s, "Gustafsson's Best-selling novel.") == []
    assert _naming(s, "F. Scott Fitzgerald wrote The Great Gatsby.") == []
    assert _naming(s, "A. Strong wrote it.") == ["Ayhan Strong"]
    assert _naming(s, "It was S. Lewis, I think.") == ["Sahir Lewis"]
    assert _naming(s, "Ask F. Scott about it.") == ["Ferat Scott"]
    assert _naming(s, "ask f. Scott about it") == ["Ferat Scott"]


def test_a_surname_inside_another_persons_name_is_not_the_target():
    s = _screen(
        Target(name="Akcabay Marquez", kind="person"),
        Target(name="Ana Cervantes", kind="person"),
        Target(name="Basil Mahfouz Al-Kuwaiti", kind="person"),
        Target(name="Fehim Joyce", kind="person"),
    )
    assert _naming(s, "Gabriel García Márquez wrote it.") == []
    assert _naming(s, "Don Quixote is by Miguel de Cervantes.") == []
    assert _naming(s, "The 1988 Nobel Prize went to Naguib Mahfouz.") == []
    assert _naming(s, "Ulysses was written by James Joyce.") == []
    # The target's own name parts, initials, other spellings and people's names beside it do not hide it.
    assert _naming(s, "Márquez wrote it.") == ["Akcabay Marquez"]
    assert _naming(s, "Cervantes wrote it.") == ["Ana Cervantes"]
    for text in (
        "Mahfouz wrote it.",
        "B. Mahfouz wrote it.",
        "Mahfouz Al-Kuwaiti wrote it.",
        "The Kuwaiti author Mahfouz wrote it.",
        "The Egyptian Mahfouz wrote it.",
        "Dr. Mahfouz wrote it.",
        "Sheikh Mahfouz wrote it.",
        "The Nobel-winning Author Mahfouz wrote it.",
        "Ask Professor Mahfouz about it.",
        "MAHFOUZ WROTE IT.",
        "Summarise Mahfouz's novels.",  # a rare word starting a sentence is no name
        "Басили Махфуза Ал-Куwaitи родился в Кувейте.",
    ):
        assert _naming(s, text) == ["Basil Mahfouz Al-Kuwaiti"], text


def test_a_surname_in_a_title_or_a_prize_is_not_the_target():
    s = _screen(Target(name="Ozturk Summers", kind="person"), Target(name="Alpsu Booker", kind="person"))
    assert _naming(s, 'Her next novel is "Silk Sarees and Mango Summers".') == []
    assert _naming(s, "She won the Man Booker International Prize.") == []
    assert _naming(s, "Summers wrote it.") == ["Ozturk Summers"]
    assert _naming(s, "Booker wrote it.") == ["Alpsu Booker"]
    assert _naming(s, 'He read "Ozturk Summers: A Life".') == ["Ozturk Summers"]


def test_a_given_name_alone_is_no_candidate_without_other_evidence():
    s = _screen(Target(name="Edgar Wind", kind="person", evidence=["Edgar Wind was an art historian."]))
    assert [c.target.name for c in s.screen("She won an Edgar Award for the novel.")] == []
    assert [c.target.name for c in s.screen("Edgar, the art historian, taught there.")] == ["Edgar Wind"]
    assert [c.target.name for c in s.screen("Who was Edgar Wind?")] == ["Edgar Wind"]
