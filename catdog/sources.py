"""Where a data set's files come from: a folder, a zip extracted once, or a download.

`catdog.data`'s loaders ask `locate_dataset` for the root of a data set's folders, whatever
the user gave (a folder or the folder holding it, a zip, a URL) and wherever it lies (see
`catdog.paths.resolve_path`); a URL is fetched with `keras.utils.get_file` into
`$KERAS_HOME/datasets`, a local zip is extracted once into the cache, by content. Every error
names the data set, the layout it expected and how to point catdog at it. `record_source`
then records the source by content, which is how the site builder knows the data.

Example:
    >>> root, name, info = locate_dataset("../shared/data/cats_and_dogs_filtered.zip",
    ...                                   Path("/tmp/cache"), CATS_AND_DOGS)  # doctest: +SKIP
    >>> name  # doctest: +SKIP
    'cats_and_dogs_filtered.zip (local)'
"""

from __future__ import annotations

import logging
import os
import shutil
import urllib.parse
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from catdog import results
from catdog.paths import keras_home, resolve_path, where_looked

if TYPE_CHECKING:
    from catdog.images import Tree

logger = logging.getLogger("catdog.data")  # the loaders' one logger, whichever module speaks

DATASET_NAME = "cats_and_dogs_filtered"
CLASS_NAMES = ("cats", "dogs")
MORE_DATA_ENV = "CATDOG_MORE_DATA"
SCENES_ENV = "CATDOG_SCENES"
OFFLINE_HINT = (
    "To work offline, pass a local copy, e.g. "
    "cats_and_dogs('/path/to/cats_and_dogs_filtered.zip') (the zip or its extracted folder), "
    "or set CATDOG_DATA=/path/to/cats_and_dogs_filtered.zip; "
    "cats_and_dogs(quick=True) uses small synthetic data instead."
)
EXPECTED_LAYOUT = "cats_and_dogs_filtered/{train,validation}/{cats,dogs}/*.jpg"


@dataclass(frozen=True)
class Layout:
    """What a data set looks like on disk, and what to tell a user who has the wrong thing."""

    what: str  # "the cats-vs-dogs data", used in errors
    top: str  # the top folder of the official zip
    folders: tuple[str, ...]  # the folders the data set root holds
    expected: str  # the layout, in words
    hint: str  # how to point catdog at the data


CATS_AND_DOGS = Layout("the cats-vs-dogs data", DATASET_NAME, ("train", "validation"),
                       EXPECTED_LAYOUT, OFFLINE_HINT)
MORE_PHOTOS_LAYOUT = Layout(
    "the extra cats-vs-dogs photos", "dogs_vs_cats_more", CLASS_NAMES,
    "dogs_vs_cats_more/{cats,dogs}/*.jpg",
    "Pass a local copy, e.g. cats_and_dogs(extra=['/path/to/dogs_vs_cats_more.zip']) (the zip or "
    "its extracted folder), or set CATDOG_MORE_DATA=/path/to/dogs_vs_cats_more.zip with "
    "extra=[data.MORE_PHOTOS]; quick=True uses small synthetic data instead.")
SCENES = Layout(
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
    layout: Layout

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
MORE_PHOTOS = EnvSource(MORE_DATA_ENV, MORE_PHOTOS_LAYOUT)


@dataclass
class SourceInfo:
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


def locate_dataset(source: str | os.PathLike, cache: Path,
                   layout: Layout) -> tuple[Path, str, SourceInfo]:
    """Finds the extracted data set root for a URL, zip or folder source.

    Returns the root, a human-readable name of the source and what to record about it.
    """
    if isinstance(source, str) and "://" in source:
        archive, root = download(source, layout)
        name = f"{archive.name} (downloaded from {source})"
        return root, name, SourceInfo(source, "url", archive, url=source)
    path = resolve_path(source)
    if not path.exists():
        raise FileNotFoundError(
            f"{layout.what.capitalize()}: not found. Expected {layout.expected} as a zip or "
            f"folder. Received: source={str(source)!r}; {where_looked(source)}. {layout.hint}")
    if path.is_file():
        fingerprint = results.fingerprint(path)
        root = extract_zip(path, cache, layout, fingerprint)
        info = SourceInfo(str(path), "file", path, fingerprint)
    else:
        root, info = dataset_root(path, str(source), layout), SourceInfo(str(path), "folder")
    return root, f"{path.name} (local)", info


def dataset_root(folder: Path, received: str, layout: Layout) -> Path:
    """The folder holding the layout's folders: `folder` itself or one child of it."""
    for candidate in [folder / layout.top, folder, *sorted(folder.iterdir())]:
        if all((candidate / name).is_dir() for name in layout.folders):
            return candidate
    raise ValueError(
        f"Wrong layout for {layout.what}: expected {layout.expected} (the folder "
        f"`{layout.top}` or the folder holding it), but found no "
        f"{' and '.join(f'`{name}`' for name in layout.folders)} folders. "
        f"Received: source={received!r}. {layout.hint}")


def download(url: str, layout: Layout) -> tuple[Path, Path]:
    """Downloads and extracts the zip at `url` into `$KERAS_HOME/datasets`, once.

    Returns the downloaded zip and the extracted data set root.
    """
    fname = os.path.basename(urllib.parse.urlsplit(url).path) or f"{layout.top}.zip"
    datasets = keras_home() / "datasets"
    archive = datasets / fname
    extracted = datasets / f"{fname.split('.')[0]}_extracted"
    marker = extracted / ".catdog-complete"
    if not marker.exists():
        datasets.mkdir(parents=True, exist_ok=True)  # get_file falls back to /tmp if it is absent.
        _get_file(url, fname, archive, layout)
        marker.write_text(url)
    return archive, dataset_root(extracted, url, layout)


def _get_file(url: str, fname: str, archive: Path, layout: Layout) -> None:
    """Calls `keras.utils.get_file(..., extract=True)`, turning failures into clear errors."""
    import keras  # Imported here: only a download needs Keras, and it starts a backend.

    try:
        keras.utils.get_file(fname, origin=url, extract=True,
                             cache_dir=str(keras_home()), cache_subdir="datasets")
    except Exception as error:  # get_file raises a bare Exception for URL failures.
        raise FileNotFoundError(
            f"Could not download {layout.what}: expected a zip of {layout.expected} "
            f"at the URL. Received: source={url!r} ({error}). {layout.hint}") from error
    if not zipfile.is_zipfile(archive):
        archive.unlink(missing_ok=True)  # Else get_file would find it and not download again.
        raise ValueError(
            f"The file downloaded from {url!r} is not a zip archive: expected a zip of "
            f"{layout.expected}. Received: source={url!r}. {layout.hint}")


def extract_zip(archive: Path, cache: Path, layout: Layout, fingerprint: str) -> Path:
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


def _zip_names(archive: Path, layout: Layout) -> list[str]:
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


def record_source(info: SourceInfo, trees: Sequence[Tree]) -> None:
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
