"""Train, evaluate, predict and tune the `catdog.models` classifiers, on any Keras backend.

Data is either a `catdog.data.Split` (anything with `.images` and `.labels`) or an
`(images, labels)` tuple of NumPy arrays; images stay uint8 0-255 (the models rescale), which
keeps 2000 photos at 160x160 in 150 MB instead of 600 MB. A run is repeatable when seeded
(`set_seed`, i.e. `keras.utils.set_random_seed`): data order, dropout and augmentation.
Initial weights are drawn when a model is built, so call `set_seed` before building;
`fit(seed=None)` leaves the seed as the post set it.

Every accuracy comes with its count and 95 % Wilson interval (`catdog.stats`), and two
models scored on the same photos are compared with `compare` (exact McNemar test), so a
post's prose can say whether a difference is more than the noise of the photos drawn.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from catdog import stats
from catdog.models import compile_model, count_params

logger = logging.getLogger(__name__)

_BACKEND_NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch", "numpy": "NumPy"}
CHECKPOINT_SUFFIXES = (".keras", ".weights.h5")


def set_seed(seed: int) -> None:
    """Seeds Python, NumPy and the Keras backend, so a run can be repeated exactly.

    Example:
        >>> set_seed(42)
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative int. Received: seed={seed!r}")
    keras.utils.set_random_seed(seed)


@dataclasses.dataclass
class TrainingRun:
    """What one `fit` produced, besides the trained model.

    Attributes:
        history: metric name -> one value per epoch (`loss`, `accuracy`, `val_loss`, ...).
        epochs_run: epochs actually trained (fewer than asked when early stopping fired).
        train_seconds: wall-clock seconds of the whole `model.fit` call.
        seconds_per_epoch: wall-clock seconds of each epoch, validation included.
        device: where it ran, e.g. "CPU (2 cores, TensorFlow)".
        best_epoch: the 1-based epoch with the lowest monitored loss (`val_loss` when there
            is validation data, else `loss`); early stopping restores its weights.
        max_epochs: the epochs asked for.
        patience: early stopping's patience, None when it was off.
        dtype_policy: the model's Keras dtype policy, e.g. "mixed_bfloat16".
    """

    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    seconds_per_epoch: list[float]
    device: str
    best_epoch: int
    max_epochs: int = 0
    patience: int | None = None
    dtype_policy: str = "float32"

    @property
    def steady_seconds(self) -> list[float]:
        """Seconds of every epoch but the first (which also compiles), for timing comparisons."""
        return self.seconds_per_epoch[1:] or list(self.seconds_per_epoch)

    def early_stopping(self) -> dict[str, Any]:
        """What early stopping did in this run, as a verdict a page can state (`| verdict`).

        Example:
            >>> run.early_stopping()["verdict"]  # doctest: +SKIP
            'fired'
        """
        fired = self.patience is not None and self.epochs_run < self.max_epochs
        return {"method": "early_stopping", "verdict": "fired" if fired else "not_fired",
                "epochs_run": self.epochs_run, "max_epochs": self.max_epochs,
                "best_epoch": self.best_epoch, "patience": self.patience}

    def summary(self) -> dict[str, Any]:
        """The run's headline numbers, ready for `catdog.results.record(**run.summary())`.

        Example:
            >>> run.summary()["epochs"]  # doctest: +SKIP
            20
        """
        values = {"epochs": self.epochs_run, "train_seconds": round(self.train_seconds, 1),
                  "device": self.device, "dtype_policy": self.dtype_policy}
        if "val_accuracy" in self.history:
            values["val_accuracy"] = self.history["val_accuracy"][self.best_epoch - 1]
        return values


