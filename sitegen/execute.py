"""Execute one post in a fresh Jupyter kernel with nbclient.

Everything that decides how a post runs is visible in `execute_notebook`'s signature:
the working directory, the kernel, the per-cell timeout, the kernel's environment and the
stop request. Nothing here changes this process's state (`os.environ` included), so several
posts can run side by side in threads.

`run_notebook` is the one way a post runs: the build's `run_post` calls it for a post read
here, a cluster worker (sitegen.worker) for a post bundle sent from elsewhere; both give the
kernel its environment with `kernel_variables`.
"""

from __future__ import annotations

import asyncio
import atexit
import copy
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from catdog import results as catdog_results
from catdog.paths import LAUNCH_DIR_ENV, POST_DIR_ENV
from sitegen.cache import now_iso
from sitegen.cells import INJECTED, is_injected, tags
from sitegen.exceptions import BuildError, ExecutionError, Stopped
from sitegen.outputs import strip_ansi
from sitegen.state import DEFAULT_CELL_TIMEOUT, DEFAULT_KERNEL

if TYPE_CHECKING:
    from sitegen.config import SiteConfig
    from sitegen.posts import Post

log = logging.getLogger(__name__)

STOP_POLL_S = 0.1  # how often a run looks at the stop request (a threading.Event)
INTERRUPT_GRACE_S = 3.0  # after Ctrl-C, a cell gets this long to end before its kernel is killed

CATDOG_DATA_VARIABLES = ("CATDOG_DATA", "CATDOG_MORE_DATA", "CATDOG_SCENES")  # always paths

# Called with (cell number, cell count) before each code cell runs.
CellProgress = Callable[[int, int], None]


@dataclass
class Execution:
    """One run of a post: the executed notebook and the facts of its run, or the error that
    stopped it. `execute_notebook` fills the first two; `run_post` the rest."""

    notebook: nbformat.NotebookNode | None
    duration_s: float = 0.0
    state: Any = None  # sitegen.freshness.PostState: the post that ran
    workdir: Path | None = None  # its private working folder, removed once stored
    ran_at: str = ""  # ISO time the run started
    error: BuildError | None = None
    worker: dict[str, Any] | None = None  # the cluster worker that ran it; None: this build
    ran_in: Path | None = None  # the worker's working folder, where not `workdir`

    def run_facts(self) -> dict[str, Any]:
        """What the cache records of how the post ran (its manifest's `run`); a remote run
        adds its `worker` (host, CPU, GPUs), which the page shows as "Ran on"."""
        state = self.state
        facts = {"mode": state.mode, "ran_at": self.ran_at,
                 "duration_s": round(self.duration_s, 1), "parameters": state.parameters,
                 "kernel": state.kernel}
        return {**facts, "worker": self.worker} if self.worker else facts


def run_post(state: Any, cache: Any, *, cell_timeout: int, env: Mapping[str, str],
             stop: threading.Event, progress: Any = None) -> Execution:
    """Runs one post (a PostState) in its own kernel and working folder from `cache`; changes
    no shared state, so posts can run side by side. A failure is returned, not raised."""
    workdir = cache.workdir(state.post.path, state.mode)
    if progress:
        progress.post_started(state.name)
    execution = run_notebook(
        state.post.notebook, state.parameters, path=state.post.path, workdir=workdir,
        kernel_name=state.kernel, cell_timeout=cell_timeout, env=env, stop=stop,
        on_cell=(lambda k, n: progress.cell_started(state.name, k, n)) if progress else None)
    execution.state = state
    if execution.error is None:
        execution.error = catdog_mismatch(state, execution.notebook)
    return execution


def run_notebook(notebook: nbformat.NotebookNode, parameters: Mapping[str, Any], *,
                 path: Path, workdir: Path, kernel_name: str, cell_timeout: int,
                 env: Mapping[str, str], stop: threading.Event | None = None,
                 on_cell: CellProgress | None = None) -> Execution:
    """One run of a post, here or on a cluster worker: `parameters` injected, every cell run
    in `workdir` (`execute_notebook`), the start time kept. A failed cell, a missing kernel
    or a stop request is returned as the Execution's `error`, never raised, so a caller
    handles every ending of a run in one place."""
    ran_at = now_iso()
    try:
        execution = execute_notebook(
            inject_parameters(notebook, parameters), path=path, workdir=workdir,
            kernel_name=kernel_name, cell_timeout=cell_timeout, env=env, stop=stop,
            on_cell=on_cell)
    except (ExecutionError, Stopped) as error:
        execution = Execution(None, error=error)
    execution.workdir, execution.ran_at = workdir, ran_at
    return execution


