"""Splits: train, validation and test, each made once, deterministically from `seed`.

By default the test split follows the seed posts' rule without their accident (their
validation set reshuffled every epoch, so their "test" images changed): shuffle validation
once, cut it into batches of `batch_size`, take the first `n_batches // 5` batches as test and
keep the rest as validation. On the cats-vs-dogs photos that is 192 test photos, too few to
tell two good models apart (one photo is half a point), so `test_fraction` holds out a share
of the validation photos instead, e.g. 0.5 for 500.

Example:
    >>> split = Split(np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1, 0, 1], np.int32),
    ...               ["cats", "dogs"], ["a.jpg", "b.jpg", "c.jpg", "d.jpg"], batch_size=2)
    >>> len(shuffled(split, seed=0))
    4
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from catdog.images import Tree


@dataclass(eq=False)  # Compared by identity: `==` on arrays has no single truth value.
class Split:
    """One split of an image data set, decoded once and held in memory.

    Attributes:
        images: uint8 array of shape `(N, height, width, 3)`.
        labels: int32 array of shape `(N,)`, indices into `class_names`.
        class_names: the class of each label index, sorted like the class folders.
        files: the source file of each image, relative to the data set's root.
        batch_size: the batch size the split was made for (and that training should use).

    Example:
        >>> split = Split(np.zeros((3, 8, 8, 3), np.uint8), np.array([0, 1, 1], np.int32),
        ...               ["cats", "dogs"], ["a.jpg", "b.jpg", "c.jpg"], batch_size=2)
        >>> len(split), split.label_counts(), round(split.baseline_accuracy(), 3)
        (3, {'cats': 1, 'dogs': 2}, 0.667)
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    files: list[str]
    batch_size: int

    def __len__(self) -> int:
        """The number of images."""
        return int(self.labels.shape[0])

    def label_counts(self) -> dict[str, int]:
        """How many images each class has, every class listed (zero included).

        Example:
            >>> cats_and_dogs(quick=True).train.label_counts()
            {'cats': 40, 'dogs': 40}
        """
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, counts)}

    def take(self, count: int) -> "Split":
        """The first `count` images, e.g. to ask what half the training photos would give.

        Splits are shuffled once when made, so the first images are a random sample.

        Example:
            >>> len(cats_and_dogs(quick=True).train.take(40))
            40
        """
        if not isinstance(count, (int, np.integer)) or not 1 <= count <= len(self):
            raise ValueError(f"`count` must be an int in [1, {len(self)}]. "
                             f"Received: count={count!r}. Take at most the images there are.")
        return _take(self, np.arange(int(count)))

    def baseline_accuracy(self) -> float:
        """The accuracy of always guessing the most common class: the bar a model must beat.

        The seed posts call it the "baseline" (50 % on the balanced cats and dogs).

        Example:
            >>> cats_and_dogs(quick=True).train.baseline_accuracy()
            0.5
        """
        if len(self) == 0:
            return 0.0
        return max(self.label_counts().values()) / len(self)


@dataclass(eq=False)
class Splits:
    """The train, validation and test splits of one data set.

    Attributes:
        train: the training images.
        validation: the validation images (what is left after the test split).
        test: the test images, held out from validation once and for all.
        class_names: the class of each label index.
        source: a human-readable name of the data source (never a machine path).
        image_size: `(height, width)` of every image.
        train_sources: how many training images came from each source, by name, when the
            training split merges several (`cats_and_dogs(extra=...)`); else empty.

    Example:
        >>> splits = cats_and_dogs(quick=True)
        >>> splits.summary()["data_source"]
        'synthetic (quick run)'
    """

    train: Split
    validation: Split
    test: Split
    class_names: list[str]
    source: str
    image_size: tuple[int, int]
    train_sources: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        """The numbers a post records and shows: source, image counts, classes.

        Example:
            >>> cats_and_dogs(quick=True).summary()["train"]
            80
        """
        sizes = {name: len(getattr(self, name)) for name in ("train", "validation", "test")}
        summary = {"data_source": self.source, "image_count": sum(sizes.values()), **sizes,
                   "classes": list(self.class_names)}
        if self.train_sources:
            summary["train_sources"] = dict(self.train_sources)
        return summary


# --- argument checks -----------------------------------------------------------------


