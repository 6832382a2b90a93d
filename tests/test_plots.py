"""Tests for catdog.plots: each plot returns a Figure with the expected axes, without pyplot."""

import types

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from catdog import plots


def tiny_split(n=12, num_classes=2):
    rng = np.random.default_rng(0)
    return types.SimpleNamespace(
        images=rng.integers(0, 256, (n, 16, 16, 3)).astype("uint8"),
        labels=np.arange(n) % num_classes, class_names=[f"class {i}" for i in range(num_classes)])


@pytest.fixture(autouse=True)
def no_pyplot_show(monkeypatch):
    """Fails any test whose plot calls plt.show() or leaves a pyplot figure open."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() called"))
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


@pytest.mark.parametrize("num_classes, per_class", [(2, 3), (6, 2)], ids=["two-classes", "six-classes"])
def test_sample_grid_has_one_row_per_class(num_classes, per_class):
    fig = plots.sample_grid(tiny_split(24, num_classes), per_class=per_class)
    assert isinstance(fig, Figure) and len(fig.axes) == num_classes * per_class
    assert fig.axes[0].get_title() == "class 0"
    assert fig.axes[per_class].get_title() == "class 1"


def test_sample_grid_accepts_a_tuple_and_leaves_missing_images_blank():
    split = tiny_split(4)
    fig = plots.sample_grid((split.images, split.labels), per_class=3, seed=1)
    assert len(fig.axes) == 6 and fig.axes[0].get_title() == "0"
    assert len(fig.axes[2].images) == 0 and len(fig.axes[1].images) == 1


def test_augmented_grid_shows_the_original_then_n_minus_one_augmentations():
    pytest.importorskip("keras", reason="needs keras: `pip install -r requirements.lock -e \".[test]\"`")
    from catdog.models import make_augmentation

    fig = plots.augmented_grid(tiny_split().images[0], make_augmentation(rotation=0.2), n=5)
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes[:2]] == ["original", "augmented 1"]


def test_training_curves_draw_accuracy_and_loss_with_dashed_validation_and_baseline():
    history = {"loss": [0.7, 0.5, 0.4], "accuracy": [0.5, 0.7, 0.8],
               "val_loss": [0.6, 0.55, 0.5], "val_accuracy": [0.6, 0.7, 0.75]}
    run = types.SimpleNamespace(history=history)  # a TrainingRun or a Keras History
    fig = plots.training_curves(run, baseline=0.5, title="model1")
    accuracy, loss = fig.axes
    assert [ax.get_ylabel() for ax in fig.axes] == ["accuracy", "loss"]  # stacked: legible on a phone
    styles = [line.get_linestyle() for line in accuracy.get_lines()]
    assert styles == ["-", "--", ":"]  # training, validation, baseline
    assert list(accuracy.get_lines()[0].get_xdata()) == [1, 2, 3]


def test_training_curves_without_validation_take_a_plain_dict():
    fig = plots.training_curves({"loss": [1.0, 0.5], "accuracy": [0.5, 0.6]})
    assert len(fig.axes) == 2 and len(fig.axes[1].get_lines()) == 1


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    assert plots.confusion_counts([0, 0, 1, 2], [0, 1, 1, 2], 3).tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    fig = plots.confusion_matrix([0, 0, 1, 2], [0, 1, 1, 2], ["a", "b", "c"])
    assert len(fig.axes) == 1
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0"] * 5 + ["1"] * 4
    normalized = plots.confusion_matrix([0, 0, 1], [0, 1, 1], ["a", "b"], normalize=True)
    assert "0.50" in [t.get_text() for t in normalized.axes[0].texts]


def test_prediction_grid_marks_wrong_predictions_in_red():
    split = tiny_split(6)
    predicted = np.array([0, 1, 1, 1, 0, 0])  # labels are 0 1 0 1 0 1: #2 and #5 wrong
    fig = plots.prediction_grid(split.images, predicted, split.class_names, true=split.labels, n=4)
    assert len(fig.axes) == 4
    colors = [matplotlib.colors.to_hex(ax.title.get_color()) for ax in fig.axes]
    red = matplotlib.colors.to_hex(plots.WRONG_COLOR)
    assert [c == red for c in colors] == [False, False, True, False]
    assert fig.axes[2].get_title() == "class 1 (class 0)"
    assert len(plots.prediction_grid(split.images, predicted, split.class_names).axes) == 6


def test_figures_render_as_png_for_notebooks():
    png = plots.confusion_matrix([0, 1, 1], [0, 0, 1], ["cat", "dog"])._repr_png_()
    assert png.startswith(b"\x89PNG")


def test_charts_are_png_and_photo_grids_jpeg_each_with_alt_text():
    chart = plots.confusion_matrix([0, 1, 1], [0, 0, 1], ["cat", "dog"])
    assert chart.image_bytes()[0] == "image/png"
    assert chart.alt.startswith("Confusion matrix of 2 classes (cat, dog)")
    assert "2 of 3 on the diagonal" in chart.alt
    grid = plots.sample_grid(tiny_split(6), per_class=2)
    mime, data = grid.image_bytes()
    assert mime == "image/jpeg" and data.startswith(b"\xff\xd8")
    assert grid.alt == "2 training photos of each class, one row per class: class 0, class 1."


FIGURE_CELLS = [
    "from catdog import plots",
    "plots.confusion_matrix([0, 1, 1], [0, 0, 1], ['cat', 'dog']);",  # the matplotlib habit
    "fig = plots.confusion_matrix([0, 1, 1], [0, 0, 1], ['cat', 'dog'])",  # kept for later
    "plots.confusion_matrix([0, 1, 1], [0, 0, 1], ['cat', 'dog'])",  # the cell's value
    "fig",  # shown already: not again
]


@pytest.mark.slow
def test_a_figure_reaches_the_notebook_once_however_the_cell_ends():
    import nbclient
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in FIGURE_CELLS])
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120).execute()
    images = [[o for o in cell.outputs if "image/png" in o.get("data", {})]
              for cell in notebook.cells[1:]]
    assert [len(shown) for shown in images] == [1, 1, 1, 0]
    assert all(o.metadata["image/png"]["alt"].startswith("Confusion matrix") for o in images[0])


@pytest.mark.parametrize(
    "call, message",
    [(lambda: plots.sample_grid(tiny_split(), per_class=0), "Received: per_class=0"),
     (lambda: plots.sample_grid(np.zeros((2, 4, 4, 3))), "Received: split of type ndarray"),
     (lambda: plots.sample_grid(tiny_split(), class_names=["a"]), "Received: class_names="),
     (lambda: plots.augmented_grid(np.zeros((4, 4, 3)), None, n=1), "Received: n=1"),
     (lambda: plots.augmented_grid(np.zeros((4, 4)), None), r"Received: image with shape \(4, 4\)"),
     (lambda: plots.training_curves([0.1]), "Received: history of type list"),
     (lambda: plots.confusion_matrix([0, 1], [0], ["a", "b"]), "Received: y_true"),
     (lambda: plots.confusion_matrix([0, 2], [0, 1], ["a", "b"]), "Received: label 2"),
     (lambda: plots.prediction_grid(np.zeros((2, 4, 4, 3)), [0], ["a"]), "Received: 1 predicted"),
     (lambda: plots.prediction_grid(np.zeros((2, 4, 4, 3)), [0, 0], ["a"], n=0), "Received: n=0")],
    ids=["per_class", "split", "class_names", "n", "image", "history", "lengths", "labels",
         "predicted", "grid-n"])
def test_bad_arguments_raise_value_error_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_most_confused_shows_the_most_frequent_pair_first():
    names = ["buildings", "forest", "glacier", "mountain", "sea", "street"]
    images = np.zeros((8, 8, 8, 3), np.uint8)
    true = [2, 2, 2, 0, 1, 4, 5, 3]
    pred = [3, 3, 2, 5, 1, 4, 5, 2]  # glacier -> mountain twice, buildings -> street once
    fig = plots.most_confused(images, true, pred, names, n=12)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["glacier → mountain", "glacier → mountain", "buildings → street",
                      "mountain → glacier"]


def test_most_confused_without_mistakes_says_so():
    fig = plots.most_confused(np.zeros((2, 8, 8, 3), np.uint8), [0, 1], [0, 1], ["a", "b"])
    assert [ax.get_title() for ax in fig.axes] == ["no mistakes"]
