"""How sure a score is: intervals for accuracies, paired tests for comparisons, and their text.

A test accuracy is a proportion of photos, so it carries the noise of the photos that happened
to be drawn: 99.0 % on 192 photos is anything from about 96 % to 99.7 %. This module computes
that noise without SciPy and imports no Keras, so the site builder can use its formatting
functions as Jinja filters (`FILTERS`).

- `wilson_interval`: the Wilson score interval for a proportion (Wilson 1927; Newcombe 1998,
  method 3), good even near 0 % or 100 % where the textbook normal interval fails.
- `paired_comparison`: two models scored on the same photos, compared on the photos where they
  disagree (exact McNemar test: a two-sided binomial test of the disagreements against 1/2),
  with an interval for the difference in accuracy (Agresti and Min's adjusted Wald interval
  for paired proportions, 2005).
- `seed_spread`: the mean and spread of a score over training seeds.

Example:
    >>> [round(v, 4) for v in wilson_interval(81, 263)]
    [0.2553, 0.3662]
    >>> paired_comparison([1, 1, 0, 1], [1, 0, 0, 1])["a_only"]
    1
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
        `significant` (p < 0.05) and `better` (the better model's name when significant,
        else None).

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
    return {"a": names[0], "b": names[1], "count": count,
            "a_accuracy": sum(a) / count, "b_accuracy": sum(b) / count,
            "difference": (a_only - b_only) / count,
            "interval": list(paired_difference_interval(a_only, b_only, count)),
            "a_only": a_only, "b_only": b_only, "p_value": p_value,
            "significant": significant, "better": better}


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


# --- text for pages (registered as Jinja filters by the site builder) ------------------------


def percent_text(value: Any, digits: int = 1) -> str:
    """0.99 -> "99.0 %"."""
    return f"{float(value) * 100:.{digits}f} %"


def interval_text(interval: Sequence[float], digits: int = 1) -> str:
    """[0.963, 0.997] -> "96.3–99.7 %"."""
    low, high = (float(v) * 100 for v in interval)
    return f"{low:.{digits}f}–{high:.{digits}f} %"


def accuracy_text(value: Any, prefix: str = "", unit: str = "photos") -> str:
    """An accuracy with its interval and count: "99.0 % (95 % CI 96.3–99.7 %, 192 photos)".

    `value` is a mapping with `<prefix>accuracy`, `<prefix>interval` and `<prefix>count`
    (what `evaluate` returns, or a `summarize` row with prefix "test_" or "val_"), or a bare
    number, which is shown without an interval ("97.1%", as pages showed it before).

    Example:
        >>> accuracy_text({"accuracy": 0.99, "interval": [0.963, 0.997], "count": 192})
        '99.0 % (95 % CI 96.3–99.7 %, 192 photos)'
    """
    accuracy = value[f"{prefix}accuracy"] if isinstance(value, Mapping) else value
    interval = value.get(f"{prefix}interval") if isinstance(value, Mapping) else None
    count = value.get(f"{prefix}count") if isinstance(value, Mapping) else None
    if interval is None or count is None:  # an older record: the number as pages showed it
        return f"{float(accuracy) * 100:.1f}%"
    return (f"{percent_text(accuracy)} (95 % CI {interval_text(interval)}, "
            f"{int(count):,} {unit})")


def difference_text(comparison: Mapping[str, Any]) -> str:
    """A paired comparison in words and numbers, for prose.

    Example:
        >>> difference_text(paired_comparison([1, 1, 0, 1], [1, 0, 0, 1]))
        '+25.0 points (95 % CI -27.6 to +60.9; 1 vs 0 photos only one got right, p = 1.00)'
    """
    low, high = (float(v) * 100 for v in comparison["interval"])
    return (f"{float(comparison['difference']) * 100:+.1f} points (95 % CI {low:+.1f} to "
            f"{high:+.1f}; {comparison['a_only']} vs {comparison['b_only']} photos only one got "
            f"right, p {_p_relation(comparison['p_value'])})")


def _p_relation(p_value: Any) -> str:
    """"= 0.093" or "< 0.001": how a p-value follows "p"."""
    text = p_text(p_value)
    return text if text.startswith("<") else f"= {text}"


def p_text(p_value: Any) -> str:
    """0.0215 -> "0.022"; 0.00001 -> "< 0.001"; 0.4 -> "0.40"."""
    p = float(p_value)
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def spread_text(spread: Mapping[str, Any]) -> str:
    """A seed spread in words: "64.1 % ± 1.2 (3 seeds, 62.8–65.0 %)"."""
    if spread["seeds"] == 1:
        return f"{percent_text(spread['mean'])} (1 seed)"
    return (f"{percent_text(spread['mean'])} ± {float(spread['std']) * 100:.1f} "
            f"({spread['seeds']} seeds, {interval_text([spread['min'], spread['max']])})")


FILTERS = {"accuracy_ci": accuracy_text, "interval": interval_text,
           "difference": difference_text, "p_value": p_text, "spread": spread_text}


def _check_counts(correct: Any, count: Any) -> None:
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"`count` must be an int >= 1. Received: count={count!r}")
    if not isinstance(correct, int) or not 0 <= correct <= count:
        raise ValueError(f"`correct` must be an int in [0, count={count}]. "
                         f"Received: correct={correct!r}")
