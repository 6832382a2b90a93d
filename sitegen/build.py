"""The build, top to bottom: gather every post, execute what is stale, then write the site.

Pelican's shape: every post is read and checked first, so the index, tags and feed see them
all; a post that fails is logged with its path and the build goes on, ending non-zero; the
site is written last, into a fresh folder swapped in at the end, so an interrupted build
never leaves half a site.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import pickle
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitegen import cache as cache_module
from sitegen.cache import Cache, Entry, FingerprintMemo, Staleness
from sitegen.config import SiteConfig, load_config
from sitegen.exceptions import BuildError, CacheError, ExecutionError, PostError
from sitegen.posts import Post

log = logging.getLogger(__name__)

KERNEL = "python3"


@dataclass
class BuildOptions:
    """Every choice a build makes; `build.py`'s flags map onto these one to one."""

    root: Path = Path(".")
    smoke: bool = False  # inject quick-run parameters; cached apart from real runs
    force: bool | frozenset[str] = False  # True, or the post names (file stems) to re-run
    frozen: bool = False  # never execute; fail naming every stale or missing post
    strict: bool = False  # an environment difference makes a post stale, not just a warning
    check: bool = False  # check expectations, links and images in the built site
    jobs: int = 1
    cell_timeout: int = 1800
    parameters: dict[str, Any] = field(default_factory=dict)  # overrides for every post
    drafts: bool = False

    @property
    def mode(self) -> str:
        return "smoke" if self.smoke else "real"

    @property
    def site_dir(self) -> Path:
        return self.root / "_site"

    @property
    def freeze_dir(self) -> Path:
        return self.root / "_freeze"


@dataclass
class PostState:
    """One post, its cache entry and what the build must do with it."""

    post: Post
    key: dict[str, Any]
    parameters: dict[str, Any]
    entry: Entry | None
    staleness: Staleness
    failure: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.post.path.stem

    def describe(self) -> str:
        """The `--status` line: fresh, never run, failed last time, or stale with every cause."""
        if self.failure is not None and self.failure.get("key") == self.key:
            return f"failed last time ({self.failure['summary']})"
        if self.entry is None:
            return "never run"
        if self.staleness.reasons:
            return "stale: " + "; ".join(self.staleness.reasons)
        warnings = "; ".join(self.staleness.warnings)
        return f"fresh ({warnings})" if warnings else "fresh"


@dataclass
class BuildReport:
    """What a build did; `build.py` prints `summary()` and exits non-zero if `failed`."""

    posts: int = 0
    executed: list[str] = field(default_factory=list)
    from_cache: list[str] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # from --check
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problems)

    def summary(self) -> str:
        text = (f"Processed {self.posts} posts ({len(self.executed)} executed, "
                f"{len(self.from_cache)} from cache, {len(self.errors)} failed) "
                f"in {self.seconds:.2f} s")
        if self.problems:
            text += f"; {len(self.problems)} check problems"
        return text


# --- gathering -----------------------------------------------------------------------------


def gather(options: BuildOptions, errors: list[BuildError]) -> tuple[SiteConfig, list[PostState]]:
    """Reads every post and its cache entry, and works out which entries are stale."""
    config = load_config(options.root)
    post_errors: list[PostError] = []
    posts = _read_posts_memoised(config, options, post_errors)  # read_posts, parse memo
    errors.extend(post_errors)
    cache = Cache(options.freeze_dir)
    catdog_files = cache_module.package_hashes(options.root / "catdog")
    fingerprints = FingerprintMemo(options.freeze_dir / ".local" / "fingerprints.json")
    with _environment_read_once():
        states = [_post_state(post, config, options, cache, catdog_files, fingerprints)
                  for post in posts]
    fingerprints.save()
    return config, states


def _post_state(post: Post, config: SiteConfig, options: BuildOptions, cache: Cache,
                catdog_files: dict[str, str], fingerprints: FingerprintMemo) -> PostState:
    parameters = injected_parameters(post, config, options)
    key = cache_module.make_key(post.notebook, kernel=KERNEL, parameters=parameters,
                                catdog_files=catdog_files)
    entry = cache.load(post.path, options.mode)
    staleness = (cache_module.stale_reasons(entry, key, root=options.root,
                                            fingerprints=fingerprints, strict=options.strict)
                 if entry else Staleness())
    return PostState(post, key, parameters, entry, staleness,
                     cache.load_failure(post.path, options.mode))


