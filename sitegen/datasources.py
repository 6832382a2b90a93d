"""The data a cached run read, known by its content: is it on this machine, and unchanged?

A run records each data source it read (`catdog.results.record_data_source`): what it is
(`name`, the official `url` if any), its content (`kind`, `files`, `bytes`, `fingerprint`), and
where it lay on the machine that ran the post (`path`, and the environment variable `env` that
pointed there). The fingerprint is the identity; the path is only a hint. So:

- the same bytes found anywhere a run would look are the same data: the entry stays fresh;
- different bytes where a run would look are a change: the entry is stale, and we say where;
- data this machine does not have leaves the recorded results standing (a reader's clone, a
  hosted CI runner), unless `--strict` asks every result to be reproducible here.

This is how a post run once on the machine with the data (or the GPU) publishes everywhere.
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catdog import results as catdog_results
from catdog.paths import keras_home
from sitegen.memo import Memo

FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")
KINDS = ("file", "folder", "synthetic")  # synthetic: a folder catdog generated (quick runs)


@dataclass(frozen=True)
class DataSource:
    """One data source as a run recorded it."""

    name: str
    kind: str
    files: int
    bytes: int
    fingerprint: str
    path: str | None = None  # where it was found: relative to the site root when near it
    url: str | None = None  # where anyone can get the same bytes, when there is such a place
    env: str | None = None  # the variable that pointed at it, e.g. CATDOG_DATA

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DataSource:
        """Reads one `data` entry of a results record; ValueError says what is wrong with it.

        Records written before data had a `name` (path only, a URL for a download) still read.
        """
        if not isinstance(record, Mapping):
            raise ValueError(f"expected an object, found {record!r}")
        path, url = record.get("path"), record.get("url")
        if isinstance(path, str) and "://" in path:  # a download, recorded by its URL
            path, url = None, url or path
        name = record.get("name") or _base_name(path or url or "")
        fingerprint = record.get("fingerprint")
        if not isinstance(fingerprint, str) or not FINGERPRINT.fullmatch(fingerprint):
            raise ValueError(f"fingerprint {fingerprint!r} of {name or record!r} is not "
                             "'sha256:' and 64 hex digits")
        if record.get("kind") not in KINDS:
            raise ValueError(f"{name}: unknown kind {record.get('kind')!r}, expected one of "
                             f"{', '.join(KINDS)}")
        if not name:
            raise ValueError(f"no name, path or url: {record!r}")
        try:
            files, size = int(record["files"]), int(record["bytes"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{name}: `files` and `bytes` must be numbers") from None
        return cls(name=name, kind=record["kind"], files=files, bytes=size,
                   fingerprint=fingerprint, path=path, url=url, env=record.get("env"))

    def describe(self) -> str:
        """`cats_and_dogs_filtered.zip, sha256:840886e7…`: enough to recognise the bytes."""
        return f"{self.name}, {self.fingerprint[:15]}…"

    def published(self) -> dict[str, Any]:
        """What a page's results.json says of it: the data's identity, no machine's path."""
        return {"name": self.name, "url": self.url, "kind": self.kind, "files": self.files,
                "bytes": self.bytes, "fingerprint": self.fingerprint}

    def places(self, root: Path) -> list[tuple[str, Path]]:
        """Where this machine may hold it, as (what to call the place, path), in the order a
        run looks: the variable that pointed at it, the recorded place, a download's cache."""
        places = []
        value = os.environ.get(self.env or "")
        if value and "://" not in value:
            places.append((f"{self.env}={value}", Path(value).expanduser().resolve()))
        if self.path:
            places.append((self.path, resolve_path(self.path, root)))
        if self.url:
            fname = _base_name(urllib.parse.urlsplit(self.url).path) or self.name
            places.append(("the Keras download cache", keras_home() / "datasets" / fname))
        return places

    def how_to_supply(self, root: Path | None = None) -> str:
        """The sentence an error ends with: how to put this data where a run finds it (the
        recorded place made absolute from the site's `root` when given)."""
        ways = []
        if self.env:
            ways.append(f"set {self.env}=/path/to/{self.name}")
        if self.path:
            ways.append(f"put it at {resolve_path(self.path, root) if root else self.path}")
        if self.url:
            ways.append(f"download it from {self.url}")
        return " or ".join(ways) if ways else "make it available where the post reads it"


