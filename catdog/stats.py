"""How sure a score is: intervals, paired tests, timings, and the verdicts and sentences they give.

A test accuracy is a proportion of photos, so it carries the noise of the photos that happened
to be drawn: 99.0 % on 192 photos is anything from about 96 % to 99.7 %. This module computes
that noise without SciPy and imports no Keras, so the site builder can use its formatting
functions as Jinja filters (`FILTERS`).

Every comparison is a JSON-friendly dict with a `method` and a `verdict`, so a page states what
the record shows and nothing else: `verdict_text` turns any of them into the sentence a post
quotes (`{{ c | verdict }}`), and a post branches on `c.verdict`, never on a guess.

- `wilson_interval`: the Wilson score interval for a proportion (Wilson 1927; Newcombe 1998,
  method 3), good even near 0 % or 100 % where the textbook normal interval fails.
- `paired_comparison`: two models scored on the same photos, compared on the photos where they
  disagree (exact McNemar test: a two-sided binomial test of the disagreements against 1/2),
  with an interval for the difference in accuracy (Agresti and Min's adjusted Wald interval
  for paired proportions, 2005). Verdicts: `better`, `worse`, `no_difference` (with the
  smallest split this test could have called) or `too_few` (no split of so few
  disagreements can reach p < 0.05).
- `pooled_comparison`: the same over several training seeds, as one test: every seed's
  disagreements summed into one exact McNemar test (the Mantel-Haenszel test for matched
  pairs, stratified by seed), not "wins for every seed".
- `timing_comparison`: two sets of epoch times measured in the same run, compared by their
  medians and interquartile ranges: `faster`, `slower`, or `no_difference` when they overlap.
- `reference_comparison`: a score against a published figure: `above`, `below` or `inside`
  its 95 % interval.
- `seed_spread`: the mean and spread of a score over training seeds.

Example:
    >>> [round(v, 4) for v in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    >>> paired_comparison([1, 1, 0, 1], [1, 0, 0, 1])["verdict"]
    'too_few'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

Z_95 = 1.959963984540054  # the two-sided 95 % quantile of the standard normal
SIGNIFICANCE = 0.05


def wilson_interval(correct: int, count: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) for `correct` successes out of `count`.

    Args:
        correct: how many photos were classified right, 0 <= correct <= count.
        count: how many photos were scored, >= 1.
        z: the normal quantile; the default gives a 95 % interval.

    Returns:
        `(low, high)`, both in [0, 1].

    Example:
        >>> [round(v, 3) for v in wilson_interval(190, 192)]
        [0.963, 0.997]
    """
    _check_counts(correct, count)
    p = correct / count
    denominator = 1 + z * z / count
    centre = (p + z * z / (2 * count)) / denominator
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_record(correct: int, count: int) -> dict[str, Any]:
    """An accuracy with its count and 95 % Wilson interval, as `catdog.train.evaluate` returns it.

    Example:
        >>> accuracy_record(3, 4)["count"]
        4
    """
    low, high = wilson_interval(correct, count)
    return {"accuracy": correct / count, "correct": int(correct), "count": int(count),
            "interval": [low, high]}


