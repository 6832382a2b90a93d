"""The posts' plots: sample images, augmentations, training curves, confusion matrix, predictions.

Every function returns a `matplotlib.figure.Figure` and never calls `plt.show()` or touches
pyplot's global state: figures are made with the Agg-safe `Figure` class, so a script, a test
or a notebook kernel without a display can draw them; elsewhere, `fig.savefig(path)`.

In a notebook a figure is shown when the function is called, as pyplot figures are under the
inline backend, whatever the cell ends with (`plots.training_curves(run);` shows it too), and
never twice: returned as the cell's value, it is already shown. Each figure carries a short
description (`fig.alt`) that goes with the image as its alt text. Photo grids are JPEG (a
tenth of a PNG's bytes); charts are PNG. Sizes and fonts are chosen to stay legible on a phone,
where a page shows a figure about 340 px wide: charts stack their panels, grids have at most
three columns.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

WRONG_COLOR = "tab:red"
RIGHT_COLOR = "black"


FONT_SIZE = 13  # points; at the sizes below, about 9 px on a phone
GRID_COLUMNS = 3


class CatdogFigure(Figure):
    """A matplotlib Figure that shows itself in Jupyter once, as PNG or JPEG, with alt text."""

    alt: str = "A figure"
    photo: bool = False  # a grid of photos: JPEG
    shown: bool = False

    def image_bytes(self) -> tuple[str, bytes]:
        """The figure as the page will show it: (MIME type, bytes)."""
        buffer = io.BytesIO()
        if self.photo:
            self.savefig(buffer, format="jpeg", bbox_inches="tight", facecolor="white",
                         pil_kwargs={"quality": 85, "optimize": True})
            return "image/jpeg", buffer.getvalue()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return "image/png", buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.image_bytes()[1]

    def _ipython_display_(self) -> None:
        """Shows the figure once; a figure already shown displays nothing (no duplicate)."""
        if self.shown:
            return
        from IPython.display import display

        mime, data = self.image_bytes()
        encoded = base64.b64encode(data).decode("ascii")  # notebooks keep images as base64 text
        display({mime: encoded, "text/plain": self.alt}, metadata={mime: {"alt": self.alt}},
                raw=True)
        self.shown = True


def _published(fig: CatdogFigure, alt: str, *, photo: bool = False) -> CatdogFigure:
    """Gives the figure its alt text and shows it now when running in a notebook kernel."""
    fig.alt, fig.photo = alt, photo
    if _in_kernel():
        fig._ipython_display_()
    return fig


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def sample_grid(
    split: Any, per_class: int = 3, *, class_names: Sequence[str] | None = None, seed: int | None = None
) -> Figure:
    """Shows a few images of each class, one row per class (seed 001's first figure).

    Args:
        split: a Split-like object (`.images`, `.labels`, `.class_names`) or an
            `(images, labels)` tuple.
        per_class: images per row, >= 1.
        class_names: row titles; None uses `split.class_names`, else the class indices.
        seed: None takes each class's first images; an int picks them at random.

    Returns:
        A Figure with `num_classes * per_class` axes.

    Example:
        >>> fig = sample_grid(data.train, per_class=3)  # doctest: +SKIP
        >>> fig.savefig("samples.png")  # doctest: +SKIP
    """
    _check_positive("per_class", per_class)
    images, labels = _images_labels(split)
    names = _class_names(class_names, split, int(labels.max()) + 1)
    rng = np.random.default_rng(seed) if seed is not None else None
    fig = CatdogFigure(figsize=(2.2 * per_class, 2.4 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), per_class, squeeze=False)
    for row, name in enumerate(names):
        chosen = np.flatnonzero(labels == row)
        chosen = rng.permutation(chosen) if rng is not None else chosen
        for col, ax in enumerate(axes[row]):
            _show(ax, images[chosen[col]] if col < len(chosen) else None, name)
    alt = (f"{per_class} training photos of each class, one row per class: "
           f"{', '.join(names)}.")
    return _published(fig, alt, photo=True)


def augmented_grid(image: np.ndarray, augmentation: Any, n: int = 9) -> Figure:
    """Shows one image and `n - 1` random augmentations of it (seed 001's flip/rotation plots).

    Args:
        image: one image (H, W, 3), 0-255.
        augmentation: a Keras layer, e.g. `catdog.models.make_augmentation()`.
        n: images in the grid, the original first; >= 2.

    Returns:
        A Figure with `n` axes.

    Example:
        >>> fig = augmented_grid(data.train.images[0], make_augmentation(rotation=0.2))  # doctest: +SKIP
    """
    import keras  # only this plot needs a backend

    if n < 2 or not isinstance(n, int):
        raise ValueError(f"`n` must be an int >= 2. Received: n={n!r}")
    image = np.asarray(image)
    if image.ndim != 3:
        raise ValueError(f"`image` must be one image (height, width, channels). "
                         f"Received: image with shape {image.shape}")
    batch = np.repeat(image[None].astype("float32"), n - 1, axis=0)
    augmented = keras.ops.convert_to_numpy(augmentation(batch, training=True))
    fig, axes = _grid(n, size=2.2)
    _show(axes[0], image, "original")
    for i, ax in enumerate(axes[1:], start=1):
        _show(ax, augmented[i - 1], f"augmented {i}")
    return _published(fig, f"One training photo and {n - 1} random augmentations of it.",
                      photo=True)


def training_curves(history: Any, baseline: float | None = None, *, title: str | None = None) -> Figure:
    """Plots accuracy and loss per epoch, training solid and validation dashed.

    Args:
        history: a `catdog.train.TrainingRun`, a Keras `History` or a dict of lists.
        baseline: an accuracy drawn as a horizontal line (e.g. the majority class share).
        title: the figure's title.

    Returns:
        A Figure with 2 axes: accuracy, then loss.

    Example:
        >>> run = fit(model, data.train, data.validation, epochs=20)  # doctest: +SKIP
        >>> fig = training_curves(run, baseline=0.5)  # doctest: +SKIP
    """
    history = _history_dict(history)
    fig = CatdogFigure(figsize=(6, 7), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, metric in zip(axes, ("accuracy", "loss")):
        for key, style, label in ((metric, "-", "training"), (f"val_{metric}", "--", "validation")):
            if key in history:
                epochs = range(1, len(history[key]) + 1)
                ax.plot(epochs, history[key], style, marker="o", markersize=4, label=label)
        ax.set_ylabel(metric, fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE)
    axes[1].set_xlabel("epoch", fontsize=FONT_SIZE)
    axes[1].xaxis.get_major_locator().set_params(integer=True)
    if baseline is not None:
        axes[0].axhline(baseline, color="gray", linestyle=":", label=f"baseline {baseline:.2f}")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=FONT_SIZE - 1)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 1)
    epochs = len(history["loss"])
    alt = (f"Training curves{f' of {title}' if title else ''} over {epochs} epochs: accuracy "
           f"above, loss below, training solid and validation dashed.")
    return _published(fig, alt)


def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], class_names: Sequence[str], *, normalize: bool = False
) -> Figure:
    """Draws the confusion matrix: true classes in rows, predicted in columns, counts in cells.

    Args:
        y_true: true class indices.
        y_pred: predicted class indices (e.g. `predict(...).predicted`).
        class_names: the class names, by index.
        normalize: show each row as fractions of its true class instead of counts.

    Returns:
        A Figure with 1 axes.

    Example:
        >>> predictions = predict(model, data.test)  # doctest: +SKIP
        >>> fig = confusion_matrix(data.test.labels, predictions.predicted, data.test.class_names)  # doctest: +SKIP
    """
    matrix = confusion_counts(y_true, y_pred, len(class_names))
    shown = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1) if normalize else matrix
    size = 1.6 + 0.75 * len(class_names)
    fig = CatdogFigure(figsize=(size + 0.6, size), layout="constrained")
    ax = fig.subplots()
    ax.imshow(shown, cmap="Blues", vmin=0)
    ticks = range(len(class_names))
    ax.set(xticks=ticks, yticks=ticks)
    ax.set_xlabel("predicted", fontsize=FONT_SIZE)
    ax.set_ylabel("true", fontsize=FONT_SIZE)
    ax.set_xticklabels(class_names, rotation=45, ha="right", fontsize=FONT_SIZE)
    ax.set_yticklabels(class_names, fontsize=FONT_SIZE)
    threshold = shown.max() / 2 if shown.max() > 0 else 1
    for (i, j), value in np.ndenumerate(shown):
        text = f"{value:.2f}" if normalize else str(int(value))
        ax.text(j, i, text, ha="center", va="center", fontsize=FONT_SIZE,
                color="white" if value > threshold else "black")
    right = int(np.trace(matrix))
    alt = (f"Confusion matrix of {len(class_names)} classes ({', '.join(class_names)}), true "
           f"classes in rows and predicted in columns: {right} of {int(matrix.sum())} on the "
           f"diagonal.")
    return _published(fig, alt)


def confusion_counts(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    """Counts (true, predicted) pairs into a (num_classes, num_classes) int array.

    Example:
        >>> confusion_counts([0, 1, 1], [0, 0, 1], 2).tolist()
        [[1, 0], [1, 1]]
    """
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"`y_true` and `y_pred` must be 1-D and the same length. "
                         f"Received: y_true {y_true.shape}, y_pred {y_pred.shape}")
    if len(y_true) and max(y_true.max(), y_pred.max()) >= num_classes:
        raise ValueError(f"`class_names` must name every class in the labels (0..{num_classes - 1}). "
                         f"Received: label {max(y_true.max(), y_pred.max())}")
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def prediction_grid(
    images: np.ndarray,
    predicted: Sequence[int],
    class_names: Sequence[str],
    true: Sequence[int] | None = None,
    n: int = 25,
) -> Figure:
    """Shows images titled with their predicted class; wrong predictions in red.

    Args:
        images: uint8 array (N, H, W, 3).
        predicted: predicted class indices (e.g. `predict(...).predicted`).
        class_names: the class names, by index.
        true: true class indices; when given, wrong titles say "pred (true)" in red.
        n: how many of the first images to show, >= 1.

    Returns:
        A Figure with `min(n, N)` axes.

    Example:
        >>> fig = prediction_grid(data.test.images, predictions.predicted,
        ...                       data.test.class_names, true=data.test.labels)  # doctest: +SKIP
    """
    _check_positive("n", n)
    images, predicted = np.asarray(images), np.asarray(predicted, dtype=int)
    if len(predicted) != len(images) or (true is not None and len(true) != len(images)):
        raise ValueError(f"`predicted` (and `true`) must have one entry per image ({len(images)}). "
                         f"Received: {len(predicted)} predicted, "
                         f"{'no' if true is None else len(true)} true")
    count = min(n, len(images))
    fig, axes = _grid(count, size=2.0)
    for i, ax in enumerate(axes):
        title = class_names[predicted[i]]
        wrong = true is not None and int(true[i]) != predicted[i]
        if wrong:
            title = f"{title} ({class_names[int(true[i])]})"
        _show(ax, images[i], title, color=WRONG_COLOR if wrong else RIGHT_COLOR)
    wrong_count = 0 if true is None else int(np.sum(np.asarray(true[:count]) != predicted[:count]))
    alt = (f"{count} photos titled with the predicted class"
           + (f"; {wrong_count} wrong, in red, with the true class in brackets." if true is not None
              else "."))
    return _published(fig, alt, photo=True)


def most_confused(
    images: np.ndarray,
    y_true: Sequence[int],
    y_pred: Sequence[int],
    class_names: Sequence[str],
    n: int = 12,
) -> Figure:
    """Shows the wrong predictions of the most often confused pairs of classes, worst pair first.

    With six scenes, a few pairs (buildings and street, glacier and mountain) make most of the
    mistakes; this grid shows those photos, each titled "true → predicted".

    Args:
        images: uint8 array (N, H, W, 3).
        y_true: true class indices.
        y_pred: predicted class indices.
        class_names: the class names, by index.
        n: how many photos to show at most, >= 1.

    Returns:
        A Figure with up to `n` axes (one axes saying "no mistakes" if there are none).

    Example:
        >>> fig = most_confused(data.test.images, data.test.labels, predictions.predicted,
        ...                     data.test.class_names)  # doctest: +SKIP
    """
    _check_positive("n", n)
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    matrix = confusion_counts(y_true, y_pred, len(class_names))
    np.fill_diagonal(matrix, 0)
    pairs = sorted(zip(*np.nonzero(matrix)), key=lambda pair: (-matrix[pair], pair))
    chosen = [i for t, p in pairs for i in np.flatnonzero((y_true == t) & (y_pred == p))][:n]
    if not chosen:
        fig, axes = _grid(1, size=2.4)
        _show(axes[0], None, "no mistakes")
        return _published(fig, "No photo was classified wrong.")
    fig, axes = _grid(len(chosen), size=2.2)
    for ax, i in zip(axes, chosen):
        _show(ax, images[i], f"{class_names[y_true[i]]} → {class_names[y_pred[i]]}",
              color=WRONG_COLOR)
    worst = f"{class_names[pairs[0][0]]} taken for {class_names[pairs[0][1]]}"
    return _published(fig, f"{len(chosen)} misclassified photos of the most confused pairs, "
                           f"titled true → predicted; the most common mistake: {worst}.",
                      photo=True)


# --- helpers -------------------------------------------------------------------------------


def _grid(count: int, size: float) -> tuple[Figure, list[Any]]:
    """A near-square grid with exactly `count` axes (the unused cells removed)."""
    cols = min(GRID_COLUMNS, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    fig = CatdogFigure(figsize=(size * cols, (size + 0.3) * rows), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[count:]:
        ax.remove()
    return fig, axes[:count]


def _show(ax: Any, image: np.ndarray | None, title: str, color: str = RIGHT_COLOR) -> None:
    if image is not None:
        ax.imshow(np.clip(np.asarray(image, dtype="float32"), 0, 255).astype("uint8"))
    ax.set_title(title, color=color, fontsize=FONT_SIZE)
    ax.axis("off")


def _images_labels(split: Any) -> tuple[np.ndarray, np.ndarray]:
    if hasattr(split, "images") and hasattr(split, "labels"):
        return np.asarray(split.images), np.asarray(split.labels, dtype=int)
    if isinstance(split, (tuple, list)) and len(split) == 2:
        return np.asarray(split[0]), np.asarray(split[1], dtype=int)
    raise ValueError(f"`split` must be a Split (with .images and .labels) or an (images, labels) "
                     f"tuple. Received: split of type {type(split).__name__}")


def _class_names(names: Sequence[str] | None, split: Any, count: int) -> list[str]:
    names = names if names is not None else getattr(split, "class_names", None)
    names = list(names) if names is not None else [str(i) for i in range(count)]
    if len(names) < count:
        raise ValueError(f"`class_names` must name all {count} classes. Received: class_names={names!r}")
    return names


def _history_dict(history: Any) -> dict[str, list[float]]:
    history = getattr(history, "history", history)  # TrainingRun or keras History
    if not isinstance(history, Mapping) or "loss" not in history:
        raise ValueError(f"`history` must be a TrainingRun, a Keras History or a dict with a 'loss' "
                         f"list. Received: history of type {type(history).__name__}")
    return {key: list(values) for key, values in history.items()}


def _check_positive(arg: str, value: Any) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"`{arg}` must be an int >= 1. Received: {arg}={value!r}")