class EpochTimer(keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in `self.seconds`.

    Example:
        >>> timer = EpochTimer()
        >>> model.fit(x, y, callbacks=[timer])  # doctest: +SKIP
    """

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def fit(
    model: keras.Model,
    train: Any,
    validation: Any = None,
    *,
    epochs: int,
    batch_size: int | None = None,
    early_stopping_patience: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    seed: int | None = None,
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> TrainingRun:
    """Trains a model on in-memory images and reports how the run went.

    Early stopping watches `val_loss` and restores the best weights; the checkpoint keeps
    the best model (`.keras`) or its weights (`.weights.h5`). Both need validation data for
    `val_loss` (the checkpoint falls back to `loss` without it). An uncompiled model is
    compiled with `compile_model` defaults. Data is shuffled every epoch, from Keras' global
    seed: `seed` reseeds it first, None (the default) leaves the seed the post set alone.

    Args:
        model: a `keras.Model`, compiled or not.
        train: a Split-like object (`.images`, `.labels`) or an `(images, labels)` tuple.
        validation: the same kinds, or None.
        epochs: the most epochs to train, >= 1.
        batch_size: the batch size; None uses `train.batch_size` if there is one, else 32.
        early_stopping_patience: epochs without `val_loss` improvement before stopping;
            None trains every epoch.
        checkpoint_path: where to save the best model, ending in ".keras" or ".weights.h5".
        seed: if given, `set_seed(seed)` before training (data order, dropout and
            augmentation); None leaves the global seed alone.
        verbose: Keras' verbosity; 2 (default) prints one line per epoch, clean in notebooks.
        callbacks: more Keras callbacks.

    Returns:
        A `TrainingRun`; the model itself is trained in place.

    Example:
        >>> run = fit(model, data.train, data.validation, epochs=20, early_stopping_patience=5)  # doctest: +SKIP
        >>> run.best_epoch, run.seconds_per_epoch[-1]  # doctest: +SKIP
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be an int >= 1. Received: epochs={epochs!r}")
    if early_stopping_patience is not None and validation is None:
        raise ValueError(f"`early_stopping_patience` needs `validation` data to watch val_loss. "
                         f"Received: early_stopping_patience={early_stopping_patience}, validation=None")
    x, y = as_arrays(train, "train")
    validation_data = as_arrays(validation, "validation") if validation is not None else None
    batch_size = _batch_size(batch_size, train)
    timer = EpochTimer()
    all_callbacks = [timer, *_standard_callbacks(early_stopping_patience, checkpoint_path,
                                                 validation_data is not None), *callbacks]
    if not getattr(model, "compiled", False):
        logger.info("Model %s was not compiled; compiling with compile_model defaults.", model.name)
        compile_model(model)
    if seed is not None:
        set_seed(seed)
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=validation_data,
                        shuffle=True, callbacks=all_callbacks, verbose=verbose)
    seconds = time.perf_counter() - start
    run = _training_run(history.history, seconds, timer.seconds)
    run.max_epochs, run.patience = epochs, early_stopping_patience
    run.dtype_policy = _policy_name(model)
    _TALLY.add(run.epochs_run, seconds)
    return run


class _TrainingTally:
    """Every epoch this process trained (fits and tuner trials): the post's whole training."""

    def __init__(self) -> None:
        self.runs, self.epochs, self.seconds = 0, 0, 0.0

    def add(self, epochs: int, seconds: float, runs: int = 1) -> None:
        self.runs, self.epochs, self.seconds = self.runs + runs, self.epochs + epochs, self.seconds + seconds


_TALLY = _TrainingTally()


def training_total() -> dict[str, Any]:
    """All training this kernel did so far: `fit` calls and tuner trials, epochs and seconds.

    A post records it beside its final model's own epochs and time, so a reader sees both
    what the final model took and what the whole post took (`results.record(training=...)`).

    Example:
        >>> training_total()  # doctest: +SKIP
        {'runs': 14, 'epochs': 251, 'seconds': 1409.2}
    """
    return {"runs": _TALLY.runs, "epochs": _TALLY.epochs, "seconds": round(_TALLY.seconds, 1)}


def _policy_name(model: keras.Model) -> str:
    """The dtype policy of the model's layers ("mixed_bfloat16", "float32"), as recorded."""
    names = {getattr(layer.dtype_policy, "name", "float32") for layer in model.layers[1:-1]}
    return names.pop() if len(names) == 1 else "mixed: " + ", ".join(sorted(names))


