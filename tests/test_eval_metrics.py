"""Every metric against values computed by hand."""

import math

import numpy as np
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


def test_rates_get_exact_intervals_that_a_zero_count_does_not_collapse():
    none = m.rate([0.0] * 10)
    assert none["value"] == 0.0 and none["n"] == 10 and none["interval"] == "exact"
    assert none["ci95"][0] == 0.0 and none["ci95"][1] == pytest.approx(0.3085, abs=1e-4)  # 1 - 0.025^(1/10)
    every = m.rate([1.0] * 10)
    assert every["ci95"][0] == pytest.approx(0.6915, abs=1e-4) and every["ci95"][1] == 1.0
    half = m.rate([1.0, 0.0] * 50)
    assert half["ci95"] == pytest.approx([0.398, 0.602], abs=1e-3)


def test_harmonic_mean_ratio_and_percentile():
    assert m.harmonic_mean([1.0, 0.5]) == pytest.approx(2 / 3)
    assert m.harmonic_mean([1.0, 0.0]) == 0.0
    assert m.ratio(0.45, 0.9) == pytest.approx(0.5)
    assert math.isnan(m.ratio(1.0, 0.0))
    assert m.percentile([1, 2, 3, 4, 5], 50) == 3


def test_guess_adjusted_scores_a_refusal_as_a_uniform_guess():
    assert m.guess_adjusted("B", 1) == 1.0
    assert m.guess_adjusted("A", 1) == 0.0
    assert m.guess_adjusted(None, 1) == 0.25  # 1 of 4 options
    assert m.guess_adjusted(None, 1, options=5) == pytest.approx(0.2)


def test_mcnemar_exact_by_hand():
    # 6 discordant pairs, all the system's: two-sided exact binomial p = 2 * (1/2)^6 = 1/32.
    yes, no = [True] * 6, [False] * 6
    expected = {"system_only": 6, "baseline_only": 0, "p_value": pytest.approx(1 / 32)}
    assert m.mcnemar_exact(yes, no) == expected
    # 5 against 1: p = 2 * (C(6,0) + C(6,1)) / 2^6 = 14/64; concordant pairs change nothing.
    system = [True] * 5 + [False] + [True, False] * 3
    baseline = [False] * 5 + [True] + [True, False] * 3
    found = m.mcnemar_exact(system, baseline)
    assert (found["system_only"], found["baseline_only"]) == (5, 1)
    assert found["p_value"] == pytest.approx(14 / 64)
    assert m.mcnemar_exact([True, False], [True, False])["p_value"] == 1.0  # no discordant pair


def test_exact_interval_by_hand():
    # Clopper-Pearson for 4 of 4: lower end solves p^4 = 0.025, so p = 0.025^(1/4); upper end 1.
    assert m.exact_interval(4, 4) == pytest.approx((0.025**0.25, 1.0))
    # 0 of 4: the mirror image.
    assert m.exact_interval(0, 4) == pytest.approx((0.0, 1 - 0.025**0.25))
    # 3 of 4: the lower end p solves P(X >= 3) = 4p^3(1-p) + p^4 = 4p^3 - 3p^4 = 0.025.
    low, _ = m.exact_interval(3, 4)
    assert 4 * low**3 - 3 * low**4 == pytest.approx(0.025)
    assert all(math.isnan(x) for x in m.exact_interval(0, 0))


def test_paired_bootstrap_keeps_the_pairing():
    # Two systems far apart item by item but always 0.1 apart: every resample's mean
    # difference is 0.1, so the interval is [0.1, 0.1] where the separate intervals overlap.
    a = [0.2, 0.6, 1.0, 0.4]
    b = [x - 0.1 for x in a]
    assert m.paired_bootstrap([x - y for x, y in zip(a, b, strict=True)]) == pytest.approx((0.1, 0.1))
    assert m.bootstrap(a)[0] < m.bootstrap(b)[1]  # the unpaired intervals overlap
    # Differences 0, 0, 1, 1: a resample of 4 is all 0 (mean 0) with probability 1/16 = 6.25%
    # and all 1 with 6.25%, both above 2.5%, so the percentile interval is [0, 1].
    assert m.paired_bootstrap([0, 0, 1, 1]) == (0.0, 1.0)
    assert all(math.isnan(x) for x in m.paired_bootstrap([]))


def test_utility_interval_by_hand():
    vanilla = [0.4, 0.8, 0.6, 1.0]
    # The system equals vanilla on every split: every resample's utility is 1.
    assert m.utility_interval([(vanilla, vanilla), (vanilla, vanilla)]) == pytest.approx((1.0, 1.0))
    # Half of vanilla item by item on one split, equal on the other: every resample gives ratios
    # 0.5 and 1, whose harmonic mean is 2 / (1/0.5 + 1/1) = 2/3.
    half = [x / 2 for x in vanilla]
    assert m.utility_interval([(half, vanilla), (vanilla, vanilla)]) == pytest.approx((2 / 3, 2 / 3))


def test_mentions_ends_latin_words_at_chinese_japanese_and_korean_characters():
    from alu.evaluation.metrics import mentions

    assert mentions("DjangoはPythonで書かれています。", ["Python"])
    assert mentions("林纳斯·托瓦兹创建了Linux内核。", ["Linux"])
    assert mentions("Star Wars를 만든 감독은 George Lucas입니다.", ["Lucas"])
    assert not mentions("李 said hello", ["Li"])  # a Chinese name does not fold into a Latin one
    assert mentions("他最好的朋友是赫敏。", ["赫敏"]) and not mentions("他没有朋友。", ["赫敏"])


@pytest.mark.filterwarnings("error")
def test_bootstrap_intervals_of_degenerate_samples_are_quiet_and_hold_the_point():
    assert m.bootstrap([0.0] * 10) == (0.0, 0.0)  # every resample the same: no BCa-style NaN
    assert m.bootstrap([0.3]) == (0.3, 0.3)  # one value: scipy needs two, the point is its interval
    assert m.paired_bootstrap([1.0], [0.25]) == (0.75, 0.75)
    assert m.paired_bootstrap([0.0] * 5, [0.0] * 5) == (0.0, 0.0)
    assert m.utility_interval([([0.5], [1.0])]) == (0.5, 0.5)
    # Vanilla's mean is 0 on some resamples of the first split (1/4 of them): those ratios are
    # left out, as in the point estimate, and the interval stays finite.
    low, high = m.utility_interval([([0.0, 1.0], [0.0, 1.0]), ([0.5, 0.5, 0.5], [1.0, 1.0, 1.0])])
    assert 0.5 <= low <= high <= 2 / 3


def test_bootstrap_intervals_are_reproducible_and_paired_values_match_their_differences():
    rng = np.random.default_rng(7)
    a, b = rng.random(30), rng.random(30)
    assert m.bootstrap(a, seed=3) == m.bootstrap(a, seed=3) != m.bootstrap(a, seed=4)
    assert m.paired_bootstrap(a, b) == pytest.approx(m.paired_bootstrap(a - b), abs=1e-12)
    low, high = m.paired_bootstrap(a, b)
    assert low < m.mean(a - b) < high