def kernel_environment(post: Post, config: SiteConfig,
                       data_variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a post read here gets in its kernel (`kernel_variables`): its folder,
    and the path variables it and `_config.yml` list; `data_variables` (the state's,
    sitegen.freshness.Staleness) name data the last run read, found here by content, where
    this shell sets no variable."""
    return kernel_variables(post.path.parent, (*config.path_variables, *post.path_variables),
                            data_variables)


def kernel_variables(post_dir: Path, path_variables: Iterable[str] = (),
                     data_variables: Mapping[str, str] | None = None) -> dict[str, str]:
    """Variables the kernel needs. The kernel runs in an empty folder of its own, so it is told
    where the post is (`CATDOG_POST_DIR`) and where the build (or the worker) was launched
    (`CATDOG_LAUNCH_DIR`), which catdog resolves relative paths from; every `CATDOG_*`
    variable, and each of `path_variables`, holding a relative path is made absolute as the
    shell meant it; `data_variables` point at recorded data found by content where the shell
    sets no variable. TensorFlow's C++ start-up logging is off (it would land in the first
    cell's output). None of this is in the cache key: these are paths of this machine."""
    env = {"TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),  # C++ log noise
           POST_DIR_ENV: str(post_dir.resolve()), LAUNCH_DIR_ENV: str(Path.cwd())}
    names = {name for name in os.environ if name.startswith("CATDOG_")}
    for name in sorted((names | set(path_variables)) - set(env)):
        value = os.environ.get(name)
        if value and is_path(value, always=name in CATDOG_DATA_VARIABLES):
            env[name] = str(Path(value).expanduser().resolve())
    return {**dict(data_variables or {}), **env}


def is_path(value: str, always: bool = False) -> bool:
    """A value that names a file or folder (not a URL, a number or a word): `../photos`,
    `~/x.zip`, `photos` when it exists here. `always`: any value but a URL."""
    if "://" in value:
        return False
    return (always or value.startswith(("~", ".")) or "/" in value or os.sep in value
            or Path(value).exists())


def catdog_mismatch(state: Any, notebook: nbformat.NotebookNode) -> ExecutionError | None:
    """An error if the run used another catdog than the one its key hashed, else None.

    The key hashes the catdog the kernel would import before the run; the run records the one
    it did import (`environment.catdog.sha256`). They differ when catdog was edited while the
    post ran, or the kernel found another copy: storing such a run would file its results
    under code that did not make them.
    """
    ran = catdog_results.from_notebook(notebook).get("environment", {}).get("catdog")
    if not ran or ran.get("sha256") == catdog_results.package_digest(state.key["catdog"]):
        return None
    return ExecutionError(
        state.post.path, f"the run imported catdog from {ran.get('path', '?')}, whose code is "
        "not the code its cache key hashed (was catdog edited during the build?); nothing was "
        "stored: build again to run it with the catdog you have now", cell=None)


def inject_parameters(notebook: nbformat.NotebookNode, parameters: Mapping[str, Any]):
    """Returns a copy of `notebook` with `parameters` assigned right after its `parameters` cell.

    Papermill's convention: the cell tagged `parameters` holds the defaults; a new cell tagged
    `injected-parameters` after it overrides them. Without such a cell, the overrides go first.
    """
    notebook = copy.deepcopy(notebook)
    if not parameters:
        return notebook
    source = "# Parameters injected by build.py\n" + "".join(
        f"{name} = {value!r}\n" for name, value in sorted(parameters.items())
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INJECTED]})
    index = next(
        (i + 1 for i, c in enumerate(notebook.cells) if "parameters" in tags(c)), 0
    )
    notebook.cells.insert(index, cell)
    return notebook


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    path: Path,
    workdir: Path,
    kernel_name: str = DEFAULT_KERNEL,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    env: Mapping[str, str] | None = None,
    on_cell: CellProgress | None = None,
    stop: threading.Event | None = None,
) -> Execution:
    """Runs every code cell of `notebook` in a fresh kernel started in `workdir`.

    `path` is the post's source file, used only to name it in errors. The kernel gets this
    process's environment with `env` on top. Cells tagged `raises-exception` may fail. Raises
    `ExecutionError` naming the cell for a failing cell, a cell timeout, a kernel that died or
    one that is not installed (before any cell runs), and `Stopped` once `stop` is set: the
    kernel is then interrupted and shut down before this returns.
    """
    notebook = copy.deepcopy(notebook)
    workdir.mkdir(parents=True, exist_ok=True)
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return Execution(notebook=notebook, duration_s=0.0)  # prose only: no kernel needed
    notebook.metadata["kernelspec"] = kernelspec(kernel_name, path)
    stop = stop if stop is not None else threading.Event()
    tracker = _CellTracker(notebook, on_cell, stop)
    if stop.is_set():
        raise Stopped(path, cell=0, cells=len(tracker.code_cells))
    client = _make_client(notebook, kernel_name, cell_timeout, workdir, tracker, stop)
    start = time.monotonic()
    kernel_log = workdir / "kernel.log"
    # The kernel's own stderr (native libraries' start-up chatter, ipykernel's notices) goes to
    # a log file, not the author's terminal; what cells write still lands in the notebook.
    # nbclient passes execute()'s keywords on to the kernel manager's start_kernel.
    with open(kernel_log, "w") as kernel_stderr:
        try:
            asyncio.run(_execute_until_stopped(client, stop, tracker,
                                               env={**os.environ, **(env or {})},
                                               stderr=kernel_stderr))
        except Exception as error:
            if stop.is_set():
                raise Stopped(path, cell=tracker.number, cells=len(tracker.code_cells)) from None
            raise _with_where_it_ran(_execution_error(path, tracker, error, kernel_name,
                                                      cell_timeout, kernel_log),
                                     env or {}) from None
        finally:
            # nbclient registers this before starting the kernel and unregisters it only once
            # the kernel started; a kernel that failed to start would leave it to fail at exit.
            atexit.unregister(client._cleanup_kernel)
    return Execution(notebook=notebook, duration_s=time.monotonic() - start)


