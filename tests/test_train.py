"""Tests for catdog.train on tiny synthetic images (32x32, a few dozen, a learnable stripe)."""

import csv
import re
import types

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="needs keras: `pip install -r requirements.lock -e \".[test]\"`")

from catdog import stats, models, train  # noqa: E402

SIZE = (32, 32)


def stripes(n=64, num_classes=2, seed=0):
    """Noise images with a bright vertical stripe whose position is the class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype("int32")
    images = rng.integers(0, 80, (n, *SIZE, 3)).astype("uint8")
    width = SIZE[1] // num_classes
    for image, label in zip(images, labels):
        image[:, label * width:(label + 1) * width] += 150
    return images, labels


def split(n=64, num_classes=2, seed=0):
    """A Split-like object, as catdog.data makes them."""
    images, labels = stripes(n, num_classes, seed)
    return types.SimpleNamespace(images=images, labels=labels, batch_size=16,
                                 class_names=[f"c{i}" for i in range(num_classes)],
                                 files=[f"img_{i:03d}.jpg" for i in range(n)])


def small_model(num_classes=2, seed=0, **kwargs):
    train.set_seed(seed)
    kwargs = {"filters": (8, 8), "dense_units": 16, **kwargs}
    return models.compile_model(models.make_small_cnn(SIZE, num_classes, **kwargs))


@pytest.fixture(autouse=True)
def clear_session():
    yield
    keras.backend.clear_session()


@pytest.mark.slow  # ~1 s on TensorFlow, ~11 s on JAX (compilation)
def test_fit_returns_history_timing_and_device():
    run = train.fit(small_model(), split(), split(32, seed=1), epochs=2)
    assert run.epochs_run == 2
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(run.seconds_per_epoch) == 2 and all(s > 0 for s in run.seconds_per_epoch)
    assert run.train_seconds >= sum(run.seconds_per_epoch) * 0.9
    assert "CPU" in run.device or "GPU" in run.device or "NVIDIA" in run.device
    assert run.best_epoch in (1, 2)
    assert run.summary()["epochs"] == 2
    assert run.dtype_policy == "float32" and run.summary()["dtype_policy"] == "float32"
    assert run.early_stopping()["verdict"] == "not_fired"  # no patience: it cannot fire


@pytest.mark.slow
def test_early_stopping_is_recorded_as_what_the_run_did():
    data = split(32)
    opposite = (data.images, 1 - data.labels)  # learning the training labels worsens val_loss
    run = train.fit(small_model(), data, opposite, epochs=30, early_stopping_patience=1, verbose=0)
    stopping = run.early_stopping()
    assert stopping["verdict"] == "fired" and stopping["epochs_run"] < 30
    assert stopping["best_epoch"] == run.best_epoch and stopping["patience"] == 1
    assert stats.verdict_text(stopping).startswith("Early stopping fired")


def test_training_total_counts_every_fit():
    before = train.training_total()
    train.fit(small_model(), split(16), None, epochs=2, batch_size=8, verbose=0)
    after = train.training_total()
    assert (after["runs"] - before["runs"], after["epochs"] - before["epochs"]) == (1, 2)
    assert after["seconds"] > before["seconds"]


def test_fit_accepts_tuples_and_compiles_an_uncompiled_model():
    model = models.make_small_cnn(SIZE, filters=(8,), dense_units=8)
    run = train.fit(model, stripes(32), None, epochs=1, batch_size=8, verbose=0)
    assert model.compiled and run.best_epoch == 1 and "val_loss" not in run.history


@pytest.mark.slow
def test_small_cnn_beats_the_majority_baseline_in_two_epochs():
    data, validation = split(96), split(64, seed=1)
    model = small_model()
    train.fit(model, data, None, epochs=2, batch_size=8, verbose=0)
    majority = np.bincount(validation.labels).max() / len(validation.labels)
    assert train.evaluate(model, validation)["accuracy"] >= max(0.9, majority + 0.3)


@pytest.mark.slow
def test_six_classes_learn_too():
    data = split(96, num_classes=6)
    model = small_model(num_classes=6)
    train.fit(model, data, None, epochs=4, batch_size=8, verbose=0)
    assert train.evaluate(model, split(60, 6, seed=1))["accuracy"] > 0.5  # chance: 1/6


@pytest.mark.slow
def test_same_seed_gives_the_same_weights_and_loss():
    def once():
        train.set_seed(3)  # layers draw their seeds when built: seed before building
        augmentation = models.make_augmentation(rotation=0.1)
        model = small_model(seed=3, augmentation=augmentation)
        run = train.fit(model, split(32), None, epochs=1, seed=3, verbose=0)
        return run.history["loss"][0], model.get_weights()

    (loss_a, weights_a), (loss_b, weights_b) = once(), once()
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_early_stopping_stops_and_restores_the_best_weights():
    # A learning rate far too high makes val_loss rise after the first epoch or two.
    train.set_seed(0)
    model = models.compile_model(models.make_small_cnn(SIZE, filters=(8,), dense_units=8), 0.5)
    saved = {}

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved[epoch + 1] = self.model.get_weights()

    run = train.fit(model, split(32), split(32, seed=1), epochs=20, early_stopping_patience=1,
                    verbose=0, callbacks=[Snapshot()])
    assert run.epochs_run < 20
    assert run.best_epoch == int(np.argmin(run.history["val_loss"])) + 1
    for a, b in zip(model.get_weights(), saved[run.best_epoch]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["best.weights.h5", "best.keras"])
def test_checkpoint_writes_the_best_model(tmp_path, name):
    path = tmp_path / name
    model = small_model()
    train.fit(model, split(32), split(16, seed=1), epochs=1, checkpoint_path=path, verbose=0)
    assert path.is_file() and path.stat().st_size > 0
    if name.endswith(".keras"):
        restored = keras.saving.load_model(path)
        assert restored.count_params() == model.count_params()


def test_evaluate_returns_accuracy_with_its_count_and_interval():
    scores = train.evaluate(small_model(), split(16))
    assert set(scores) == {"loss", "accuracy", "correct", "count", "interval"}
    assert isinstance(scores["loss"], float) and isinstance(scores["accuracy"], float)
    assert scores["count"] == 16 and scores["accuracy"] == scores["correct"] / 16
    low, high = scores["interval"]
    assert 0 <= low <= scores["accuracy"] <= high <= 1


@pytest.mark.parametrize("num_classes", [2, 6], ids=["binary", "six-classes"])
def test_predict_writes_a_submission_csv(tmp_path, num_classes):
    data = split(10, num_classes)
    predictions = train.predict(small_model(num_classes), data)
    path = predictions.to_csv(tmp_path / "results.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(predictions) == 10
    assert list(rows[0]) == ["file", "predicted", "probability", *[f"p_c{i}" for i in range(num_classes)]]
    assert rows[0]["file"] == "img_000.jpg" and rows[0]["predicted"] in data.class_names
    for row in rows:
        probabilities = [float(row[f"p_c{i}"]) for i in range(num_classes)]
        assert sum(probabilities) == pytest.approx(1, abs=1e-4)
        assert float(row["probability"]) == pytest.approx(max(probabilities), abs=1e-6)
    assert "<table>" in predictions._repr_html_() and "img_009.jpg" in predictions._repr_html_()


def test_predict_names_files_and_classes_when_not_given():
    predictions = train.predict(small_model(), stripes(3)[0])
    assert [row["file"] for row in predictions] == ["0", "1", "2"]
    assert predictions.class_names == ["0", "1"]


def test_device_summary_names_the_backend():
    summary = train.device_summary()
    assert {"tensorflow": "TensorFlow", "jax": "JAX"}[keras.backend.backend()] in summary


@pytest.mark.slow
def test_tune_returns_a_table_and_the_best_model(tmp_path):
    from functools import partial

    build = partial(models.make_small_cnn, SIZE, filters=(8,))
    result = train.tune(build, split(32), split(16, seed=1), space={"dense_units": [8, 16],
                        "learning_rate": [1e-3, 3e-3]}, max_trials=2, epochs=1, directory=tmp_path)
    assert len(result.rows) == 2
    assert set(result.rows[0]) == {"trial", "hyperparameters", "val_accuracy"}
    assert result.rows[0]["val_accuracy"] >= result.rows[1]["val_accuracy"]
    assert set(result.best_hyperparameters) == {"dense_units", "learning_rate"}
    assert result.best_model.output_shape == (None, 1)
    assert "<table>" in result._repr_html_()


@pytest.mark.slow
def test_tune_accepts_a_hypermodel_function_and_tuple_choices(tmp_path):
    def build(hp):
        units = hp.Choice("dense_units", [8, 16])
        return models.make_small_cnn(SIZE, filters=(4,), dense_units=units)

    result = train.tune(build, split(32), split(16, seed=1), max_trials=1, epochs=1, directory=tmp_path)
    assert len(result.rows) == 1 and "dense_units" in result.rows[0]["hyperparameters"]
    assert train._choice(types.SimpleNamespace(Choice=lambda name, values: values[-1]),
                         "filters", [(8,), (8, 8)]) == (8, 8)


def test_tuned_tuple_choices_come_back_as_tuples(tmp_path):
    result = train.tune(small_model_builder, split(32), split(16, seed=1),
                        space={"filters": [(4,), (4, 4)]}, max_trials=1, epochs=1,
                        directory=tmp_path)
    assert result.best_hyperparameters["filters"] in [(4,), (4, 4)]


def small_model_builder(**kwargs):
    return models.make_small_cnn(SIZE, dense_units=8, **kwargs)


def test_summarize_scores_the_kept_weights_and_times_the_run():
    model = small_model()
    run = train.fit(model, split(), split(32, seed=1), epochs=2)
    row = train.summarize("tiny", model, run, split(32, seed=1), split(32, seed=2))
    assert row["val_accuracy"] == train.evaluate(model, split(32, seed=1))["accuracy"]
    assert row["parameters"] == models.count_params(model)["total"]
    assert row["epochs"] == 2 and row["seconds_per_epoch"] > 0
    assert "<td>tiny</td>" in train.comparison_table([row])._repr_html_()


@pytest.mark.parametrize(
    "call, message",
    [(lambda m: train.fit(m, split(8), None, epochs=0), "Received: epochs=0"),
     (lambda m: train.fit(m, split(8), None, epochs=1, early_stopping_patience=2),
      "Received: early_stopping_patience=2, validation=None"),
     (lambda m: train.fit(m, split(8), split(8), epochs=1, early_stopping_patience=-1),
      "Received: early_stopping_patience=-1"),
     (lambda m: train.fit(m, split(8), None, epochs=1, checkpoint_path="best.h5"),
      "Received: checkpoint_path='best.h5'"),
     (lambda m: train.fit(m, split(8), None, epochs=1, batch_size=0), "Received: batch_size=0"),
     (lambda m: train.fit(m, np.zeros((8, 32, 32, 3)), None, epochs=1), "Received: train of type ndarray"),
     (lambda m: train.fit(m, (np.zeros((8, 32, 32, 3)), np.zeros(7)), None, epochs=1),
      r"Received: images \(8, 32, 32, 3\), labels \(7,\)"),
     (lambda m: train.predict(m, np.zeros((2, 32, 32, 3)), ["a"]), "Received: 1 files"),
     (lambda m: train.predict(m, np.zeros((2, 32, 32, 3)), None, ["a", "b", "c"]),
      "Received: class_names="),
     (lambda m: train.predict(m, np.zeros((32, 32, 3))), r"Received: images with shape \(32, 32, 3\)"),
     (lambda m: train.set_seed(-1), "Received: seed=-1"),
     (lambda m: train.tune(m, split(8), split(8), space={"dense_units": []}, directory="x"),
      "Received: space="),
     (lambda m: train.tune(models.make_small_cnn, split(8), split(8), max_trials=0, directory="x"),
      "Received: max_trials=0")],
    ids=["epochs", "patience-without-validation", "patience", "checkpoint-suffix", "batch_size",
         "train-type", "length-mismatch", "files", "class_names", "images-rank", "seed", "space",
         "max_trials"])
def test_bad_arguments_raise_value_error_naming_them(call, message):
    model = small_model()
    with pytest.raises(ValueError, match=message):
        call(model)


# --- how sure a score is: intervals, per-class accuracy, paired tests, seeds ----------------


def test_fit_leaves_the_global_seed_alone_by_default(monkeypatch):
    model, calls = small_model(), []
    monkeypatch.setattr(train, "set_seed", calls.append)
    train.fit(model, split(16), None, epochs=1, verbose=0)
    assert calls == []  # set_seed(42) then fit(model, ...) runs with seed 42
    train.fit(model, split(16), None, epochs=1, seed=3, verbose=0)
    assert calls == [3]


def test_summarize_gives_intervals_and_per_class_accuracy_for_six_classes():
    six = split(60, 6)
    model = small_model(6)
    run = train.fit(model, six, None, epochs=3, batch_size=8, verbose=0)
    row = train.summarize("six", model, run, split(30, 6, seed=1), split(36, 6, seed=2))
    assert row["test_count"] == 36 and row["val_count"] == 30
    assert set(row["test_per_class"]) <= {f"c{i}" for i in range(6)}
    low, high = row["test_interval"]
    assert low <= row["test_accuracy"] <= high
    html = train.comparison_table([row])._repr_html_()
    assert re.search(r"<td>\d+\.\d\u202f% \(\d+\.\d–\d+\.\d\u202f%\)</td>", html)  # with its interval


def test_predict_names_six_classes_with_their_probabilities():
    predictions = train.predict(small_model(6), split(12, 6))
    row = predictions[0]
    assert row["predicted"] in predictions.class_names
    assert sum(row[f"p_{c}"] for c in predictions.class_names) == pytest.approx(1, abs=1e-5)
    assert row["probability"] == max(row[f"p_{c}"] for c in predictions.class_names)


def test_a_model_compared_with_itself_is_within_noise():
    model, data = small_model(), split(32)
    result = train.compare(model, model, data, names=("a", "b"))
    assert (result["a_only"], result["b_only"], result["p_value"]) == (0, 0, 1.0)
    assert result["better"] is None and result["count"] == 32


def test_compare_accepts_precomputed_correct_masks():
    data = split(20)
    always_right = data.labels == data.labels
    always_wrong = ~always_right
    result = train.compare(always_right, always_wrong, data, names=("right", "wrong"))
    assert result["better"] == "right" and result["a_only"] == 20 and result["p_value"] < 0.001


def test_fit_seeds_trains_once_per_seed_and_reports_the_spread():
    splits = types.SimpleNamespace(train=split(32), validation=split(16, seed=1),
                                   test=split(16, seed=2))
    runs = train.fit_seeds("tiny", lambda: small_model(), splits, seeds=[0, 1], epochs=1,
                           verbose=0)
    summary = runs.summary()
    assert summary["seeds"] == [0, 1] and summary["test"]["seeds"] == 2
    assert len(runs.models) == 2 and runs.rows[1]["name"] == "tiny (seed 1)"
    same = train.compare_seeds(runs, runs, splits.test)
    assert same["seeds"] == 2 and same["method"] == "pooled" and same["verdict"] == "too_few"
    assert same["a_only"] == same["b_only"] == 0 and len(same["pairs"]) == 2
    speed = train.compare_speed(runs, runs)
    assert speed["method"] == "timing" and speed["verdict"] == "no_difference"  # the same times


def test_fit_seeds_needs_a_seed():
    with pytest.raises(ValueError, match=r"Received: seeds=\[\]"):
        train.fit_seeds("none", small_model, None, seeds=[], epochs=1)
