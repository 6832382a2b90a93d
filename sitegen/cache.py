"""The execution cache ("freeze"): executed posts kept in `_freeze/`, with what they depend on.

Each entry is a folder `_freeze/<post file stem>/<mode>/` (mode `real` or `smoke`):

- `notebook.ipynb`: the executed notebook (its outputs hold the results record);
- `manifest.json`: the cache format, the key, the run's facts and the merged results record;
- `files/`: small files the post wrote into its working directory (CSV, JSON, images);
- `failed.json`, beside a good entry or alone: the key and error of the last failed run.

The key is a dict of named parts, so a new input joins it as one more part and `stale_reasons`
can say which part changed. Parts known before a run (`code`, `kernel`, `parameters`,
`catdog`) are computed by `make_key`; parts only known after a run (the data the post read,
its environment) come from the results record and are re-checked on every build, the way a
compiler's dependency file works.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import nbformat

from catdog import results as catdog_results
from sitegen import datasources
from sitegen.datasources import DataSource, FingerprintMemo
from sitegen.files import swap_directory, write_atomically

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# Files a post writes at the top of its working directory that are kept with its entry and published
# beside its page. Anything else (model checkpoints, extracted data) stays out of the cache.
PUBLISHED_SUFFIXES = {".csv", ".json", ".txt", ".png", ".jpg", ".jpeg", ".svg", ".md"}
MAX_PUBLISHED_BYTES = 2 * 1024 * 1024

# Environment differences that are only warnings unless --strict.
ENVIRONMENT_KEYS = ("python", "keras_backend", "keras", "tensorflow", "jax", "numpy")


@dataclass
class Entry:
    """One executed post as stored in the cache. The notebook is read only when needed."""

    directory: Path
    manifest: dict[str, Any]

    @property
    def key(self) -> dict[str, Any]:
        return self.manifest["key"]

    @property
    def run(self) -> dict[str, Any]:
        return self.manifest["run"]

    @property
    def results(self) -> dict[str, Any]:
        return self.manifest["results"]

    @property
    def manifest_file(self) -> Path:
        return self.directory / "manifest.json"

    @cached_property
    def notebook(self) -> nbformat.NotebookNode:
        # We wrote it with nbformat.write, which validated it; reading it back without a second
        # validation saves most of the time a full render spends on cached notebooks.
        from nbformat.reader import reads  # parses and rejoins lines, does not validate

        return reads((self.directory / "notebook.ipynb").read_text())

    @property
    def files(self) -> dict[str, Path]:
        """The files the post wrote, by the name they are published under beside its page."""
        folder = self.directory / "files"
        paths = sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []
        return {path.relative_to(folder).as_posix(): path for path in paths}

    def stamp(self) -> list[str | bytes]:
        """Everything the entry consists of, cheaply: a different stamp is a different entry."""
        files = [f"{name}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
                 for name, path in self.files.items()]
        return [str(self.directory), self.manifest_file.read_bytes(),
                (self.directory / "notebook.ipynb").read_bytes(), *files]


@dataclass
class Staleness:
    """Why an entry cannot be used as it is (`reasons`), and what only deserves a word.

    `warnings` are environment differences; `missing` is the recorded data this machine does
    not have, which leaves the results standing (they are known by content, not by place).
    """

    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: list[DataSource] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """What `--status` says of an entry that is still used as it is."""
        if not self.missing:
            return list(self.warnings)
        names = "; ".join(source.describe() for source in self.missing)
        return [f"data not on this machine: {names}; results as recorded", *self.warnings]


# --- the key -------------------------------------------------------------------------------


def make_key(notebook: nbformat.NotebookNode, *, kernel: str, parameters: Mapping[str, Any],
             catdog_files: Mapping[str, str]) -> dict[str, Any]:
    """The parts of the cache key known before a run.

    Only code cells count (their source and the tags that change how they run), so editing
    prose, the title, tags or an `expect:` never re-runs a post.
    """
    return {
        "code": code_hash(notebook),
        "kernel": kernel,
        "parameters": catdog_results.to_json_value(dict(parameters), "parameters"),
        "catdog": dict(catdog_files),
    }


def code_hash(notebook: nbformat.NotebookNode) -> str:
    cells = [
        [cell.source, sorted(set(cell.metadata.get("tags", [])) & {"raises-exception"})]
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]
    return _sha256(json.dumps(cells))


def package_hashes(package_dir: Path) -> dict[str, str]:
    """A hash of every source file of a package, by path relative to its parent folder."""
    root = package_dir.parent
    return {
        path.relative_to(root).as_posix(): _sha256(path.read_bytes())
        for path in sorted(package_dir.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


# --- saying why ----------------------------------------------------------------------------


def stale_reasons(entry: Entry, key: Mapping[str, Any], *, root: Path,
                  fingerprints: FingerprintMemo, environment: Mapping[str, Any] | None = None,
                  strict: bool = False) -> Staleness:
    """Compares an entry with the current inputs and lists every difference, most useful first.

    `environment` is this process's (`catdog.results.environment()`), read once per build.
    """
    staleness = Staleness(reasons=_key_differences(entry.key, key))
    sources, unreadable = datasources.sources_of(entry.results, str(entry.manifest_file))
    staleness.warnings += unreadable
    for found in (datasources.locate(source, root, fingerprints) for source in sources):
        if found.missing:
            staleness.missing.append(found.source)
            if strict:
                staleness.reasons.append(f"data not on this machine: {found.source.describe()}"
                                         " (--strict)")
        elif not found.same:
            staleness.reasons.append(f"data changed: {found.change()}")
    differences = _environment_differences(entry.results.get("environment", {}),
                                           environment or catdog_results.environment())
    if strict:
        staleness.reasons += differences
    else:
        staleness.warnings += [f"{difference} (warning)" for difference in differences]
    return staleness


def _key_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    reasons = []
    if old.get("code") != new["code"]:
        reasons.append("code cells changed")
    if old.get("kernel") != new["kernel"]:
        reasons.append(f"kernel changed: {old.get('kernel')} -> {new['kernel']}")
    reasons += _parameter_differences(old.get("parameters", {}), new["parameters"])
    reasons += _package_differences(old.get("catdog", {}), new["catdog"])
    return reasons


def _parameter_differences(old: Mapping, new: Mapping) -> list[str]:
    def shown(values: Mapping, name: str) -> str:
        return repr(values[name]) if name in values else "(the post's default)"

    changes = [f"{name} {shown(old, name)} -> {shown(new, name)}"
               for name in sorted(set(old) | set(new))
               if name not in old or name not in new or old[name] != new[name]]
    return [f"parameters changed: {', '.join(changes)}"] if changes else []


def _package_differences(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    reasons = []
    for path in sorted(set(old) | set(new)):
        if path not in old:
            reasons.append(f"{path} added")
        elif path not in new:
            reasons.append(f"{path} removed")
        elif old[path] != new[path]:
            reasons.append(f"{path} changed")
    return reasons


def _environment_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]):
    if not recorded:
        return []
    return [
        f"{name} {recorded.get(name)} -> {current.get(name)}"
        for name in ENVIRONMENT_KEYS
        if name in recorded and recorded.get(name) != current.get(name)
    ]


# --- the store ------------------------------------------------------------------------------


class Cache:
    """Reads and writes entries under one `_freeze/` folder; safe for two builds at once."""

    def __init__(self, directory: Path):
        self.directory = directory

    def entry_directory(self, post_path: Path, mode: str) -> Path:
        return self.directory / post_path.stem / mode

    def load(self, post_path: Path, mode: str) -> Entry | None:
        """The stored entry, or None. A corrupt or outdated entry is a miss with one warning."""
        folder = self.entry_directory(post_path, mode)
        manifest_file = folder / "manifest.json"
        if not manifest_file.exists():
            return None
        try:
            manifest = json.loads(manifest_file.read_text())
            if manifest.get("format") != FORMAT_VERSION:
                raise ValueError(f"cache format {manifest.get('format')!r}, "
                                 f"expected {FORMAT_VERSION}")
            if not (folder / "notebook.ipynb").is_file():
                raise ValueError("notebook.ipynb is missing")
            manifest["key"], manifest["run"], manifest["results"]  # noqa: B018 (must exist)
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("Ignoring cache entry %s (%s); the post will run again.",
                        manifest_file, error)
            return None
        return Entry(folder, manifest)

    def store(self, post_path: Path, mode: str, *, notebook: nbformat.NotebookNode,
              key: Mapping[str, Any], run: Mapping[str, Any], workdir: Path,
              root: Path) -> Entry:
        """Writes a complete entry next to the old one, then swaps it in under a lock."""
        record = catdog_results.from_notebook(notebook)
        record["data"] = [_portable(source, root) for source in record["data"]
                          if not datasources.is_inside(source["path"], workdir)]
        manifest = {"format": FORMAT_VERSION, "key": dict(key), "run": dict(run),
                    "results": record}
        target = self.entry_directory(post_path, mode)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{mode}-new-", dir=target.parent))
        nbformat.write(notebook, staging / "notebook.ipynb")
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
        _copy_published_files(workdir, staging / "files")
        with self.lock():
            swap_directory(staging, target)
            (target.parent / f"{mode}.failed.json").unlink(missing_ok=True)
        return Entry(target, manifest)

    def store_failure(self, post_path: Path, mode: str, *, key: Mapping[str, Any],
                      error: str, summary: str) -> None:
        """Remembers a failed run beside (never inside) the last good entry."""
        failure = {"format": FORMAT_VERSION, "key": dict(key), "summary": summary,
                   "error": error, "when": now_iso()}
        target = self.entry_directory(post_path, mode).parent / f"{mode}.failed.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.lock():
            write_atomically(target, json.dumps(failure, indent=1, sort_keys=True))

    def load_failure(self, post_path: Path, mode: str) -> dict[str, Any] | None:
        target = self.entry_directory(post_path, mode).parent / f"{mode}.failed.json"
        try:
            return json.loads(target.read_text())
        except (OSError, ValueError):
            return None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock over the whole cache, held only while entries are swapped."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def workdir(self, post_path: Path, mode: str) -> Path:
        """A fresh, private working directory for one run of a post."""
        parent = self.entry_directory(post_path, mode).parent
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{mode}-run-", dir=parent))


def _portable(source: dict[str, Any], root: Path) -> dict[str, Any]:
    """A data record as committed: named, and found at a path that means something elsewhere."""
    path = source["path"]
    if "://" in path:
        return {"name": datasources.DataSource.from_record(source).name, **source}
    return {"name": Path(path).name, **source, "path": datasources.portable_path(path, root)}


def _copy_published_files(workdir: Path, destination: Path) -> None:
    """Top-level files only: sub-folders hold tools' scratch (a tuner's trials, say)."""
    for path in sorted(workdir.iterdir()):
        if (path.is_file() and path.suffix.lower() in PUBLISHED_SUFFIXES
                and path.stat().st_size <= MAX_PUBLISHED_BYTES):
            target = destination / path.relative_to(workdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def now_iso() -> str:
    """The current UTC time, to the second: when a run happened is a fact of that run."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.replace(microsecond=0).isoformat()
