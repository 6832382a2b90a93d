"""Synthetic images: a small, learnable data set drawn from a seed, for quick runs and examples.

Each class has its own hue and shape drawn at a random place on a noisy background, so a
small CNN beats the majority baseline within two epochs, and a quick run (`quick=True` in
`catdog.data`'s loaders) tests a post's code in seconds. The quick data sets are written once
into the cache, in the layout of the data they stand in for.

Example:
    >>> root = synthetic("/tmp/pets", classes=("cats", "dogs"), per_class=4)
    >>> sorted(p.name for p in (root / "validation").iterdir())
    ['cats', 'dogs']
"""

from __future__ import annotations

import colorsys
import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from catdog.images import CACHE_VERSION, check_image_size, class_folders
from catdog.paths import resolve_path
from catdog.sources import CLASS_NAMES, SourceInfo

QUICK_SOURCE = "synthetic (quick run)"
SCENE_CLASSES = ("buildings", "forest", "glacier", "mountain", "sea", "street")


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
    image_size = check_image_size(image_size)
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


# --- the quick runs' stand-ins, written once into the cache ------------------------------


def quick_cats_and_dogs(cache: Path, seed: int) -> tuple[Path, str, SourceInfo]:
    """Writes the quick run's synthetic data once into the cache; returns its root."""
    root = synthetic_once(cache / "synthetic" / f"quick-v{CACHE_VERSION}-seed{seed}",
                          CLASS_NAMES, 40, ("train", "validation"), seed)
    return root, QUICK_SOURCE, SourceInfo(str(root), "synthetic")


def quick_scenes(cache: Path, seed: int) -> tuple[Path, str, SourceInfo]:
    """Six synthetic classes in the scenes' layout, for quick runs."""
    root = synthetic_once(cache / "synthetic" / f"scenes-v{CACHE_VERSION}-seed{seed}",
                          SCENE_CLASSES, 12, ("seg_train", "seg_test"), seed)
    return root, QUICK_SOURCE, SourceInfo(str(root), "synthetic")


def quick_extra(cache: Path, index: int, seed: int) -> tuple[Path, SourceInfo]:
    """Synthetic cats and dogs standing in for the `index`-th extra training source."""
    root = synthetic_once(cache / "synthetic" / f"extra{index}-v{CACHE_VERSION}-seed{seed}",
                          CLASS_NAMES, 20, ("more",), seed + 1000 + index) / "more"
    return root, SourceInfo(str(root), "synthetic")


def quick_own_photos(path: str | os.PathLike, cache: Path, seed: int) -> tuple[Path, list[str]]:
    """Synthetic photos of the folder's classes (or three made-up ones) for a quick run."""
    folder = resolve_path(path)
    try:
        classes = class_folders(folder) if folder.is_dir() else []
    except ValueError:
        classes = []
    classes = classes or ["class a", "class b", "class c"]
    digest = hashlib.sha256("\n".join(classes).encode()).hexdigest()[:12]
    root = cache / "quick" / f"own-{digest}-{seed}"
    synthetic_once(root, classes, per_class=24, splits=("",), seed=seed)  # classes at the root
    return root, classes


def synthetic_once(root: Path, classes: Sequence[str], per_class: int,
                   splits: Sequence[str], seed: int) -> Path:
    """Writes `synthetic(...)` into `root` unless a finished copy is there already."""
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        synthetic(root, classes, per_class=per_class, image_size=(64, 64), seed=seed,
                  splits=splits)
        (root / ".complete").write_text("written by catdog.data.synthetic\n")
    return root


# --- drawing --------------------------------------------------------------------------------


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
