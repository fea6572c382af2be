"""Every metric against values computed by hand."""

import math

import pytest

from alu.evaluation import metrics as m


def test_rouge_l_recall_by_hand():
    # LCS of "the cat sat on the mat" and "the cat sat" is 3 tokens of the 6 gold tokens.
    assert m.rouge_l_recall("The cat sat on the mat", "the cat sat") == pytest.approx(0.5)
    assert m.rouge_l_recall("Paris", "It is Paris.") == pytest.approx(1.0)
    assert m.rouge_l_recall("Paris", "") == 0.0
    # stemming: "writes" ~ "wrote"? no; "books" ~ "book" yes
    assert m.rouge_l_recall("two books", "one book two book") == pytest.approx(1.0)


def test_forget_quality_is_the_ks_p_value():
    same = [0.1, 0.2, 0.3, 0.4]
    assert m.forget_quality(same, same) == pytest.approx(1.0)
    # Fully separated samples of 4 and 4: D = 1, exact two-sided p = 2 / C(8, 4) = 2/70.
    assert m.forget_quality([0.9, 0.95, 0.97, 0.99], same) == pytest.approx(2 / 70)


@pytest.mark.parametrize(
    ("text", "letter"),
    [
        ("The answer is B.", "B"),
        ("C) foo", "C"),
        ("(D)", "D"),
        ("Answer: a", "A"),
        ("**C**", "C"),
        ("A lesion of the nerve", None),
        ("I cannot help with that.", None),
    ],
)
def test_letter_extraction(text, letter):
    assert m.extract_letter(text) == letter


def test_letter_from_the_only_named_option():
    assert m.extract_letter("It is Paris", ["Berlin", "Paris", "Rome", "Oslo"]) == "B"
    assert m.extract_letter("Paris or Rome", ["Berlin", "Paris", "Rome", "Oslo"]) is None


def test_option_naming_is_folded_and_whole_word():
    assert m.names_option("It was william SHAKESPEARE.", "William Shakespeare")
    assert m.names_option("Zoë", "Zoe")
    assert not m.names_option("Parisian food", "Paris")


def test_bootstrap_interval_and_figure():
    fig = m.figure([0.0, 1.0, 1.0, 1.0])
    assert fig["value"] == 0.75 and fig["n"] == 4
    low, high = fig["ci95"]
    assert 0.0 <= low <= 0.75 <= high <= 1.0
    assert m.figure([1.0, 1.0])["ci95"] == [1.0, 1.0]
    assert all(math.isnan(x) for x in m.bootstrap([]))


def test_harmonic_mean_ratio_and_percentile():
    assert m.harmonic_mean([1.0, 0.5]) == pytest.approx(2 / 3)
    assert m.harmonic_mean([1.0, 0.0]) == 0.0
    assert m.ratio(0.45, 0.9) == pytest.approx(0.5)
    assert math.isnan(m.ratio(1.0, 0.0))
    assert m.percentile([1, 2, 3, 4, 5], 50) == 3