def injected_parameters(post: Post, config: SiteConfig, options: BuildOptions) -> dict:
    """Front matter `parameters`, then quick-run values under --smoke, then command-line ones."""
    parameters = dict(post.parameters)
    if options.smoke:
        parameters.update(post.smoke or config.smoke)
    parameters.update(options.parameters)
    return parameters


def status(options: BuildOptions) -> list[tuple[str, str]]:
    """(post path, state line) for every post, without starting a kernel or importing Keras."""
    errors: list[BuildError] = []
    _, states = gather(options, errors)
    lines = [(_shown(state.post.path, options.root), state.describe()) for state in states]
    lines += [(_shown(error.path, options.root), f"unreadable: {error.message}")
              for error in errors]
    return sorted(lines)


def _shown(path: Path, root: Path) -> str:
    """A post's path as the author knows it: relative to the site's root."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


# --- executing -----------------------------------------------------------------------------


def needs_run(state: PostState, options: BuildOptions) -> bool:
    if options.force is True or (options.force and state.name in options.force):
        return True
    return state.entry is None or bool(state.staleness.reasons)


def execute_stale(states: list[PostState], options: BuildOptions, report: BuildReport,
                  progress=None) -> None:
    """Runs every post that needs it (side by side with --jobs), storing each good result."""
    to_run = [state for state in states if needs_run(state, options)]
    if options.frozen and to_run:
        raise CacheError(None, "--frozen, but these posts would have to run:\n" + "\n".join(
            f"  {state.post.path}: {state.describe()}" for state in to_run))
    for state in states:
        for warning in state.staleness.warnings:
            log.warning("%s: environment differs from the cached run: %s",
                        state.post.path, warning)
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        outcomes = pool.map(lambda s: _execute_one(s, options, progress), to_run)
        for state, error in zip(to_run, outcomes):
            if error is None:
                report.executed.append(state.name)
            else:
                report.errors.append(error)
    report.from_cache += [s.name for s in states if s not in to_run and s.entry]


def _execute_one(state: PostState, options: BuildOptions, progress) -> BuildError | None:
    """Executes one post; on success its entry is replaced, on failure only a note is added."""
    from sitegen.execute import execute_notebook, inject_parameters  # starts no kernel yet

    cache = Cache(options.freeze_dir)
    workdir = cache.workdir(state.post.path, options.mode)
    ran_at = cache_module.now_iso()
    if progress:
        progress.post_started(state.name)
    ok = False
    try:
        execution = execute_notebook(
            inject_parameters(state.post.notebook, state.parameters),
            path=state.post.path, workdir=workdir, kernel_name=KERNEL,
            cell_timeout=options.cell_timeout, env=kernel_environment(options),
            on_cell=(lambda k, n: progress.cell_started(state.name, k, n)) if progress else None,
        )
        run = {"mode": options.mode, "ran_at": ran_at, "duration_s": round(execution.duration_s, 1),
               "parameters": state.parameters, "kernel": KERNEL}
        state.entry = cache.store(state.post.path, options.mode, notebook=execution.notebook,
                                  key=state.key, run=run, workdir=workdir, root=options.root)
        state.staleness = Staleness()
        ok = True
    except ExecutionError as error:
        log.error("%s", error)
        cache.store_failure(state.post.path, options.mode, key=state.key, error=str(error),
                            summary=error.summary())
        return error
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if progress:
            progress.post_finished(state.name, ok=ok)
    return None


def kernel_environment(options: BuildOptions) -> dict[str, str]:
    """Variables the kernel needs: a relative CATDOG_DATA made absolute (kernels run elsewhere),
    and TensorFlow's C++ start-up logging off (it would land in the first cell's output)."""
    env = {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")}  # C++ log noise
    data = os.environ.get("CATDOG_DATA")
    if data and "://" not in data:
        env["CATDOG_DATA"] = str(Path(data).resolve())
    return env


# --- writing -------------------------------------------------------------------------------


def write_site(config: SiteConfig, states: list[PostState], options: BuildOptions) -> None:
    """Renders every post that has an entry, then the index, tags, feed and sitemap.

    Everything goes into a new folder beside `_site/`, swapped in only when complete.
    """
    from sitegen import feeds, render

    published = [s for s in states if s.entry is not None]
    options.site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="_site.new-", dir=options.site_dir.parent))
    try:
        env = render.make_environment(config.templates_dir)
        pages = _render_posts(published, config, options, staging)  # reuses unchanged pages
        feeds.render_listings(pages, config, env, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_site(staging, options.site_dir)


def _as_published(state: PostState) -> Entry:
    """The entry with today's prose; a post whose code changed and failed shows its last run."""
    if state.entry.key.get("code") == state.key["code"]:
        return state.entry.with_prose_of(state.post.notebook)
    return state.entry


