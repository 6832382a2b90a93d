"""Image data for the posts: the cats-vs-dogs photos, the scenes, any folder-per-class tree.

Every loader decodes each image once (PIL, RGB, bilinear resize to `image_size`, like
`keras.utils.image_dataset_from_directory`, which the seed posts used) into a uint8 NumPy
array, and keeps it in an on-disk cache, so a second run never decodes a JPEG again. The
arrays feed `model.fit(x, y)` directly on any Keras backend; this module imports neither
TensorFlow nor JAX (Keras only to download, through `keras.utils.get_file`).

Every split is made once, deterministically from `seed`. By default the test split follows
the seed posts' rule without their accident (their validation set reshuffled every epoch, so
their "test" images changed): shuffle validation once, cut it into batches of `batch_size`,
take the first `n_batches // 5` batches as test and keep the rest as validation. On the
cats-vs-dogs photos that is 192 test photos, too few to tell two good models apart (one photo
is half a point), so `cats_and_dogs(test_fraction=0.5)` holds out half of the validation
photos instead (500).

Every data source read is recorded with `catdog.results.record_data_source`, by content (its
sha256), with its name, its official URL if it has one, and the environment variable that
points catdog at it (`CATDOG_DATA`, `CATDOG_MORE_DATA`, `CATDOG_SCENES`).

Example:
    >>> from catdog import data
    >>> splits = data.cats_and_dogs(quick=True)
    >>> splits.summary()["classes"]
    ['cats', 'dogs']
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import urllib.parse
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from catdog import results

logger = logging.getLogger(__name__)

DATA_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
DATASET_NAME = "cats_and_dogs_filtered"
CLASS_NAMES = ("cats", "dogs")
SCENE_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")
QUICK_SOURCE = "synthetic (quick run)"
DATA_ENV = "CATDOG_DATA"
POST_DIR_ENV = "CATDOG_POST_DIR"  # set by the site builder: the folder of the post's .md file
LAUNCH_DIR_ENV = "CATDOG_LAUNCH_DIR"  # set by the site builder: where build.py was started
_SPLIT_NAMES = {"train", "training", "validation", "val", "valid", "test", "testing",
                "seg_train", "seg_test", "seg_pred"}
MORE_DATA_ENV = "CATDOG_MORE_DATA"
SCENES_ENV = "CATDOG_SCENES"

# Bump when the cached arrays' format or the decoding changes: old entries become misses.
_CACHE_VERSION = 2
_OFFLINE_HINT = (
    "To work offline, pass a local copy, e.g. "
    "cats_and_dogs('/path/to/cats_and_dogs_filtered.zip') (the zip or its extracted folder), "
    "or set CATDOG_DATA=/path/to/cats_and_dogs_filtered.zip; "
    "cats_and_dogs(quick=True) uses small synthetic data instead."
)
_EXPECTED_LAYOUT = "cats_and_dogs_filtered/{train,validation}/{cats,dogs}/*.jpg"


@dataclass(frozen=True)
class _Layout:
    """What a data set looks like on disk, and what to tell a user who has the wrong thing."""

    what: str  # "the cats-vs-dogs data", used in errors
    top: str  # the top folder of the official zip
    folders: tuple[str, ...]  # the folders the data set root holds
    expected: str  # the layout, in words
    hint: str  # how to point catdog at the data


_CATS_AND_DOGS = _Layout("the cats-vs-dogs data", DATASET_NAME, ("train", "validation"),
                         _EXPECTED_LAYOUT, _OFFLINE_HINT)
_MORE_PHOTOS = _Layout(
    "the extra cats-vs-dogs photos", "dogs_vs_cats_more", CLASS_NAMES,
    "dogs_vs_cats_more/{cats,dogs}/*.jpg",
    "Pass a local copy, e.g. cats_and_dogs(extra=['/path/to/dogs_vs_cats_more.zip']) (the zip or "
    "its extracted folder), or set CATDOG_MORE_DATA=/path/to/dogs_vs_cats_more.zip with "
    "extra=[data.MORE_PHOTOS]; quick=True uses small synthetic data instead.")
_SCENES = _Layout(
    "the scene photos", "intel_scenes", ("seg_train", "seg_test"),
    "intel_scenes/{seg_train,seg_test}/<class>/*.jpg",
    "Pass a local copy, e.g. scenes('/path/to/intel_scenes_small.zip') (the zip or its extracted "
    "folder), or set CATDOG_SCENES=/path/to/intel_scenes_small.zip; scenes(quick=True) uses small "
    "synthetic data instead.")


@dataclass(frozen=True)
class EnvSource:
    """A data source named by an environment variable, read when the data is loaded.

    Example:
        >>> cats_and_dogs(extra=[MORE_PHOTOS])  # doctest: +SKIP
    """

    env: str
    layout: _Layout

    def resolve(self) -> str:
        """The variable's value, or a FileNotFoundError saying how to set it."""
        value = os.environ.get(self.env)
        if not value:
            raise FileNotFoundError(
                f"{self.layout.what.capitalize()}: not found. Expected ${self.env} to name a "
                f"zip or folder of {self.layout.expected}. Received: {self.env} unset. "
                f"{self.layout.hint}")
        return value


# The 5,000 further Kaggle photos (ids 10000-12499 of each class), from $CATDOG_MORE_DATA.
MORE_PHOTOS = EnvSource(MORE_DATA_ENV, _MORE_PHOTOS)


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


