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


NNBSP = "\u202f"  # the narrow no-break space before every "%": it never wraps alone


def test_the_issue_example_reads_as_on_the_page():
    record = stats.accuracy_record(190, 192)
    assert stats.accuracy_text(record) == f"99.0{NNBSP}% (96.3–99.7{NNBSP}%)"
    assert stats.accuracy_text(record, detail=True) == (
        f"99.0{NNBSP}% (95{NNBSP}% interval 96.3–99.7{NNBSP}%, 192 photos)")


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
    assert result["verdict"] == "too_few"


def test_paired_comparison_needs_the_same_photos():
    with pytest.raises(ValueError, match="same photos.*Received: 3 and 2"):
        stats.paired_comparison([1, 0, 1], [1, 0])


def test_seed_spread_gives_mean_and_sample_standard_deviation():
    spread = stats.seed_spread([0.60, 0.64, 0.68])
    assert spread["mean"] == pytest.approx(0.64)
    assert spread["std"] == pytest.approx(0.04)
    assert (spread["min"], spread["max"], spread["seeds"]) == (0.60, 0.68, 3)
    assert stats.spread_text(spread) == f"64.0{NNBSP}%, mean of 3 seeds (range 60.0–68.0{NNBSP}%)"
    assert stats.seed_spread([0.5])["std"] == 0.0


def test_filters_format_what_posts_quote():
    row = {"test_accuracy": 0.5, "test_interval": [0.45, 0.55], "test_count": 500}
    assert stats.FILTERS["accuracy_ci"](row, "test_") == f"50.0{NNBSP}% (45.0–55.0{NNBSP}%)"
    assert stats.accuracy_text(0.971) == f"97.1{NNBSP}%"  # a bare number: no interval
    assert stats.p_text(0.00001) == "< 0.001" and stats.p_text(0.0215) == "0.021"
    assert stats.difference_text(stats.paired_comparison([1, 0], [0, 1])) == (
        "+0.0 points (−84.9 to +84.9)")


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


# --- verdicts: what a comparison shows, in one word and one sentence ------------------------


def paired(a_only, b_only, *, both=400, neither=50, names=("fine-tuned", "frozen")):
    """A paired comparison with exactly these disagreements on `both + neither + …` photos."""
    a = [1] * both + [1] * a_only + [0] * b_only + [0] * neither
    b = [1] * both + [0] * a_only + [1] * b_only + [0] * neither
    return stats.paired_comparison(a, b, names=names)


def test_two_against_none_is_too_few_to_decide_whatever_the_split():
    c = paired(2, 0)
    assert c["verdict"] == "too_few" and c["better"] is None
    assert stats.verdict_text(c) == (
        "Fine-tuned and frozen disagree on only 2 photos (2 vs 0): too few for any test to "
        "decide, since even 2 vs 0 could not reach significance.")


def test_identical_predictions_say_so():
    assert stats.verdict_text(paired(0, 0)) == (
        "Fine-tuned and frozen get exactly the same photos right: no test can tell them apart.")


@pytest.mark.parametrize("disagreements, too_few", [(5, True), (6, False)])
def test_too_few_is_exactly_when_even_a_clean_sweep_is_not_significant(disagreements, too_few):
    assert (stats.paired_verdict(disagreements, 0) == "too_few") is too_few
    assert bool(scipy_stats.binomtest(disagreements, disagreements).pvalue >= 0.05) is too_few


def test_a_large_significant_difference_is_better_or_worse_by_side():
    assert paired(40, 10)["verdict"] == "better" and paired(10, 40)["verdict"] == "worse"
    assert stats.verdict_text(paired(40, 10)) == (
        "Fine-tuned is better than frozen, beyond noise: +6.0 points (+3.2 to +8.7), 40 vs 10 "
        "photos only one of them got right, p < 0.001.")


def test_no_difference_says_what_split_it_would_have_taken():
    c = paired(106, 80)
    assert c["verdict"] == "no_difference"
    needed = stats.smallest_decisive_split(186)
    # the smallest winning count scipy also calls significant, and one less it does not
    assert scipy_stats.binomtest(needed, 186).pvalue < 0.05 <= scipy_stats.binomtest(needed - 1, 186).pvalue
    assert f"at least {needed} vs {186 - needed} of these disagreements" in stats.verdict_text(c)
    assert "p = 0.067" in stats.verdict_text(c)


def test_records_made_before_verdicts_still_read_right():
    old = {key: value for key, value in paired(2, 0).items() if key not in ("verdict", "method")}
    assert stats.verdict_of(old) == "too_few"
    assert stats.verdict_text(old).startswith("Fine-tuned and frozen disagree on only 2 photos")


# --- several seeds: one pooled test ----------------------------------------------------------


def test_pooled_comparison_sums_every_seeds_table_into_one_exact_test():
    seeds = [paired(10, 20, names=("strides", "pooling")),
             paired(12, 18, names=("strides", "pooling")),
             paired(9, 19, names=("strides", "pooling"))]
    pooled = stats.pooled_comparison(seeds)
    assert (pooled["a_only"], pooled["b_only"], pooled["seeds"]) == (31, 57, 3)
    # Reference: the Mantel-Haenszel test for matched pairs is McNemar's on the summed
    # discordant counts; exact, that is SciPy's binomial test of 31 of 88 against 1/2.
    assert pooled["p_value"] == pytest.approx(scipy_stats.binomtest(31, 88).pvalue, rel=1e-12)
    assert pooled["verdict"] == "worse" and pooled["better"] == "pooling"
    # no single seed wins its own test, yet together they are clear: a conjunction would say "noise"
    assert [p["verdict"] for p in seeds] == ["no_difference"] * 3
    assert stats.verdict_text(pooled).startswith("Strides is worse than pooling over 3 seeds, beyond noise")
    assert pooled["pairs"][0]["a_only"] == 10


def test_pooled_comparison_refuses_pairs_of_different_networks():
    with pytest.raises(ValueError, match="same two networks"):
        stats.pooled_comparison([paired(1, 2, names=("a", "b")), paired(1, 2, names=("a", "c"))])


# --- timings and published figures -----------------------------------------------------------


def test_a_timing_is_faster_only_when_the_middle_halves_do_not_overlap():
    fast, slow = [3.1, 3.3, 3.2, 3.4, 6.0], [6.1, 6.8, 6.5, 7.0]
    c = stats.timing_comparison(fast, slow, names=("strides", "pooling"))
    assert c["verdict"] == "faster" and c["a_median"] == pytest.approx(3.3)
    assert stats.verdict_text(c).startswith("Strides is faster than pooling: strides 3.3 s an epoch")
    swinging = stats.timing_comparison([3.1, 6.9, 3.2, 7.1], slow, names=("strides", "pooling"))
    assert swinging["verdict"] == "no_difference"
    assert "shows no difference in speed" in stats.verdict_text(swinging)


def test_a_single_timing_is_too_few_to_compare():
    c = stats.timing_comparison([0.2], [0.1, 0.12], unit="batch")
    assert c["verdict"] == "too_few" and "too few measurements" in stats.verdict_text(c)
    assert "200 ms a batch" in stats.verdict_text(c)


@pytest.mark.parametrize("correct, verdict", [(410, "below"), (447, "inside"), (480, "above")])
def test_a_score_against_a_published_figure(correct, verdict):
    c = stats.reference_comparison(stats.accuracy_record(correct, 500), 0.894, name="this run",
                                   reference_name="The Kaggle post")
    assert c["verdict"] == verdict
    assert stats.verdict_text(c).startswith(f"The Kaggle post's 89.4{NNBSP}% lies ")