def check_batch_size(batch_size: int) -> None:
    """Raises unless `batch_size` is a positive integer."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}. "
            "Pass e.g. batch_size=32.")


def check_test_fraction(test_fraction: float | None) -> None:
    """Raises unless `test_fraction` is None or strictly between 0 and 1."""
    if test_fraction is not None and not (isinstance(test_fraction, (int, float))
                                          and 0 < test_fraction < 1):
        raise ValueError(
            "`test_fraction` must be None (the seed posts' rule: n_batches // 5 validation "
            "batches) or a fraction strictly between 0 and 1 of the validation photos. "
            f"Received: test_fraction={test_fraction!r}. Pass e.g. test_fraction=0.5.")


def check_validation_split(validation_split: float | None) -> None:
    """Raises unless `validation_split` is None or strictly between 0 and 1."""
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            "`validation_split` must be None or a fraction strictly between 0 and 1. "
            f"Received: validation_split={validation_split!r}. Pass e.g. validation_split=0.2.")


# --- making splits -------------------------------------------------------------------


def to_split(tree: Tree, class_names: list[str], batch_size: int) -> Split:
    """A Split of a tree's images, in the tree's order."""
    return Split(tree.images, tree.labels, list(class_names), list(tree.files), batch_size)


def _take(split: Split, index: np.ndarray) -> Split:
    """The images of `split` at `index`, in that order."""
    return Split(split.images[index], split.labels[index], split.class_names,
                 [split.files[i] for i in index], split.batch_size)


def shuffled(split: Split, seed: int) -> Split:
    """`split` in an order fixed by `seed`."""
    return _take(split, np.random.default_rng(seed).permutation(len(split)))


def _test_count(n: int, batch_size: int) -> int:
    """How many validation images the test split takes: `n_batches // 5` batches.

    Small data still gets a test split: at least one batch when there are two or more.
    """
    n_batches = math.ceil(n / batch_size)
    if n_batches < 2:
        raise ValueError(
            f"Too few validation images to cut a test split from: expected at least two "
            f"batches. Received: {n} images with batch_size={batch_size}. "
            "Use more images or a smaller batch_size.")
    return min(n, max(1, n_batches // 5) * batch_size)


def _split_test(validation: Split, seed: int,
                test_fraction: float | None = None) -> tuple[Split, Split]:
    """Shuffles validation once; its first part becomes the test split.

    The first `n_batches // 5` batches by the seed posts' rule, or `test_fraction` of it.
    """
    mixed = shuffled(validation, seed)
    if test_fraction is None:
        n_test = _test_count(len(mixed), mixed.batch_size)
    else:
        n_test = len(mixed) - _validation_count(len(mixed), 1 - test_fraction)
    order = np.arange(len(mixed))
    return _take(mixed, order[n_test:]), _take(mixed, order[:n_test])


def make_splits(train: Tree, validation: Tree, class_names: list[str], batch_size: int,
                seed: int, source: str, image_size: tuple[int, int],
                 test_fraction: float | None = None) -> Splits:
    """Train shuffled with `seed`; validation and test cut by `_split_test`."""
    train_split = shuffled(to_split(train, class_names, batch_size), seed)
    rest, test = _split_test(to_split(validation, class_names, batch_size), seed + 1,
                             test_fraction)
    return Splits(train_split, rest, test, class_names, source, image_size)


def _validation_count(n: int, fraction: float) -> int:
    """`round(n * fraction)`, or a ValueError if that leaves no images on one side."""
    count = round(n * fraction)
    if not 0 < count < n:
        raise ValueError(
            f"The split leaves no images on one side: {n} images, fraction {fraction!r}. "
            f"Received: validation_split or test_fraction giving {count} of {n}. "
            "Use a fraction nearer 0.2 (or 0.5 for test_fraction), or more images.")
    return count


def split_fraction(everything: Split, validation_split: float, seed: int, source: str,
                   image_size: tuple[int, int]) -> Splits:
    """The last `validation_split` of an already shuffled split is validation (then test)."""
    n_validation = _validation_count(len(everything), validation_split)
    order = np.arange(len(everything))
    train = _take(everything, order[:-n_validation])
    rest, test = _split_test(_take(everything, order[-n_validation:]), seed + 1)
    return Splits(train, rest, test, everything.class_names, source, image_size)


def split_test_first(everything: Split, test_fraction: float, validation_split: float,
                     seed: int, source: str, image_size: tuple[int, int]) -> Splits:
    """The first `test_fraction` of a shuffled split is test; then `validation_split` of the rest."""
    n_test = _validation_count(len(everything), test_fraction)
    order = np.arange(len(everything))
    test, rest = _take(everything, order[:n_test]), _take(everything, order[n_test:])
    n_validation = _validation_count(len(rest), validation_split)
    order = np.arange(len(rest))
    return Splits(_take(rest, order[:-n_validation]), _take(rest, order[-n_validation:]), test,
                  everything.class_names, source, image_size)


def split_train_and_test(train: Tree, test: Tree, class_names: list[str], batch_size: int,
                         validation_split: float, seed: int, source: str,
                         image_size: tuple[int, int]) -> Splits:
    """Train and validation from one shuffled tree, test the other tree whole (seed 004's rule).

    The last `validation_split` of `train`, shuffled with `seed`, is validation; `test` is only
    shuffled (with `seed + 1`), so it is never used to choose anything.
    """
    everything = shuffled(to_split(train, class_names, batch_size), seed)
    n_validation = _validation_count(len(everything), validation_split)
    order = np.arange(len(everything))
    return Splits(_take(everything, order[:-n_validation]),
                  _take(everything, order[-n_validation:]),
                  shuffled(to_split(test, class_names, batch_size), seed + 1),
                  class_names, source, image_size)
