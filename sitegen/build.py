"""The build, top to bottom: gather every post, execute what is stale, then write the site.

Pelican's shape: every post is read and checked first, so the index, tags and feed see them
all; a post that fails is logged with its path and the build goes on, ending non-zero; the
site is written last, into a fresh folder swapped in at the end, so an interrupted build
never leaves half a site. Posts run in worker threads that only return what happened; this
module's main-thread code alone stores entries and updates the build's state.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from sitegen import incremental
from sitegen.cache import Cache
from sitegen.files import final_name
from sitegen.freshness import PostState, Staleness, assess
from sitegen.config import SiteConfig, load_config
from sitegen.exceptions import (BuildError, CacheError, Interrupted,
                                Stopped, UsageError, WriteError)
from sitegen.interrupt import StopRequest, stop_on_signals
from sitegen.posts import parameter_names, read_posts
from sitegen.sitewriter import SiteWriter
from sitegen.state import BuildOptions, BuildReport, post_names

if TYPE_CHECKING:
    from sitegen.execute import Execution

log = logging.getLogger(__name__)

ASSETS = "assets"  # the author's static files, published as _site/assets/
STOP_WAIT_S = 30  # after a stop request, how long to wait for running posts to shut down
POLL_S = 0.2  # how often the main thread looks for a stop request while posts run


# --- gathering -----------------------------------------------------------------------------


def gather(options: BuildOptions, errors: list[BuildError]) -> tuple[SiteConfig, list[PostState]]:
    """Reads every post and its cache entry, and works out which entries are stale."""
    config = load_config(options.root, options.settings)
    cache = Cache(options.freeze_dir, options.root)
    posts = read_posts(config, cache, options.drafts, errors)
    return config, assess(posts, cache, config, options)


def check_parameters(states: list[PostState], options: BuildOptions) -> None:
    """`-p POST:name=value` must name a post; `-p name=value` that no post has is a warning."""
    unknown = sorted(set(options.post_parameters)
                     - set().union(*(post_names(s.post) for s in states)))
    if unknown:
        raise UsageError(None, f"-p: no post named {', '.join(unknown)}; posts are: "
                               + ", ".join(sorted(state.name for state in states)))
    for name in sorted(options.parameters):
        if not any(name in parameter_names(state.post.notebook) for state in states):
            log.warning("-p %s: no post's `parameters` cell assigns %s; nothing injected", name,
                        name)


def warn_unknown_parameters(state: PostState) -> None:
    """An override of a name the `parameters` cell does not assign is likely a typo."""
    unknown = sorted(set(state.parameters) - parameter_names(state.post.notebook))
    if unknown:
        log.warning("%s: %s not assigned in its `parameters` cell; injected anyway.",
                    state.post.path, ", ".join(unknown))


def check_force(states: list[PostState], options: BuildOptions) -> None:
    """`--force POST` and `--smoke POST` must name a post: a typo would otherwise run nothing,
    silently."""
    known = set().union(*(post_names(state.post) for state in states))
    for flag, names in (("--force", options.force), ("--smoke", options.smoke)):
        unknown = sorted(names - known) if isinstance(names, frozenset) else []
        if unknown:
            raise UsageError(None, f"{flag}: no post named {', '.join(unknown)}; posts are: "
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
    if isinstance(options.smoke, frozenset) and state.mode == "real":
        return False  # `--smoke POST` runs POST alone; the others show their real runs
    if options.force is True or (options.force and options.force & post_names(state.post)):
        return True
    return state.entry is None or bool(state.staleness.reasons)


def execute_stale(states: list[PostState], options: BuildOptions, report: BuildReport,
                  progress_factory=None, stop: StopRequest | None = None,
                  config: SiteConfig | None = None) -> None:
    """Runs every post that needs it (side by side with --jobs), storing each good result.

    Workers only run posts and return what happened; this thread alone stores entries and
    updates `states` and `report`. Once `stop` is set, no post starts, the running ones stop
    their kernels, nothing more is stored, and Interrupted says where each post was.
    """
    config = config or load_config(options.root, options.settings)
    to_run = [state for state in states if needs_run(state, options)]
    if options.frozen and to_run:
        raise CacheError(None, "--frozen, but these posts would have to run:\n" + "\n".join(
            f"  {state.post.path}: {state.describe()}" for state in to_run))
    for state in states:
        for warning in state.staleness.warnings:
            log.warning("%s: %s", state.post.path, warning)
        for note in state.staleness.notes[:1] if state.staleness.missing else []:
            log.info("%s: %s", state.post.path, note)
    for state in [] if config.cluster else list(to_run):  # a worker looks for its own data
        if (error := missing_data_error(state, options)) is not None:
            report.errors.append(error)
            to_run.remove(state)
    for state in to_run:
        warn_unknown_parameters(state)
    progress = progress_factory(len(to_run)) if progress_factory and to_run else None
    stop = stop if stop is not None else StopRequest()
    try:
        if config.cluster and to_run:  # `--cluster`, or _config.yml's `cluster:`
            run_on_cluster(to_run, options, config, report, progress, stop)
        else:
            run_here(to_run, options, config, report, progress, stop)
    finally:
        if progress:
            progress.close()
    report.from_cache += [s.name for s in states if s not in to_run and s.entry is not None]


def run_here(to_run: list[PostState], options: BuildOptions, config: SiteConfig,
             report: BuildReport, progress, stop: StopRequest) -> None:
    """Runs the posts on this machine, `options.jobs` at a time, each in its own kernel."""
    if config.cluster_retries and to_run:
        log.warning("--retries (cluster_retries: %d) applies to --cluster runs only; a post "
                    "run here is never retried", config.cluster_retries)
    # imports nbclient: only a build that runs posts
    from sitegen.execute import kernel_environment, run_post
    cache = Cache(options.freeze_dir, options.root)
    halt = threading.Event()  # tells the workers to stop; set on a stop request or an error
    running: list[Future] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
            try:
                running = [pool.submit(run_post, state, cache, cell_timeout=options.cell_timeout,
                                       env=kernel_environment(state.post, config,
                                                              state.staleness.data_variables),
                                       stop=halt, progress=progress)
                           for state in to_run]
                for outcome in _outcomes_until_stopped(running, stop, halt, options.root,
                                                       progress):
                    record_outcome(outcome, options, report, progress)
            except BaseException:
                halt.set()  # no kernel outlives the build, whatever went wrong
                raise
    finally:
        for future in running:  # runs a disk error stopped before they were recorded
            if future.done() and not future.cancelled() and future.exception() is None:
                discard_workdir(future.result())


def run_on_cluster(to_run: list[PostState], options: BuildOptions, config: SiteConfig,
                   report: BuildReport, progress, stop: StopRequest) -> None:
    """`--cluster ADDRESS`: the posts run on Dask workers (sitegen.cluster), and each checked
    result is stored here as a local run is (a post whose check fails, as a failed run)."""
    from sitegen import cluster  # imports Dask: only a cluster build needs it

    with contextlib.closing(cluster.run_posts(to_run, options, config, report, progress,
                                              stop)) as executions:
        for execution in executions:
            record_outcome(execution, options, report, progress)


def missing_data_error(state: PostState, options: BuildOptions) -> BuildError | None:
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
    root = options.root
    lines = [f"  {source.describe()} ({source.files} files, {source.bytes:,} bytes): looked for "
             + ", ".join(what if what.endswith(f"={path}") else f"{what} ({path})"
                         for what, path in source.places(root))
             + f"; {source.how_to_supply(root)}" for source in local_only]
    return BuildError(state.post.path, "cannot run: the data it read is not on this machine:\n"
                      + "\n".join(lines) + f"\nThe post would run in an empty folder of its own "
                      f"under {Cache(options.freeze_dir).entry_directory(state.post.path, state.mode).parent.resolve()}; "
                      f"relative paths in variables are resolved from {Path.cwd()}. "
                      "Its committed results stay published.")


def _outcomes_until_stopped(running: list[Future], stop: StopRequest, halt: threading.Event,
                            root: Path, progress) -> Iterator[Execution]:
    """Each finished run's outcome as it comes. On a stop request, halts the workers, waits
    for their kernels to shut down, and raises Interrupted saying where each post was."""
    pending: set[Future] = set(running)
    while pending and not stop.is_set():
        done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
        yield from (future.result() for future in sorted(done, key=running.index))
    if not stop.is_set():
        return
    halt.set()
    for future in pending:
        future.cancel()  # not started yet: never starts
    wait(pending, timeout=STOP_WAIT_S)
    stopped = [future.result() for future in running
               if future in pending and future.done() and not future.cancelled()]
    for outcome in stopped:  # nothing of theirs is stored, not even a failure note
        discard_workdir(outcome)
        if progress:
            progress.post_finished(outcome.state.name, ok=False, label="interrupted")
    raise Interrupted(stop.signum or signal.SIGINT, ", ".join(
        outcome.error.where(_shown(outcome.error.path, root)) for outcome in stopped
        if isinstance(outcome.error, Stopped)) or "while running posts")


def discard_workdir(execution: Execution) -> None:
    """Removes a run's working folder, and the post's cache folder if the run made it."""
    shutil.rmtree(execution.workdir, ignore_errors=True)
    with contextlib.suppress(OSError):  # not empty: it holds entries, kept
        execution.workdir.parent.rmdir()


def record_outcome(execution: Execution, options: BuildOptions, report: BuildReport,
                   progress) -> None:
    """Stores a good run as the post's entry, or a failure note beside its last good entry."""
    state, cache = execution.state, Cache(options.freeze_dir, options.root)
    stored = False
    try:
        if execution.error is None:
            state.entry = cache.store(state, execution)
            state.staleness, state.unusable, stored = Staleness(), None, True
            report.executed.append(state.name)
        else:  # the report carries it; build.py shows it once
            log.info("%s", execution.error)
            shutil.rmtree(execution.workdir, ignore_errors=True)  # a post that filled the disk
            cache.store_failure(state.post.path, state.mode, key=state.key,
                                error=str(execution.error), summary=execution.error.summary())
            report.errors.append(execution.error)
    finally:
        shutil.rmtree(execution.workdir, ignore_errors=True)
        if progress:
            progress.post_finished(state.name, ok=stored)


