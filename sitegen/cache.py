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
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import nbformat

from catdog import results as catdog_results

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

    @cached_property
    def notebook(self) -> nbformat.NotebookNode:
        # We wrote it with nbformat.write, which validated it; reading it back without a second
        # validation saves most of the time a full render spends on cached notebooks.
        from nbformat.reader import reads  # parses and rejoins lines, does not validate

        return reads((self.directory / "notebook.ipynb").read_text())

    def with_prose_of(self, post_notebook: nbformat.NotebookNode) -> "Entry":
        """This entry as the post reads now: its current prose and cell tags, the run's outputs.

        The key covers code cells only, so an entry stays fresh while prose changes; the page
        must still show today's prose.
        """
        view = Entry(self.directory, self.manifest)
        view.notebook = merge_outputs(post_notebook, self.notebook)
        return view

    @property
    def files(self) -> list[Path]:
        folder = self.directory / "files"
        return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


@dataclass
class Staleness:
    """Why an entry cannot be used as it is (`reasons`), and what only deserves a warning."""

    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def merge_outputs(post_notebook: nbformat.NotebookNode,
                  executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The post's cells, each code cell carrying the outputs of its executed twin.

    Cells injected by the build (parameters) stay right after the cell they followed.
    """
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    twins = [cell for cell in ran if not _is_injected(cell)]
    injected_after = {id(ran[i - 1]): cell for i, cell in enumerate(ran) if _is_injected(cell)}
    cells, twin_of = [], iter(twins)
    for cell in post_notebook.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        twin = next(twin_of)
        merged = nbformat.from_dict(dict(cell))
        merged.outputs, merged.execution_count = twin.outputs, twin.execution_count
        cells.append(merged)
        if id(twin) in injected_after:
            cells.append(injected_after[id(twin)])
    notebook = nbformat.from_dict(dict(executed))
    notebook.cells = cells
    return notebook


def _is_injected(cell) -> bool:
    return "injected-parameters" in cell.metadata.get("tags", [])


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
    staleness.reasons += _data_differences(entry.results.get("data", []), root, fingerprints)
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


def _data_differences(sources: list[dict], root: Path, fingerprints: FingerprintMemo):
    reasons = []
    for source in sources:
        if "://" in source["path"]:
            continue  # a URL: the downloaded copy is recorded as its own local source
        path = resolve_data_path(source["path"], root)
        shown = source["path"]
        if not path.exists():
            reasons.append(f"data missing: {shown}")
            continue
        files, size = fingerprints.stat(path)
        if size != source["bytes"] or (path.is_dir() and files != source["files"]):
            # For a folder catdog counts its files; for an archive it counts the images inside.
            reasons.append(f"data changed: {shown} (size {source['bytes']} -> {size}"
                           + (f", files {source['files']} -> {files})" if path.is_dir() else ")"))
        elif fingerprints.fingerprint(path) != source["fingerprint"]:
            reasons.append(f"data changed: {shown} (content differs, same size)")
    return reasons


def _environment_differences(recorded: Mapping[str, Any], current: Mapping[str, Any]):
    if not recorded:
        return []
    return [
        f"{name} {recorded.get(name)} -> {current.get(name)}"
        for name in ENVIRONMENT_KEYS
        if name in recorded and recorded.get(name) != current.get(name)
    ]


# --- data paths and fingerprints ------------------------------------------------------------


def portable_path(path: str, root: Path) -> str:
    """A data path as stored in a committed entry: relative to the repo when near it.

    `../shared/data/x.zip` then means the same file in every clone that has `shared/` beside
    it, wherever the clone lives. Paths elsewhere (a Keras cache) stay absolute.
    """
    if "://" in path:
        return path
    absolute = Path(path).resolve()
    if absolute.is_relative_to(root.resolve().parent):
        return os.path.relpath(absolute, root.resolve())
    return str(absolute)


def _is_inside(path: str, folder: Path) -> bool:
    """True for data the run made itself in its working directory: an output, not an input."""
    return "://" not in path and Path(path).resolve().is_relative_to(folder.resolve())


def resolve_data_path(path: str, root: Path) -> Path:
    return Path(path) if os.path.isabs(path) else (root / path).resolve()


class FingerprintMemo:
    """Content fingerprints remembered by (path, size, mtime), so a no-op build reads no data.

    Kept in a local, uncommitted file: sizes and times are facts of this machine only.
    """

    def __init__(self, memo_file: Path):
        self.memo_file = memo_file
        self.changed = False
        try:
            self.memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            self.memo = {}

    def stat(self, path: Path) -> tuple[int, int]:
        """(number of files, total bytes) of a file or folder, as catdog records them."""
        return self._stat(path)[:2]

    def fingerprint(self, path: Path) -> str:
        stamp = list(self._stat(path))
        remembered = self.memo.get(str(path))
        if remembered and remembered["stamp"] == stamp:
            return remembered["fingerprint"]
        value = catdog_results.fingerprint(path)
        self.memo[str(path)] = {"stamp": stamp, "fingerprint": value}
        self.changed = True
        return value

    def save(self) -> None:
        if self.changed:
            self.memo_file.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.memo_file, json.dumps(self.memo, indent=1, sort_keys=True))

    @staticmethod
    def _stat(path: Path) -> tuple[int, int, int]:
        files = catdog_results.data_files(path)
        infos = [file.stat() for file in files]
        return (len(infos), sum(i.st_size for i in infos),
                max((i.st_mtime_ns for i in infos), default=0))


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
        record["data"] = [{**source, "path": portable_path(source["path"], root)}
                          for source in record["data"] if not _is_inside(source["path"], workdir)]
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


def _copy_published_files(workdir: Path, destination: Path) -> None:
    """Top-level files only: sub-folders hold tools' scratch (a tuner's trials, say)."""
    for path in sorted(workdir.iterdir()):
        if (path.is_file() and path.suffix.lower() in PUBLISHED_SUFFIXES
                and path.stat().st_size <= MAX_PUBLISHED_BYTES):
            target = destination / path.relative_to(workdir)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def swap_directory(staging: Path, target: Path) -> None:
    """Replaces folder `target` by `staging`: readers see the old one or the new one, never half."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Writes a file so readers see the old content or the new, never a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, bytes):
        temporary.write_bytes(content)
    else:
        temporary.write_text(content)
    os.replace(temporary, path)


def now_iso() -> str:
    """The current UTC time, to the second: when a run happened is a fact of that run."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.replace(microsecond=0).isoformat()
