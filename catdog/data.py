"""Image data for the posts: the cats-vs-dogs photos, the scenes, any folder-per-class tree.

This module is the public face of the loaders; the work is spread by job, as Keras spreads
it over `file_utils`, `image_utils` and `image_dataset_utils`: `catdog.paths` (KERAS_HOME, a
post's relative paths), `catdog.sources` (where the files come from: folder, zip, download),
`catdog.images` (decoding and the on-disk cache), `catdog.splits` (train, validation and test)
and `catdog.synthetic` (made-up images for quick runs).

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

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from catdog import results
from catdog.images import (Tree, check_image_size, class_folders, merged, read_files,
                           read_tree, warn_skipped)
from catdog.paths import (LAUNCH_DIR_ENV, POST_DIR_ENV, cache_root, existing_folder,
                          resolve_path)
from catdog.sources import (CATS_AND_DOGS, CLASS_NAMES, DATASET_NAME, MORE_DATA_ENV,
                            MORE_PHOTOS, MORE_PHOTOS_LAYOUT, SCENES, SCENES_ENV, EnvSource,
                            SourceInfo, locate_dataset, record_source)
from catdog.splits import (Split, Splits, check_batch_size, check_test_fraction,
                           check_validation_split, make_splits, shuffled, split_fraction,
                           split_test_first, split_train_and_test, to_split)
from catdog.synthetic import (QUICK_SOURCE, SCENE_CLASSES, quick_cats_and_dogs, quick_extra,
                              quick_own_photos, quick_scenes, synthetic)

__all__ = [
    "CLASS_NAMES", "DATASET_NAME", "DATA_ENV", "DATA_URL", "LAUNCH_DIR_ENV", "MORE_DATA_ENV",
    "MORE_PHOTOS", "POST_DIR_ENV", "QUICK_SOURCE", "SCENES_ENV", "SCENE_CLASSES", "EnvSource",
    "Split", "Splits", "cats_and_dogs", "from_directory", "resolve_path", "scenes", "synthetic",
    "unlabeled",
]

logger = logging.getLogger(__name__)

DATA_URL = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
DATA_ENV = "CATDOG_DATA"
_SPLIT_NAMES = {"train", "training", "validation", "val", "valid", "test", "testing",
                "seg_train", "seg_test", "seg_pred"}


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
    image_size = check_image_size(image_size)
    check_batch_size(batch_size)
    check_test_fraction(test_fraction)
    cache = cache_root(cache_dir)
    if quick:
        root, name, info = quick_cats_and_dogs(cache, seed)
    else:
        root, name, info = locate_dataset(_resolve_source(source), cache, CATS_AND_DOGS)
        info.url, info.env = DATA_URL, DATA_ENV
    train = read_tree(root / "train", image_size, cache, CLASS_NAMES, prefix="train/")
    validation = read_tree(root / "validation", image_size, cache, CLASS_NAMES,
                            prefix="validation/")
    warn_skipped(train.skipped + validation.skipped)
    record_source(info, [train, validation])
    extras = [_read_extra(entry, i, image_size, cache, seed, quick)
              for i, entry in enumerate(extra)]
    splits = make_splits(merged([train, *(tree for tree, _ in extras)]), validation,
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
    image_size = check_image_size(image_size)
    check_batch_size(batch_size)
    check_validation_split(validation_split)
    cache = cache_root(cache_dir)
    if quick:
        root, name, info = quick_scenes(cache, seed)
    else:
        source = source if source is not None else EnvSource(SCENES_ENV, SCENES).resolve()
        root, name, info = locate_dataset(source, cache, SCENES)
        info.env = SCENES_ENV
    class_names = class_folders(root / "seg_train")
    train = read_tree(root / "seg_train", image_size, cache, class_names, prefix="seg_train/")
    test = read_tree(root / "seg_test", image_size, cache, class_names, prefix="seg_test/")
    warn_skipped(train.skipped + test.skipped)
    record_source(info, [train, test])
    return split_train_and_test(train, test, class_names, batch_size, validation_split, seed,
                                name, image_size)


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
    image_size = check_image_size(image_size)
    check_batch_size(batch_size)
    check_validation_split(validation_split)
    check_test_fraction(test_fraction)
    cache = cache_root(cache_dir)
    if quick:
        folder, class_names = quick_own_photos(path, cache, seed)
    else:
        folder = existing_folder(path, "path")
        class_names = class_folders(folder)
        _warn_odd_classes(folder, class_names)
    tree = read_tree(folder, image_size, cache, class_names)
    warn_skipped(tree.skipped)
    record_source(SourceInfo(str(folder), "folder"), [tree])
    everything = shuffled(to_split(tree, class_names, batch_size), seed)
    source = f"{Path(path).name} ({'quick synthetic' if quick else 'local'})"
    if test_fraction is not None:
        return split_test_first(everything, test_fraction, validation_split or 0.2, seed,
                                 source, image_size)
    if validation_split is None:
        return everything
    return split_fraction(everything, validation_split, seed, source, image_size)


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
    image_size = check_image_size(image_size)
    folder = existing_folder(path, "path")
    paths = sorted(results.data_files(folder), key=_natural_key)
    if not paths:
        raise FileNotFoundError(
            f"No images found in `path`: expected a folder of image files (subfolders are "
            f"searched too). Received: path={str(path)!r}. Put the images to predict there.")
    cache = cache_root(None)
    tree = read_files(folder, paths, np.zeros(len(paths), np.int32), image_size, cache)
    warn_skipped(tree.skipped)
    record_source(SourceInfo(str(folder), "folder"), [tree])
    return tree.images, tree.files


def _natural_key(path: Path) -> list[Any]:
    """Sorts "2.jpg" before "10.jpg": numbers in names compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def _resolve_source(source: str | os.PathLike | None) -> str | os.PathLike:
    """The argument, else `CATDOG_DATA`, else `DATA_URL` (read at call time)."""
    if source is not None:
        return source
    return os.environ.get(DATA_ENV) or DATA_URL


def _read_extra(entry: str | os.PathLike | EnvSource, index: int, image_size: tuple[int, int],
                cache: Path, seed: int, quick: bool) -> tuple[Tree, str]:
    """Reads one extra training source of cats/ and dogs/ folders; returns it and its name."""
    if quick:
        root, info = quick_extra(cache, index, seed)
    else:
        source = entry.resolve() if isinstance(entry, EnvSource) else entry
        root, _, info = locate_dataset(source, cache, MORE_PHOTOS_LAYOUT)
        info.env = entry.env if isinstance(entry, EnvSource) else None
    name = f"extra{index}" if quick else info.name
    tree = read_tree(root, image_size, cache, CLASS_NAMES, prefix=f"{name}/")
    warn_skipped(tree.skipped)
    record_source(info, [tree])
    return tree, name


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