@dataclass(frozen=True)
class Found:
    """Where a recorded data source was looked for on this machine, and what was there."""

    source: DataSource
    place: str | None = None  # None: found nowhere
    difference: str = ""  # empty when the bytes are the recorded ones
    path: Path | None = None  # the file or folder found there

    @property
    def missing(self) -> bool:
        return self.place is None

    @property
    def same(self) -> bool:
        return self.place is not None and not self.difference

    def change(self) -> str:
        """`data changed: x.zip at ../shared/data/x.zip (size 10 -> 12)`."""
        return f"{self.source.name} at {self.place} ({self.difference})"

    def variable(self) -> dict[str, str]:
        """`{CATDOG_SCENES: /abs/x.zip}` when the recorded bytes lie at the recorded place and
        the variable the run read them from is unset here: catdog reads only the variable, so
        the kernel is given it, and a run finds its data wherever the key found it."""
        source = self.source
        if not (self.same and source.env and source.path and self.place == source.path):
            return {}
        return {} if os.environ.get(source.env) else {source.env: str(self.path)}


def sources_of(results: Mapping[str, Any], where: str) -> tuple[list[DataSource], list[str]]:
    """The data sources of a results record, and a warning for each entry that cannot be read.

    `where` names the record (its manifest file) in the warnings. A bad entry never stops a
    build: the results it belongs to stay published.
    """
    sources, warnings = [], []
    for number, record in enumerate(results.get("data") or [], start=1):
        try:
            sources.append(DataSource.from_record(record))
        except ValueError as error:
            warnings.append(f"data source {number} in {where} ignored: {error}")
    return sources, warnings


def locate(source: DataSource, root: Path, fingerprints: FingerprintMemo) -> Found:
    """Looks where a run would: the first place that exists decides, since that is what the
    post would read if it ran again here."""
    for place, path in source.places(root):
        if path.exists():
            return Found(source, place, _difference(source, path, fingerprints), path)
    return Found(source)


def _difference(source: DataSource, path: Path, fingerprints: FingerprintMemo) -> str:
    files, size = fingerprints.stat(path)
    if size != source.bytes:
        return f"size {source.bytes} -> {size}"
    if source.kind != "file" and files != source.files:
        # A zip's `files` counts the images inside, so only a folder's count is comparable.
        return f"files {source.files} -> {files}"
    found = fingerprints.fingerprint(path)
    if found != source.fingerprint:
        return f"content differs, same size: {source.fingerprint[:15]}… -> {found[:15]}…"
    return ""


# --- places ---------------------------------------------------------------------------------


def portable_path(path: str, root: Path) -> str:
    """Where a run found its data, as stored in a committed entry.

    Relative to the site root when near it (`../shared/data/x.zip` is the same file in every
    clone with `shared/` beside it), `~/...` under the home folder, else absolute. Only a hint:
    the data is known by its fingerprint.
    """
    absolute = Path(path).expanduser().resolve()
    if absolute.is_relative_to(root.resolve().parent):
        return os.path.relpath(absolute, root.resolve())
    home = Path.home().resolve()
    if absolute.is_relative_to(home):
        return "~/" + absolute.relative_to(home).as_posix()
    return str(absolute)


def resolve_path(path: str, root: Path) -> Path:
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else (root / expanded).resolve()


def is_inside(path: str, folder: Path) -> bool:
    """True for data the run made itself in its working directory: an output, not an input."""
    return "://" not in path and Path(path).resolve().is_relative_to(folder.resolve())


def _base_name(path: str) -> str:
    return posixpath.basename(str(path).rstrip("/"))


# --- fingerprints ---------------------------------------------------------------------------


class FingerprintMemo(Memo):
    """Content fingerprints remembered by (path, size, mtime), so a no-op build reads no data.

    Kept in a local, uncommitted file: sizes and times are facts of this machine only.
    """

    def stat(self, path: Path) -> tuple[int, int]:
        """(number of files, total bytes) of a file or folder, as catdog records them."""
        return self._stat(path)[:2]

    def fingerprint(self, path: Path) -> str:
        stamp = list(self._stat(path))
        remembered = self.data.get(str(path))
        if remembered and remembered["stamp"] == stamp:
            return remembered["fingerprint"]
        value = catdog_results.fingerprint(path)
        self.data[str(path)] = {"stamp": stamp, "fingerprint": value}
        self.changed = True
        return value

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int]:
        files = catdog_results.data_files(path)
        infos = [file.stat() for file in files]
        return (len(infos), sum(i.st_size for i in infos),
                max((i.st_mtime_ns for i in infos), default=0))
