"""Incremental building: parse only changed posts, render only changed pages.

A no-op rebuild neither parses nor renders what it did last time, and `--status` parses only
changed posts:

- each post file is parsed once per (path, size, mtime); the Post is kept in
  `_freeze/.local/posts.pickle` (local, uncommitted, like the fingerprint memo);
- each page's inputs (post file, entry manifest and notebook, published files, templates,
  site settings, the renderer's source and library versions) are hashed into a stamp kept in
  `_site/.buildinfo.json` with the files the page wrote; a post whose stamp is unchanged has
  those files hard-linked from the old `_site/` into the new one instead of being rendered;
- what must be parsed or rendered is spread over worker processes, one per CPU, when there
  is enough of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

from sitegen.cache import Cache
from sitegen.files import write_atomically, write_file
from sitegen.config import SiteConfig
from sitegen.exceptions import PostError, RenderError
from sitegen.posts import Post
from sitegen.state import PostState

log = logging.getLogger(__name__)

POST_MEMO = "posts.pickle"
BUILDINFO = ".buildinfo.json"
MEMO_VERSION = 1
MODES = ("real", "smoke")  # a run of either mode keeps the cells it was read into
PARALLEL_MIN = 16  # fewer jobs than this run in this process: a worker pool costs ~0.1 s
RENDER_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pygments",
                    "nbformat", "latex2mathml", "pillow")


def read_posts(config: SiteConfig, options, errors: list[PostError]) -> list[Post]:
    """Every post of the site, newest first, parsing only the files changed since the last build.

    Drafts are left out unless `options.drafts`. A bad post (or the second of two with one
    permalink) joins `errors`, and the other posts are still read: the build goes on.
    """
    from sitegen.posts import KNOWN_KEYS, check_unique_permalink

    memo_file = options.freeze_dir / ".local" / POST_MEMO
    context = _hash_parts([str(MEMO_VERSION), repr(config), *_versions(("jupytext", "nbformat",
                                                                          "pyyaml")),
                           *_builder_sources()])
    memo = _load_memo(memo_file, context)
    paths = sorted(config.posts_dir.glob("*.md"))
    stamps = {path: _file_stamp(path) for path in paths}
    known = {path: memo[str(path)][1] for path in paths
             if str(path) in memo and memo[str(path)][0] == stamps[path]}
    misses = [path for path in paths if path not in known]
    cache = Cache(options.freeze_dir)
    parsed = dict(zip(misses, _parallel_map(_read_or_error, [
        (path, config, [cache.entry_directory(path, mode) for mode in MODES]) for path in misses])))
    posts: list[Post] = []
    kept = {}
    for path in paths:
        try:
            post = known.get(path) or parsed.get(path)
            if isinstance(post, PostError):
                raise post
            check_unique_permalink(post, posts)
        except PostError as error:  # the build reports it, once, and goes on
            log.info("%s", error)
            errors.append(error)
            continue
        if not set(map(str, post.front_matter)) - KNOWN_KEYS:  # else warn again next time
            kept[str(path)] = (stamps[path], post)
        if options.drafts or not post.draft:
            posts.append(post)
    if kept.keys() != memo.keys() or misses:
        _save_memo(memo_file, context, kept)
    return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)


def _read_or_error(path: Path, config: SiteConfig, memo_dirs: list[Path]) -> Post | PostError:
    """A post, or why it cannot be read: one bad post must not stop the others being read."""
    from sitegen.posts import read_post

    try:
        return read_post(path, config, memo_dirs)
    except PostError as error:
        return error


def render_posts(published: list, config: SiteConfig, options, staging: Path,
                 errors: list[RenderError]) -> list:
    """Renders (or reuses) every published post's page into `staging`; the (post, entry) pairs
    for the listings, which read only the manifest's results and run."""
    common = _render_context(config)
    old = _load_buildinfo(options.site_dir)
    stamps = {s.name: _page_stamp(s, common) for s in published}
    info: dict[str, dict[str, Any]] = {}
    to_render = []
    for state in published:
        before = old.get(state.name)
        if (before and before["stamp"] == stamps[state.name]
                and _link_files(before["files"], options.site_dir, staging)):
            info[state.name] = before
        else:
            to_render.append(state)
    written = _parallel_map(_render_one, [(state, config, staging) for state in to_render])
    for state, files in zip(to_render, written):
        if isinstance(files, RenderError):  # the report shows it, once
            errors.append(files)
            previous = _previous_page(state, old.get(state.name), config, options, staging)
            if previous is not None:  # stamped so that it renders again next time
                info[state.name] = previous
            continue
        info[state.name] = {"stamp": stamps[state.name], "files": files, "mode": state.mode}
    write_file(staging / BUILDINFO, json.dumps({"version": MEMO_VERSION, "posts": info},
                                               indent=1, sort_keys=True))
    log.info("%d pages rendered, %d reused", len(to_render), len(published) - len(to_render))
    return [(s.post, s.entry) for s in published if s.name in info]


