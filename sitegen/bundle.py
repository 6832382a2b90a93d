"""Post bundles and result bundles: one run of one post as bytes, so any machine can make it.

A *post bundle* holds everything that decides a run: the post's text and cells, the injected
parameters, the kernel, the cache key the author's build computed, catdog's identity (a hash
per file and the version) with its code, the data manifest (each source the last run read:
name, fingerprint, where the author found it; small files travel inside), the path variables
the kernel makes absolute, and the locked environment's identity (`requirements.lock`). A
*result bundle* holds what the run produced: the executed notebook, the small files the post
wrote, its results record, what the worker actually ran (catdog's hashes, the data it found),
the worker's environment and hardware, timings and the kernel's log, or the error that
stopped it.

Both are zip archives: one JSON document plus files, so a bundle can be a file, a pipe through
`ssh`, or one bytes value handed to Dask. `python -m sitegen.worker run < post > result` turns
one into the other (sitegen.worker); this module only makes, packs and unpacks them.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from sitegen import datasources
from sitegen.cache import Cache
from sitegen.datasources import FingerprintMemo
from sitegen.exceptions import BuildError, ExecutionError, Stopped
from sitegen.freshness import FINGERPRINTS, kernel_package
from sitegen.lock import LOCK_FILE
from sitegen.stamps import package_hashes

FORMAT = 1
POST_DOCUMENT = "bundle.json"
RESULT_DOCUMENT = "result.json"
KINDS = {POST_DOCUMENT: "post", RESULT_DOCUMENT: "result"}
# Data files of a post up to this size in all travel inside its bundle (the worker keeps them
# in its data cache by fingerprint); larger data, and data folders, must be on the worker.
MAX_SHIPPED_DATA_BYTES = 16 * 1024 * 1024
WORKER_FACTS = ("host", "name", "processor", "cpus", "machine", "gpu")  # kept in `run.worker`


@dataclass
class PostBundle:
    """What decides one run of one post; `to_bytes()` is what travels to a worker."""

    name: str  # the post's file stem
    post_path: str  # as the author's build names it, so errors name the same file
    text: str  # the post as written (front matter and all), for the record
    notebook: nbformat.NotebookNode  # its cells as the author's build read them
    mode: str  # `real` or `smoke`
    kernel: str
    parameters: dict[str, Any]  # injected after the `parameters` cell
    cell_timeout: int
    key: dict[str, Any]  # the cache key the author's build computed
    catdog: dict[str, Any]  # {"version", "hashes": {"catdog/x.py": sha256}}
    data: list[dict[str, Any]]  # the data manifest (see data_manifest)
    lock: dict[str, Any]  # {"file", "sha256"} of the locked environment, or {}
    path_variables: list[str] = field(default_factory=list)  # made absolute for the kernel
    resources: dict[str, float] = field(default_factory=dict)  # Dask worker resources
    files: dict[str, bytes] = field(default_factory=dict)  # catdog/*.py, data/<hex>/<name>

    def to_bytes(self) -> bytes:
        document = {**_fields(self, exclude=("notebook", "files")), "format": FORMAT,
                    "notebook": nbformat.writes(self.notebook)}
        return _zip(POST_DOCUMENT, document, self.files)

    @classmethod
    def from_bytes(cls, data: bytes) -> PostBundle:
        """Reads a bundle; ValueError says what is wrong with it (not a bundle, another format)."""
        document, files = _unzip(data, POST_DOCUMENT)
        document["notebook"] = nbformat.reads(document["notebook"], as_version=4)
        return cls(**document, files=files)

    def shipped_code(self) -> dict[str, bytes]:
        """catdog's files as the author's build imports them, by path (`catdog/data.py`)."""
        return {name: data for name, data in self.files.items() if name.startswith("catdog/")}


@dataclass
class ResultBundle:
    """What one run produced, or the error that stopped it; checked before anything is stored."""

    name: str
    post_path: str
    notebook: nbformat.NotebookNode | None = None  # executed; None when the run failed
    record: dict[str, Any] = field(default_factory=dict)  # its results record
    ran: dict[str, Any] = field(default_factory=dict)  # catdog the kernel got, data it found
    worker: dict[str, Any] = field(default_factory=dict)  # host, hardware, environment
    timings: dict[str, Any] = field(default_factory=dict)  # ran_at, duration_s, setup_s
    kernel_log: str = ""
    error: dict[str, Any] | None = None  # error_to_dict of what stopped it
    files: dict[str, bytes] = field(default_factory=dict)  # what the post wrote, published
    ran_in: str = ""  # the worker's working folder: data the post made there is not an input

    @property
    def ok(self) -> bool:
        return self.error is None and self.notebook is not None

    def to_bytes(self) -> bytes:
        document = {**_fields(self, exclude=("notebook", "files")), "format": FORMAT,
                    "notebook": nbformat.writes(self.notebook) if self.notebook else None}
        return _zip(RESULT_DOCUMENT, document, self.files)

    @classmethod
    def from_bytes(cls, data: bytes) -> ResultBundle:
        document, files = _unzip(data, RESULT_DOCUMENT)
        if document["notebook"] is not None:
            document["notebook"] = nbformat.reads(document["notebook"], as_version=4)
        return cls(**document, files=files)

    def unpack(self, workdir: Path) -> None:
        """Writes the files the post wrote into `workdir`, as if it had run there."""
        for name, data in self.files.items():
            (workdir / Path(name).name).write_bytes(data)

    def machine(self) -> dict[str, Any]:
        """What the manifest's `run.worker` and the page say of the worker that ran it."""
        return {name: self.worker.get(name) for name in WORKER_FACTS}

    def build_error(self) -> BuildError | None:
        """The error as the author's build reports it (cell, first line, traceback)."""
        return error_from_dict(self.error) if self.error else None


