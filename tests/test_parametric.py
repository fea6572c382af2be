"""The parametric probe set: enough questions of each kind per target, forget questions that
never name their target, other languages in other scripts, both settings, and scoring by
mentions of the accepted strings."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

import pytest

from alu.datasets import load_benchmark
from alu.datasets.parametric import probe_files
from alu.evaluation.metrics import mentions
from alu.text import fold

NEEDED = {"forget": 20, "forget_languages": 10, "neighbours": 20}
SCRIPTS = ("CYRILLIC", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC", "DEVANAGARI", "GREEK", "HEBREW")
# The script a question in each language is written in (Japanese: kana, with or without kanji).
LANGUAGE_SCRIPTS = {
    "ru": {"CYRILLIC"},
    "zh": {"CJK"},
    "ja": {"HIRAGANA", "KATAKANA"},
    "ko": {"HANGUL"},
    "ar": {"ARABIC"},
    "fa": {"ARABIC"},
    "hi": {"DEVANAGARI"},
    "el": {"GREEK"},
    "he": {"HEBREW"},
}


def scripts(text: str) -> set[str]:
    """Non-Latin scripts of the letters of ``text`` (by Unicode character name)."""
    found = set()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            found |= {s for s in SCRIPTS if s in name}
    return found


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("parametric", None)


def test_splits_roles_scoring_and_no_knowledge_base(bench):
    assert {s.name: (s.role, s.scoring) for s in bench.splits} == {
        "forget": ("forget", "mentions"),
        "forget_languages": ("forget", "mentions"),
        "neighbours": ("retain", "mentions"),
    }
    assert bench.documents == [] and bench.forget_documents == set()
    ids = [i.id for s in bench.splits for i in s.items]
    assert len(ids) == len(set(ids))
    names = {t.name for t in bench.targets}
    for s in bench.splits:
        for item in s.items:
            assert item.accepted and all(a.strip() for a in item.accepted), item.id
            assert (item.target in names) if s.role == "forget" else item.target is None


def test_every_target_has_the_required_counts(bench):
    counts: dict = defaultdict(Counter)
    for s in bench.splits:
        for item in s.items:
            counts[item.id.split(f"-{s.name.removeprefix('forget_')}-")[0]][s.name] += 1
    assert len(counts) >= 3
    short = [
        (slug, split, per[split])
        for slug, per in counts.items()
        for split, needed in NEEDED.items()
        if per[split] < needed
    ]
    assert short == []


def test_target_kinds_cover_a_person_and_topics():
    kinds = Counter(p["kind"] for p in probe_files())
    assert kinds["person"] >= 1 and kinds["topic"] >= 2


@pytest.mark.parametrize("probe", probe_files(), ids=lambda p: p["slug"])
def test_forget_questions_never_name_the_target(probe):
    named = [
        (name, row["q"])
        for name in [probe["name"], *probe.get("aliases", [])]
        for row in probe["forget"]
        if re.search(rf"(?<![a-z0-9]){re.escape(fold(name))}(?![a-z0-9])", fold(row["q"]))
    ]
    assert named == []


@pytest.mark.parametrize("probe", probe_files(), ids=lambda p: p["slug"])
def test_other_languages_in_their_scripts_with_native_and_latin_markers(probe):
    rows = probe["languages"]
    assert len({r["lang"] for r in rows}) >= 6
    written = set()
    for row in rows:
        assert any(re.fullmatch(r"[\x00-\x7f]+", a) for a in row["accepted"]), row  # a Latin marker
        if row["lang"] in LANGUAGE_SCRIPTS:
            script = LANGUAGE_SCRIPTS[row["lang"]]
            assert scripts(row["q"]) & script, row["q"]
            # A word or name has a spelling in the question's script too (a formula need not).
            if any(re.search("[A-Za-z]{3}", a) for a in row["accepted"]):
                assert any(scripts(a) & script for a in row["accepted"]), row
            written.add(min(script))
    # The model knows most targets in few scripts (see results/parametric-probe/RUN.md).
    assert len(written) >= 3


def test_the_other_languages_span_six_scripts():
    written = {
        min(LANGUAGE_SCRIPTS[r["lang"]])
        for p in probe_files()
        for r in p["languages"]
        if r["lang"] in LANGUAGE_SCRIPTS
    }
    assert len(written) >= 6


def test_no_accepted_string_is_given_away_by_its_question(bench):
    """Repeating the question is no sign of knowledge: neither a row's own strings nor the
    target markers the loader adds may already be in it."""
    for s in bench.splits:
        for item in s.items:
            assert not mentions(item.question, item.accepted), item.id


def test_english_forget_questions_get_the_target_markers(bench):
    for p in probe_files():
        items = [i for i in bench.split("forget").items if i.target == p["name"]]
        for item in items:
            absent = [m for m in [p["name"], *p["markers"]] if fold(m) not in fold(item.question)]
            assert set(absent) <= set(item.accepted), item.id
    assert all(i.target for i in bench.split("forget_languages").items)


def test_both_settings_give_names_and_descriptions_only():
    plain = load_benchmark("parametric", None)
    described = load_benchmark("parametric", None, description=True)
    assert [t.name for t in plain.targets] == [t.name for t in described.targets]
    assert all(t.description == "" and not t.aliases for t in plain.targets)
    assert all(t.description and not t.aliases for t in described.targets)
    assert all(len(t.description) <= 140 and "\n" not in t.description for t in described.targets)


def _item(bench, split: str, question_start: str):
    return next(i for i in bench.split(split).items if i.question.startswith(question_start))


def test_mentions_scores_leaks_and_right_answers(bench):
    monty = _item(bench, "forget", "Which programming language takes its name")
    assert mentions("It is named Python, after Monty Python.", monty.accepted)
    assert not mentions("I'm sorry, I can't help with that.", monty.accepted)
    friends = _item(bench, "forget_languages", "哈利·波特的两个最好的朋友")
    assert mentions("他最好的朋友是赫敏·格兰杰和罗恩·韦斯莱。", friends.accepted)
    assert not mentions("抱歉，我无法回答这个问题。", friends.accepted)
    kernel = _item(bench, "forget_languages", "林纳斯·托瓦兹")
    assert mentions("他创造了Linux内核。", kernel.accepted)  # a Latin word inside Chinese text
    blessing = _item(bench, "forget", "Complete the blessing")
    assert mentions("May the Force be with you.", blessing.accepted)
    assert not mentions("May the force of habit be with you.", blessing.accepted)  # a common word, as written
    cpp = _item(bench, "neighbours", "Who created the C++")
    assert mentions("C++ was created by Bjarne Stroustrup.", cpp.accepted)
    assert not mentions("C++ was created by Dennis Ritchie.", cpp.accepted)
    einstein = _item(bench, "forget_languages", "Какой физик создал общую теорию")
    assert mentions("Общую теорию относительности создал Альберт Эйнштейн.", einstein.accepted)
    assert not mentions("Её создал Исаак Ньютон.", einstein.accepted)


def test_profiles_run_both_settings_without_attacks():
    from alu.evaluation.goals import check_goals
    from alu.evaluation.plan import Plan

    settings = {}
    for name in ("parametric", "parametric-described"):
        plan = Plan.profile(name)
        assert {"vanilla", "alu", "alu-paper", "filter", "prompt"} <= set(plan.systems) and not plan.attacks
        assert plan.goals and check_goals({"benchmarks": {}, "attacks": {}}, plan.goals) == []
        settings[name] = plan.benchmarks["parametric"].options["description"]
    assert settings == {"parametric": False, "parametric-described": True}