def _copy_entry_files(post: Post, entry: Entry, site_dir: Path) -> None:
    """Files the post wrote (its CSV, say) are published beside its page."""
    for path in entry.files:
        target = site_dir / post.asset_dir / path.relative_to(entry.directory / "files")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _swap_site(staging: Path, site_dir: Path) -> None:
    old = None
    if site_dir.exists():
        old = site_dir.with_name(f"_site.old-{os.getpid()}")
        site_dir.rename(old)
    staging.rename(site_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check(config: SiteConfig, states: list[PostState], options: BuildOptions) -> list[str]:
    """Every unmet expectation, broken internal link and missing image, one line each."""
    from sitegen import checks

    problems = []
    for state in states:
        values = state.entry.results.get("values", {}) if state.entry else {}
        problems += [f"{state.post.path}: {problem}"
                     for problem in checks.check_expectations(state.post, values)]
    return problems + checks.check_site(options.site_dir, config.baseurl)


# --- the build -----------------------------------------------------------------------------


def build(options: BuildOptions, progress_factory=None) -> BuildReport:
    """Gathers, executes what is stale, writes the site, and checks it if asked."""
    start = time.monotonic()
    report = BuildReport()
    config, states = gather(options, report.errors)
    report.posts = len(states) + len(report.errors)
    to_run = sum(needs_run(state, options) for state in states)
    progress = progress_factory(to_run) if progress_factory and to_run else None
    execute_stale(states, options, report, progress)
    write_site(config, states, options)
    if options.check:
        report.problems = check(config, states, options)
    report.seconds = time.monotonic() - start
    return report


# --- speed: a parse memo, page stamps and parallel rendering ------------------------------
#
# A no-op rebuild neither parses nor renders what it did last time, and --status parses only
# changed posts:
# - each post file is parsed once per (path, size, mtime); the Post is kept in
#   `_freeze/.local/posts.pickle` (local, uncommitted, like the fingerprint memo);
# - each page's inputs (post file, entry manifest and notebook, published files, templates,
#   site settings, the renderer's source and library versions) are hashed into a stamp kept in
#   `_site/.buildinfo.json` with the files the page wrote; a post whose stamp is unchanged has
#   those files hard-linked from the old `_site/` into the new one instead of being rendered;
# - what must be parsed or rendered is spread over worker processes, one per CPU, when there
#   is enough of it. The listings (index, tags, feed, sitemap) are always rendered: they are cheap.

POST_MEMO = "posts.pickle"
BUILDINFO = ".buildinfo.json"
MEMO_VERSION = 1
PARALLEL_MIN = 16  # fewer jobs than this run in this process: a worker pool costs ~0.1 s
RENDER_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pygments",
                    "nbformat")


def _read_posts_memoised(config: SiteConfig, options: BuildOptions,
                         errors: list[PostError]) -> list[Post]:
    """`read_posts`, parsing only the post files that changed since the last build."""
    from sitegen.posts import KNOWN_KEYS, check_unique_permalink, read_post

    memo_file = options.freeze_dir / ".local" / POST_MEMO
    context = _hash_parts([str(MEMO_VERSION), repr(config), *_versions(("jupytext", "nbformat",
                                                                          "pyyaml")),
                           *_sources("sitegen/posts.py", "sitegen/checks.py", "sitegen/config.py")])
    memo = _load_memo(memo_file, context)
    paths = sorted(config.posts_dir.glob("*.md"))
    stamps = {path: _file_stamp(path) for path in paths}
    known = {path: memo[str(path)][1] for path in paths
             if str(path) in memo and memo[str(path)][0] == stamps[path]}
    misses = [path for path in paths if path not in known]
    parsed = dict(zip(misses, _parallel_map(read_post, [(path, config) for path in misses])))
    posts: list[Post] = []
    kept = {}
    for path in paths:
        try:
            post = known.get(path) or parsed.get(path) or read_post(path, config)
            check_unique_permalink(post, posts)
        except PostError as error:
            log.error("%s", error)
            errors.append(error)
            continue
        if not set(map(str, post.front_matter)) - KNOWN_KEYS:  # else warn again next time
            kept[str(path)] = (stamps[path], post)
        if options.drafts or not post.draft:
            posts.append(post)
    if kept.keys() != memo.keys() or misses:
        _save_memo(memo_file, context, kept)
    return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)


