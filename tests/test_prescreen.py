import random

import pytest

from alu.scan import PreScreen, TargetIndex, redact
from alu.targets import Enrichment, Target

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
    assert any(s.kind == "phrase" for s in found[0].signals)


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


# -- names however they are written (issue 8) and in every script (issue 9) ---------------
@pytest.mark.parametrize(
    "text",
    [
        "Ba\x00sil Ma\x00hfouz Al-Kuwaiti wrote it",
        "Ba\x01sil Mah\x7ffouz Al-Kuwaiti",
        "Ba-sil Mah-fouz Al-Ku-waiti",
        "B a s i l  M a h f o u z  A l K u w a i t i",
        "B.a.s.i.l M.a.h.f.o.u.z Al-Kuwaiti",
        "B4s1l M4hf0uz Al-Kuw41t1",
        "itiawuK-lA zuofhaM lisaB",
    ],
)
def test_a_disguised_name_is_still_a_name(screen, text):
    found = {c.target.name: c for c in screen.scan(text)}
    assert found["Basil Mahfouz Al-Kuwaiti"].named


@pytest.mark.parametrize(
    "text",
    [
        # The disguised word, undone, is a word the text also writes plainly elsewhere: the
        # reading is screened where it differs, not skipped for holding no new word.
        "Hermione Smith met H3rm10n3 Granger at the ball.",
        "Granger Street, said Hermione, hides Her-mione Gran-ger.",
        # Reversed, beside ordinary words read backwards.
        "ti etorw regnarG enoimreH taht dias eh",
    ],
)
def test_a_disguised_name_among_plain_words_is_a_name(screen, text):
    found = {c.target.name: c for c in screen.scan(text)}
    assert found["Hermione Granger"].named
    assert [s for s in found["Hermione Granger"].signals if s.key == "hermione granger"]


def test_a_reading_is_screened_where_it_differs():
    from alu.scan.lexical import CONTEXT_TOKENS, _changed
    from alu.scan.written import Written

    before = Written("one two three four five six seven eight nine ten eleven twelve thirteen")
    after = Written("one two three four five six se-ven eight nine ten eleven twelve thirteen")
    at = after.tokens.index("se")
    assert _changed(before, after) == [at, at + 1]  # from the first word that differs to the last
    dropped = Written("one two three four five six eight nine ten eleven twelve thirteen")
    at = before.tokens.index("seven")
    assert _changed(before, dropped) == list(range(at - CONTEXT_TOKENS, at + CONTEXT_TOKENS))  # now met
    spaced = Written("one two three four five six seven, eight nine ten eleven twelve thirteen")
    assert _changed(before, spaced) == list(range(len(spaced.tokens)))  # only the gaps: all of it
    assert _changed(None, after) == list(range(len(after.tokens)))
    shouted = Written("ONE TWO THREE FOUR FIVE SIX SE-VEN EIGHT NINE TEN ELEVEN TWELVE THIRTEEN")
    assert _changed(before, shouted) == list(range(len(shouted.tokens)))  # read otherwise as a whole
    twice = Written("LGBTQ+ one two three four five six seven eight nine ten LGBTQ+")
    read = Written("LGBTQt one two three four five six seven eight nine ten LGBTQt")
    assert _changed(twice, read) == [0, len(read.tokens) - 1]  # in place: only those words


@pytest.mark.parametrize(
    "text",
    [
        "Did H-e-r-m-i-o-n-e Granger's LGBTQ+ award-winning friend go on the 25th?",
        "Was H3rmione the one who went, award-winning as she was, on the 25th?",
        "Hermione Granger's award-winning 25th-anniversary LGBTQ+ party",
    ],
)
def test_a_disguise_beside_a_name_adds_what_its_changed_words_say(screen, text):
    """A reading that changes only ordinary words next to a name ("LGBTQ+" read as leet,
    "award-winning" joined) finds what the text as written found; one that changes the
    name's own letters finds the name."""
    found = {c.target.name: c for c in screen.scan(text)}
    assert found["Hermione Granger"].named
    plain = {c.target.name: c.score for c in screen.scan(text.replace("-e-r-m-i-o-n-e", "ermione"))}
    if "H3rmione" not in text and "-e-r-m" not in text:
        assert found["Hermione Granger"].score == plain["Hermione Granger"]


def test_ordinary_words_read_backwards_are_no_misspelled_names():
    from alu.scan.lexical import _backwards_words

    backwards = _backwards_words()
    assert "rohtua" in backwards and "nrob" in backwards
    assert "zuofham" not in backwards and "xqzt" not in backwards  # rare, or no word


