"""The execution cache ("freeze"): executed posts kept in `_freeze/`, with what they depend on.

Each entry is a folder `_freeze/<post file stem>/<mode>/` (mode `real` or `smoke`):

- `notebook.ipynb`: the executed notebook (its outputs hold the results record);
- `manifest.json`: the cache format, the key, the run's facts and the merged results record,
  and `digests`: the sha256 of each part (notebook, files, record) as the run stored it;
- `files/`: small files the post wrote into its working directory (CSV, JSON, images);
- `post.json`: the post's cells as they were read from its text (sitegen.postmemo);
- `highlight.json` and `prose.json`: its code cells as highlighted HTML (sitegen.highlight)
  and its plain markdown cells as HTML (sitegen.markup), so a fresh clone renders without
  lexing and parsing them again; memos, sealed by `digests.highlight` and `digests.prose`, used
  only when made by the same libraries and code, else ignored;
- `failed.json`, beside a good entry or alone: the key and error of the last failed run;
- `reproduced.json`: what `--reproduce` found when it ran the post again (sitegen.reproduce).
  A later finding about the run, not part of it: no digest covers it, so writing it is never a
  hand edit, and a new run (a new folder) leaves it behind.

An entry is published only as a run wrote it. Loading compares each part with its digest, so an
entry edited by hand, damaged, or half-resolved in a merge is never published as fresh: it is
`Unusable`, and the post runs again. Entries written before digests existed are read as legacy:
their notebook must parse and its results record must be the manifest's.

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
from sitegen import datasources
from sitegen.cells import is_injected
from sitegen.exceptions import WriteError
from sitegen.files import (RefusedFile, copy_regular, describe_irregular, final_name,
                           open_regular, swap_directory, write_atomically, write_file)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

# Files a post writes at the top of its working directory that are kept with its entry and published
# beside its page. Anything else (model checkpoints, extracted data) stays out of the cache.
PUBLISHED_SUFFIXES = {".csv", ".json", ".txt", ".png", ".jpg", ".jpeg", ".svg", ".md"}
MAX_PUBLISHED_BYTES = 2 * 1024 * 1024

REPRODUCTION_FILE = "reproduced.json"  # in the entry's folder, outside its digested parts


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
        return read_notebook(_read_regular(self.directory / "notebook.ipynb"))

    @cached_property
    def files(self) -> dict[str, Path]:
        """The files the post wrote, by the name they are published under beside its page.

        Regular files only: a link (to a file or a folder) or a device in a committed entry is
        skipped with a warning, so nothing outside the entry is ever published.
        """
        return _regular_files(self.directory / "files")

    @cached_property
    def highlighted(self) -> dict[str, str]:
        """Code cells' HTML as the run stored it, by sitegen.highlight.cell_key; {} when the
        memo is missing, changed since the run, or made by another Pygments or highlighter."""
        from sitegen import highlight

        return highlight.read_memo(self.sealed_memo(highlight.MEMO, "highlight"))

    @cached_property
    def prose(self) -> dict[str, dict]:
        """Markdown cells' HTML as the run stored it (sitegen.markup.make_prose_memo); {} when
        the memo is missing, changed since the run, or made by other Markdown or MathML code."""
        from sitegen import markup

        return markup.read_prose_memo(self.sealed_memo(markup.PROSE_MEMO, "prose"))

    def sealed_memo(self, name: str, part: str) -> bytes:
        """A memo file of the entry as its run sealed it (`digests[part]`); b"" otherwise."""
        try:
            data = _read_regular(self.directory / name)
        except (OSError, RefusedFile):
            return b""
        return data if _sha256(data) == self.manifest.get("digests", {}).get(part) else b""

    @cached_property
    def reproduction(self) -> dict[str, Any] | None:
        """What `--reproduce` found for this very run (None when never reproduced, or when the
        record is unreadable or about an earlier run), for the page, results.json and --status."""
        try:
            record = json.loads(_read_regular(self.directory / REPRODUCTION_FILE))
        except (OSError, ValueError, RefusedFile):
            return None
        if not isinstance(record, dict) or record.get("of_run") != self.run.get("ran_at"):
            return None
        return record

    def digests(self) -> dict[str, Any]:
        """What each part of the entry hashes to now; stored with the run, compared on loading."""
        return {"notebook": _sha256(_read_regular(self.directory / "notebook.ipynb")),
                "files": {name: _sha256(_read_regular(path)) for name, path in self.files.items()},
                "record": record_digest(self.manifest)}

    def stamp(self) -> list[str | bytes]:
        """Everything the entry consists of, cheaply: a different stamp is a different entry."""
        files = [f"{name}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
                 for name, path in self.files.items()]
        reproduction = json.dumps(self.reproduction, sort_keys=True)
        return [str(self.directory), self.manifest_file.read_bytes(),
                (self.directory / "notebook.ipynb").read_bytes(), *files, reproduction]


@dataclass(eq=False)
class Page:
    """One post's page: the post, and the run it shows (record, facts, notebook, files, memos).

    The cache answers "this post with its cached outputs" in one type, as jupyter-cache's
    `merge_match_into_notebook` does. The key covers code cells only, so a fresh entry shows
    today's prose with the run's outputs (`merge`); a post whose code changed since its last
    good run shows that run as it was. The notebook and memos are read only when rendered: the
    index, tags and feed need only the record.
    """

    post: Any
    results: dict[str, Any]
    run: dict[str, Any]
    reproduction: dict[str, Any] | None = None  # what `--reproduce` found (sitegen.reproduce)
    entry: Entry | None = None  # the stored run; None for a page given its notebook
    merge: bool = False  # today's cells with the run's outputs, else the run's own cells
    cells: nbformat.NotebookNode | None = field(default=None, repr=False)  # given, not stored

    @cached_property
    def notebook(self) -> nbformat.NotebookNode:
        if self.entry is None:
            return self.cells
        return merge_outputs(self.post.notebook, self.entry.notebook) if self.merge \
            else self.entry.notebook

    @property
    def files(self) -> dict[str, Path]:
        """The files the run wrote, published beside the page."""
        return self.entry.files if self.entry is not None else {}

    @property
    def highlighted(self) -> dict[str, str]:
        return self.entry.highlighted if self.entry is not None else {}

    @property
    def prose(self) -> dict[str, dict]:
        return self.entry.prose if self.entry is not None else {}

    @cached_property
    def sources(self) -> list[datasources.DataSource]:
        """The data the run read, parsed once from its record for the whole page."""
        return datasources.sources_of(self.results, self.post.url)[0]


def page(state: Any, as_run: bool = False) -> Page:
    """The page of a post (its PostState) with an entry; `as_run`: the run exactly as it ran,
    its own prose, not today's (the page kept when today's cannot be rendered)."""
    entry = state.entry
    merge = not as_run and entry.key.get("code") == state.key["code"]
    return Page(state.post, entry.results, entry.run, entry.reproduction, entry, merge)


@dataclass
class Unusable:
    """A stored entry the build must not use, and why: unreadable, from another cache format,
    or changed since its run stored it. The post runs again (`--frozen` fails naming it)."""

    directory: Path
    why: str  # e.g. "modified by hand (notebook)", "damaged (notebook.ipynb: ...)"

    def status(self) -> str:
        """The `--status` line: never `fresh`, whatever the entry claims."""
        return f"stale: cache entry {self.why}"


class _Damaged(Exception):
    """Why an entry is Unusable; raised while reading it, caught once in `Cache.load`."""


def _sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


# --- the store ------------------------------------------------------------------------------


class Cache:
    """Reads and writes entries under one `_freeze/` folder; safe for two builds at once."""

    def __init__(self, directory: Path, root: Path | None = None):
        self.directory = directory
        self.root = root if root is not None else directory.parent  # the site's, for data paths

    def memo_file(self, name: str) -> Path:
        """Where a local memo lives (uncommitted: facts of this machine), e.g. `posts.pickle`."""
        return self.directory / ".local" / name

    def orphans(self, names: set[str]) -> list[Path]:
        """Entry folders of posts not among `names` (file stems): never used again."""
        if not self.directory.is_dir():
            return []
        return [folder for folder in sorted(self.directory.iterdir()) if folder.is_dir()
                and not folder.name.startswith(".") and folder.name not in names]

    def entry_directory(self, post_path: Path, mode: str) -> Path:
        return self.directory / post_path.stem / mode

    def load(self, post_path: Path, mode: str) -> Entry | Unusable | None:
        """The stored entry; None if there is none; Unusable if there is one the build must not
        use (unreadable, another cache format, changed since its run). Never raises."""
        folder = self.entry_directory(post_path, mode)
        if not os.path.lexists(folder / "manifest.json"):
            return None
        try:
            entry = Entry(folder, _read_manifest(folder))
            _check_parts(entry)
        except _Damaged as problem:
            return Unusable(folder, str(problem))
        return entry

    def store(self, state: Any, execution: Any) -> Entry:
        """Stores a good run (sitegen.execute.Execution) of a post (its PostState) as the
        post's entry, with the cells the build read as its memo."""
        post = state.post
        return self._store(post.path, state.mode, notebook=execution.notebook, key=state.key,
                           run=execution.run_facts(), workdir=execution.workdir,
                           ran_in=execution.ran_in or execution.workdir,
                           parsed=(post.parse_key, post.notebook))

    def _store(self, post_path: Path, mode: str, *, notebook: nbformat.NotebookNode,
               key: Mapping[str, Any], run: Mapping[str, Any], workdir: Path, ran_in: Path,
               parsed: tuple[str, nbformat.NotebookNode]) -> Entry:
        """Writes a complete entry next to the old one, then swaps it in under a lock.

        Data inside `ran_in` (the folder the kernel ran in: `workdir`, or a cluster worker's)
        is the post's own making, not an input. A disk error (full, read-only, no permission,
        a size limit) raises WriteError naming the file; the staging folder is removed and the
        old entry is left as it was.
        """
        from sitegen import highlight, markup, postmemo  # only a build storing a run needs them

        record = catdog_results.from_notebook(notebook)
        record["data"] = [_portable(source, self.root) for source in record["data"]
                          if not datasources.is_inside(source["path"], ran_in)]
        record["environment"] = portable_environment(record["environment"], self.root)
        manifest = json.loads(json.dumps({"format": FORMAT_VERSION, "key": dict(key),
                                          "run": dict(run), "results": record}))
        target = self.entry_directory(post_path, mode)
        staging = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{mode}-new-", dir=target.parent))
            write_file(staging / "notebook.ipynb", nbformat.writes(notebook))
            memos = {"highlight": (highlight.MEMO, highlight.make_memo(notebook)),
                     "prose": (markup.PROSE_MEMO, markup.make_prose_memo(notebook))}
            for name, text in memos.values():
                write_file(staging / name, text)
            write_file(staging / postmemo.MEMO, postmemo.make_memo(*parsed))
            _copy_published_files(workdir, staging / "files", post_path)
            manifest["digests"] = {**Entry(staging, manifest).digests(),
                                   **{part: _sha256(text) for part, (_, text) in memos.items()}}
            write_file(staging / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
            with self.lock():
                swap_directory(staging, target)
                (target.parent / f"{mode}.failed.json").unlink(missing_ok=True)
        except OSError as error:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise WriteError.of(error, final_name(error, staging, target),
                                f"nothing was stored for {post_path}: its cache entry is as "
                                "it was") from None
        return Entry(target, manifest)

    def store_failure(self, post_path: Path, mode: str, *, key: Mapping[str, Any],
                      error: str, summary: str) -> None:
        """Remembers a failed run beside (never inside) the last good entry.

        Only a help for `--status`: if the disk refuses it, a warning says so and the build
        reports the failure itself as usual.
        """
        failure = {"format": FORMAT_VERSION, "key": dict(key), "summary": summary,
                   "error": error, "when": now_iso()}
        target = self.entry_directory(post_path, mode).parent / f"{mode}.failed.json"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with self.lock():
                write_atomically(target, json.dumps(failure, indent=1, sort_keys=True))
        except OSError as problem:
            log.warning("%s: cannot remember this failure in %s (%s)", post_path, target,
                        problem.strerror or problem)

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
        try:
            parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=f".{mode}-run-", dir=parent))
        except OSError as error:
            raise WriteError.of(error, parent, f"{post_path} did not run") from None