def evaluate(model: keras.Model, split: Any, *, batch_size: int | None = None) -> dict[str, Any]:
    """Scores a compiled model on a split: loss, accuracy, and how sure that accuracy is.

    The interval is the 95 % Wilson score interval for a proportion (`catdog.stats`): on 192
    photos, 99.0 % means anything from 96.3 % to 99.7 %.

    Args:
        model: a model compiled with `compile_model` (or any with an "accuracy" metric).
        split: a Split-like object or an `(images, labels)` tuple.
        batch_size: None uses `split.batch_size` if there is one, else 32.

    Returns:
        `{"loss", "accuracy", "correct", "count", "interval": [low, high]}`, plain Python
        values, ready for `catdog.results.record`.

    Example:
        >>> evaluate(model, data.test)  # doctest: +SKIP
        {'loss': 0.27, 'accuracy': 0.89, 'correct': 171, 'count': 192, 'interval': [0.84, 0.93]}
    """
    x, y = as_arrays(split, "split")
    scores = model.evaluate(x, y, batch_size=_batch_size(batch_size, split), verbose=0,
                            return_dict=True)
    correct = int(round(float(scores["accuracy"]) * len(y)))
    return {"loss": float(scores["loss"]), **stats.accuracy_record(correct, len(y))}


def correct_mask(model: keras.Model, split: Any, *, batch_size: int | None = None) -> np.ndarray:
    """Per photo, whether the model classifies it right (a bool array), for paired comparisons.

    Example:
        >>> correct_mask(model, data.test).mean()  # doctest: +SKIP
        0.89
    """
    x, y = as_arrays(split, "split")
    logits = model.predict(x, batch_size=_batch_size(batch_size, split), verbose=0)
    return _probabilities(logits).argmax(axis=1) == y