def test_a_surname_alone_names_a_person(screen):
    found = {c.target.name: c for c in screen.scan("Mahfouz wrote it.")}
    assert found["Basil Mahfouz Al-Kuwaiti"].names_it and not found["Basil Mahfouz Al-Kuwaiti"].named


def test_a_famous_surname_names_a_person_when_written_as_a_name():
    """A famous surname is frequent because it is famous (Einstein): it names the person
    when capitalised, while a surname that is an everyday word in lower case does not."""
    s = PreScreen()
    s.add(Target(id=1, name="Albert Einstein", kind="person"))
    s.add(Target(id=2, name="Jack Frost", kind="person"))
    named = lambda text: sorted(c.target.name for c in s.scan(text) if c.names_it)  # noqa: E731
    assert named("These are Einstein's field equations.") == ["Albert Einstein"]
    assert named("EINSTEIN") == ["Albert Einstein"]
    assert named("Frost wrote the poem.") == ["Jack Frost"]
    assert named("A hard frost covered the field.") == []
    assert named("The einstein ring is a lensing effect.") == []


def test_usual_transliteration_variants_agree():
    s = PreScreen()
    s.add(Target(id=1, name="Fyodor Dostoevsky", kind="person"))
    s.add(Target(id=2, name="Pyotr Tchaikovsky", kind="person"))
    for text, name in (
        ("Dostoyevsky wrote it", "Fyodor Dostoevsky"),
        ("Кто такой Фёдор Достоевский?", "Fyodor Dostoevsky"),
        ("Чайковский написал балет", "Pyotr Tchaikovsky"),
    ):
        assert [c.target.name for c in s.scan(text)] == [name], text


TORVALDS = Target(
    name="Linus Torvalds",
    kind="person",
    enrichment=Enrichment(
        names=[
            "Линус Торвальдс",
            "Λίνους Τόρβαλντς",
            "لينوس تورفالدس",
            "لینوس توروالدز",
            "לינוס טורבאלדס",
            "लिनुस तोर्वाल्ड्स",
            "林纳斯·托瓦兹",
            "リーナス・トーバルズ",
            "리누스 토르발스",
        ],
        terms=["Linux kernel", "Transmeta", "Git"],
    ),
)


@pytest.mark.parametrize(
    "text",
    [
        "Где родился Линус Торвальдс?",
        "Πού γεννήθηκε ο Λίνους Τόρβαλντς;",
        "أين ولد لينوس تورفالدس؟",
        "لینوس توروالدز کجا متولد شد؟",
        "איפה נולד לינוס טורבאלדס?",
        "लिनुस तोर्वाल्ड्स का जन्म कहाँ हुआ था?",
        "林纳斯托瓦兹是谁？",
        "リーナス・トーバルズはどこで生まれましたか",
        "리누스 토르발스는 누구입니까?",
    ],
)
def test_generated_names_in_every_script_name_the_target(text):
    index = TargetIndex.of([TORVALDS])
    assert [c.target.name for c in index.scan(text).named] == ["Linus Torvalds"]


def test_associated_terms_are_evidence_not_names():
    index = TargetIndex.of([TORVALDS])
    found = index.scan("The Linux kernel was first released while he worked at Transmeta.").candidates
    assert found and not found[0].named and found[0].score >= 1.0
    assert index.scan("What is the capital of Finland?").candidates == []


def test_removing_a_target_forgets_its_names_in_every_script():
    index = TargetIndex.of([TORVALDS])
    index._remove(1)
    assert index.scan("林纳斯托瓦兹是谁？ Линус Торвальдс").candidates == []


@pytest.mark.parametrize(
    "question",
    [
        "Python是什么？",
        "我喜欢Python编程",
        "Pythonとは何ですか",
        "Python은 무엇입니까?",
        "Linus Torvalds是谁？",
    ],
)
def test_a_latin_name_written_against_chinese_japanese_or_korean_letters_is_found(question):
    # folded to ASCII with no space between, "Python是什么" would be the one word "pythonshishenme"
    index = TargetIndex.of(
        [Target(name="Python", kind="topic", id=1), Target(name="Linus Torvalds", kind="person", id=2)]
    )
    assert [c.target.name for c in index.scan(question).named] in (["Python"], ["Linus Torvalds"])


def test_a_changed_target_is_screened_by_its_new_names():
    """A target's name facts are filed with it (``NameParts``): a change, a new record
    under the same id, is read by its new names, not the ones screened before."""
    s = PreScreen()
    s.add(Target(id=1, name="Zorvath Quillane", kind="person"))
    as_given_name = s.screen("Zorvath arrived late.", threshold=0.0)
    s.remove(1)
    s.add(Target(id=1, name="Ilse Zorvath", kind="person"))
    as_surname = s.screen("Zorvath arrived late.", threshold=0.0)
    assert [c.target.name for c in as_given_name] == ["Zorvath Quillane"]
    assert [c.target.name for c in as_surname] == ["Ilse Zorvath"]
    assert as_surname[0].partial and not as_given_name[0].partial
    assert as_surname[0].score > as_given_name[0].score  # a given name alone counts for less