def _make_client(notebook: nbformat.NotebookNode, kernel_name: str, cell_timeout: int,
                 workdir: Path, tracker: _CellTracker, stop: threading.Event) -> NotebookClient:
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=cell_timeout,
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,
        log=_QuietOnceStopped(stop),
    )
    client.on_cell_start = tracker.started
    client.on_cell_execute = tracker.executing
    return client


def installed_kernels() -> list[str]:
    return sorted(KernelSpecManager().find_kernel_specs())


def kernelspec(kernel_name: str, path: Path) -> dict[str, str]:
    """The installed kernel's notebook metadata, as Jupyter saves it: the executed notebook
    says which kernel ran it, even when the post named only the kernel (no `display_name`).

    A post naming a kernel that is not installed fails here, before any cell runs.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ExecutionError(
            path, f"the kernel {kernel_name!r} is not installed (installed: "
            f"{', '.join(installed_kernels()) or 'none'}); install it, or name one of those "
            "in the front matter's `jupyter: {kernelspec: {name: ...}}`", cell=0,
            ename="NoSuchKernel", evalue=kernel_name) from None
    return {"name": kernel_name, "display_name": spec.display_name, "language": spec.language}


async def _execute_until_stopped(client: NotebookClient, stop: threading.Event,
                                 tracker: _CellTracker, **start_kernel: Any) -> None:
    """nbclient's execute, with a watcher that interrupts the kernel once `stop` is set.

    The watcher runs in the same event loop as nbclient, so it may use the kernel manager;
    interrupting makes the running cell raise KeyboardInterrupt, and nbclient then shuts the
    kernel down as after any error. A kernel still starting is left to start (ipykernel dies
    of a SIGINT then): the next cell hook stops the run.
    """
    run = asyncio.ensure_future(client.async_execute(**start_kernel))
    watcher = asyncio.ensure_future(_stop_when_asked(client, stop, tracker, run))
    try:
        await run
    finally:
        watcher.cancel()


async def _stop_when_asked(client: NotebookClient, stop: threading.Event,
                           tracker: _CellTracker, run: asyncio.Future) -> None:
    while not stop.is_set():
        await asyncio.sleep(STOP_POLL_S)
    if tracker.is_executing:
        await _signal_kernel(client, signal.SIGINT)
    await asyncio.wait({run}, timeout=INTERRUPT_GRACE_S)
    while not run.done():  # a cell that ignores Ctrl-C, or a kernel still starting: kill it
        log.info("The kernel did not stop on Ctrl-C within %s s; killing it.", INTERRUPT_GRACE_S)
        await _signal_kernel(client, signal.SIGKILL)
        await asyncio.wait({run}, timeout=1.0)


async def _signal_kernel(client: NotebookClient, signum: int) -> None:
    """Signals the kernel's process group, if a kernel is running yet (nbclient notices a
    killed kernel within a second and cleans up as for any dead kernel)."""
    manager = client.km
    if manager is None or not manager.has_kernel:
        return
    try:
        if signum == signal.SIGINT:
            await manager.interrupt_kernel()  # as the kernelspec says: a signal or a message
        else:
            await manager.signal_kernel(signum)
    except (OSError, RuntimeError) as error:  # it exited meanwhile
        log.debug("Cannot signal the kernel: %s", error)


class _CellTracker:
    """Knows which code cell runs now: for progress, and to name the cell that failed."""

    def __init__(self, notebook, on_cell: CellProgress | None, stop: threading.Event):
        # Numbered as in the post's source: the injected-parameters cell does not count.
        self.code_cells = [c for c in notebook.cells
                           if c.cell_type == "code" and not is_injected(c)]
        self.on_cell = on_cell
        self.stop = stop
        self.number = 0  # among code cells, from 1: what the author counts
        self.cell = None
        self.is_executing = False  # a cell has been sent to the kernel: it can be interrupted

    def started(self, cell, cell_index: int) -> None:
        if self.stop.is_set():  # e.g. a `raises-exception` cell let the KeyboardInterrupt pass
            raise _StopRequested()
        if cell.cell_type != "code":
            return
        self.cell = cell
        self.number = next((i + 1 for i, c in enumerate(self.code_cells) if c is cell), 0)
        if self.on_cell is not None and self.number:
            self.on_cell(self.number, len(self.code_cells))

    def executing(self, cell, cell_index: int) -> None:
        self.is_executing = True

    def first_line(self) -> str:
        lines = [ln for ln in (self.cell.source if self.cell else "").splitlines() if ln.strip()]
        return lines[0].strip() if lines else ""


class _QuietOnceStopped(logging.LoggerAdapter):
    """nbclient's log, without the errors it reports about a kernel stopped on purpose
    ("Kernel died while waiting for execute reply" after Ctrl-C)."""

    def __init__(self, stop: threading.Event):
        super().__init__(logging.getLogger("nbclient"), {})
        self.stop = stop

    def log(self, level, msg, *args, **kwargs) -> None:
        if not self.stop.is_set():
            super().log(level, msg, *args, **kwargs)


class _StopRequested(Exception):
    """Raised from nbclient's cell hook so that no further cell starts after a stop."""