def compare(model_a: Any, model_b: Any, split: Any, *,
            names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """Compares two models on the same photos by their paired predictions (exact McNemar).

    Two accuracies a point apart on a few hundred photos may be noise; what decides is the
    photos where the models disagree. Each model may also be given as its `correct_mask`
    (computed once, reused for several comparisons).

    Args:
        model_a: a compiled model, or a bool array of which photos it gets right.
        model_b: the same for the other model.
        split: the photos both are scored on.
        names: how the result names the two models.

    Returns:
        `catdog.stats.paired_comparison`'s dict: `difference` (a minus b) and its 95 %
        `interval`, `a_only`/`b_only` disagreement counts, `p_value`, `significant`, `better`.

    Example:
        >>> result = compare(fine_tuned, frozen, data.test, names=("fine-tuned", "frozen"))  # doctest: +SKIP
        >>> results.record(finetune_vs_frozen=result)  # doctest: +SKIP
    """
    masks = [m if isinstance(m, np.ndarray) else correct_mask(m, split) for m in (model_a, model_b)]
    return stats.paired_comparison(masks[0], masks[1], names=names)


@dataclasses.dataclass
class SeedRuns:
    """One network trained with several seeds: its models, runs, scores and their spread.

    Attributes:
        name: the network's name.
        seeds: the seeds, in order.
        models: the trained model of each seed.
        runs: the `TrainingRun` of each seed.
        rows: the `summarize` row of each seed.
    """

    name: str
    seeds: list[int]
    models: list[keras.Model]
    runs: list[TrainingRun]
    rows: list[dict[str, Any]]

    def summary(self) -> dict[str, Any]:
        """Mean and spread of validation and test accuracy over seeds, and the time per seed.

        Example:
            >>> fit_seeds("cnn", build, data, seeds=[0, 1, 2], epochs=10).summary()["test"]["mean"]  # doctest: +SKIP
            0.64
        """
        return {"name": self.name, "seeds": list(self.seeds),
                "validation": stats.seed_spread([r["val_accuracy"] for r in self.rows]),
                "test": stats.seed_spread([r["test_accuracy"] for r in self.rows]),
                "seconds_per_run": round(float(np.mean([r.train_seconds for r in self.runs])), 1),
                "seconds_per_epoch": round(float(np.median([r["seconds_per_epoch"]
                                                            for r in self.rows])), 2),
                "parameters": self.rows[0]["parameters"]}


def fit_seeds(name: str, build: Callable[[], keras.Model], splits: Any, *,
              seeds: Sequence[int], epochs: int, **fit_kwargs: Any) -> SeedRuns:
    """Trains the same network once per seed, so a claim can rest on more than one draw.

    For each seed: `set_seed(seed)`, `build()` (so initial weights, augmentation and data order
    all follow the seed), `fit`, then `summarize` on `splits.validation` and `splits.test`.

    Args:
        name: the network's name in rows and summaries.
        build: a function of no arguments returning a model (compiled or not).
        splits: a `catdog.data.Splits` (train, validation, test).
        seeds: the seeds, at least one (a quick run may use one).
        epochs: epochs per run.
        **fit_kwargs: passed on to `fit` (e.g. `early_stopping_patience`, `verbose`).

    Returns:
        A `SeedRuns`; `.summary()` gives mean and spread.

    Example:
        >>> runs = fit_seeds("pooling", lambda: make_small_cnn(num_classes=6), splits,
        ...                  seeds=[0, 1, 2], epochs=12)  # doctest: +SKIP
        >>> runs.summary()["test"]  # doctest: +SKIP
        {'mean': 0.66, 'std': 0.01, 'min': 0.65, 'max': 0.67, 'values': [...], 'seeds': 3}
    """
    seeds = [int(seed) for seed in seeds]
    if not seeds:
        raise ValueError("`seeds` must list at least one seed. Received: seeds=[]. "
                         "Pass e.g. seeds=[0, 1, 2].")
    models, runs, rows = [], [], []
    for seed in seeds:
        set_seed(seed)
        model = build()
        run = fit(model, splits.train, splits.validation, epochs=epochs, **fit_kwargs)
        models.append(model)
        runs.append(run)
        rows.append(summarize(f"{name} (seed {seed})", model, run, splits.validation, splits.test))
    return SeedRuns(name, seeds, models, runs, rows)


class Predictions:
    """Predicted classes of a set of images: rows of file, class, probabilities.

    Iterate it for the rows (dicts), write it with `to_csv` (seed 002's submission file),
    or show it in a notebook (it renders as an HTML table). Columns: `file`, `predicted`
    (the class name), `probability` (of the predicted class) and `p_<class>` for each class.

    Attributes:
        files: the image names, one per row.
        class_names: the class names, by index.
        probabilities: float array (N, num_classes).
        predicted: int array (N,) of predicted class indices.
    """

    def __init__(self, files: Sequence[str], class_names: Sequence[str], probabilities: np.ndarray):
        self.files = [str(f) for f in files]
        self.class_names = [str(c) for c in class_names]
        self.probabilities = np.asarray(probabilities, dtype=np.float64)
        self.predicted = self.probabilities.argmax(axis=1)

    @property
    def columns(self) -> list[str]:
        return ["file", "predicted", "probability", *[f"p_{c}" for c in self.class_names]]

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [self._row(i) for i in range(len(self))]

    def _row(self, i: int) -> dict[str, Any]:
        p = self.probabilities[i]
        row = {"file": self.files[i], "predicted": self.class_names[self.predicted[i]],
               "probability": round(float(p.max()), 6)}
        row.update({f"p_{c}": round(float(v), 6) for c, v in zip(self.class_names, p)})
        return row

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self._row(range(len(self))[i])

    def to_csv(self, path: str | os.PathLike) -> str:
        """Writes the rows as CSV with a header line and returns the path.

        Example:
            >>> predict(model, images, files, ["cat", "dog"]).to_csv("results.csv")  # doctest: +SKIP
            'results.csv'
        """
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns)
            writer.writeheader()
            writer.writerows(self.rows)
        return os.fspath(path)

    def _repr_html_(self, max_rows: int = 20) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values())
                       + "</tr>" for row in self.rows[:max_rows])
        more = f"<p>{len(self) - max_rows} more rows</p>" if len(self) > max_rows else ""
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"

    def __repr__(self) -> str:
        return f"Predictions({len(self)} rows, classes={self.class_names})"