# --- reading an entry -----------------------------------------------------------------------


def _read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest, checked for what every reader of an entry relies on."""
    try:
        manifest = json.loads(_read_regular(folder / "manifest.json"))
    except (OSError, ValueError, RefusedFile) as error:
        raise _Damaged(f"damaged (manifest.json: {error})") from None
    if not isinstance(manifest, dict):
        raise _Damaged("damaged (manifest.json is not a cache manifest)")
    version = manifest.get("format")
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise _Damaged(f"written by a newer builder (cache format {version}, this one "
                           f"reads {FORMAT_VERSION}): update the builder to use it")
        raise _Damaged(f"in another cache format (cache format {version!r}, expected "
                       f"{FORMAT_VERSION})")
    for part in ("key", "run", "results"):
        if not isinstance(manifest.get(part), dict):
            raise _Damaged(f"damaged (manifest.json has no `{part}`)")
    for part in ("values", "environment"):
        if not isinstance(manifest["results"].get(part, {}), dict):
            raise _Damaged(f"damaged (manifest.json: results.{part} is not a mapping)")
    return manifest


def _check_parts(entry: Entry) -> None:
    """Raises _Damaged unless every part of the entry is as its run stored it."""
    stored = entry.manifest.get("digests")
    if stored is None:
        _check_legacy(entry)
        return
    try:
        actual = entry.digests()
    except (OSError, RefusedFile) as error:
        raise _Damaged(f"damaged ({error})") from None
    if not isinstance(stored, dict) or not isinstance(stored.get("files"), dict):
        raise _Damaged("damaged (manifest.json: `digests` is not what a run writes)")
    modified = modified_parts(stored, actual)
    if modified:
        raise _Damaged(f"modified by hand ({'; '.join(modified)})")


def modified_parts(stored: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """The parts whose digest differs: `notebook`, `record`, `files: a.csv, b.png`."""
    parts = [part for part in ("notebook", "record") if stored.get(part) != actual[part]]
    names = sorted(set(stored["files"]) | set(actual["files"]))
    files = [name for name in names if stored["files"].get(name) != actual["files"].get(name)]
    return parts + ([f"files: {', '.join(files)}"] if files else [])


def _check_legacy(entry: Entry) -> None:
    """An entry written before digests: its notebook must parse, and the results record in
    its manifest must be the one the notebook's outputs hold (a value edited in one of them
    shows). The committed entries of older builds stay valid without running again."""
    try:
        notebook = entry.notebook
        from_notebook = catdog_results.from_notebook(notebook)
    except (OSError, RefusedFile, ValueError, TypeError, KeyError, AttributeError,
            nbformat.ValidationError) as error:
        raise _Damaged(f"damaged (notebook.ipynb: {_first_line(error)})") from None
    changed = [part for part in ("values", "environment")
               if from_notebook.get(part, {}) != entry.results.get(part, {})]
    if changed:
        raise _Damaged(f"modified by hand (record: {' and '.join(changed)} differ from the "
                       "notebook's)")


def record_digest(manifest: Mapping[str, Any]) -> str:
    """The digest of what the manifest records (key, run, results): everything but digests."""
    recorded = {name: value for name, value in manifest.items() if name != "digests"}
    return _sha256(json.dumps(recorded, sort_keys=True))


def read_notebook(data: bytes) -> nbformat.NotebookNode:
    """nbformat.reader.reads without validation, the JSON parser making the NotebookNodes
    itself (`object_hook`) instead of nbformat's second pass over every output, which was a
    tenth of a cold render."""
    from nbformat.reader import reads
    from nbformat.v4.rwbase import rejoin_lines, strip_transient

    notebook = json.loads(data, object_hook=nbformat.NotebookNode)
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        return reads(data)  # another version (or not a notebook): nbformat says what is wrong
    return strip_transient(rejoin_lines(notebook))


def _read_regular(path: Path) -> bytes:
    """A file of an entry, read only if it is a regular file (never a link, never a pipe)."""
    with open_regular(path) as reader:
        return reader.read()


def _regular_files(folder: Path) -> dict[str, Path]:
    """The regular files under `folder`, by relative name; anything else is skipped, warned."""
    if not os.path.lexists(folder):
        return {}
    if (why := describe_irregular(folder)) != "a folder":
        log.warning("%s: not publishing it: it is %s; an entry's files must be regular files.",
                    folder, why or "a file")
        return {}
    found = {}
    for parent, folders, names in os.walk(folder):  # never enters a linked folder
        for name in sorted(folders + names):
            path = Path(parent) / name
            why = describe_irregular(path)
            if why is None:
                found[path.relative_to(folder).as_posix()] = path
            elif why != "a folder":
                log.warning("%s: not publishing it: it is %s; an entry's files must be regular "
                            "files.", path, why)
    return dict(sorted(found.items()))


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


def _portable(source: dict[str, Any], root: Path) -> dict[str, Any]:
    """A data record as committed: named, and found at a path that means something elsewhere."""
    path = source["path"]
    if "://" in path:
        return {"name": datasources.DataSource.from_record(source).name, **source}
    return {"name": Path(path).name, **source, "path": datasources.portable_path(path, root)}


def portable_environment(environment: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """A run's environment as committed (an entry's, a reproduction's): the folder of the catdog
    it imported relative to the site when near it (sitegen.datasources.portable_path), like a
    data source's, so no machine's path is published; its digest says which code."""
    catdog = environment.get("catdog")
    if not (isinstance(catdog, Mapping) and isinstance(catdog.get("path"), str)):
        return dict(environment)
    return {**environment,
            "catdog": {**catdog, "path": datasources.portable_path(catdog["path"], root)}}


def _copy_published_files(workdir: Path, destination: Path, post_path: Path) -> None:
    """Top-level regular files only: sub-folders hold tools' scratch (a tuner's trials, say).

    A link (to a file or a folder), a device, a pipe or a file with other hard links is skipped
    with a warning: its bytes may come from anywhere on the machine.
    """
    for path in sorted(workdir.iterdir()):
        if path.suffix.lower() not in PUBLISHED_SUFFIXES:
            continue
        try:
            if (why := _unpublishable(path)) is not None:
                raise RefusedFile(why)
            if path.lstat().st_size > MAX_PUBLISHED_BYTES:
                continue
            destination.mkdir(exist_ok=True)
            copy_regular(path, destination / path.name)
        except RefusedFile as why:
            log.warning("%s: not publishing %s from its working folder: it is %s; a post "
                        "publishes only regular files it wrote there.", post_path, path.name, why)


def _unpublishable(path: Path) -> str | None:
    if (why := describe_irregular(path)) is not None:
        return why
    links = path.lstat().st_nlink
    return f"a hard link ({links} names) to a file that also lies elsewhere" if links > 1 else None


def merge_outputs(post_notebook: nbformat.NotebookNode,
                  executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The post's cells, each code cell carrying the outputs of its executed twin.

    Cells injected by the build (parameters) stay right after the cell they followed. Copies
    are shallow (neither notebook is changed, nor is the result: it is only rendered), as a deep
    copy of every output cost 3 % of a cold render.
    """
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    twins = [cell for cell in ran if not is_injected(cell)]
    injected_after = {id(ran[i - 1]): cell for i, cell in enumerate(ran) if is_injected(cell)}
    cells, twin_of = [], iter(twins)
    for cell in post_notebook.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        twin = next(twin_of)
        merged = nbformat.NotebookNode(cell)
        merged.outputs, merged.execution_count = twin.outputs, twin.execution_count
        cells.append(merged)
        if id(twin) in injected_after:
            cells.append(injected_after[id(twin)])
    notebook = nbformat.NotebookNode(executed)
    notebook.cells = cells
    return notebook


def now_iso() -> str:
    """The current UTC time, to the second: when a run happened is a fact of that run."""
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.replace(microsecond=0).isoformat()
