"""Decoding image files once: a folder-per-class tree to uint8 arrays, cached on disk.

Every image is decoded the way `keras.utils.image_dataset_from_directory` does it (PIL, RGB,
bilinear resize to `image_size`), which the seed posts used, in a thread pool (PIL releases
the GIL). The arrays are kept under `<cache>/arrays/`, keyed by each file's path, size and
mtime, so a second run never decodes a JPEG again; an unreadable cache file is a logged miss.

Example:
    >>> tree = read_tree(Path("cats_and_dogs_filtered/train"), (160, 160),
    ...                  Path("/tmp/cache"), ("cats", "dogs"))  # doctest: +SKIP
    >>> tree.images.shape  # doctest: +SKIP
    (2000, 160, 160, 3)
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from catdog import results
from catdog.paths import existing_folder
from catdog.sources import EXPECTED_LAYOUT, OFFLINE_HINT

logger = logging.getLogger("catdog.data")  # the loaders' one logger, whichever module speaks

# Bump when the cached arrays' format or the decoding changes: old entries become misses.
CACHE_VERSION = 2


@dataclass
class Tree:
    """What reading one folder gives: the decoded images, their files, the unreadable files."""

    images: np.ndarray
    labels: np.ndarray
    files: list[str]
    skipped: list[str]


def check_image_size(image_size) -> tuple[int, int]:
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


def read_tree(folder: Path, image_size: tuple[int, int], cache: Path,
              class_names: Sequence[str], prefix: str = "") -> Tree:
    """Reads a folder-per-class tree: every class folder must exist and hold images."""
    paths, labels = [], []
    for label, name in enumerate(class_names):
        files = _class_files(folder, name)
        paths += files
        labels += [label] * len(files)
    tree = read_files(folder, paths, np.array(labels, np.int32), image_size, cache)
    _check_no_empty_class(tree, folder, class_names)
    tree.files = [prefix + f for f in tree.files]
    tree.skipped = [prefix + f for f in tree.skipped]
    return tree


def class_folders(folder: Path) -> list[str]:
    """The sorted class subfolder names of `folder`; two or more, else a ValueError."""
    names = sorted(p.name for p in existing_folder(folder, "path").iterdir()
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
            f"Missing class folder {str(class_folder)!r}: expected {EXPECTED_LAYOUT}. "
            f"Received: a `{folder.name}` folder with "
            f"{sorted(p.name for p in folder.iterdir()) if folder.is_dir() else 'nothing'}. "
            f"{OFFLINE_HINT}")
    files = results.data_files(class_folder)
    if not files:
        raise ValueError(_empty_class_message(class_folder))
    return files


def _empty_class_message(class_folder: Path) -> str:
    """The error for a class folder without a single readable image."""
    return (f"Class folder {str(class_folder)!r} has no readable images: expected image "
            f"files (JPEG, PNG, ...) in every class folder. Received: an empty folder or only "
            f"unreadable files. Add images there or remove the folder.")


def _check_no_empty_class(tree: Tree, folder: Path, class_names: Sequence[str]) -> None:
    """Raises if every file of a class was unreadable."""
    counts = np.bincount(tree.labels, minlength=len(class_names))
    for name, count in zip(class_names, counts):
        if count == 0:
            raise ValueError(_empty_class_message(folder / name))


def read_files(folder: Path, paths: list[Path], labels: np.ndarray,
               image_size: tuple[int, int], cache: Path) -> Tree:
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
    content = {"version": CACHE_VERSION, "image_size": list(image_size),
               "files": [[r, s.st_size, s.st_mtime_ns] for r, s in zip(relative, stats)],
               "labels": labels.tolist()}
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()[:32]


def _decode_all(paths: list[Path], relative: list[str], labels: np.ndarray,
                image_size: tuple[int, int]) -> Tree:
    """Decodes every file in a thread pool (PIL releases the GIL); skips unreadable ones."""
    images = np.empty((len(paths), *image_size, 3), np.uint8)
    ok = np.zeros(len(paths), bool)

    def read(i: int) -> None:
        ok[i] = _decode_into(images, i, paths[i].read_bytes(), image_size)

    with ThreadPoolExecutor(max_workers=_worker_count()) as pool:
        list(pool.map(read, range(len(paths))))
    return Tree(images[ok] if not ok.all() else images, labels[ok],
                [r for r, good in zip(relative, ok) if good],
                [r for r, good in zip(relative, ok) if not good])


def _decode_into(images: np.ndarray, i: int, data: bytes, image_size: tuple[int, int]) -> bool:
    """Decodes one file into `images[i]`; False if it is not a readable image."""
    try:
        images[i] = decode_image(data, image_size)
    except Exception:  # PIL raises OSError, ValueError, SyntaxError, ... for bad files.
        return False
    return True


def decode_image(data: bytes, image_size: tuple[int, int]) -> np.ndarray:
    """Decodes one image file's bytes to RGB and resizes it bilinearly to `image_size`.

    Example:
        >>> decode_image(Path("cat.0.jpg").read_bytes(), (160, 160)).shape  # doctest: +SKIP
        (160, 160, 3)
    """
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


def warn_skipped(skipped: list[str]) -> None:
    """One warning line for every file that was not a readable image."""
    if skipped:
        logger.warning("Skipped %d file(s) that are not readable images, e.g. %r",
                       len(skipped), skipped[0])


def _load_cached(path: Path) -> Tree | None:
    """The cached arrays at `path`, or None if absent or unreadable (a logged miss)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            meta = json.loads(str(saved["meta"]))
            return Tree(saved["images"], saved["labels"], meta["files"], meta["skipped"])
    except (OSError, ValueError, KeyError) as error:
        logger.warning("Ignoring unreadable cache file %s (%s); decoding again", path, error)
        return None


def _save_cached(path: Path, tree: Tree) -> None:
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


def merged(trees: list[Tree]) -> Tree:
    """One tree of several trees' images, in order (their files keep their prefixes)."""
    if len(trees) == 1:
        return trees[0]
    return Tree(np.concatenate([t.images for t in trees]),
                np.concatenate([t.labels for t in trees]),
                [f for t in trees for f in t.files], [f for t in trees for f in t.skipped])