def predict(
    model: keras.Model,
    images: Any,
    files: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    *,
    batch_size: int = 32,
) -> Predictions:
    """Predicts the class of each image, with its probability.

    Logits become probabilities here: sigmoid for a one-logit (two-class) model, softmax
    otherwise.

    Args:
        model: a model from `catdog.models` (it ends in logits).
        images: uint8 array (N, H, W, 3), or a Split-like object whose `files` and
            `class_names` fill in the next two arguments when they are None.
        files: a name per image; None numbers them "0", "1", ...
        class_names: a name per class; None numbers them.
        batch_size: the prediction batch size.

    Returns:
        A `Predictions` table.

    Example:
        >>> predict(model, data.test).to_csv("results.csv")  # doctest: +SKIP
    """
    if hasattr(images, "images"):
        files = files if files is not None else getattr(images, "files", None)
        class_names = class_names if class_names is not None else getattr(images, "class_names", None)
        images = images.images
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"`images` must be an array (N, height, width, channels). "
                         f"Received: images with shape {images.shape}")
    files = list(files) if files is not None else [str(i) for i in range(len(images))]
    if len(files) != len(images):
        raise ValueError(f"`files` must have one name per image ({len(images)}). "
                         f"Received: {len(files)} files")
    probabilities = _probabilities(model.predict(images, batch_size=batch_size, verbose=0))
    class_names = list(class_names) if class_names is not None else [
        str(i) for i in range(probabilities.shape[1])]
    if len(class_names) != probabilities.shape[1]:
        raise ValueError(f"`class_names` must have {probabilities.shape[1]} names for this model. "
                         f"Received: class_names={class_names!r}")
    return Predictions(files, class_names, probabilities)


def device_summary() -> str:
    """Says in words where Keras computes: the accelerator(s) or CPU cores, and the backend.

    Example:
        >>> device_summary()  # doctest: +SKIP
        'CPU (2 cores, TensorFlow)'
    """
    backend = _BACKEND_NAMES.get(keras.backend.backend(), keras.backend.backend())
    gpus = _devices("gpu")
    if gpus:
        names = _gpu_names() or ["GPU"]
        count = f"{len(gpus)}x " if len(gpus) > 1 else ""
        return f"{count}{names[0]} ({backend})"
    return f"CPU ({_cpu_cores()} cores, {backend})"


@dataclasses.dataclass
class TuningResult:
    """What `tune` found: one row per trial (best first), the best model and its values."""

    rows: list[dict[str, Any]]
    best_model: keras.Model
    best_hyperparameters: dict[str, Any]

    def _repr_html_(self) -> str:
        keys = sorted({k for row in self.rows for k in row["hyperparameters"]})
        head = "".join(f"<th>{html.escape(k)}</th>" for k in ["trial", *keys, "val_accuracy"])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_value_text(v))}</td>" for v in
                             [row["trial"], *[row["hyperparameters"].get(k) for k in keys]])
            + f"<td>{stats.percent_text(row['val_accuracy'])}</td></tr>" for row in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def tune(
    build: Callable[..., keras.Model],
    train: Any,
    validation: Any,
    *,
    space: Mapping[str, Sequence[Any]] | None = None,
    max_trials: int = 10,
    epochs: int = 5,
    directory: str | os.PathLike,
    seed: int = 0,
    batch_size: int | None = None,
    project_name: str = "tune",
) -> TuningResult:
    """Random search over hyperparameters with `keras_tuner.RandomSearch` (seed 004).

    Two ways to say what to search:

    - `build(hp)` returns a model from a `keras_tuner.HyperParameters` (compiled or not);
    - `build` is a builder such as `make_small_cnn` and `space` maps its keyword arguments
      (and "learning_rate", used by `compile_model`) to the values to try, e.g.
      `{"dense_units": [64, 128], "filters": [(32, 32), (64, 64)], "learning_rate": [1e-3, 1e-4]}`.
      Other arguments can be bound with `functools.partial`.

    Args:
        build: the hypermodel function, or a builder used with `space`.
        train: a Split-like object or an `(images, labels)` tuple.
        validation: the same kinds; trials are ranked by `val_accuracy`.
        space: keyword argument -> choices, or None when `build` takes `hp`.
        max_trials: how many hyperparameter sets to try, >= 1.
        epochs: epochs per trial, >= 1.
        directory: where keras-tuner keeps its trials (overwritten).
        seed: seeds the search and every trial's training.
        batch_size: None uses `train.batch_size` if there is one, else 32.
        project_name: the sub-folder of `directory`.

    Returns:
        A `TuningResult`: rows of trial, hyperparameters, val_accuracy (best first), the
        best model (trained) and its hyperparameters.

    Example:
        >>> result = tune(make_small_cnn, data.train, data.validation, directory="tuner",
        ...               space={"dense_units": [64, 128]}, max_trials=2)  # doctest: +SKIP
        >>> result.rows[0]["val_accuracy"]  # doctest: +SKIP
    """
    import keras_tuner  # imports TensorBoard in each trial: keep it off `import catdog.train`

    for arg, value in {"max_trials": max_trials, "epochs": epochs}.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"`{arg}` must be an int >= 1. Received: {arg}={value!r}")
    hypermodel = _hypermodel(build, space)
    x, y = as_arrays(train, "train")
    validation_data = as_arrays(validation, "validation")
    set_seed(seed)
    tuner = keras_tuner.RandomSearch(hypermodel, objective="val_accuracy", max_trials=max_trials,
                                     seed=seed, directory=os.fspath(directory),
                                     project_name=project_name, overwrite=True)
    start = time.perf_counter()
    tuner.search(x, y, validation_data=validation_data, epochs=epochs,
                 batch_size=_batch_size(batch_size, train), shuffle=True, verbose=0)
    _TALLY.add(epochs * max_trials, time.perf_counter() - start, runs=max_trials)
    rows = _trial_rows(tuner, space)
    if not rows:
        raise RuntimeError(f"Every tuner trial failed; see the logs under {directory}.")
    with warnings.catch_warnings():  # the reloaded best model has no optimizer state: expected
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        best_model = tuner.get_best_models(1)[0]
    return TuningResult(rows, best_model, rows[0]["hyperparameters"])


