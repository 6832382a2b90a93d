"""The build, top to bottom: gather every post, execute what is stale, then write the site.

Pelican's shape: every post is read and checked first, so the index, tags and feed see them
all; a post that fails is logged with its path and the build goes on, ending non-zero; the
site is written last, into a fresh folder swapped in at the end, so an interrupted build
never leaves half a site.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catdog import results as catdog_results
from sitegen import cache as cache_module
from sitegen import incremental
from sitegen.cache import Cache, Entry, Staleness
from sitegen.datasources import FingerprintMemo
from sitegen.files import swap_directory
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
    settings: dict[str, Any] = field(default_factory=dict)  # _config.yml values set by flags

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
        notes = "; ".join(self.staleness.notes)
        return f"fresh ({notes})" if notes else "fresh"


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
        posts = f"{self.posts} post" + ("" if self.posts == 1 else "s")
        text = (f"Processed {posts} ({len(self.executed)} executed, "
                f"{len(self.from_cache)} from cache, {len(self.errors)} failed) "
                f"in {self.seconds:.2f} s")
        if self.problems:
            text += f"; {len(self.problems)} check problems"
        return text


# --- gathering -----------------------------------------------------------------------------


def gather(options: BuildOptions, errors: list[BuildError]) -> tuple[SiteConfig, list[PostState]]:
    """Reads every post and its cache entry, and works out which entries are stale."""
    config = load_config(options.root, options.settings)
    post_errors: list[PostError] = []
    posts = incremental.read_posts(config, options, post_errors)
    errors.extend(post_errors)
    cache = Cache(options.freeze_dir)
    catdog_files = cache_module.package_hashes(options.root / "catdog")
    fingerprints = FingerprintMemo(options.freeze_dir / ".local" / "fingerprints.json")
    environment = catdog_results.environment()  # the same for every post: read it once
    states = [_post_state(post, config, options, cache, catdog_files, fingerprints, environment)
              for post in posts]
    fingerprints.save()
    warn_orphan_entries(config, options)
    return config, states


def warn_orphan_entries(config: SiteConfig, options: BuildOptions) -> None:
    """A cache entry whose post file is gone is never used again: say so, delete nothing."""
    if not options.freeze_dir.is_dir():
        return
    names = {path.stem for path in config.posts_dir.glob("*.md")}
    for folder in sorted(options.freeze_dir.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and folder.name not in names:
            log.warning("%s: cache entry of a post that no longer exists in %s; delete the "
                        "folder if the post is gone for good.", folder, config.posts_dir)


def _post_state(post: Post, config: SiteConfig, options: BuildOptions, cache: Cache,
                catdog_files: dict[str, str], fingerprints: FingerprintMemo,
                environment: dict[str, Any]) -> PostState:
    parameters = injected_parameters(post, config, options)
    key = cache_module.make_key(post.notebook, kernel=KERNEL, parameters=parameters,
                                catdog_files=catdog_files)
    entry = cache.load(post.path, options.mode)
    staleness = (cache_module.stale_reasons(entry, key, root=options.root,
                                            fingerprints=fingerprints, environment=environment,
                                            strict=options.strict)
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


def warn_unknown_parameters(state: PostState) -> None:
    """An override of a name the `parameters` cell does not assign is likely a typo."""
    from sitegen.execute import parameter_names

    unknown = sorted(set(state.parameters) - parameter_names(state.post.notebook))
    if unknown:
        log.warning("%s: %s not assigned in its `parameters` cell; injected anyway.",
                    state.post.path, ", ".join(unknown))


def check_force(states: list[PostState], options: BuildOptions) -> None:
    """`--force POST` must name a post: a typo would otherwise re-run nothing, silently."""
    if isinstance(options.force, frozenset):
        unknown = sorted(options.force - {state.name for state in states})
        if unknown:
            raise BuildError(None, f"--force: no post named {', '.join(unknown)}; posts are: "
                                   + ", ".join(sorted(state.name for state in states)))


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
                  progress_factory=None) -> None:
    """Runs every post that needs it (side by side with --jobs), storing each good result."""
    to_run = [state for state in states if needs_run(state, options)]
    if options.frozen and to_run:
        raise CacheError(None, "--frozen, but these posts would have to run:\n" + "\n".join(
            f"  {state.post.path}: {state.describe()}" for state in to_run))
    for state in states:
        for warning in state.staleness.warnings:
            log.warning("%s: %s", state.post.path, warning)
        for note in state.staleness.notes[:len(state.staleness.missing)]:
            log.info("%s: %s", state.post.path, note)
    for state in list(to_run):
        if (error := missing_data_error(state)) is not None:
            report.errors.append(error)
            to_run.remove(state)
    for state in to_run:
        warn_unknown_parameters(state)
    progress = progress_factory(len(to_run)) if progress_factory and to_run else None
    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        outcomes = pool.map(lambda s: _execute_one(s, options, progress), to_run)
        for state, error in zip(to_run, outcomes):
            if error is None:
                report.executed.append(state.name)
            else:
                report.errors.append(error)
    if progress:
        progress.close()
    report.from_cache += [s.name for s in states if s not in to_run and s.entry is not None]


def missing_data_error(state: PostState) -> BuildError | None:
    """A post about to re-run the same code on data this machine lacks fails now, not in cell 3.

    Data with a URL is left to the post, which downloads it; local-only data stops the run
    before any kernel starts, and the post's committed results stay published.
    """
    unchanged_code = state.entry is not None and state.entry.key.get("code") == state.key["code"]
    for source in state.staleness.missing if unchanged_code else []:
        if source.url:
            log.warning("%s: %s is not on this machine; the post will download it from %s "
                        "(other bytes than the recorded %s make a new result)", state.post.path,
                        source.name, source.url, source.fingerprint[:15] + "…")
    local_only = [source for source in state.staleness.missing if not source.url]
    if not (unchanged_code and local_only):
        return None
    lines = [f"  {source.describe()} ({source.files} files, {source.bytes:,} bytes): "
             f"{source.how_to_supply()}" for source in local_only]
    return BuildError(state.post.path, "cannot run: the data it read is not on this machine:\n"
                      + "\n".join(lines) + "\nIts committed results stay published.")


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
    except ExecutionError as error:  # the report carries it; build.py shows it once
        log.info("%s", error)
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


def write_site(config: SiteConfig, states: list[PostState], options: BuildOptions,
               report: BuildReport) -> None:
    """Renders every post that has an entry, then the index, tags, feed and sitemap.

    Everything goes into a new folder beside `_site/`, swapped in only when complete. A post
    whose page cannot be rendered keeps its previous page, and the error joins the report.
    """
    from sitegen import feeds, render

    published = [s for s in states if s.entry is not None]
    options.site_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="_site.new-", dir=options.site_dir.parent))
    try:
        env = render.make_environment(config.templates_dir)
        pages = incremental.render_posts(published, config, options, staging, report.errors)
        feeds.render_listings(pages, config, env, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    swap_directory(staging, options.site_dir)


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
    check_force(states, options)
    execute_stale(states, options, report, progress_factory)
    write_site(config, states, options, report)
    if options.check:
        report.problems = check(config, states, options)
    report.seconds = time.monotonic() - start
    return report