def _render_posts(published: list[PostState], config: SiteConfig, options: BuildOptions,
                  staging: Path) -> list[tuple[Post, Entry]]:
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
        info[state.name] = {"stamp": stamps[state.name], "files": files}
    (staging / BUILDINFO).write_text(json.dumps({"version": MEMO_VERSION, "posts": info},
                                                indent=1, sort_keys=True))
    log.info("%d pages rendered, %d reused", len(to_render), len(published) - len(to_render))
    return [(s.post, s.entry) for s in published]


def _render_one(state: PostState, config: SiteConfig, staging: Path) -> list[str]:
    """Renders one post (as `write_site` did inline); the files written, relative to `staging`."""
    from sitegen import render

    env = _environment_for(config.templates_dir)
    entry = _as_published(state)
    paths = render.render_post(state.post, entry, config, env, staging)
    _copy_entry_files(state.post, entry, staging)
    paths += [staging / state.post.asset_dir / p.relative_to(entry.directory / "files")
              for p in entry.files]
    root = staging.resolve()
    return sorted({Path(p).resolve().relative_to(root).as_posix() for p in paths})


@functools.lru_cache(maxsize=4)
def _environment_for(templates_dir: Path):
    from sitegen import render

    return render.make_environment(templates_dir)


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
    entry = state.entry
    files = [f"{p.relative_to(entry.directory)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
             for p in entry.files]
    return _hash_parts([common, str(state.post.path), str(entry.directory),
                        json.dumps(state.key, sort_keys=True, default=str),
                        state.post.path.read_bytes(), (entry.directory / "manifest.json").read_bytes(),
                        (entry.directory / "notebook.ipynb").read_bytes(), *files])


def _render_context(config: SiteConfig) -> str:
    """What every page depends on: templates, settings, renderer source, library versions."""
    templates = sorted(p for p in Path(config.templates_dir).rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
    return _hash_parts([str(MEMO_VERSION), repr(config), sys.version,
                        *_versions(RENDER_LIBRARIES), *_sources(*SITEGEN_SOURCES),
                        *(f"{p.relative_to(config.templates_dir)}" for p in templates),
                        *(p.read_bytes() for p in templates)])


SITEGEN_SOURCES = ("sitegen/render.py", "sitegen/feeds.py", "sitegen/cache.py",
                   "sitegen/posts.py", "sitegen/build.py", "catdog/results.py")


def _sources(*names: str) -> list[bytes]:
    """The builder's own source files (a changed renderer must re-render every page)."""
    root = Path(__file__).resolve().parents[1]
    return [(root / name).read_bytes() if (root / name).is_file() else b"" for name in names]


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
        temporary = memo_file.with_name(f".{memo_file.name}.{os.getpid()}.tmp")
        temporary.write_bytes(pickle.dumps({"context": context, "posts": posts},
                                           protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(temporary, memo_file)
    except (OSError, pickle.PicklingError) as error:
        log.warning("Cannot save the post memo %s: %s", memo_file, error)


def _load_buildinfo(site_dir: Path) -> dict[str, Any]:
    try:
        info = json.loads((site_dir / BUILDINFO).read_text())
        return info["posts"] if info.get("version") == MEMO_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _parallel_map(function, jobs: list[tuple]) -> list:
    """`[function(*job) for job in jobs]`, in worker processes when that pays.

    Workers are forked, so only from a single-threaded process (`--serve` has a server thread:
    there it runs here). A job that fails in a worker is run again here, so its error is
    raised (or handled) exactly as without workers.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if len(jobs) < PARALLEL_MIN or (cpus or 1) < 2 or threading.active_count() > 1:
        return [function(*job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(cpus, len(jobs) // (PARALLEL_MIN // 2))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(functools.partial(_call_or_none, function), jobs,
                                chunksize=max(1, len(jobs) // (workers * 4))))
    return [function(*job) if result is None else result for job, result in zip(jobs, results)]


def _call_or_none(function, job: tuple):
    try:
        return function(*job)
    except Exception:  # run again in the parent, which raises it as a serial build would
        return None


@contextlib.contextmanager
def _environment_read_once() -> Iterator[None]:
    """`catdog.results.environment()` reads package metadata (~1 ms a package), and the
    staleness check asks it once per post; within one gather the answer cannot change."""
    from catdog import results as catdog_results

    original = catdog_results.environment
    catdog_results.environment = functools.cache(original)
    try:
        yield
    finally:
        catdog_results.environment = original