def compare_seeds(a: SeedRuns, b: SeedRuns, split: Any) -> dict[str, Any]:
    """Compares two networks trained with the same seeds, as one test over all seeds.

    Each pair of models (seed i of `a` against seed i of `b`) is compared on the same photos;
    the seeds' disagreements are then pooled into one exact McNemar test
    (`catdog.stats.pooled_comparison`), so three seeds that each lean the same way count
    together, and one lucky seed decides nothing.

    Args:
        a: the first network's `fit_seeds` result.
        b: the second's, with the same number of seeds.
        split: the photos both are scored on.

    Returns:
        `catdog.stats.pooled_comparison`'s dict: `verdict`, `difference` and its `interval`,
        summed `a_only`/`b_only`, `p_value`, and `pairs` (each seed's comparison).

    Example:
        >>> result = compare_seeds(strides, pooling, data.test)  # doctest: +SKIP
        >>> result["verdict"], result["seeds"]  # doctest: +SKIP
        ('worse', 3)
    """
    if len(a.models) != len(b.models):
        raise ValueError(f"`a` and `b` must be trained with as many seeds. "
                         f"Received: {len(a.models)} and {len(b.models)} seeds.")
    pairs = [compare(ma, mb, split, names=(a.name, b.name)) for ma, mb in zip(a.models, b.models)]
    return stats.pooled_comparison(pairs)


def compare_speed(a: Any, b: Any, *, names: tuple[str, str] | None = None) -> dict[str, Any]:
    """Compares the steady epoch times of two trainings in this run (`TrainingRun`s or `SeedRuns`).

    Every epoch but each run's first counts as one measurement; see
    `catdog.stats.timing_comparison` for when one is called faster.

    Example:
        >>> compare_speed(strided, pooled)["verdict"]  # doctest: +SKIP
        'faster'
    """
    names = names or (getattr(a, "name", "a"), getattr(b, "name", "b"))
    return stats.timing_comparison(_steady_times(a), _steady_times(b), names=names)


def _steady_times(trained: Any) -> list[float]:
    runs = trained.runs if isinstance(trained, SeedRuns) else [trained]
    return [seconds for run in runs for seconds in run.steady_seconds]


# --- helpers -------------------------------------------------------------------------------