def test_name_parts_are_filed_from_every_name_and_survive_an_index_file():
    """What a screen asks of a target where a part of its names is found: every word of its
    names (aliases and generated ones included) and the parts that are only a given name.
    An index file keeps them as text; read back, they are the same."""
    from alu.scan.lexical import NameParts

    target = Target(id=1, name="Zorvath Quillane", kind="person", aliases=["Z. Quillane", "Ana de la Cruz"])
    parts = PreScreen.filed(target)["parts"]
    assert set(parts.own) == {"zorvath", "quillane", "z", "ana", "de", "la", "cruz"}
    assert set(parts.given_only) == {"zorvath", "z", "ana"}  # "de", "la" follow "Ana"
    assert NameParts.decoded(parts.encoded()) == parts
    alone = PreScreen.filed(Target(id=2, name="Quillane", kind="person"))["parts"]
    assert alone.own == ("quillane",) and alone.given_only == ()
    assert NameParts.decoded(alone.encoded()) == alone


def test_a_requests_scans_share_what_they_looked_up_and_find_what_fresh_scans_find(tmp_path):
    """The question, question and draft, and the draft: one request's scans share the
    alternatives of the words they hold (a view per request), and find exactly what
    scans on their own find, misspellings included. A change between two scans of a
    request starts the sharing afresh: the second scan sees the new target."""
    from alu.stores import open_store

    store = open_store(str(tmp_path / "targets.db"))
    for target in (TOFU_LIKE, HERMIONE, ZOE):
        store.add(target)
    index = TargetIndex(store)
    index.sync()
    question = "Who is Hermoine Granger and what did Basil Mahfouz Al-Kuwaitti write?"
    draft = "Hermoine Granger went to the Yule Ball; Al-Kuwaitti wrote Promise by the Seine."
    texts = [question, f"{question}\n{draft}", draft]
    view = index.view()

    def brief(scan):
        return sorted((c.target.name, round(c.score, 9), c.named, c.partial) for c in scan.candidates)

    shared = [brief(view.scan(t)) for t in texts]
    assert shared == [brief(index.scan(t)) for t in texts]
    assert {"Hermione Granger", "Basil Mahfouz Al-Kuwaiti"} <= {name for name, *_ in shared[1]}
    (kept,) = [s["looked_up"] for _, s in view.shared.values() if "looked_up" in s]
    assert "hermoine" in kept and "kuwaitti" in kept  # worked out once, for all three
    store.add(Target(name="Lucius Quintillian", kind="person"))
    index.sync()
    later = view.scan("Did Lucius Quintilian write it?")  # misspelled: one edit
    assert "Lucius Quintillian" in [c.target.name for c in later.candidates]
    assert len({revision for _, revision in view.shared}) == 2  # a share per revision read


def test_a_reversed_reading_names_someone_only_with_a_whole_name_or_surname():
    """Read backwards, "Nile" is "Elin", a given name many targets share: alone it names
    none of them (a name part counts in a disguise only for a target the disguise names or
    holds the surname of), while a whole name written backwards does."""
    people = [Target(name=f"Elin {s}", kind="person") for s in ("Marsh", "Brookfield", "Quarrington")]
    s = PreScreen()
    for i, t in enumerate(people, 1):
        s.add(t.model_copy(update={"id": i}))
    assert s.scan("Which river is the longest in the world? The Nile.") == []
    found = {c.target.name: c for c in s.scan("Who is notgnirrauQ nilE?")}
    assert set(found) == {"Elin Quarrington"} and found["Elin Quarrington"].named


def test_a_screen_as_found_holds_the_same_candidates_as_one_best_first(screen):
    """``scan`` asks its screens for candidates as found and orders what it merges once."""
    text = "Basil Mahfouz Al-Kuwaiti, like Hermione Granger, was born in Kuwait City; Zoe too."
    ordered = screen.screen(text, threshold=0.0)
    as_found = screen.screen(text, threshold=0.0, ordered=False)

    def facts(c):
        return c.target.id, c.score, c.named, c.partial, [(s.kind, s.key, s.weight) for s in c.signals]

    assert len(ordered) >= 2
    assert sorted(map(facts, ordered)) == sorted(map(facts, as_found))
    assert [c.score for c in ordered] == sorted((c.score for c in ordered), reverse=True)