def mcnemar_p_value(a_only: int, b_only: int) -> float:
    """The exact two-sided McNemar p-value for the disagreements of two paired classifiers.

    Under "both models are equally good", each photo only one of them gets right is a fair coin
    flip between them, so `a_only` is Binomial(a_only + b_only, 1/2); the p-value is twice the
    smaller tail (capped at 1), the same as `scipy.stats.binomtest(a_only, n, 0.5).pvalue`.

    Example:
        >>> round(mcnemar_p_value(1, 9), 4)
        0.0215
    """
    for name, value in (("a_only", a_only), ("b_only", b_only)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"`{name}` must be a count (int >= 0). Received: {name}={value!r}")
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_comparison(correct_a: Sequence[Any], correct_b: Sequence[Any], *,
                      names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """Compares two models on the same photos: difference, its interval, disagreements, p-value.

    Two accuracies on the same photos are not independent: most photos both models get right
    (or wrong), and only the photos where they disagree say which is better. So the p-value is
    the exact McNemar test on those, and the interval is for the paired difference
    (Agresti-Min: half a photo added to each cell of the 2x2 table, then the Wald interval).

    Args:
        correct_a: per photo, whether model a was right (bools or 0/1).
        correct_b: the same for model b, on the same photos in the same order.
        names: the two models' names, used in the result.

    Returns:
        A JSON-friendly dict, ready for `catdog.results.record`: `a`, `b` (names), `count`,
        `a_accuracy`, `b_accuracy`, `difference` (a minus b), `interval` (95 %, of the
        difference), `a_only` and `b_only` (photos only that model got right), `p_value`,
        `significant` (p < 0.05), `better` (the better model's name when significant,
        else None), `method` ("mcnemar") and `verdict` (see `paired_verdict`).

    Example:
        >>> result = paired_comparison([1] * 50 + [0] * 10, [1] * 40 + [0] * 20, names=("x", "y"))
        >>> result["a_only"], result["b_only"], result["better"]
        (10, 0, 'x')
    """
    a, b = [bool(v) for v in correct_a], [bool(v) for v in correct_b]
    if len(a) != len(b) or not a:
        raise ValueError(f"`correct_a` and `correct_b` must score the same photos (same non-zero "
                         f"length). Received: {len(a)} and {len(b)} entries.")
    count = len(a)
    a_only = sum(x and not y for x, y in zip(a, b))
    b_only = sum(y and not x for x, y in zip(a, b))
    p_value = mcnemar_p_value(a_only, b_only)
    significant = p_value < SIGNIFICANCE
    better = (names[0] if a_only > b_only else names[1]) if significant else None
    return {"method": "mcnemar", "a": names[0], "b": names[1], "count": count,
            "a_accuracy": sum(a) / count, "b_accuracy": sum(b) / count,
            "difference": (a_only - b_only) / count,
            "interval": list(paired_difference_interval(a_only, b_only, count)),
            "a_only": a_only, "b_only": b_only, "p_value": p_value,
            "significant": significant, "better": better,
            "verdict": paired_verdict(a_only, b_only)}


def paired_difference_interval(a_only: int, b_only: int, count: int,
                               z: float = Z_95) -> tuple[float, float]:
    """Agresti and Min's (2005) interval for a paired difference in accuracy (a minus b).

    Example:
        >>> [round(v, 3) for v in paired_difference_interval(10, 0, 60)]
        [0.064, 0.258]
    """
    _check_counts(a_only + b_only, count)
    b, c, n = a_only + 0.5, b_only + 0.5, count + 2
    difference = (b - c) / n
    half = z * math.sqrt(max((b + c) - (b - c) ** 2 / n, 0.0)) / n
    return max(-1.0, difference - half), min(1.0, difference + half)


def paired_verdict(a_only: int, b_only: int) -> str:
    """What the disagreements of two paired models show, from the first model's side.

    `"too_few"` when even a clean sweep of this many disagreements could not reach p < 0.05
    (5 or fewer: 5 vs 0 gives p = 0.0625), so no test on these photos could decide; else
    `"better"` or `"worse"` when the exact McNemar test says so, and `"no_difference"`.

    Example:
        >>> paired_verdict(2, 0), paired_verdict(12, 3), paired_verdict(3, 12), paired_verdict(8, 6)
        ('too_few', 'better', 'worse', 'no_difference')
    """
    if mcnemar_p_value(a_only + b_only, 0) >= SIGNIFICANCE:
        return "too_few"
    if mcnemar_p_value(a_only, b_only) >= SIGNIFICANCE:
        return "no_difference"
    return "better" if a_only > b_only else "worse"


def smallest_decisive_split(disagreements: int) -> int | None:
    """The fewest of `disagreements` one model must win for the exact McNemar test to call it.

    None when no split can (5 disagreements or fewer).

    Example:
        >>> smallest_decisive_split(10), smallest_decisive_split(5)
        (9, None)
    """
    for wins in range((disagreements + 1) // 2, disagreements + 1):
        if mcnemar_p_value(wins, disagreements - wins) < SIGNIFICANCE:
            return wins
    return None


def pooled_comparison(pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One paired test over several seeds: each seed's McNemar table summed into one.

    Each seed compares the two networks on the same photos; summing the disagreements of all
    seeds and testing them with one exact McNemar test is the Mantel-Haenszel test for matched
    pairs stratified by seed. It uses every seed's evidence at once, where "wins for every seed"
    throws it away (three seeds at p = 0.06 are strong evidence together, and one lucky seed
    decides nothing). The photos are the same for every seed, so the seeds are not independent
    draws of photos: the test says whether the networks differ on these photos, over seeds.

    Args:
        pairs: `paired_comparison` results, one per seed, all comparing `a` with `b`.

    Returns:
        `paired_comparison`'s keys for the summed table (`count` is photos times seeds,
        `difference` the mean per-seed difference), with `method` "pooled", `seeds`, and
        `pairs` (the per-seed results it came from).

    Example:
        >>> one = paired_comparison([1, 1, 0, 0, 1], [0, 0, 0, 1, 1], names=("s", "p"))
        >>> pooled = pooled_comparison([one, one, one])
        >>> pooled["a_only"], pooled["b_only"], pooled["seeds"]
        (6, 3, 3)
    """
    if not pairs:
        raise ValueError("`pairs` must hold one paired comparison per seed, at least one. "
                         "Received: [].")
    names = {(p["a"], p["b"]) for p in pairs}
    if len(names) != 1:
        raise ValueError(f"Every pair must compare the same two networks. Received: {sorted(names)}")
    (a_name, b_name), = names
    a_only, b_only = sum(p["a_only"] for p in pairs), sum(p["b_only"] for p in pairs)
    count = sum(p["count"] for p in pairs)
    p_value = mcnemar_p_value(a_only, b_only)
    verdict = paired_verdict(a_only, b_only)
    better = {"better": a_name, "worse": b_name}.get(verdict)
    return {"method": "pooled", "a": a_name, "b": b_name, "seeds": len(pairs), "count": count,
            "a_accuracy": statistics.fmean(p["a_accuracy"] for p in pairs),
            "b_accuracy": statistics.fmean(p["b_accuracy"] for p in pairs),
            "difference": (a_only - b_only) / count,
            "interval": list(paired_difference_interval(a_only, b_only, count)),
            "a_only": a_only, "b_only": b_only, "p_value": p_value,
            "significant": better is not None, "better": better, "verdict": verdict,
            "pairs": [dict(p) for p in pairs]}


def timing_comparison(a_seconds: Sequence[float], b_seconds: Sequence[float], *,
                      names: tuple[str, str] = ("a", "b"), unit: str = "epoch") -> dict[str, Any]:
    """Compares two sets of times measured side by side in one run, by median and spread.

    On a shared machine one epoch can take twice as long as the next, so one measurement says
    little. `a` is called faster only when its upper quartile is below `b`'s lower quartile:
    the middle halves of the two sets do not overlap. Pass steady times (leave out a first
    epoch that compiles).

    Args:
        a_seconds: seconds per `unit`; two or more to have a spread.
        b_seconds: the same for `b`.
        names: the two things timed.
        unit: what one measurement is of ("epoch", "batch").

    Returns:
        `method` "timing", `a`, `b`, `unit`, `a_median`, `b_median`, `a_quartiles`,
        `b_quartiles`, `a_count`, `b_count`, `ratio` (a's median over b's) and `verdict`:
        "faster", "slower", "no_difference" (from a's side), or "too_few" when either side
        has a single measurement.

    Example:
        >>> timing_comparison([3.1, 3.3, 3.2, 3.4], [6.1, 6.8, 6.5, 7.0])["verdict"]
        'faster'
    """
    quartiles = [_quartiles(times) for times in (a_seconds, b_seconds)]
    (a_low, a_median, a_high), (b_low, b_median, b_high) = quartiles
    if min(len(a_seconds), len(b_seconds)) < 2:
        verdict = "too_few"  # one time has no spread to compare (a quick run's single epoch)
    else:
        verdict = "faster" if a_high < b_low else "slower" if b_high < a_low else "no_difference"
    return {"method": "timing", "a": names[0], "b": names[1], "unit": unit,
            "a_median": a_median, "b_median": b_median,
            "a_quartiles": [a_low, a_high], "b_quartiles": [b_low, b_high],
            "a_count": len(a_seconds), "b_count": len(b_seconds),
            "ratio": a_median / b_median, "verdict": verdict}


def reference_comparison(score: Mapping[str, Any], reference: float, *, name: str,
                         reference_name: str) -> dict[str, Any]:
    """A measured accuracy against a published figure: is the figure inside its interval?

    Example:
        >>> reference_comparison(accuracy_record(410, 500), 0.894, name="this run",
        ...                      reference_name="the Kaggle post")["verdict"]
        'below'
    """
    low, high = score["interval"]
    verdict = "above" if low > reference else "below" if high < reference else "inside"
    return {"method": "reference", "a": name, "b": reference_name, "a_accuracy": score["accuracy"],
            "interval": [low, high], "count": score["count"], "reference": float(reference),
            "verdict": verdict}


def seed_spread(values: Sequence[float]) -> dict[str, Any]:
    """Mean, standard deviation (0 for one seed), minimum and maximum of a score over seeds.

    Example:
        >>> seed_spread([0.6, 0.7, 0.8])["mean"]
        0.7
    """
    values = [float(v) for v in values]
    if not values:
        raise ValueError("`values` must hold one score per seed, at least one. Received: [].")
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 10), "std": spread, "min": min(values),
            "max": max(values), "values": values, "seeds": len(values)}


def _quartiles(times: Sequence[float]) -> tuple[float, float, float]:
    times = [float(t) for t in times]
    if not times:
        raise ValueError("A timing needs at least one measurement. Received: [].")
    if len(times) == 1:
        return times[0], times[0], times[0]
    low, median, high = statistics.quantiles(times, n=4, method="inclusive")
    return low, median, high


# --- text for pages (registered as Jinja filters by the site builder) ------------------------
# One number format site-wide: a narrow no-break space before "%", so it never wraps alone.

PERCENT = "\u202f%"

METHODS = {
    "mcnemar": "exact McNemar test on the photos only one of the two got right",
    "pooled": "one exact McNemar test over all seeds' disagreements (Mantel–Haenszel, "
              "stratified by seed)",
    "timing": "medians and middle halves of the measured times",
    "reference": f"95{PERCENT} Wilson interval of this run's accuracy",
    "early_stopping": "the training record",
}


def percent_text(value: Any, digits: int = 1) -> str:
    """0.99 -> "99.0 %" (with a narrow no-break space)."""
    return f"{_percent_number(value, digits)}{PERCENT}"


def interval_text(interval: Sequence[float], digits: int = 1) -> str:
    """[0.963, 0.997] -> "96.3–99.7 %"."""
    low, high = (_percent_number(v, digits) for v in interval)
    return f"{low}–{high}{PERCENT}"


def _percent_number(value: Any, digits: int) -> str:
    """0.99 -> "99.0": the one way a share becomes a percentage on the site."""
    return f"{float(value) * 100:.{digits}f}"


def accuracy_text(value: Any, prefix: str = "", unit: str = "photos", *,
                  detail: bool = False) -> str:
    """An accuracy with its 95 % interval: "99.0 % (96.3–99.7 %)".

    `value` is a mapping with `<prefix>accuracy`, `<prefix>interval` and `<prefix>count`
    (what `evaluate` returns, or a `summarize` row with prefix "test_" or "val_"), or a bare
    number, shown without an interval. `detail=True` names the interval and the count, for
    places where the sentence around it does not: "99.0 % (95 % interval 96.3–99.7 %, 192
    photos)".

    Example:
        >>> accuracy_text({"accuracy": 0.99, "interval": [0.963, 0.997], "count": 192})
        '99.0\u202f% (96.3–99.7\u202f%)'
    """
    accuracy = value[f"{prefix}accuracy"] if isinstance(value, Mapping) else value
    interval = value.get(f"{prefix}interval") if isinstance(value, Mapping) else None
    count = value.get(f"{prefix}count") if isinstance(value, Mapping) else None
    if interval is None or count is None:
        return percent_text(accuracy)
    if detail:
        return (f"{percent_text(accuracy)} (95{PERCENT} interval {interval_text(interval)}, "
                f"{int(count):,} {unit})")
    return f"{percent_text(accuracy)} ({interval_text(interval)})"


def points_text(value: Any) -> str:
    """0.052 -> "+5.2 points"."""
    return f"{float(value) * 100:+.1f} points".replace("-", "−")


def difference_text(comparison: Mapping[str, Any]) -> str:
    """A paired difference and its 95 % interval: "+5.2 points (−0.1 to +10.5)".

    Example:
        >>> difference_text(paired_comparison([1, 1, 0, 1], [1, 0, 0, 1]))
        '+25.0 points (−27.6 to +60.9)'
    """
    low, high = (f"{float(v) * 100:+.1f}".replace("-", "−") for v in comparison["interval"])
    return f"{points_text(comparison['difference'])} ({low} to {high})"


def p_text(p_value: Any) -> str:
    """0.0215 -> "0.022"; 0.00001 -> "< 0.001"; 0.4 -> "0.40"."""
    p = float(p_value)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def _p_relation(p_value: Any) -> str:
    """"= 0.093" or "< 0.001": how a p-value follows "p"."""
    text = p_text(p_value)
    return text if text.startswith("<") else f"= {text}"


def spread_text(spread: Mapping[str, Any]) -> str:
    """A score over seeds: "64.9 %, mean of 3 seeds (62.2–67.3 %)"."""
    if spread["seeds"] == 1:
        return f"{percent_text(spread['mean'])} (1 seed)"
    return (f"{percent_text(spread['mean'])}, mean of {spread['seeds']} seeds "
            f"(range {interval_text([spread['min'], spread['max']])})")


def seconds_text(value: Any) -> str:
    """0.186 -> "186 ms"; 3.52 -> "3.5 s"; 312 -> "5 min 12 s"; 3725 -> "1 h 2 min"."""
    total = float(value)
    if total < 1:
        return f"{total * 1000:.0f} ms"
    if total < 10:
        return f"{total:.1f} s"
    hours, rest = divmod(round(total), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _range_text(low: float, high: float) -> str:
    """Two times in one unit: "180–190 ms", "3.4–3.7 s"."""
    if high < 1:
        return f"{low * 1000:.0f}–{high * 1000:.0f} ms"
    return f"{low:.1f}–{high:.1f} s"


def verdict_text(comparison: Mapping[str, Any]) -> str:
    """The sentence that states a recorded comparison's verdict, with its numbers.

    Works on every comparison this module makes (and on paired records made before they
    carried a `method`), so every post says the same thing the same way.

    Example:
        >>> verdict_text(paired_comparison([1, 1, 0, 1], [1, 0, 0, 1], names=("A", "B")))
        'A and B disagree on only 1 photo (1 vs 0): too few for any test to decide, since even 1 vs 0 could not reach significance.'
    """
    method = comparison.get("method", "mcnemar")
    writer = {"mcnemar": _paired_sentence, "pooled": _paired_sentence,
              "timing": _timing_sentence, "reference": _reference_sentence,
              "early_stopping": _stopping_sentence}.get(method)
    if writer is None:
        raise ValueError(f"Unknown comparison method {method!r}; expected one of "
                         f"{sorted(METHODS)}.")
    return writer(comparison)


def verdict_of(comparison: Mapping[str, Any]) -> str:
    """A comparison's verdict; computed for paired records made before verdicts were recorded."""
    if "verdict" in comparison:
        return comparison["verdict"]
    return paired_verdict(comparison["a_only"], comparison["b_only"])


def method_text(comparison: Mapping[str, Any]) -> str:
    """The test behind a verdict, in words, e.g. for a Findings box."""
    return METHODS[comparison.get("method", "mcnemar")]


def _paired_sentence(c: Mapping[str, Any]) -> str:
    a, b, a_only, b_only = c["a"], c["b"], c["a_only"], c["b_only"]
    disagreements = a_only + b_only
    over = f" over {c['seeds']} seeds" if c.get("method") == "pooled" else ""
    counts = f"{a_only} vs {b_only} photos only one of them got right{' (all seeds)' if over else ''}"
    verdict = verdict_of(c)
    if disagreements == 0:
        return _capitalized(f"{a} and {b} get exactly the same photos right{over}: "
                            f"no test can tell them apart.")
    if verdict == "too_few":
        photos = "photo" if disagreements == 1 else "photos"
        return _capitalized(
            f"{a} and {b} disagree on only {disagreements} {photos}{over} ({a_only} vs {b_only}): "
            f"too few for any test to decide, since even {disagreements} vs 0 could not reach "
            f"significance.")
    if verdict in ("better", "worse"):
        return _capitalized(f"{a} is {verdict} than {b}{over}, beyond noise: {difference_text(c)}, "
                            f"{counts}, p {_p_relation(c['p_value'])}.")
    needed = smallest_decisive_split(disagreements)
    return _capitalized(
        f"No difference between {a} and {b} that this test can detect{over}: {difference_text(c)}, "
        f"{counts}, p {_p_relation(c['p_value'])}. To tell them apart, one would have needed at "
        f"least {needed} vs {disagreements - needed} of these disagreements "
        f"({points_text((2 * needed - disagreements) / c['count']).lstrip('+')}).")


def _timing_sentence(c: Mapping[str, Any]) -> str:
    unit = c["unit"]
    article = "an" if unit[:1] in "aeiou" else "a"

    def one(side: str) -> str:
        low, high = c[f"{side}_quartiles"]
        return (f"{c[side]} {seconds_text(c[f'{side}_median'])} {article} {unit} (middle half "
                f"of {c[f'{side}_count']}: {_range_text(low, high)})")
    if c["verdict"] == "too_few":
        return _capitalized(f"{one('a')}, {one('b')}: too few measurements to compare speeds.")
    if c["verdict"] == "no_difference":
        return _capitalized(f"{one('a')}, {one('b')}: the spreads overlap, so this run shows no "
                            f"difference in speed.")
    return _capitalized(f"{c['a']} is {c['verdict']} than {c['b']}: {one('a')} against "
                        f"{one('b')}, {c['ratio']:.2f} times the time.")


def _capitalized(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _reference_sentence(c: Mapping[str, Any]) -> str:
    where = {"above": "below this run's whole interval", "below": "above this run's whole interval",
             "inside": "inside this run's interval"}[c["verdict"]]
    return (f"{c['b']}'s {percent_text(c['reference'])} lies {where} ({c['a']}: "
            f"{percent_text(c['a_accuracy'])}, 95{PERCENT} interval {interval_text(c['interval'])}, "
            f"{int(c['count']):,} photos).")


def _stopping_sentence(c: Mapping[str, Any]) -> str:
    if c["verdict"] == "fired":
        return (f"Early stopping fired: validation loss was best at epoch {c['best_epoch']} and "
                f"did not improve for {c['patience']} epochs, so training stopped after "
                f"{c['epochs_run']} of at most {c['max_epochs']} epochs and kept epoch "
                f"{c['best_epoch']}'s weights.")
    still = ("still improving at the last epoch" if c["best_epoch"] == c["epochs_run"]
             else f"best at epoch {c['best_epoch']}, without {c['patience']} epochs in a row "
                  f"of no improvement after it")
    return (f"Early stopping never fired: all {c['epochs_run']} epochs ran, validation loss was "
            f"{still}; the weights kept are epoch {c['best_epoch']}'s.")


FILTERS = {"accuracy_ci": accuracy_text, "interval": interval_text, "difference": difference_text,
           "p_value": p_text, "spread": spread_text, "verdict": verdict_text,
           "points": points_text, "method": method_text}


def _check_counts(correct: Any, count: Any) -> None:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1. Received: count={count!r}")
    if not isinstance(correct, int) or not 0 <= correct <= count:
        raise ValueError(f"`correct` must be an int in [0, count={count}]. "
                         f"Received: correct={correct!r}")