@dataclass
class _Tree:
    """What reading one folder gives: the decoded images, their files, the unreadable files."""

    images: np.ndarray
    labels: np.ndarray
    files: list[str]
    skipped: list[str]


# ---------------------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------------------


def cats_and_dogs(
    source: str | os.PathLike | None = None,
    *,
    extra: Sequence[str | os.PathLike | EnvSource] = (),
    image_size: tuple[int, int] = (160, 160),
    batch_size: int = 32,
    seed: int = 0,
    test_fraction: float | None = None,
    quick: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Splits:
    """Loads the cats-vs-dogs photos of the seed posts as train, validation and test splits.

    The source is, in this order: the `source` argument, the `CATDOG_DATA` environment
    variable, or a download of `DATA_URL` into the Keras cache. A source is a local
    `cats_and_dogs_filtered.zip` (extracted once into the cache), its extracted folder (or
    the folder holding it), or a URL (`https://...`, `file://...`).

    `extra` adds more training photos: each entry is a zip or folder of `cats/` and `dogs/`
    folders (at its root or one folder down, e.g. `dogs_vs_cats_more/{cats,dogs}/*.jpg`), or
    `MORE_PHOTOS` for the one named by `$CATDOG_MORE_DATA`. Validation and test still come
    from the tutorial's validation photos only, so scores stay comparable; every source is
    recorded by content, and `splits.train_sources` counts the photos from each.

    Args:
        source: where the data is; see above.
        extra: further training sources; see above.
        image_size: `(height, width)` every image is resized to.
        batch_size: the batch size; the seed rule's test split is `n_batches // 5` batches.
        seed: fixes the shuffles, so the same seed gives the same splits.
        test_fraction: None keeps the seed posts' rule (192 of the 1,000 validation photos);
            a fraction in (0, 1) holds out that share of the validation photos as the test
            split instead, e.g. 0.5 for 500 test photos, enough to compare two good models.
        quick: if True, ignore the sources and use small synthetic data (for quick runs);
            each `extra` entry then adds synthetic photos too.
        cache_dir: where decoded arrays and extracted zips are kept; defaults to
            `$KERAS_HOME/catdog_cache` (`~/.keras/catdog_cache`).

    Returns:
        The splits, images as uint8 arrays of shape `(N, height, width, 3)`, labels 0 for
        cats and 1 for dogs.

    Example:
        >>> splits = cats_and_dogs("../shared/data/cats_and_dogs_filtered.zip")
        >>> len(splits.train), len(splits.validation), len(splits.test)
        (2000, 808, 192)
        >>> splits = cats_and_dogs(extra=[MORE_PHOTOS], test_fraction=0.5)
        >>> splits.train_sources
        {'cats_and_dogs_filtered.zip': 2000, 'dogs_vs_cats_more.zip': 5000}
    """
    image_size = _check_image_size(image_size)
    _check_batch_size(batch_size)
    _check_test_fraction(test_fraction)
    cache = _cache_root(cache_dir)
    if quick:
        root, name, info = _quick_source(cache, seed)
    else:
        root, name, info = _locate_dataset(_resolve_source(source), cache, _CATS_AND_DOGS)
        info.url, info.env = DATA_URL, DATA_ENV
    train = _read_tree(root / "train", image_size, cache, CLASS_NAMES, prefix="train/")
    validation = _read_tree(root / "validation", image_size, cache, CLASS_NAMES,
                            prefix="validation/")
    _warn_skipped(train.skipped + validation.skipped)
    _record_source(info, [train, validation])
    extras = [_read_extra(entry, i, image_size, cache, seed, quick)
              for i, entry in enumerate(extra)]
    splits = _make_splits(_merged([train, *(tree for tree, _ in extras)]), validation,
                          list(CLASS_NAMES), batch_size, seed, name, image_size, test_fraction)
    if extras:
        splits.train_sources = {info.name: len(train.files),
                                **{source_name: len(tree.files) for tree, source_name in extras}}
    logger.info("Loaded %s: %s", name, splits.summary())
    return splits


def scenes(
    source: str | os.PathLike | None = None,
    *,
    image_size: tuple[int, int] = (150, 150),
    batch_size: int = 32,
    validation_split: float = 0.2,
    seed: int = 0,
    quick: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Splits:
    """Loads seed 004's six classes of natural scenes (the Intel Image Classification photos).

    The source is the `source` argument or the `CATDOG_SCENES` environment variable: a zip
    or folder in the collection's own layout, `intel_scenes/{seg_train,seg_test}/<class>/*.jpg`
    (the folder itself, or the one holding it). The collection has no official download URL
    (it is published on Kaggle, behind a login), so a local copy is required.

    `seg_train` is shuffled once and split into train and validation (`validation_split` of
    it); `seg_test` is kept whole as the test split, never used to choose anything.

    Args:
        source: where the data is; see above.
        image_size: `(height, width)` every image is resized to (the photos are 150x150).
        batch_size: the batch size the splits are made for.
        validation_split: the share of `seg_train` held out as validation, in (0, 1).
        seed: fixes the shuffles, so the same seed gives the same splits.
        quick: if True, ignore the source and use small synthetic data of six classes.
        cache_dir: where decoded arrays and extracted zips are kept; defaults to
            `$KERAS_HOME/catdog_cache`.

    Returns:
        The splits; labels index `class_names` (sorted class folder names).

    Example:
        >>> splits = scenes("../shared/data/intel_scenes_small.zip")
        >>> splits.class_names, len(splits.test)
        (['buildings', 'forest', 'glacier', 'mountain', 'sea', 'street'], 900)
    """
    image_size = _check_image_size(image_size)
    _check_batch_size(batch_size)
    _check_validation_split(validation_split)
    cache = _cache_root(cache_dir)
    if quick:
        root, name, info = _quick_scenes(cache, seed)
    else:
        source = source if source is not None else EnvSource(SCENES_ENV, _SCENES).resolve()
        root, name, info = _locate_dataset(source, cache, _SCENES)
        info.env = SCENES_ENV
    class_names = _class_folders(root / "seg_train")
    train = _read_tree(root / "seg_train", image_size, cache, class_names, prefix="seg_train/")
    test = _read_tree(root / "seg_test", image_size, cache, class_names, prefix="seg_test/")
    _warn_skipped(train.skipped + test.skipped)
    _record_source(info, [train, test])
    everything = _shuffled(_to_split(train, class_names, batch_size), seed)
    n_validation = _validation_count(len(everything), validation_split)
    order = np.arange(len(everything))
    return Splits(_take(everything, order[:-n_validation]),
                  _take(everything, order[-n_validation:]),
                  _shuffled(_to_split(test, class_names, batch_size), seed + 1),
                  class_names, name, image_size)


def from_directory(
    path: str | os.PathLike,
    *,
    image_size: tuple[int, int] = (160, 160),
    batch_size: int = 32,
    validation_split: float | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
    quick: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Split | Splits:
    """Loads your own photos: any folder-per-class tree (two classes or more).

    Class names are the subfolder names, sorted; label `i` is `class_names[i]`. A relative
    `path` is found the way you mean it in a post: from the working folder, else from the
    post's folder, else from where `build.py` was started (see `resolve_path`).

    Args:
        path: the folder holding one subfolder per class, e.g. `photos/my_trip` with
            `photos/my_trip/glacier/*.jpg`, `photos/my_trip/sea/*.jpg`, ...
        image_size: `(height, width)` every image is resized to.
        batch_size: the batch size the splits are made for.
        validation_split: if given (between 0 and 1), hold out this fraction as validation
            and cut the test split from it by the seed posts' rule; else return one Split.
        test_fraction: if given (between 0 and 1), first hold out this share of all photos as
            the test split, then `validation_split` (default 0.2) of the rest as validation.
            For a few hundred photos, 0.2 or more gives a test score worth quoting.
        seed: fixes the shuffles, so the same seed gives the same splits.
        quick: if True, skip the photos: tiny synthetic images of the same classes (the
            folder's class names where it exists, else three made-up ones) for a smoke run.
        cache_dir: where decoded arrays are kept; defaults to `$KERAS_HOME/catdog_cache`.

    Returns:
        A `Split` of every image (shuffled with `seed`), or `Splits` with `validation_split`
        or `test_fraction`.

    Example:
        >>> splits = from_directory("../photos/my_trip", image_size=(150, 150), test_fraction=0.2)
        >>> splits.class_names
        ['glacier', 'mountain', 'sea']
    """
    image_size = _check_image_size(image_size)
    _check_batch_size(batch_size)
    _check_validation_split(validation_split)
    _check_test_fraction(test_fraction)
    cache = _cache_root(cache_dir)
    if quick:
        folder, class_names = _quick_own_photos(path, cache, seed)
    else:
        folder = _existing_folder(path, "path")
        class_names = _class_folders(folder)
        _warn_odd_classes(folder, class_names)
    tree = _read_tree(folder, image_size, cache, class_names)
    _warn_skipped(tree.skipped)
    _record_source(_SourceInfo(str(folder), "folder"), [tree])
    everything = _shuffled(_to_split(tree, class_names, batch_size), seed)
    source = f"{Path(path).name} ({'quick synthetic' if quick else 'local'})"
    if test_fraction is not None:
        return _split_test_first(everything, test_fraction, validation_split or 0.2, seed,
                                 source, image_size)
    if validation_split is None:
        return everything
    return _split_fraction(everything, validation_split, seed, source, image_size)


def resolve_path(path: str | os.PathLike) -> Path:
    """Finds a relative path the way a post's author means it.

    A post runs in its own empty working folder, so `"../photos/my_trip"` would otherwise
    point nowhere. Tried in order: the working folder (files the post wrote itself), the
    post's folder (`$CATDOG_POST_DIR`, set by the site builder), and the folder `build.py`
    was started from (`$CATDOG_LAUNCH_DIR`). The first that exists wins; if none does, the
    working folder's path is returned and the caller's error says where it looked
    (`_where_looked`).

    Example:
        >>> resolve_path("/data/photos")
        PosixPath('/data/photos')
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    for base in _search_bases():
        if (base / path).exists():
            return (base / path).resolve()
    return path


def _search_bases() -> list[Path]:
    bases = [Path.cwd()]
    for env in (POST_DIR_ENV, LAUNCH_DIR_ENV):
        if os.environ.get(env):
            bases.append(Path(os.environ[env]))
    return bases


def _where_looked(path: str | os.PathLike) -> str:
    """"looked in /a/x, /b/x": every place `resolve_path` tried, for "not found" messages."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return f"{path} does not exist"
    tried = ", ".join(str((base / path).resolve()) for base in _search_bases())
    return (f"a relative path, looked for in {tried} (the post runs in {Path.cwd()}; relative "
            f"paths are tried from there, from the post's folder and from where build.py was "
            f"started)")


def _warn_odd_classes(folder: Path, class_names: Sequence[str]) -> None:
    """Warns when the class folders look like a mistake in `path` (one folder too high)."""
    split_like = sorted(set(class_names) & _SPLIT_NAMES)
    if split_like:
        logger.warning("Class folders of %s are named like splits (%s): did you mean one of "
                       "them as `path`? Each subfolder of `path` must be one class.",
                       folder, ", ".join(split_like))
    for name in class_names:
        inner = sorted(p.name for p in (folder / name).iterdir()
                       if p.is_dir() and not p.name.startswith("."))
        if inner:
            logger.warning("Class folder %s holds folders (%s): all their photos are read as "
                           "one class, %r. If those folders are the classes, pass `path=%r`.",
                           folder / name, ", ".join(inner[:5]), name, str(folder / name))


def _quick_own_photos(path: str | os.PathLike, cache: Path, seed: int) -> tuple[Path, list[str]]:
    """Synthetic photos of the folder's classes (or three made-up ones) for a quick run."""
    folder = resolve_path(path)
    try:
        classes = _class_folders(folder) if folder.is_dir() else []
    except ValueError:
        classes = []
    classes = classes or ["class a", "class b", "class c"]
    digest = hashlib.sha256("\n".join(classes).encode()).hexdigest()[:12]
    root = cache / "quick" / f"own-{digest}-{seed}"
    _synthetic_once(root, classes, per_class=24, splits=("",), seed=seed)  # classes at the root
    return root, classes


def unlabeled(
    path: str | os.PathLike, *, image_size: tuple[int, int] = (160, 160)
) -> tuple[np.ndarray, list[str]]:
    """Loads a folder of images without labels, to predict on (seed 002's test folder).

    Subfolders are searched too; files are in natural order ("2.jpg" before "10.jpg").

    Args:
        path: the folder of images.
        image_size: `(height, width)` every image is resized to.

    Returns:
        The uint8 images, shape `(N, height, width, 3)`, and their paths relative to `path`.

    Example:
        >>> images, files = unlabeled("dogs-vs-cats/test", image_size=(150, 150))
        >>> probabilities = model.predict(images)
    """
    image_size = _check_image_size(image_size)
    folder = _existing_folder(path, "path")
    paths = sorted(results.data_files(folder), key=_natural_key)
    if not paths:
        raise FileNotFoundError(
            f"No images found in `path`: expected a folder of image files (subfolders are "
            f"searched too). Received: path={str(path)!r}. Put the images to predict there.")
    cache = _cache_root(None)
    tree = _read_files(folder, paths, np.zeros(len(paths), np.int32), image_size, cache)
    _warn_skipped(tree.skipped)
    _record_source(_SourceInfo(str(folder), "folder"), [tree])
    return tree.images, tree.files


def _natural_key(path: Path) -> list[Any]:
    """Sorts "2.jpg" before "10.jpg": numbers in names compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def synthetic(
    path: str | os.PathLike,
    classes: Sequence[str] = CLASS_NAMES,
    per_class: int = 40,
    image_size: tuple[int, int] = (64, 64),
    seed: int = 0,
    splits: Sequence[str] = ("train", "validation"),
) -> Path:
    """Writes a small, learnable image data set as JPEGs: `path/<split>/<class>/*.jpg`.

    Each class has its own hue and shape (ellipse, rectangle, triangle, ...) drawn at a
    random place on a noisy background, so a small CNN beats the majority baseline by a
    wide margin within two epochs. The same arguments give the same bytes.

    Args:
        path: the root folder to write into (created if missing).
        classes: the class folder names (two or more).
        per_class: images per class in each split.
        image_size: `(height, width)` of the JPEGs.
        seed: fixes every image.
        splits: the split folders to write.

    Returns:
        The root folder, `Path(path)`.

    Example:
        >>> root = synthetic("/tmp/pets", classes=("cats", "dogs", "birds"), per_class=10)
        >>> sorted(p.name for p in (root / "train").iterdir())
        ['birds', 'cats', 'dogs']
    """
    image_size = _check_image_size(image_size)
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(
            f"`classes` must name two or more distinct classes. Received: classes={classes!r}. "
            "Pass e.g. classes=('cats', 'dogs').")
    if per_class < 1:
        raise ValueError(f"`per_class` must be 1 or more. Received: per_class={per_class!r}.")
    root = Path(path)
    for s, split in enumerate(splits):
        for c, name in enumerate(classes):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(per_class):
                rng = np.random.default_rng([seed, s, c, i])
                image = _synthetic_image(rng, c, len(classes), image_size)
                image.save(folder / f"{name}.{i:04d}.jpg", format="JPEG", quality=90)
    return root


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------


def _check_image_size(image_size) -> tuple[int, int]:
    """Returns `image_size` as a `(height, width)` tuple of positive ints, or raises."""
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        height = width = 0
    if height < 1 or width < 1:
        raise ValueError(
            "`image_size` must be (height, width), two positive integers. "
            f"Received: image_size={image_size!r}. Pass e.g. image_size=(160, 160).")
    return height, width


def _check_batch_size(batch_size: int) -> None:
    """Raises unless `batch_size` is a positive integer."""
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}. "
            "Pass e.g. batch_size=32.")


def _check_test_fraction(test_fraction: float | None) -> None:
    """Raises unless `test_fraction` is None or strictly between 0 and 1."""
    if test_fraction is not None and not (isinstance(test_fraction, (int, float))
                                          and 0 < test_fraction < 1):
        raise ValueError(
            "`test_fraction` must be None (the seed posts' rule: n_batches // 5 validation "
            "batches) or a fraction strictly between 0 and 1 of the validation photos. "
            f"Received: test_fraction={test_fraction!r}. Pass e.g. test_fraction=0.5.")


def _check_validation_split(validation_split: float | None) -> None:
    """Raises unless `validation_split` is None or strictly between 0 and 1."""
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            "`validation_split` must be None or a fraction strictly between 0 and 1. "
            f"Received: validation_split={validation_split!r}. Pass e.g. validation_split=0.2.")


def _existing_folder(path: str | os.PathLike, name: str) -> Path:
    """Returns `path` as a Path if it is a folder, else raises FileNotFoundError."""
    folder = resolve_path(path)
    if folder.is_file():
        raise FileNotFoundError(f"`{name}` must be a folder. Received: {name}={str(path)!r}, "
                                f"which is a file ({folder}).")
    if not folder.is_dir():
        raise FileNotFoundError(f"`{name}` must be an existing folder. Received: "
                                f"{name}={str(path)!r}; {_where_looked(path)}. Check the path.")
    return folder


# ---------------------------------------------------------------------------------------
# Finding the cats-vs-dogs data: argument, CATDOG_DATA, download
# ---------------------------------------------------------------------------------------


@dataclass
class _SourceInfo:
    """What to record about a data source: where it was, its kind, and where it comes from."""

    path: str
    kind: str
    archive: Path | None = None
    fingerprint: str | None = None  # known once a zip was hashed to find its extracted copy
    url: str | None = None
    env: str | None = None

    @property
    def name(self) -> str:
        """The archive's or folder's base name, e.g. "cats_and_dogs_filtered.zip"."""
        if self.archive is not None:
            return self.archive.name
        return Path(self.path.rstrip("/")).name or self.path


def _resolve_source(source: str | os.PathLike | None) -> str | os.PathLike:
    """The argument, else `CATDOG_DATA`, else `DATA_URL` (read at call time)."""
    if source is not None:
        return source
    return os.environ.get(DATA_ENV) or DATA_URL


def _locate_dataset(source: str | os.PathLike, cache: Path,
                    layout: _Layout) -> tuple[Path, str, _SourceInfo]:
    """Finds the extracted data set root for a URL, zip or folder source."""
    if isinstance(source, str) and "://" in source:
        archive, root = _download(source, layout)
        name = f"{archive.name} (downloaded from {source})"
        return root, name, _SourceInfo(source, "url", archive, url=source)
    path = resolve_path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"{layout.what.capitalize()}: not found. Expected {layout.expected} as a zip or "
            f"folder. Received: source={str(source)!r}; {_where_looked(source)}. {layout.hint}")
    if path.is_file():
        fingerprint = results.fingerprint(path)
        root = _extract_zip(path, cache, layout, fingerprint)
        info = _SourceInfo(str(path), "file", path, fingerprint)
    else:
        root, info = _dataset_root(path, str(source), layout), _SourceInfo(str(path), "folder")
    return root, f"{path.name} (local)", info


def _dataset_root(folder: Path, received: str, layout: _Layout) -> Path:
    """The folder holding the layout's folders: `folder` itself or one child of it."""
    for candidate in [folder / layout.top, folder, *sorted(folder.iterdir())]:
        if all((candidate / name).is_dir() for name in layout.folders):
            return candidate
    raise ValueError(
        f"Wrong layout for {layout.what}: expected {layout.expected} (the folder "
        f"`{layout.top}` or the folder holding it), but found no "
        f"{' and '.join(f'`{name}`' for name in layout.folders)} folders. "
        f"Received: source={received!r}. {layout.hint}")


def _download(url: str, layout: _Layout) -> tuple[Path, Path]:
    """Downloads and extracts the zip at `url` into `$KERAS_HOME/datasets`, once.

    Returns the downloaded zip and the extracted data set root.
    """
    fname = os.path.basename(urllib.parse.urlsplit(url).path) or f"{layout.top}.zip"
    datasets = _keras_home() / "datasets"
    archive = datasets / fname
    extracted = datasets / f"{fname.split('.')[0]}_extracted"
    marker = extracted / ".catdog-complete"
    if not marker.exists():
        datasets.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp if it is absent.
        _get_file(url, fname, archive, layout)
        marker.write_text(url)
    return archive, _dataset_root(extracted, url, layout)


def _get_file(url: str, fname: str, archive: Path, layout: _Layout) -> None:
    """Calls `keras.utils.get_file(..., extract=True)`, turning failures into clear errors."""
    import keras  # Imported here: only a download needs Keras, and it starts a backend.

    try:
        keras.utils.get_file(fname, origin=url, extract=True,
                             cache_dir=str(_keras_home()), cache_subdir="datasets")
    except Exception as error:  # get_file raises a bare Exception for URL failures.
        raise FileNotFoundError(
            f"Could not download {layout.what}: expected a zip of {layout.expected} "
            f"at the URL. Received: source={url!r} ({error}). {layout.hint}") from error
    if not zipfile.is_zipfile(archive):
        archive.unlink(missing_ok=True)  # Else get_file would find it and not download again.
        raise ValueError(
            f"The file downloaded from {url!r} is not a zip archive: expected a zip of "
            f"{layout.expected}. Received: source={url!r}. {layout.hint}")


def _extract_zip(archive: Path, cache: Path, layout: _Layout, fingerprint: str) -> Path:
    """Extracts a local dataset zip once into `cache/extracted/<sha256>`; returns its root."""
    names = _zip_names(archive, layout)
    prefix = _zip_dataset_prefix(names, layout.folders)
    if prefix is None:
        raise ValueError(
            f"The zip is not {layout.what}: expected members {layout.expected}, found no "
            f"{' and '.join(f'`{name}/`' for name in layout.folders)} folders in it. "
            f"Received: source={str(archive)!r}. {layout.hint}")
    target = cache / "extracted" / fingerprint.split(":")[1][:16]
    if not target.exists():
        _extract_atomically(archive, target)
    return target / prefix


def _zip_names(archive: Path, layout: _Layout) -> list[str]:
    """The member names of a zip, or a ValueError naming the file if it is no zip."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            return zipped.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(
            f"The source of {layout.what} is not a readable zip: expected a zip of "
            f"{layout.expected} or its extracted folder. Received: source={str(archive)!r} "
            f"({error}). {layout.hint}") from error


def _zip_dataset_prefix(names: list[str], folders: Sequence[str]) -> str | None:
    """The member prefix ("" or "top/") under which the zip has all of `folders`."""
    prefixes = {""} | {name.split("/")[0] + "/" for name in names if "/" in name}
    for prefix in sorted(prefixes):
        if all(any(n.startswith(f"{prefix}{folder}/") for n in names) for folder in folders):
            return prefix
    return None


def _extract_atomically(archive: Path, target: Path) -> None:
    """Extracts into a temporary folder, then renames it, so a crash leaves no half copy."""
    logger.info("Extracting %s into %s (once)", archive, target)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(partial)  # zipfile drops absolute and ".." parts of member names.
    try:
        partial.rename(target)
    except OSError:  # Another process finished first: keep its copy.
        shutil.rmtree(partial, ignore_errors=True)


def _quick_source(cache: Path, seed: int) -> tuple[Path, str, _SourceInfo]:
    """Writes the quick run's synthetic data once into the cache; returns its root."""
    root = _synthetic_once(cache / "synthetic" / f"quick-v{_CACHE_VERSION}-seed{seed}",
                           CLASS_NAMES, 40, ("train", "validation"), seed)
    return root, QUICK_SOURCE, _SourceInfo(str(root), "synthetic")


def _quick_scenes(cache: Path, seed: int) -> tuple[Path, str, _SourceInfo]:
    """Six synthetic classes in the scenes' layout, for quick runs."""
    root = _synthetic_once(cache / "synthetic" / f"scenes-v{_CACHE_VERSION}-seed{seed}",
                           SCENE_CLASSES, 12, ("seg_train", "seg_test"), seed)
    return root, QUICK_SOURCE, _SourceInfo(str(root), "synthetic")


def _synthetic_once(root: Path, classes: Sequence[str], per_class: int,
                    splits: Sequence[str], seed: int) -> Path:
    """Writes `synthetic(...)` into `root` unless a finished copy is there already."""
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        synthetic(root, classes, per_class=per_class, image_size=(64, 64), seed=seed,
                  splits=splits)
        (root / ".complete").write_text("written by catdog.data.synthetic\n")
    return root


def _read_extra(entry: str | os.PathLike | EnvSource, index: int, image_size: tuple[int, int],
                cache: Path, seed: int, quick: bool) -> tuple[_Tree, str]:
    """Reads one extra training source of cats/ and dogs/ folders; returns it and its name."""
    if quick:
        root = _synthetic_once(cache / "synthetic" / f"extra{index}-v{_CACHE_VERSION}-seed{seed}",
                               CLASS_NAMES, 20, ("more",), seed + 1000 + index) / "more"
        info = _SourceInfo(str(root), "synthetic")
    else:
        source = entry.resolve() if isinstance(entry, EnvSource) else entry
        root, _, info = _locate_dataset(source, cache, _MORE_PHOTOS)
        info.env = entry.env if isinstance(entry, EnvSource) else None
    name = f"extra{index}" if quick else info.name
    tree = _read_tree(root, image_size, cache, CLASS_NAMES, prefix=f"{name}/")
    _warn_skipped(tree.skipped)
    _record_source(info, [tree])
    return tree, name


def _merged(trees: list[_Tree]) -> _Tree:
    """One tree of several trees' images, in order (their files keep their prefixes)."""
    if len(trees) == 1:
        return trees[0]
    return _Tree(np.concatenate([t.images for t in trees]),
                 np.concatenate([t.labels for t in trees]),
                 [f for t in trees for f in t.files], [f for t in trees for f in t.skipped])


# ---------------------------------------------------------------------------------------
# Reading a folder-per-class tree: list, decode once in threads, cache on disk
# ---------------------------------------------------------------------------------------


def _read_tree(folder: Path, image_size: tuple[int, int], cache: Path,
               class_names: Sequence[str], prefix: str = "") -> _Tree:
    """Reads a folder-per-class tree: every class folder must exist and hold images."""
    paths, labels = [], []
    for label, name in enumerate(class_names):
        files = _class_files(folder, name)
        paths += files
        labels += [label] * len(files)
    tree = _read_files(folder, paths, np.array(labels, np.int32), image_size, cache)
    _check_no_empty_class(tree, folder, class_names)
    tree.files = [prefix + f for f in tree.files]
    tree.skipped = [prefix + f for f in tree.skipped]
    return tree


def _class_folders(folder: Path) -> list[str]:
    """The sorted class subfolder names of `folder`; two or more, else a ValueError."""
    names = sorted(p.name for p in _existing_folder(folder, "path").iterdir()
                   if p.is_dir() and not p.name.startswith("."))
    if len(names) < 2:
        raise ValueError(
            "Expected a folder with one subfolder per class, two classes or more. "
            f"Received: path={str(folder)!r} with class folders {names}. "
            "Put each class's images in its own subfolder, e.g. path/cats/*.jpg, path/dogs/*.jpg.")
    return names


def _class_files(folder: Path, name: str) -> list[Path]:
    """The files of one class folder; a missing or empty folder is a clear error."""
    class_folder = folder / name
    if not class_folder.is_dir():
        raise FileNotFoundError(
            f"Missing class folder {str(class_folder)!r}: expected {_EXPECTED_LAYOUT}. "
            f"Received: a `{folder.name}` folder with "
            f"{sorted(p.name for p in folder.iterdir()) if folder.is_dir() else 'nothing'}. "
            f"{_OFFLINE_HINT}")
    files = results.data_files(class_folder)
    if not files:
        raise ValueError(_empty_class_message(class_folder))
    return files


def _empty_class_message(class_folder: Path) -> str:
    """The error for a class folder without a single readable image."""
    return (f"Class folder {str(class_folder)!r} has no readable images: expected image "
            f"files (JPEG, PNG, ...) in every class folder. Received: an empty folder or only "
            f"unreadable files. Add images there or remove the folder.")


def _check_no_empty_class(tree: _Tree, folder: Path, class_names: Sequence[str]) -> None:
    """Raises if every file of a class was unreadable."""
    counts = np.bincount(tree.labels, minlength=len(class_names))
    for name, count in zip(class_names, counts):
        if count == 0:
            raise ValueError(_empty_class_message(folder / name))


def _read_files(folder: Path, paths: list[Path], labels: np.ndarray,
                image_size: tuple[int, int], cache: Path) -> _Tree:
    """Decodes `paths` once, or loads them from the on-disk cache if nothing changed."""
    relative = [p.relative_to(folder).as_posix() for p in paths]
    stats = [p.stat() for p in paths]
    key = _cache_key(relative, stats, labels, image_size)
    cached = _load_cached(cache / "arrays" / f"{key}.npz")
    if cached is not None:
        logger.info("Loaded %d images of %s from the cache", len(cached.files), folder)
        return cached
    started = time.perf_counter()
    tree = _decode_all(paths, relative, labels, image_size)
    logger.info("Decoded %d images of %s in %.1f s", len(tree.files), folder,
                time.perf_counter() - started)
    _save_cached(cache / "arrays" / f"{key}.npz", tree)
    return tree


def _cache_key(relative: list[str], stats: list[os.stat_result], labels: np.ndarray,
               image_size: tuple[int, int]) -> str:
    """Hashes what decides the arrays: files (path, size, mtime), labels, size, version."""
    content = {"version": _CACHE_VERSION, "image_size": list(image_size),
               "files": [[r, s.st_size, s.st_mtime_ns] for r, s in zip(relative, stats)],
               "labels": labels.tolist()}
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def _decode_all(paths: list[Path], relative: list[str], labels: np.ndarray,
                image_size: tuple[int, int]) -> _Tree:
    """Decodes every file in a thread pool (PIL releases the GIL); skips unreadable ones."""
    images = np.empty((len(paths), *image_size, 3), np.uint8)
    ok = np.zeros(len(paths), bool)

    def read(i: int) -> None:
        ok[i] = _decode_into(images, i, paths[i].read_bytes(), image_size)

    with ThreadPoolExecutor(max_workers=_worker_count()) as pool:
        list(pool.map(read, range(len(paths))))
    return _Tree(images[ok] if not ok.all() else images, labels[ok],
                 [r for r, good in zip(relative, ok) if good],
                 [r for r, good in zip(relative, ok) if not good])


def _decode_into(images: np.ndarray, i: int, data: bytes, image_size: tuple[int, int]) -> bool:
    """Decodes one file into `images[i]`; False if it is not a readable image."""
    try:
        images[i] = _decode_image(data, image_size)
    except Exception:  # PIL raises OSError, ValueError, SyntaxError, ... for bad files.
        return False
    return True


def _decode_image(data: bytes, image_size: tuple[int, int]) -> np.ndarray:
    """Decodes one image file's bytes to RGB and resizes it bilinearly to `image_size`."""
    with Image.open(io.BytesIO(data)) as image:
        rgb = image.convert("RGB")
    height, width = image_size
    return np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR), np.uint8)


def _worker_count() -> int:
    """The cores this process may use (both of the shared machine's), at most 8."""
    try:
        return max(1, min(8, len(os.sched_getaffinity(0))))
    except AttributeError:  # Not on Linux.
        return max(1, min(8, os.cpu_count() or 1))


def _warn_skipped(skipped: list[str]) -> None:
    """One warning line for every file that was not a readable image."""
    if skipped:
        logger.warning("Skipped %d file(s) that are not readable images, e.g. %r",
                       len(skipped), skipped[0])


def _load_cached(path: Path) -> _Tree | None:
    """The cached arrays at `path`, or None if absent or unreadable (a logged miss)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            return _Tree(saved["images"], saved["labels"], meta["files"], meta["skipped"])
    except (OSError, ValueError, KeyError) as error:
        logger.warning("Ignoring unreadable cache file %s (%s); decoding again", path, error)
        return None


def _save_cached(path: Path, tree: _Tree) -> None:
    """Writes the arrays atomically (temporary file, then rename); failures only log."""
    meta = {"files": tree.files, "skipped": tree.skipped}
    partial = path.with_name(f"{path.stem}.partial-{os.getpid()}-{threading.get_ident()}.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(partial, images=tree.images, labels=tree.labels, meta=np.array(json.dumps(meta)))
        os.replace(partial, path)
    except OSError as error:
        logger.warning("Could not write the cache file %s (%s); continuing without it",
                       path, error)
        partial.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------
# Caches and fingerprints
# ---------------------------------------------------------------------------------------


def _keras_home() -> Path:
    """`$KERAS_HOME`, else `~/.keras`, read at call time (Keras reads it once at import)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def _cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """`cache_dir`, else `$KERAS_HOME/catdog_cache`."""
    return Path(cache_dir).expanduser() if cache_dir is not None else (
        _keras_home() / "catdog_cache")


def _record_source(info: _SourceInfo, trees: list[_Tree]) -> None:
    """Records the data source in `catdog.results`, by content, with where it comes from.

    A zip by its bytes and the number of images it holds; a folder the way
    `catdog.results` describes folders, which is how the site builder re-checks it.
    """
    if info.archive is not None:
        files = sum(len(tree.files) + len(tree.skipped) for tree in trees)
        size = info.archive.stat().st_size
        fingerprint = info.fingerprint or results.fingerprint(info.archive)
    else:
        (files, size), fingerprint = results.data_size(info.path), results.fingerprint(info.path)
    kind = "file" if info.kind == "url" else info.kind
    results.record_data_source(info.path, files=files, bytes=size, fingerprint=fingerprint,
                               kind=kind, name=info.name, url=info.url, env=info.env)


# ---------------------------------------------------------------------------------------
# Making splits
# ---------------------------------------------------------------------------------------


def _to_split(tree: _Tree, class_names: list[str], batch_size: int) -> Split:
    """A Split of a tree's images, in the tree's order."""
    return Split(tree.images, tree.labels, list(class_names), list(tree.files), batch_size)


def _take(split: Split, index: np.ndarray) -> Split:
    """The images of `split` at `index`, in that order."""
    return Split(split.images[index], split.labels[index], split.class_names,
                 [split.files[i] for i in index], split.batch_size)


def _shuffled(split: Split, seed: int) -> Split:
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
    shuffled = _shuffled(validation, seed)
    if test_fraction is None:
        n_test = _test_count(len(shuffled), shuffled.batch_size)
    else:
        n_test = len(shuffled) - _validation_count(len(shuffled), 1 - test_fraction)
    order = np.arange(len(shuffled))
    return _take(shuffled, order[n_test:]), _take(shuffled, order[:n_test])


def _make_splits(train: _Tree, validation: _Tree, class_names: list[str], batch_size: int,
                 seed: int, source: str, image_size: tuple[int, int],
                 test_fraction: float | None = None) -> Splits:
    """Train shuffled with `seed`; validation and test cut by `_split_test`."""
    train_split = _shuffled(_to_split(train, class_names, batch_size), seed)
    rest, test = _split_test(_to_split(validation, class_names, batch_size), seed + 1,
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


def _split_fraction(everything: Split, validation_split: float, seed: int, source: str,
                    image_size: tuple[int, int]) -> Splits:
    """The last `validation_split` of an already shuffled split is validation (then test)."""
    n_validation = _validation_count(len(everything), validation_split)
    order = np.arange(len(everything))
    train = _take(everything, order[:-n_validation])
    rest, test = _split_test(_take(everything, order[-n_validation:]), seed + 1)
    return Splits(train, rest, test, everything.class_names, source, image_size)


def _split_test_first(everything: Split, test_fraction: float, validation_split: float,
                      seed: int, source: str, image_size: tuple[int, int]) -> Splits:
    """The first `test_fraction` of a shuffled split is test; then `validation_split` of the rest."""
    n_test = _validation_count(len(everything), test_fraction)
    order = np.arange(len(everything))
    test, rest = _take(everything, order[:n_test]), _take(everything, order[n_test:])
    n_validation = _validation_count(len(rest), validation_split)
    order = np.arange(len(rest))
    return Splits(_take(rest, order[:-n_validation]), _take(rest, order[-n_validation:]), test,
                  everything.class_names, source, image_size)


# ---------------------------------------------------------------------------------------
# Synthetic images
# ---------------------------------------------------------------------------------------


def _synthetic_image(rng: np.random.Generator, class_index: int, n_classes: int,
                     image_size: tuple[int, int]) -> Image.Image:
    """One noisy image: a class hue background and a class shape in a contrasting colour."""
    height, width = image_size
    hue = (class_index / n_classes + rng.uniform(-0.08, 0.08)) % 1.0
    background = np.array(colorsys.hsv_to_rgb(hue, 0.55, 0.75)) * 255
    pixels = background + rng.normal(0, 28, size=(height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    _draw_shape(ImageDraw.Draw(image), rng, class_index % 3, width, height)
    return image


def _draw_shape(draw: ImageDraw.ImageDraw, rng: np.random.Generator, shape: int,
                width: int, height: int) -> None:
    """Draws an ellipse (0), rectangle (1) or triangle (2) somewhere in the image."""
    size = rng.uniform(0.3, 0.5) * min(width, height)
    x0, y0 = rng.uniform(0, width - size), rng.uniform(0, height - size)
    box = [x0, y0, x0 + size, y0 + size]
    colour = tuple(int(v) for v in rng.integers(200, 256, size=3))
    if shape == 0:
        draw.ellipse(box, fill=colour)
    elif shape == 1:
        draw.rectangle(box, fill=colour)
    else:
        draw.polygon([(x0 + size / 2, y0), (x0, y0 + size), (x0 + size, y0 + size)],
                     fill=colour)