# --- writing -------------------------------------------------------------------------------


def write_site(config: SiteConfig, states: list[PostState], options: BuildOptions,
               report: BuildReport, stop: StopRequest | None = None) -> None:
    """Renders every post that has an entry, then the index, tags, feed and sitemap.

    Everything goes into a new folder beside `_site/`, swapped in only when complete (and not
    at all once a stop is asked for). A post whose page cannot be rendered keeps its previous
    page, and the error joins the report.
    """
    from sitegen import feeds, render

    published = [s for s in states if s.entry is not None]
    writer = None
    try:
        writer = SiteWriter.staging(options.site_dir)
        env = render.make_environment(config.templates_dir)
        pages = incremental.render_posts(published, config, writer, report.errors)
        writer.write_all(feeds.render_listings(pages, config, env))
        writer.copy_tree(options.root / ASSETS, ASSETS)
        if stop is not None:
            stop.check("while writing the site")
        writer.publish()
    except BaseException as error:
        if writer is not None:
            writer.discard()
        if isinstance(error, OSError):  # a full disk, no permission, a size limit...
            raise WriteError.of(error, final_name(error, writer and writer.out,
                                                  options.site_dir),
                                f"{options.site_dir} is as it was") from None
        raise


def check(config: SiteConfig, states: list[PostState], options: BuildOptions,
          report: BuildReport) -> None:
    """Every unmet expectation or claim, broken internal link and missing image, one line each.

    A quick run's numbers mean nothing: its `expect:` thresholds and `claims:` are skipped
    (and said so), but each expected name must still be recorded."""
    from sitegen import checks

    for state in states:
        values = state.entry.results.get("values", {}) if state.entry else {}
        quick = state.mode == "smoke" and state.entry is not None
        expect = ({name: condition for name, condition in state.post.expect.items()
                   if name not in values} if quick else state.post.expect)
        report.problems += [f"{state.post.path}: {problem}"
                            for problem in checks.check_expectations(expect, values)]
        if not quick:  # a quick run's verdicts mean nothing either
            report.problems += [f"{state.post.path}: {problem}"
                                for problem in checks.check_claims(state.post.claims, values)]
        skipped = [f"expect: {name} {condition}" for name, condition
                   in sorted(state.post.expect.items()) if name in values] if quick else []
        skipped += [f"claims: {name}" for name in sorted(state.post.claims)] if quick else []
        if skipped:
            report.skipped.append(f"{state.post.path}: " + ", ".join(skipped)
                                  + " (a quick run's numbers are not checked)")
    pages = {state.post.output_path: f"{state.post.path} ({state.post.output_path})"
             for state in states}
    report.problems += checks.check_site(options.site_dir, config.baseurl, pages)


# --- the build -----------------------------------------------------------------------------


def build(options: BuildOptions, progress_factory=None,
          stop: StopRequest | None = None) -> BuildReport:
    """Gathers, executes what is stale, writes the site, and checks it if asked.

    Ctrl-C or SIGTERM (or `stop` being set) raises Interrupted at the next safe point: `_site/`
    as it was, nothing stored for the posts it stopped (those that had finished are kept).
    """
    start = time.monotonic()
    report = BuildReport()
    with stop_on_signals(stop) as stop:
        config, states = gather(options, report.errors)
        report.posts = len(states) + len(report.errors)
        stop.check("while reading the posts")
        check_force(states, options)
        check_parameters(states, options)
        execute_stale(states, options, report, progress_factory, stop, config)
        write_site(config, states, options, report, stop)
        if options.check:  # the site is out: a stop request now changes nothing
            check(config, states, options, report)
    report.seconds = time.monotonic() - start
    return report