def summarize(name: str, model: keras.Model, run: TrainingRun, validation: Any,
              test: Any) -> dict[str, Any]:
    """One row of a model comparison: validation and test scores with intervals, size and time.

    Both scores are computed here on the weights the model ends with (which early stopping
    may have restored to its best epoch), so the row describes the model as it is. Each
    accuracy has its count and 95 % Wilson interval (`val_interval`, `test_interval`), and
    `test_per_class` gives the test accuracy of each class (by `test.class_names` if any).

    Example:
        >>> summarize("model1", model, run, data.validation, data.test)  # doctest: +SKIP
        {'name': 'model1', 'val_accuracy': 0.64, 'val_interval': [0.6, 0.68], ...}
    """
    steady = run.steady_seconds
    sizes = count_params(model)
    return {
        "name": name,
        **_prefixed("val_", evaluate(model, validation)),
        **_prefixed("test_", evaluate(model, test)),
        "test_per_class": per_class_accuracy(model, test),
        "parameters": sizes["total"],
        "trainable_parameters": sizes["trainable"],
        "epochs": run.epochs_run,
        "train_seconds": round(run.train_seconds, 1),
        "seconds_per_epoch": round(float(np.median(steady)), 2),
        "device": run.device,
        "dtype_policy": run.dtype_policy,
    }


def per_class_accuracy(model: keras.Model, split: Any) -> dict[str, float]:
    """The accuracy on each class's photos (recall), by class name, e.g. for six scenes.

    Example:
        >>> per_class_accuracy(model, data.test)  # doctest: +SKIP
        {'buildings': 0.81, 'forest': 0.95, ...}
    """
    x, y = as_arrays(split, "split")
    right = correct_mask(model, split)
    names = list(getattr(split, "class_names", None) or [str(i) for i in range(int(y.max()) + 1)])
    return {name: float(right[y == label].mean()) for label, name in enumerate(names)
            if (y == label).any()}


def _value_text(value: Any) -> str:
    """A hyperparameter as a reader wants it: 0.0003 -> "0.0003", (32, 64) -> "32-64"."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (tuple, list)):
        return "-".join(map(str, value))
    return str(value)


def _prefixed(prefix: str, score: Mapping[str, Any]) -> dict[str, Any]:
    """`evaluate`'s keys with a prefix: accuracy -> val_accuracy, loss -> val_loss, ..."""
    return {f"{prefix}{key}": value for key, value in score.items() if key != "correct"}


class ComparisonTable(list):
    """Rows from `summarize`, shown in a notebook as an HTML table, accuracies with intervals."""

    COLUMNS = ("name", "val_accuracy", "test_accuracy", "parameters", "seconds_per_epoch",
               "train_seconds")

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in self.COLUMNS)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell_text(row, c))}</td>"
                             for c in self.COLUMNS) + "</tr>" for row in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell_text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if column.endswith("_accuracy") and value is not None:
        return stats.accuracy_text(row, prefix=column[: -len("accuracy")])
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def comparison_table(rows: Sequence[Mapping[str, Any]]) -> ComparisonTable:
    """The rows of `summarize` as a table a notebook shows as HTML.

    Example:
        >>> comparison_table([summarize("model1", model, run, data.test)])  # doctest: +SKIP
    """
    return ComparisonTable(dict(row) for row in rows)


