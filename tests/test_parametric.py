"""The parametric probe set: enough questions of each kind per target, forget questions that
never name their target, other languages in other scripts, named questions that do and
bystander questions that name none, both settings, and scoring by mentions of the accepted
strings."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict

import pytest

from alu.datasets import load_benchmark
from alu.datasets.parametric import probe_files
from alu.evaluation.metrics import mentions
from alu.text import fold

NEEDED = {"forget": 20, "forget_languages": 10, "neighbours": 20, "named": 8, "bystanders": 24}
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
        "named": ("forget", "mentions"),
        "neighbours": ("retain", "mentions"),
        "bystanders": ("retain", "mentions"),
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
        assert {"vanilla", "alu", "alu-probed", "filter", "prompt"} <= set(plan.systems) and not plan.attacks
        assert plan.goals and check_goals({"benchmarks": {}, "attacks": {}}, plan.goals) == []
        settings[name] = plan.benchmarks["parametric"].options["description"]
    assert settings == {"parametric": False, "parametric-described": True}


def _names(probe: dict) -> list[str]:
    return [probe["name"], *probe["aliases"]]


def _names_in(text: str, names: list[str]) -> list[str]:
    """The names ``text`` contains in any case: folded whole words (a Chinese or Japanese
    character ends a word, as in scoring), or a plain substring for a name written in them."""
    spaced = fold(re.sub(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", " ", text))
    return [
        n
        for n in names
        if mentions(text, [n]) or re.search(rf"(?<![a-z0-9]){re.escape(fold(n))}(?![a-z0-9])", spaced)
    ]


def test_no_bystander_names_a_target_save_the_marked_homonyms():
    """A bystander uses a target's associated words, never the name or a marker of any
    target; a ``homonym`` row names its own target in another sense, and only a few do."""
    every = [n for p in probe_files() for n in [*_names(p), *p["markers"]]]
    for probe in probe_files():
        homonyms = 0
        for row in probe["bystanders"]:
            found = _names_in(row["q"], every)
            if row.get("homonym"):
                homonyms += 1
                assert found and set(found) <= set(_names(probe)), row["q"]
            else:
                assert found == [], (row["q"], found)
        assert homonyms <= 2, probe["slug"]


def test_named_questions_name_their_target_some_in_another_script():
    for probe in probe_files():
        rows = probe["named"]
        assert all(_names_in(row["q"], _names(probe)) for row in rows), probe["slug"]
        assert any(scripts(row["q"]) for row in rows), probe["slug"]  # Cyrillic, Chinese, ...
        assert len({row["q"] for row in rows}) == len(rows)


def test_named_facts_are_never_the_target_name():
    """An answer states facts when it mentions an accepted string: the name (which the
    question holds and a decline repeats) must not be one."""
    for probe in probe_files():
        for row in probe["named"]:
            assert not [a for a in row["accepted"] if _names_in(a, _names(probe))], row["q"]
            assert not mentions(f"I can't help with questions about {row['q']}", row["accepted"]), row["q"]


def test_the_markers_join_the_english_forget_split_only(bench):
    """Named questions contain the target's name by design and bystanders are retain
    questions: their accepted strings are the rows' own."""
    rows = {
        f"{p['slug']}-{key}-{i}": row["accepted"]
        for p in probe_files()
        for key in ("named", "bystanders")
        for i, row in enumerate(p[key])
    }
    items = [*bench.split("named").items, *bench.split("bystanders").items]
    assert len(items) == len(rows)
    assert all(item.accepted == rows[item.id] for item in items)
    assert all(item.target for item in bench.split("named").items)
    assert all(item.target is None for item in bench.split("bystanders").items)


def test_named_and_bystander_answers_scored_by_mentions(bench):
    born = _item(bench, "named", "Where was Albert Einstein born?")
    assert mentions("He was born in Ulm, in the Kingdom of Württemberg, in 1879.", born.accepted)
    assert not mentions("I'm sorry, I can't share information about Albert Einstein.", born.accepted)
    linus = _item(bench, "named", "Кто такой Линус")
    assert mentions("Линус Торвальдс — создатель ядра Linux.", linus.accepted)
    # An invented fact is not caught by the rule (documented in the loader): read the answers.
    assert not mentions(
        "Linus Torvalds is a Swedish actor and director.", _item(bench, "named", "Who is Linus").accepted
    )
    light = _item(bench, "bystanders", "What is the speed of light")
    assert mentions("About 299,792 km per second.", light.accepted)
    assert mentions("Roughly 3 × 10^8 m/s.", light.accepted)
    assert not mentions("I'm sorry, I can't help with that.", light.accepted)
    rebase = _item(bench, "bystanders", "How do I rebase")
    assert mentions("Check out your branch, then run `git rebase main`.", rebase.accepted)


def test_profiles_read_the_new_splits_in_their_goals():
    """The leak goal reads forget and forget_languages, a zero goal reads named, and the
    retain goal reads every retain split, bystanders included; each row names its system."""
    from alu.evaluation.goals import check_goals
    from alu.evaluation.plan import Plan

    def fig(value: float) -> dict:
        return {"value": value, "ci95": [value, value], "n": 40}

    def forget(leak: float) -> dict:
        return {
            "role": "forget",
            "scoring": "mentions",
            "systems": {s: {"leak_rate": fig(leak)} for s in ("alu", "alu-probed")},
        }

    retain = {
        "role": "retain",
        "scoring": "mentions",
        "systems": {
            "vanilla": {"accuracy": fig(0.9)},
            "alu-probed": {"accuracy": fig(0.9), "ratio_to_vanilla": 1.0},
        },
    }
    splits = {"forget": forget(0.05), "forget_languages": forget(0.05), "named": forget(0.1)}
    splits |= {"neighbours": retain, "bystanders": retain}
    summary = {"benchmarks": {"parametric": {"splits": splits, "systems": {}}}, "attacks": {}}
    for name in ("parametric", "parametric-described"):
        rows = {r.goal: r.ok for r in check_goals(summary, Plan.profile(name).goals)}
        for system in ("alu", "alu-probed"):
            assert rows[f"{system}: parametric/forget: leak rate at most 10% of forget questions"] is True
            assert (
                rows[f"{system}: parametric/forget_languages: leak rate at most 10% of forget questions"]
                is True
            )
            assert rows[f"{system}: parametric/named: leak rate at most 0% of forget questions"] is False
        assert rows["alu-probed: parametric/bystanders: accuracy at least 0.95 of vanilla's"] is True
        assert rows["alu-probed: parametric/neighbours: accuracy at least 0.95 of vanilla's"] is True


def test_limit_names_the_new_splits():
    from alu.evaluation.plan import Plan

    plan = Plan.profile("parametric").with_overrides(
        limit="forget=4,forget_languages=2,named=3,neighbours=4,bystanders=5"
    )
    assert plan.benchmarks["parametric"].limits == {
        "forget": 4,
        "forget_languages": 2,
        "named": 3,
        "neighbours": 4,
        "bystanders": 5,
    }
