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
    return {"recipe": accuracy(490, 500, "val_"), "reach": accuracy(488, 500, "val_"),
            "chosen_schedule": "model4 fine-tuned: recipe", "finetune_vs_frozen": comparison}


def test_fine_tuning_that_ties_the_frozen_model_is_within_noise():
    tie = paired(4, 4, 480, 500, ("fine-tuned", "frozen"))
    text = render(FINE_TUNING, **fine_tuning_values(tie))
    assert "Within noise" in text and "Fine-tuning pays" not in text
    assert "4 vs 4 photos only one got right, p = 1.00" in text


def test_a_two_photo_gain_is_still_within_noise():
    small = paired(3, 1, 485, 500, ("fine-tuned", "frozen"))
    assert "Within noise" in render(FINE_TUNING, **fine_tuning_values(small))


def test_fine_tuning_pays_only_when_the_paired_test_says_so():
    gain = paired(20, 2, 470, 500, ("fine-tuned", "frozen"))
    text = render(FINE_TUNING, **fine_tuning_values(gain))
    assert "Fine-tuning pays" in text and "Within noise" not in text


TUNER = paragraph(POST_3, "{% set c = results.tuned_vs_hand", "## Strides or pooling?")


def seed_comparison(pairs: list[dict], a: str, b: str) -> dict:
    wins = {name: sum(p["better"] == name for p in pairs) for name in (a, b)}
    better = next((name for name, count in wins.items() if count == len(pairs)), None)
    return {"a": a, "b": b, "seeds": len(pairs), "pairs": pairs,
            "max_p_value": max(p["p_value"] for p in pairs),
            "a_wins": wins[a], "b_wins": wins[b], "better": better}


def tuner_values(pairs: list[dict]) -> dict:
    spread = {"test": stats.seed_spread([0.66, 0.65, 0.67]), "seeds": [0, 1, 2],
              "seconds_per_epoch": 4.5}
    return {"tuned_vs_hand": seed_comparison(pairs, "tuned", "hand"), "tuned": spread,
            "hand": spread, "tuner_trials": 5,
            "tuner_best": {"filters": [32, 32, 64], "kernel_size": 3, "dense_units": 128,
                           "dropout": 0.2, "learning_rate": 0.001}}


@pytest.mark.parametrize("outcome, pairs, expected", [
    ("every-seed", [paired(40, 10, 500, 900, ("tuned", "hand"))] * 3, "The tuner helps"),
    ("one-seed-of-three", [paired(40, 10, 500, 900, ("tuned", "hand")),
                           paired(12, 10, 500, 900, ("tuned", "hand")),
                           paired(10, 12, 500, 900, ("tuned", "hand"))],
     "No difference the data can show"),
    ("tie", [paired(10, 10, 500, 900, ("tuned", "hand"))] * 3, "No difference the data can show"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_the_tuner_helps_only_if_it_wins_for_every_seed(outcome, pairs, expected):
    text = render(TUNER, **tuner_values(pairs))
    assert expected in text
    if expected != "The tuner helps":
        assert "The tuner helps" not in text


def test_a_search_that_picks_the_hand_picked_values_says_so():
    identical = [paired(0, 0, 600, 900, ("tuned", "hand"))] * 3
    text = render(TUNER, **tuner_values(identical))
    assert "No gain at all" in text and "The tuner helps" not in text