def _execution_error(path: Path, tracker: _CellTracker, error: Exception, kernel_name: str,
                     cell_timeout: int, kernel_log: Path) -> ExecutionError:
    """nbclient's (and jupyter_client's) errors as the author reads them; others pass through."""
    if isinstance(error, CellExecutionError):
        return _cell_error(path, tracker, error)
    if isinstance(error, CellTimeoutError):
        return _stopped(path, tracker, f"timed out after {cell_timeout} s; raise --timeout or "
                        "make the cell faster", error)
    if isinstance(error, DeadKernelError):
        return _stopped(path, tracker, "the kernel died (out of memory?) while running it",
                        error)
    if isinstance(error, RuntimeError):  # jupyter_client: "Kernel didn't respond in 60 seconds"
        return ExecutionError(path, f"the kernel {kernel_name!r} could not start: {error}. "
                              "Is ipykernel installed in this environment? Its log ends: "
                              + kernel_log.read_text()[-500:], cell=0,
                              ename=type(error).__name__, evalue=str(error))
    raise error


NOT_FOUND = {"FileNotFoundError", "NotADirectoryError", "IsADirectoryError"}


def _with_where_it_ran(error: ExecutionError, env: Mapping[str, str]) -> ExecutionError:
    """A file the post did not find: say where it ran, and where relative paths are looked for."""
    if error.ename in NOT_FOUND:
        error.message += (
            " (the post runs in an empty folder of its own, so a relative path in plain Python "
            "is looked for there; catdog looks for relative paths from the post's folder, "
            f"CATDOG_POST_DIR={env.get('CATDOG_POST_DIR', '?')}, and from where build.py was "
            f"launched, CATDOG_LAUNCH_DIR={env.get('CATDOG_LAUNCH_DIR', '?')})")
    return error


def _cell_error(path: Path, tracker: _CellTracker, error: CellExecutionError):
    return ExecutionError(
        path,
        f"{error.ename}: {error.evalue}",
        cell=tracker.number,
        cell_source=tracker.first_line(),
        ename=error.ename,
        evalue=error.evalue,
        traceback=strip_ansi(str(error.traceback or "")),
    )


def _stopped(path: Path, tracker: _CellTracker, what: str, error: Exception):
    return ExecutionError(path, f"cell {what}", cell=tracker.number,
                          cell_source=tracker.first_line(), ename=type(error).__name__,
                          evalue=str(error))
