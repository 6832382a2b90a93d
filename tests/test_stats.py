"""Tests for catdog.stats: intervals and paired tests against known values and SciPy."""

import math

import pytest
from scipy import stats as scipy_stats

from catdog import stats


@pytest.mark.parametrize("correct, count", [(81, 263), (15, 148), (0, 20), (20, 20), (190, 192),
                                            (490, 500)],
                         ids=["newcombe-81-of-263", "newcombe-15-of-148", "none-right",
                              "all-right", "post-1-seed-rule", "500-photos"])
def test_wilson_interval_matches_scipy(correct, count):
    expected = scipy_stats.binomtest(correct, count).proportion_ci(method="wilson")
    low, high = stats.wilson_interval(correct, count)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def test_wilson_interval_of_the_textbook_example():
    # Newcombe (1998), Table I: 81 of 263, Wilson score interval 0.2553 to 0.3662.
    low, high = stats.wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_the_issue_example_reads_as_on_the_page():
    record = stats.accuracy_record(190, 192)
    assert stats.accuracy_text(record) == "99.0 % (95 % CI 96.3–99.7 %, 192 photos)"


@pytest.mark.parametrize("a_only, b_only", [(0, 0), (1, 9), (9, 1), (5, 5), (3, 12), (40, 25),
                                            (0, 7), (120, 95)])
def test_mcnemar_p_value_matches_scipy_binomtest(a_only, b_only):
    n = a_only + b_only
    expected = 1.0 if n == 0 else scipy_stats.binomtest(a_only, n, 0.5).pvalue
    assert stats.mcnemar_p_value(a_only, b_only) == pytest.approx(expected, rel=1e-12)


def test_paired_comparison_counts_only_the_disagreements():
    a = [True] * 80 + [True] * 12 + [False] * 3 + [False] * 5
    b = [True] * 80 + [False] * 12 + [True] * 3 + [False] * 5
    result = stats.paired_comparison(a, b, names=("fine-tuned", "frozen"))
    assert (result["a_only"], result["b_only"], result["count"]) == (12, 3, 100)
    assert result["difference"] == pytest.approx(0.09)
    assert result["a_accuracy"] == pytest.approx(0.92) and result["b_accuracy"] == pytest.approx(0.83)
    assert result["p_value"] == pytest.approx(scipy_stats.binomtest(12, 15).pvalue)
    assert result["significant"] and result["better"] == "fine-tuned"
    low, high = result["interval"]
    assert low < result["difference"] < high


def test_two_models_that_tie_are_within_noise():
    a = [True, False] * 50
    b = [False, True] * 50
    result = stats.paired_comparison(a, b)
    assert result["p_value"] == 1.0 and not result["significant"] and result["better"] is None
    assert result["interval"][0] < 0 < result["interval"][1]


def test_a_two_photo_difference_on_192_photos_is_not_significant():
    # Post 1 before this change: 97.9 % frozen against 99.0 % fine-tuned on 192 photos.
    a = [True] * 188 + [True, True] + [False, False]
    b = [True] * 188 + [False, False] + [False, False]
    result = stats.paired_comparison(a, b)
    assert (result["a_only"], result["b_only"]) == (2, 0)
    assert result["p_value"] == pytest.approx(0.5) and result["better"] is None


def test_paired_comparison_needs_the_same_photos():
    with pytest.raises(ValueError, match="same photos.*Received: 3 and 2"):
        stats.paired_comparison([1, 0, 1], [1, 0])


def test_seed_spread_gives_mean_and_sample_standard_deviation():
    spread = stats.seed_spread([0.60, 0.64, 0.68])
    assert spread["mean"] == pytest.approx(0.64)
    assert spread["std"] == pytest.approx(0.04)
    assert (spread["min"], spread["max"], spread["seeds"]) == (0.60, 0.68, 3)
    assert stats.spread_text(spread) == "64.0 % ± 4.0 (3 seeds, 60.0–68.0 %)"
    assert stats.seed_spread([0.5])["std"] == 0.0


def test_filters_format_what_posts_quote():
    row = {"test_accuracy": 0.5, "test_interval": [0.45, 0.55], "test_count": 500}
    assert stats.FILTERS["accuracy_ci"](row, "test_") == "50.0 % (95 % CI 45.0–55.0 %, 500 photos)"
    assert stats.accuracy_text(0.971) == "97.1%"  # a bare number, as pages showed it before
    assert stats.p_text(0.00001) == "< 0.001" and stats.p_text(0.0215) == "0.021"
    assert "p = 1.00" in stats.difference_text(stats.paired_comparison([1, 0], [0, 1]))


@pytest.mark.parametrize("call, message", [
    (lambda: stats.wilson_interval(5, 0), "Received: count=0"),
    (lambda: stats.wilson_interval(6, 5), "Received: correct=6"),
    (lambda: stats.mcnemar_p_value(-1, 2), "Received: a_only=-1"),
    (lambda: stats.seed_spread([]), "at least one"),
], ids=["no-photos", "more-right-than-photos", "negative-count", "no-seeds"])
def test_bad_arguments_say_what_was_received(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_interval_is_narrower_with_more_photos():
    small, large = stats.wilson_interval(97, 100), stats.wilson_interval(485, 500)
    assert (large[1] - large[0]) < (small[1] - small[0])
    assert math.isclose(sum(large) / 2, 0.97, abs_tol=0.01)