# --- making a post bundle --------------------------------------------------------------------


def make_post_bundle(state, options, config, catdog_dir: Path | None = None) -> PostBundle:
    """The bundle of one stale post (a sitegen.freshness.PostState) under `options` and the
    site's `config`, with everything it needs on another machine.

    `catdog_dir`: the catdog the post's kernel imports here (`kernel_package`, asked of the
    kernel when not given), whose hashes are the key's `catdog` part and whose code travels.
    """
    catdog_dir = catdog_dir if catdog_dir is not None else kernel_package(state.kernel)
    data = data_manifest(state, options)
    bundle = PostBundle(
        name=state.name, post_path=str(state.post.path), text=_read_text(state.post.path),
        notebook=state.post.notebook, mode=state.mode, kernel=state.kernel,
        parameters=dict(state.parameters), cell_timeout=options.cell_timeout,
        key=dict(state.key), catdog=catdog_identity(state.key), data=data,
        lock=lock_identity(options.root),
        path_variables=[*config.path_variables, *state.post.path_variables],
        resources=dict(state.post.resources))
    bundle.files.update(catdog_files(catdog_dir))
    bundle.files.update(shipped_data(data))
    return bundle


def catdog_identity(key: dict[str, Any]) -> dict[str, Any]:
    """catdog's version and the hash of each of its source files: the key's `catdog` part,
    the catdog the author's kernel imports (sitegen.freshness), which the worker must run."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("catdog-blog")
    except PackageNotFoundError:
        release = None
    return {"version": release, "hashes": dict(key["catdog"])}


def catdog_files(package_dir: Path | None) -> dict[str, bytes]:
    """catdog's `*.py` by the names `package_hashes` uses (about 200 kB: always shipped);
    nothing when the author's kernel cannot import catdog (the worker's own is used)."""
    if package_dir is None:
        return {}
    root = package_dir.parent
    return {name: (root / name).read_bytes() for name in package_hashes(package_dir)}


def lock_identity(root: Path) -> dict[str, Any]:
    """The locked environment a worker is compared with: the lock file's name and hash."""
    path = root / LOCK_FILE
    if not path.is_file():
        return {}
    return {"file": LOCK_FILE, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def data_manifest(state, options) -> list[dict[str, Any]]:
    """Each data source the post's last run read (its identity, where the author found it),
    and whether its bytes travel with the bundle. A post never run has none yet.

    Found here as the build's key found it (sitegen.datasources.locate: the first place a
    run would look decides); only the recorded bytes travel.
    """
    entry = state.entry
    where = str(entry.manifest_file) if entry is not None else ""
    sources = datasources.sources_of(entry.results, where)[0] if entry is not None else []
    memo = FingerprintMemo(Cache(options.freeze_dir, options.root).memo_file(FINGERPRINTS))
    manifest, budget = [], MAX_SHIPPED_DATA_BYTES
    for source in sources:
        found = datasources.locate(source, options.root, memo)
        travels = found.same and source.kind == "file" and source.bytes <= budget
        budget -= source.bytes if travels else 0
        manifest.append({**asdict(source), "found": str(found.path) if found.same else None,
                         "shipped": travels})
    return manifest


def shipped_data(manifest: list[dict[str, Any]]) -> dict[str, bytes]:
    """The bytes of each source marked `shipped`, by `data/<sha256 hex>/<name>`."""
    return {data_member(item): Path(item["found"]).read_bytes()
            for item in manifest if item["shipped"]}


def data_member(item: dict[str, Any]) -> str:
    return f"data/{item['fingerprint'].removeprefix('sha256:')}/{item['name']}"


# --- errors across machines ------------------------------------------------------------------


def error_to_dict(error: BuildError) -> dict[str, Any]:
    """A builder error as plain JSON, to travel in a result bundle."""
    kind = ("stopped" if isinstance(error, Stopped) else
            "execution" if isinstance(error, ExecutionError) else "build")
    fields = {name: value for name, value in vars(error).items() if name != "path"}
    return {"kind": kind, "path": str(error.path) if error.path else None, **fields}


def error_from_dict(data: dict[str, Any]) -> BuildError:
    """The error again, of its own type, so the build shows it as a local run's."""
    data = dict(data)
    kind, path = data.pop("kind"), data.pop("path")
    if kind == "stopped":
        return Stopped(path, cell=data.get("cell") or 0, cells=data.get("cells") or 0)
    # Any other failure of a run is reported as a run's failure (ExecutionError) is.
    return ExecutionError(path, data["message"], cell=data.get("cell") or 0,
                          cell_source=data.get("cell_source", ""), ename=data.get("ename", ""),
                          evalue=data.get("evalue", ""), traceback=data.get("traceback", ""))


# --- packing ---------------------------------------------------------------------------------


def _fields(bundle, exclude: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in vars(bundle).items() if name not in exclude}


def _zip(document_name: str, document: dict[str, Any], files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(document_name, json.dumps(document, sort_keys=True))
        for name, data in sorted(files.items()):
            archive.writestr(f"files/{name}", data)
    return buffer.getvalue()


def _unzip(data: bytes, document_name: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            document = json.loads(archive.read(document_name))
            files = {name.removeprefix("files/"): archive.read(name)
                     for name in archive.namelist() if name.startswith("files/")}
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ValueError(f"not a {KINDS[document_name]} bundle ({error}); make one with "
                         "sitegen.bundle") from None
    if document.pop("format", None) != FORMAT:
        raise ValueError(f"a {KINDS[document_name]} bundle of another format; this builder "
                         f"reads format {FORMAT}: use one catdog blog version on both machines")
    return document, files


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""
