"""The results record: how a post tells the site builder what its run produced.

A post calls `record(...)` in its cells. Each call shows one output of MIME type
`application/vnd.catdog.results+json` in the notebook, so the record travels inside the
executed notebook itself (like scrapbook's "glue"): the cache keeps it, and the builder
reads it back with `from_notebook` without starting a kernel or importing Keras.

One output carries any of these keys (see README.md, "The results record"):

- `values`: named results, e.g. `test_accuracy`, `epochs`, `train_seconds`, `device`.
- `data`: data sources the run read (path or URL, files, bytes, fingerprint).
- `environment`: Python, Keras, backend and library versions of the kernel, and which catdog
  it imported (`catdog_identity`: version, source digest, folder).

Merging reads the outputs in notebook order: later values win, data sources are
de-duplicated by `path`. This module imports no Keras, so the builder can use it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from catdog import __version__
from catdog.paths import keras_home

MIME_TYPE = "application/vnd.catdog.results+json"
FORMAT_VERSION = 1

_ENVIRONMENT_PACKAGES = ("keras", "tensorflow", "jax", "jaxlib", "numpy")

_record: dict[str, Any] = {"values": {}, "data": [], "environment": {}}


def record(**values: Any) -> dict[str, Any]:
    """Records named results of this run and shows them in the notebook.

    Values must be JSON-friendly: numbers (NumPy scalars are converted), strings,
    booleans, None, and lists or dicts of those.

    Example:
        >>> record(test_accuracy=0.9713, epochs=20, device="CPU")["test_accuracy"]
        0.9713

    Returns:
        All values recorded so far in this process.
    """
    clean = {name: to_json_value(value, name) for name, value in values.items()}
    _record["values"].update(clean)
    _emit({"values": clean})
    return dict(_record["values"])


def finding(name: str, question: str, comparison: Mapping[str, Any]) -> dict[str, Any]:
    """Records one question the post asks and the answer its run gave, for the Findings box.

    The answer is `catdog.stats.verdict_text(comparison)`, so it says what the recorded
    comparison shows and nothing else; the page lists every finding near its top, and a post's
    front matter can declare what it expects of one (`claims:`, checked by `--check`).

    Args:
        name: a short identifier, e.g. "fine_tuning_helps" (what `claims:` refers to).
        question: the question, as the reader would ask it.
        comparison: any comparison made by `catdog.stats` or `catdog.train` (paired, pooled
            over seeds, timing, against a published figure, early stopping).

    Example:
        >>> from catdog import stats
        >>> c = stats.paired_comparison([1] * 60, [1] * 40 + [0] * 20, names=("B", "A"))
        >>> finding("b_beats_a", "Does B beat A?", c)["verdict"]
        'better'
    """
    from catdog import stats

    entry = {"name": name, "question": question, "verdict": stats.verdict_of(comparison),
             "answer": stats.verdict_text(comparison), "test": stats.method_text(comparison),
             "comparison": to_json_value(comparison, name)}
    findings = [f for f in _record["values"].get("findings", []) if f["name"] != name]
    record(findings=[*findings, entry])
    return entry


def record_data_source(
    path: str, *, files: int, bytes: int, fingerprint: str, kind: str = "file",
    name: str | None = None, url: str | None = None, env: str | None = None,
) -> None:
    """Records that this run read a data source, so the builder can tell when it changes.

    The fingerprint (a content hash, e.g. `"sha256:..."`) is the data's identity; `path` (a
    local path, relative ones resolved, or a URL) is only where this run found it. `name`,
    `url` and `env` say where the data comes from, for a reader on any machine.

    Args:
        path: where the data was read.
        files: how many files it holds.
        bytes: its size.
        fingerprint: its content hash.
        kind: "file" (a zip, or a downloaded file), "folder" or "synthetic".
        name: the archive's or folder's base name, e.g. "cats_and_dogs_filtered.zip";
            None takes the base name of `path`.
        url: the official download URL, None for data that exists only locally.
        env: the environment variable catdog reads this source from, e.g. "CATDOG_DATA".

    Example:
        >>> record_data_source("cats_and_dogs_filtered.zip", files=3000, bytes=73102596,
        ...                    fingerprint="sha256:840886e7...", url=DATA_URL,
        ...                    env="CATDOG_DATA")  # doctest: +SKIP
    """
    if "://" not in path:
        path = os.path.abspath(path)
    if name is None:
        name = os.path.basename(path.rstrip("/")) or path
    entry = {"path": path, "kind": kind, "files": int(files), "bytes": int(bytes),
             "fingerprint": fingerprint, "name": name, "url": url, "env": env}
    _record["data"] = [d for d in _record["data"] if d["path"] != path] + [entry]
    _emit({"data": [entry]})


def fingerprint(path: str | os.PathLike) -> str:
    """A content hash of a data file or folder: `"sha256:<hex>"`.

    A file hashes its bytes (so a zip's fingerprint is its published sha256). A folder hashes
    each of its `data_files` by relative path and bytes, in sorted order, so renaming, adding or
    editing any file changes it. catdog records this and the site builder re-checks it with this
    same function, so the two can never disagree.

    Example:
        >>> fingerprint("../shared/data/cats_and_dogs_filtered.zip")[:15]
        'sha256:840886e7'
    """
    path = Path(path)
    digest = hashlib.sha256()
    if path.is_dir():
        for file in data_files(path):
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
            _hash_file(file, digest)
    else:
        _hash_file(path, digest)
    return f"sha256:{digest.hexdigest()}"


def data_files(path: str | os.PathLike) -> list[Path]:
    """The files a data source consists of: the file itself, or every file under a folder.

    Hidden files and folders (`.DS_Store`, catdog's own `.complete` markers) are not data.
    """
    path = Path(path)
    if not path.is_dir():
        return [path]
    files = []
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        files += [Path(folder, name) for name in names if not name.startswith(".")]
    return sorted(files, key=lambda file: file.relative_to(path).as_posix())


def data_size(path: str | os.PathLike) -> tuple[int, int]:
    """(number of files, total bytes) of a data source, counted as `data_files` lists them."""
    files = data_files(path)
    return len(files), sum(file.stat().st_size for file in files)


def _hash_file(path: Path, digest) -> None:
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)


def current() -> dict[str, Any]:
    """Everything recorded so far in this process, merged: values, data, environment."""
    return json.loads(json.dumps(_record))


def environment() -> dict[str, Any]:
    """The versions that decide a result: Python, the Keras backend, the libraries, and catdog.

    `catdog` is `catdog_identity()`: the catdog this process imported, so the site builder
    can check that a run used the catdog its cache key hashed.
    """
    env: dict[str, Any] = {"python": platform.python_version(),
                           "keras_backend": keras_backend_name()}
    for package in _ENVIRONMENT_PACKAGES:
        try:
            env[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            env[package] = None
    env["catdog"] = catdog_identity()
    return env


def catdog_identity() -> dict[str, str]:
    """Which catdog this process imported: its version, source digest and folder.

    `sha256` is `package_digest(package_hashes(<the imported package's folder>))`, the same
    per-file hashing as the cache key's `catdog` part, so the builder can compare the two
    whichever catdog the kernel found (the checkout's, or another one installed).

    Example:
        >>> sorted(catdog_identity())
        ['path', 'sha256', 'version']
    """
    package = Path(__file__).resolve().parent
    return {"version": __version__, "sha256": package_digest(package_hashes(package)),
            "path": str(package)}


def package_hashes(package_dir: str | os.PathLike) -> dict[str, str]:
    """The sha256 of every `*.py` of a package, by path relative to its parent folder.

    Example:
        >>> package_hashes("catdog")["catdog/results.py"][:8]  # doctest: +SKIP
        '3f1c9a0b'
    """
    package_dir = Path(package_dir)
    root = package_dir.parent
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(package_dir.rglob("*.py")) if "__pycache__" not in path.parts}


def package_digest(hashes: Mapping[str, str]) -> str:
    """One sha256 for a package's file hashes: of `json.dumps(hashes, sort_keys=True)`.

    Example:
        >>> package_digest({})[:12]
        '44136fa355b3'
    """
    return hashlib.sha256(json.dumps(dict(hashes), sort_keys=True).encode()).hexdigest()


def keras_backend_name() -> str:
    """The Keras backend this process uses, read the way Keras reads it, without importing it."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    try:
        with open(keras_home() / "keras.json") as f:
            return json.load(f).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def merge(outputs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Merges record outputs in order: later values win, data de-duplicated by path."""
    merged: dict[str, Any] = {"values": {}, "data": [], "environment": {}}
    for output in outputs:
        merged["values"].update(output.get("values", {}))
        merged["environment"].update(output.get("environment", {}))
        for entry in output.get("data", []):
            merged["data"] = [d for d in merged["data"] if d["path"] != entry["path"]]
            merged["data"].append(entry)
    return merged


def from_notebook(notebook: Mapping[str, Any]) -> dict[str, Any]:
    """Reads the merged results record back from an executed notebook (a dict or NotebookNode)."""
    outputs = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            payload = output.get("data", {}).get(MIME_TYPE)
            if payload is not None:
                outputs.append(json.loads(payload) if isinstance(payload, str) else payload)
    return merge(outputs)


def to_json_value(value: Any, name: str = "value") -> Any:
    """Converts NumPy scalars and arrays, tuples and nested containers to plain JSON types."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # NumPy / tensor scalar
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, name) for v in value]
    raise ValueError(
        f"Cannot record `{name}`: results must be numbers, strings, booleans, None, or "
        f"lists/dicts of those. Received: {name}={value!r} of type {type(value).__name__}. "
        "Convert it first, e.g. float(x) or str(x)."
    )


def _emit(payload: dict[str, Any]) -> None:
    """Shows one record output in the running notebook; silent outside IPython."""
    if not _record["environment"]:
        _record["environment"] = environment()
        payload = {**payload, "environment": _record["environment"]}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    shown = {"version": FORMAT_VERSION, **payload}
    text = ", ".join(f"{k}={v!r}" for k, v in payload.get("values", {}).items())
    display({MIME_TYPE: shown, "text/plain": f"recorded: {text}" if text else "recorded"},
            raw=True)
