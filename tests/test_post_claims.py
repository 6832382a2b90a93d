"""The posts' comparison sentences follow the recorded paired tests: a tie publishes "within noise".

Each test renders one paragraph of a real post (its Jinja template, as the builder would) with
paired results made by catdog.stats, so no kernel and no training is needed.
"""

from pathlib import Path

import pytest

from catdog import stats
from sitegen.render import make_environment

ROOT = Path(__file__).resolve().parents[1]
POST_1 = ROOT / "posts" / "2026-11-28-cats-and-dogs-four-models.md"
POST_3 = ROOT / "posts" / "2026-11-28-tuner-strides-versus-pooling.md"


def paragraph(post: Path, start: str, end: str) -> str:
    """The post's source from the line starting with `start` up to the one starting with `end`."""
    text = post.read_text()
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def render(template: str, **values) -> str:
    env = make_environment(ROOT / "templates")
    return " ".join(env.from_string(template).render(results=values).split())


def accuracy(correct: int, count: int, prefix: str) -> dict:
    record = stats.accuracy_record(correct, count)
    return {f"{prefix}{key}": value for key, value in record.items()}


def paired(right_a: int, right_b: int, both: int, count: int, names: tuple[str, str]) -> dict:
    """A paired result where a alone is right on `right_a` photos and b alone on `right_b`."""
    a = [True] * both + [True] * right_a + [False] * right_b
    b = [True] * both + [False] * right_a + [True] * right_b
    a += [False] * (count - len(a))
    b += [False] * (count - len(b))
    return stats.paired_comparison(a, b, names=names)


FINE_TUNING = paragraph(POST_1, "On validation the recipe scores", "## All the models")


def fine_tuning_values(comparison: dict) -> dict:
    speed = stats.timing_comparison([30.1, 31.0, 29.8], [15.2, 15.9, 16.1],
                                    names=("fine-tuning", "training the frozen model"))
    return {"recipe": accuracy(490, 500, "val_"), "reach": accuracy(488, 500, "val_"),
            "chosen_schedule": "the tutorial's recipe", "finetune_vs_frozen": comparison,
            "finetune_speed": speed}


def test_fine_tuning_that_ties_the_frozen_model_shows_no_detectable_difference():
    tie = paired(8, 8, 480, 500, ("the fine-tuned model", "the frozen model"))
    text = render(FINE_TUNING, **fine_tuning_values(tie))
    assert "No difference between the fine-tuned model and the frozen model that this test can detect" in text
    assert "8 vs 8 photos only one of them got right, p = 1.00" in text
    assert "is better than" not in text


def test_two_disagreements_are_too_few_for_any_test_not_an_even_split():
    # The published page once said "they split those too evenly" of a 2 vs 0 split.
    two = paired(2, 0, 488, 500, ("the fine-tuned model", "the frozen model"))
    text = render(FINE_TUNING, **fine_tuning_values(two))
    assert "disagree on only 2 photos (2 vs 0): too few for any test to decide" in text
    assert "evenly" not in text and "only more test photos could" in text


def test_fine_tuning_is_called_better_only_when_the_paired_test_says_so():
    gain = paired(20, 2, 470, 500, ("the fine-tuned model", "the frozen model"))
    text = render(FINE_TUNING, **fine_tuning_values(gain))
    assert "The fine-tuned model is better than the frozen model, beyond noise" in text


def test_a_speed_claim_is_the_recorded_timing_verdict():
    text = render(FINE_TUNING, **fine_tuning_values(paired(2, 0, 488, 500, ("a", "b"))))
    assert "Fine-tuning is slower than training the frozen model" in text
    assert "fraction of the time" not in text


TUNER = paragraph(POST_3, "{% set c = results.tuned_vs_hand", "## Strides or pooling?")


def pooled(pairs: list[dict]) -> dict:
    return stats.pooled_comparison(pairs)


def tuner_values(comparison: dict) -> dict:
    spread = {"test": stats.seed_spread([0.66, 0.65, 0.67]), "seeds": [0, 1, 2],
              "seconds_per_epoch": 4.5}
    return {"tuned_vs_hand": comparison, "tuned": spread, "hand": spread, "tuner_trials": 5,
            "tuner_epochs": 3,
            "tuner_best": {"filters": [32, 32, 64], "kernel_size": 3, "dense_units": 128,
                           "dropout": 0.2, "learning_rate": 0.001}}


NAMES = ("the tuned network", "the hand-picked network")


@pytest.mark.parametrize("outcome, pairs, expected", [
    ("clear-every-seed", [paired(40, 10, 500, 900, NAMES)] * 3, "is better than"),
    ("each-seed-leans-the-same-way", [paired(20, 11, 500, 900, NAMES)] * 3, "is better than"),
    ("mixed", [paired(40, 10, 500, 900, NAMES), paired(10, 40, 500, 900, NAMES),
               paired(12, 10, 500, 900, NAMES)], "No difference between"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_seeds_are_pooled_into_one_test(outcome, pairs, expected):
    # 20 vs 11 alone is p = 0.15 for each seed; 60 vs 33 over three seeds is p = 0.007.
    text = render(TUNER, **tuner_values(pooled(pairs)))
    assert expected in text and "over 3 seeds" in text


def test_a_search_that_picks_the_hand_picked_values_says_so():
    identical = pooled([paired(0, 0, 600, 900, NAMES)] * 3)
    text = render(TUNER, **tuner_values(identical))
    assert "get exactly the same photos right over 3 seeds" in text
    assert "the values picked by hand were already the search's best" in text