def as_arrays(data: Any, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Returns `(images, labels)` NumPy arrays from a Split-like object or a pair.

    Example:
        >>> x, y = as_arrays((np.zeros((2, 8, 8, 3), "uint8"), np.array([0, 1])))
        >>> x.shape, y.dtype
        ((2, 8, 8, 3), dtype('int32'))
    """
    if hasattr(data, "images") and hasattr(data, "labels"):
        x, y = data.images, data.labels
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    else:
        raise ValueError(f"`{name}` must be a Split (with .images and .labels) or an "
                         f"(images, labels) tuple. Received: {name} of type {type(data).__name__}")
    x, y = np.asarray(x), np.asarray(y).astype("int32")
    if x.ndim != 4 or y.ndim != 1 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"`{name}` must hold images (N, height, width, channels) and labels (N,), "
                         f"N >= 1. Received: images {x.shape}, labels {y.shape}")
    return x, y


def _batch_size(batch_size: int | None, data: Any) -> int:
    if batch_size is None:
        batch_size = getattr(data, "batch_size", None) or 32
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be an int >= 1. Received: batch_size={batch_size!r}")
    return batch_size


def _standard_callbacks(
    patience: int | None, checkpoint_path: str | os.PathLike | None, has_validation: bool
) -> list[keras.callbacks.Callback]:
    callbacks: list[keras.callbacks.Callback] = []
    if patience is not None:
        if not isinstance(patience, int) or patience < 0:
            raise ValueError(f"`early_stopping_patience` must be an int >= 0 or None. "
                             f"Received: early_stopping_patience={patience!r}")
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=patience, restore_best_weights=True))
    if checkpoint_path is not None:
        path = os.fspath(checkpoint_path)
        if not path.endswith(CHECKPOINT_SUFFIXES):
            raise ValueError(f"`checkpoint_path` must end with one of {CHECKPOINT_SUFFIXES}. "
                             f"Received: checkpoint_path={path!r}")
        callbacks.append(keras.callbacks.ModelCheckpoint(
            path, monitor="val_loss" if has_validation else "loss", save_best_only=True,
            save_weights_only=path.endswith(".weights.h5")))
    return callbacks


def _training_run(history: dict[str, list[Any]], seconds: float, per_epoch: list[float]) -> TrainingRun:
    history = {k: [float(v) for v in values] for k, values in history.items()}
    monitored = history.get("val_loss") or history["loss"]
    best = int(np.nanargmin(monitored)) + 1 if not all(map(math.isnan, monitored)) else len(monitored)
    return TrainingRun(history=history, epochs_run=len(history["loss"]), train_seconds=seconds,
                       seconds_per_epoch=per_epoch, device=device_summary(), best_epoch=best)


def _probabilities(logits: Any) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape[-1] == 1:
        p = 1 / (1 + np.exp(-logits[:, 0]))
        return np.stack([1 - p, p], axis=1)
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _devices(kind: str) -> list[str]:
    try:
        return list(keras.distribution.list_devices(kind))
    except (RuntimeError, ValueError):  # the backend has no device of that kind
        return []


def _gpu_names() -> list[str]:
    if keras.backend.backend() == "jax":
        import jax

        return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def _cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _hypermodel(build: Callable[..., keras.Model], space: Mapping[str, Sequence[Any]] | None):
    if not callable(build):
        raise ValueError(f"`build` must be callable. Received: build={build!r}")
    if space is None:
        return lambda hp: _compiled(build(hp), 1e-3)
    if not space or any(not isinstance(v, (list, tuple)) or not v for v in space.values()):
        raise ValueError(f"`space` must map argument names to non-empty lists of choices. "
                         f"Received: space={space!r}")

    def hypermodel(hp: Any) -> keras.Model:
        kwargs = {name: _choice(hp, name, choices) for name, choices in space.items()}
        learning_rate = kwargs.pop("learning_rate", 1e-3)
        return _compiled(build(**kwargs), learning_rate)

    return hypermodel


def _choice(hp: Any, name: str, choices: Sequence[Any]) -> Any:
    """keras-tuner choices must be scalars; tuples (e.g. filters) go by their repr."""
    if all(isinstance(c, (int, float, str, bool)) for c in choices):
        return hp.Choice(name, list(choices))
    by_repr = {repr(c): c for c in choices}
    return by_repr[hp.Choice(name, list(by_repr))]


def _compiled(model: keras.Model, learning_rate: float) -> keras.Model:
    return model if getattr(model, "compiled", False) else compile_model(model, learning_rate)


def _decoded(values: Mapping[str, Any], space: Mapping[str, Sequence[Any]] | None) -> dict:
    """Turns the repr-encoded choices of `_choice` (tuples such as filters) back into values."""
    by_repr = {name: {repr(c): c for c in choices} for name, choices in (space or {}).items()}
    return {name: by_repr.get(name, {}).get(value, value) if isinstance(value, str) else value
            for name, value in values.items()}


def _trial_rows(tuner: Any, space: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    rows = []
    for trial in tuner.oracle.trials.values():
        if trial.score is None:
            logger.warning("Tuner trial %s ended %s.", trial.trial_id, trial.status)
            continue
        rows.append({"trial": trial.trial_id,
                     "hyperparameters": _decoded(trial.hyperparameters.values, space),
                     "val_accuracy": float(trial.score)})
    return sorted(rows, key=lambda row: (-row["val_accuracy"], row["trial"]))