def _previous_page(state: PostState, before: dict[str, Any] | None, config: SiteConfig,
                   options, staging: Path) -> dict[str, Any] | None:
    """The page a post keeps when today's cannot be rendered: the old site's page if it came
    from a run of the same kind (never a quick run's page in a real build), else the page of
    its run as it ran (that run's prose); None when neither can be had."""
    if (before and before.get("mode") == state.mode
            and _link_files(before["files"], options.site_dir, staging)):
        return {**before, "stamp": "previous page kept"}
    files = _render_one(state, config, staging, as_run=True)
    if isinstance(files, RenderError):
        return None
    return {"stamp": "previous run's page", "files": files, "mode": state.mode}


def _render_one(state, config: SiteConfig, staging: Path,
                as_run: bool = False) -> list[str] | RenderError:
    """Renders one post (or, `as_run`, its run with the prose it had then); the files
    written, relative to `staging`, or why it could not."""
    from sitegen import assembly, render

    env = render.make_environment(config.templates_dir)
    content = (assembly.as_run(state.entry) if as_run
               else assembly.assemble(state.post.notebook, state.entry, state.key))
    try:
        paths = render.render_post(state.post, content, config, env, staging)
    except RenderError as error:
        return error
    except Exception as error:  # a renderer bug in one post must not stop the whole build
        return RenderError(state.post.path, f"cannot render the page: "
                                            f"{type(error).__name__}: {error}")
    paths += assembly.copy_files(content, staging / state.post.asset_dir, paths,
                                 state.post.path)
    root = staging.resolve()
    return sorted({Path(p).resolve().relative_to(root).as_posix() for p in paths})


def _link_files(files: list[str], old_site: Path, staging: Path) -> bool:
    """Hard-links (or copies) a page's files from the old site; False if any is missing."""
    if not all((old_site / name).is_file() for name in files):
        return False
    for name in files:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old_site / name, target)
        except OSError:
            shutil.copy2(old_site / name, target)
    return True


def _page_stamp(state: PostState, common: str) -> str:
    """Everything one page is made from: a different stamp means render it again."""
    return _hash_parts([common, str(state.post.path), json.dumps(state.key, sort_keys=True,
                                                                 default=str),
                        state.post.path.read_bytes(), *state.entry.stamp()])


def _render_context(config: SiteConfig) -> str:
    """What every page depends on: templates, settings, renderer source, library versions."""
    templates = sorted(p for p in Path(config.templates_dir).rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
    return _hash_parts([str(MEMO_VERSION), repr(config), sys.version,
                        *_versions(RENDER_LIBRARIES), *_builder_sources(),
                        *(f"{p.relative_to(config.templates_dir)}" for p in templates),
                        *(p.read_bytes() for p in templates)])


def _builder_sources() -> list[str]:
    """The hash of every source file of the builder and of the results record it reads: a
    changed renderer, parser or record reader must parse and render everything again.

    Derived from the packages themselves (not a hand-kept list, which drifts)."""
    from sitegen.freshness import package_hashes

    root = Path(__file__).resolve().parents[1]
    hashes = {**package_hashes(root / "sitegen"), **package_hashes(root / "catdog")}
    return [f"{name}:{digest}" for name, digest in sorted(hashes.items())
            if name.startswith("sitegen/") or name == "catdog/results.py"]


def _versions(distributions: tuple[str, ...]) -> list[str]:
    import importlib.metadata

    found = []
    for name in distributions:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return found


def _hash_parts(parts: list[str | bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def _file_stamp(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ino]


def _load_memo(memo_file: Path, context: str) -> dict[str, Any]:
    try:
        memo = pickle.loads(memo_file.read_bytes())
        return memo["posts"] if memo.get("context") == context else {}
    except Exception:  # missing, truncated, from another version: parse again
        return {}


def _save_memo(memo_file: Path, context: str, posts: dict[str, Any]) -> None:
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(memo_file, pickle.dumps({"context": context, "posts": posts},
                                                 protocol=pickle.HIGHEST_PROTOCOL))
    except (OSError, pickle.PicklingError) as error:
        log.warning("Cannot save the post memo %s: %s", memo_file, error)


def _load_buildinfo(site_dir: Path) -> dict[str, Any]:
    try:
        info = json.loads((site_dir / BUILDINFO).read_text())
        return info["posts"] if info.get("version") == MEMO_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


_FORKED: tuple = (None, [])  # (function, jobs) of the running _parallel_map, for its workers


def _parallel_map(function, jobs: list[tuple]) -> list:
    """`[function(*job) for job in jobs]`, in worker processes when that pays.

    Workers are forked, so only from a single-threaded process (`--serve` has a server thread:
    there it runs here), and they inherit the jobs: only their numbers and the results cross
    the pipe (pickling each post and entry to send it cost more than rendering it). A job that
    fails in a worker is run again here, so its error is raised (or handled) exactly as
    without workers.
    """
    global _FORKED
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if len(jobs) < PARALLEL_MIN or (cpus or 1) < 2 or threading.active_count() > 1:
        return [function(*job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(cpus, len(jobs) // (PARALLEL_MIN // 2))
    _FORKED = (function, jobs)
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_call_or_none, range(len(jobs)),
                                    chunksize=max(1, len(jobs) // (workers * 4))))
    finally:
        _FORKED = (None, [])
    return [function(*job) if result is None else result for job, result in zip(jobs, results)]


def _call_or_none(index: int):
    function, jobs = _FORKED
    try:
        return function(*jobs[index])
    except Exception:  # run again in the parent, which raises it as a serial build would
        return None
