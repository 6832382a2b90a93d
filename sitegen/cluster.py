"""Run stale posts on a Dask cluster: `build.py --cluster tcp://host:8786`.

Each stale post becomes a post bundle (sitegen.bundle) submitted to a `distributed.Client`
with the post's `resources:` (a GPU post waits for a worker started with `--resources
GPU=1`). A worker turns it into a result bundle with sitegen.worker, publishing its progress
as Dask events (`Worker.log_event` → `Client.subscribe_topic`), so the author sees post k/N,
cell k/M and the clock as in a local build. Nothing is stored until the result is checked
here: the key recomputed from what the worker ran, the data it read, its environment against
the lock. Each post's end comes back as a `sitegen.execute.Execution`, as a local run's does
(the files the post wrote in a working folder of the cache, the worker among the run's facts),
and `sitegen.build.record_outcome` stores it as it stores a local run.

Faults are the post's, not the build's: a worker that dies fails its post in one line and is
never silently retried (a further start of the same post is refused), unless the author asked
for retries (`--retries N`, `cluster_retries:`): then the scheduler may start it again on
another worker, N times at most; Ctrl-C cancels the remote work, whose kernels are interrupted
as local ones are (a worker watches its task being cancelled), and nothing of the stopped
posts is stored.
"""

from __future__ import annotations

import ast
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import Client, Future, get_worker
from distributed.client import FutureCancelledError

from sitegen.bundle import PostBundle, ResultBundle, make_post_bundle
from sitegen.cache import Cache, now_iso
from sitegen.cells import is_injected
from sitegen.exceptions import BuildError, ExecutionError, Interrupted, Stopped
from sitegen.execute import Execution
from sitegen.freshness import code_hash, kernel_package
from sitegen.lock import Lock
from sitegen.worker import run_bundle

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10
POLL_S = 0.2  # how often the build looks at finished posts and Ctrl-C
LIVENESS_S = 1.0  # how often it asks the scheduler which workers are alive
STOP_WAIT_S = 30  # after Ctrl-C, how long to wait for remote kernels to shut down


# --- the build's side ------------------------------------------------------------------------


def run_posts(to_run: list, options, config, report, progress, stop) -> Iterator[Execution]:
    """Runs each post of `to_run` (PostStates) on the cluster at `config.cluster`, giving each
    one's Execution as it ends: its result checked and ready to store, or the error that keeps
    it from being stored; raises Interrupted once `stop` is set, as a local build does."""
    bundles = bundle_each(to_run, options, config, report)
    to_run = [state for state in to_run if state.name in bundles]
    client = connect(config.cluster)
    warn_unmet_resources(client, to_run, bundles, config.cluster)
    runs = Runs(progress)
    topic = f"catdog-progress-{uuid.uuid4().hex}"
    client.subscribe_topic(topic, runs.receive)
    cache = Cache(options.freeze_dir, options.root)
    retries = config.cluster_retries
    futures: dict[Future, Any] = {}
    try:
        futures = {submit(client, bundles[state.name], topic, retries): state
                   for state in to_run}
        for state, result in results_until_stopped(client, futures, runs, stop, retries):
            error = checked(state, bundles[state.name], result, options)
            yield execution_of(state, error, result, cache)
    finally:
        client.cancel([future for future in futures if not future.done()], force=True)
        client.close()


def bundle_each(to_run: list, options, config, report) -> dict[str, PostBundle]:
    """Each post's bundle, by post name, with the catdog its kernel imports here; a post that
    cannot be bundled joins the report's errors and does not run."""
    catdog = {kernel: kernel_package(kernel) for kernel in sorted({s.kernel for s in to_run})}
    bundles = {}
    for state in to_run:
        try:
            bundles[state.name] = make_post_bundle(state, options, config, catdog[state.kernel])
        except BuildError as error:
            report.errors.append(error)
    return bundles


def execution_of(state, error: BuildError | None, result, cache: Cache) -> Execution:
    """A remote run as the build stores a local one: the files the post wrote in a fresh
    working folder of the cache, the worker (host, hardware) among the run's facts."""
    workdir = cache.workdir(state.post.path, state.mode)
    if error is not None:
        return Execution(None, state=state, workdir=workdir, ran_at=now_iso(), error=error)
    result.unpack(workdir)
    return Execution(result.notebook, duration_s=result.timings.get("duration_s", 0.0),
                     state=state, workdir=workdir, ran_at=result.timings["ran_at"],
                     worker=result.machine(), ran_in=Path(result.ran_in) if result.ran_in else None)


def connect(address: str) -> Client:
    """A client of the scheduler at `address`, or one line saying it cannot be reached."""
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise BuildError(None, f"cannot reach the Dask scheduler at {address} ({reason}); "
                               "start one (`dask scheduler`, then `dask worker ADDRESS`; README: "
                               "Running posts on a cluster) or fix --cluster / _config.yml's "
                               "`cluster:`. Nothing ran.") from None


def warn_unmet_resources(client: Client, to_run: list, bundles: dict[str, PostBundle],
                         address: str) -> None:
    """A post whose `resources:` no worker offers waits until one joins: say so, not hang."""
    offered = [worker.get("resources", {}) for worker
               in client.scheduler_info(n_workers=-1).get("workers", {}).values()]
    for state in to_run:
        wanted = bundles[state.name].resources
        if wanted and not any(all(resources.get(name, 0) >= amount
                                  for name, amount in wanted.items()) for resources in offered):
            log.warning("%s: no worker of %s offers %s yet; the post waits for one (start "
                        "`dask worker %s --resources %s`), or Ctrl-C", state.post.path, address,
                        wanted, address, ",".join(f"{k}={v}" for k, v in wanted.items()))


def submit(client: Client, bundle: PostBundle, topic: str, retries: int) -> Future:
    """One post as one Dask task, only on workers offering its resources; retried `retries`
    times at most if it raises on a worker (Dask's `retries`; a dead worker: `ended_run`)."""
    return client.submit(run_task, bundle.to_bytes(), topic, bundle.name,
                         key=f"catdog-post-{bundle.name}-{uuid.uuid4().hex[:8]}",
                         resources=bundle.resources or None, retries=retries, pure=False)


@dataclass
class Attempt:
    """One worker's start of a post: where, and how far it got."""

    address: str
    host: str = ""
    cell: int = 0
    cells: int = 0

    def where(self) -> str:
        return f"{self.host} ({self.address})"


@dataclass
class Run:
    """What the build knows of one remote run, from the workers' events."""

    attempts: list[Attempt] = field(default_factory=list)  # each worker's start, in order
    deaths: int = 0  # attempts whose worker died, as the build has noticed them
    finished: bool = False
    shown: bool = False  # the progress display has started it
    ended: bool = False  # the build has its result: later events change nothing

    @property
    def addresses(self) -> list[str]:
        return [attempt.address for attempt in self.attempts]

    def attempt(self, address: str) -> Attempt:
        """The latest attempt on the worker at `address` (a new one if it has none yet)."""
        for attempt in reversed(self.attempts):
            if attempt.address == address:
                return attempt
        self.attempts.append(Attempt(address))
        return self.attempts[-1]

    def where(self, path: str) -> str:
        if not self.attempts:
            return f"{path} before its first cell"
        now = self.attempts[-1]
        if not now.cell:
            return f"{path} before its first cell on {now.where()}"
        return f"{path} at cell {now.cell} of {now.cells} on {now.where()}"


class Runs:
    """The runs of this build, updated from workers' events (in the client's thread)."""

    def __init__(self, progress):
        self.progress = progress
        self.by_post: dict[str, Run] = {}
        self.lock = threading.Lock()

    def receive(self, event: tuple[float, dict[str, Any]]) -> None:
        message = event[1]
        with self.lock:
            run = self.by_post.setdefault(message["post"], Run())
            self.update(run, message)

    def update(self, run: Run, message: dict[str, Any]) -> None:
        name, kind = message["post"], message["event"]
        if run.ended:
            return
        if kind == "started":
            run.attempts.append(Attempt(message["address"],
                                        message.get("machine", {}).get("host", "")))
            self.show(name, run)
        elif kind == "cell":
            attempt = run.attempt(message["address"])
            attempt.cell, attempt.cells = message["cell"], message["cells"]
            if self.progress:
                self.progress.cell_started(name, attempt.cell, attempt.cells)
        elif kind == "finished":
            run.finished = True

    def show(self, name: str, run: Run) -> None:
        if self.progress and not run.shown:
            self.progress.post_started(name)
        run.shown = True

    def end(self, name: str) -> None:
        """The build has the post's result (which may come before the worker's events)."""
        with self.lock:
            run = self.by_post.setdefault(name, Run())
            self.show(name, run)
            run.ended = True

    def get(self, name: str) -> Run:
        with self.lock:
            return self.by_post.get(name) or Run()


def results_until_stopped(client: Client, futures: dict[Future, Any], runs: Runs, stop,
                          retries: int = 0):
    """(state, ResultBundle or BuildError) for each post as it ends; a post whose worker
    died ends at once, unless it has retries left. On a stop request, cancels the rest and
    raises Interrupted."""
    pending, seen, lost, next_look = dict(futures), set(), set(), 0.0
    while pending and not stop.is_set():
        if time.monotonic() >= next_look:  # one call to the scheduler: not at every poll
            alive = set(client.scheduler_info(n_workers=-1).get("workers", {}))
            seen, lost = seen | alive, (seen | alive) - alive
            next_look = time.monotonic() + LIVENESS_S
        for future, state in list(pending.items()):
            ended = ended_run(future, state, runs.get(state.name), lost, retries)
            if ended is not None:
                del pending[future]
                runs.end(state.name)
                yield state, ended
        if pending:
            time.sleep(POLL_S)
    if pending:
        interrupt(client, pending, runs, stop)


def ended_run(future: Future, state, run: Run, lost: set[str], retries: int = 0):
    """The result, or the error, of a run that has ended; None while it runs. A run whose
    worker left the cluster more than `retries` times, or that more workers started than
    that allows (the scheduler retrying it after a death), has ended: it is cancelled, never
    retried silently. Within `retries`, the scheduler starts it on another worker (at most
    its `distributed.scheduler.allowed-failures` times, 3 by default)."""
    if future.done():
        return finished_run(future, state, run, retries)
    dead = [attempt for attempt in run.attempts if attempt.address in lost]
    if len(dead) > retries or len(run.attempts) > retries + 1:
        future.cancel(force=True)
        # The scheduler may start it again before this build sees the death: the one before.
        gone = dead[-1] if dead else run.attempts[-2]
        return worker_died(state, run, retries, gone)
    for number, attempt in enumerate(dead[run.deaths:], start=run.deaths + 1):
        log.warning("%s: %s; retrying on another worker (%d of %d)", state.post.path,
                    died(attempt), number, retries)
    run.deaths = len(dead)
    return None


def finished_run(future: Future, state, run: Run, retries: int = 0):
    try:
        return ResultBundle.from_bytes(future.result())
    except FutureCancelledError:
        return worker_died(state, run, retries)
    except Exception as error:  # KilledWorker, or the task itself failed on the worker
        if type(error).__name__ == "KilledWorker":
            return worker_died(state, run, retries)
        return ExecutionError(state.post.path, f"the worker failed before or after the run: "
                              f"{type(error).__name__}: {error}", cell=0,
                              ename=type(error).__name__, evalue=str(error))


def worker_died(state, run: Run, retries: int = 0,
                gone: Attempt | None = None) -> ExecutionError:
    """The one line of a post whose worker died (`gone`, else its latest), and what the
    author can do."""
    gone = gone or (run.attempts[-1] if run.attempts else None)
    then = ("not retried (retries: 0): build again to try once more, or ask for retries "
            "(--retries N)" if not retries else
            f"started {len(run.attempts)} times (retries: {retries}): build again")
    return ExecutionError(state.post.path, f"{died(gone)}; {then}",
                          cell=gone.cell if gone else 0, ename="WorkerDied")


def died(attempt: Attempt | None) -> str:
    """`the worker gpu-box (tcp://10.0.0.5:40123) died while this cell ran`."""
    if attempt is None:
        return "the worker running it died before its first cell"
    when = "while this cell ran" if attempt.cell else "before its first cell"
    return f"the worker {attempt.where()} died {when}"


def interrupt(client: Client, pending: dict[Future, Any], runs: Runs, stop) -> None:
    """Cancels every remote run, waits for their kernels to stop, and says where each was."""
    client.cancel(list(pending), force=True)
    started = [state for state in pending.values() if runs.get(state.name).addresses]
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline and not all(
            runs.get(state.name).finished for state in started):
        time.sleep(POLL_S)
    for state in started:
        if runs.progress:
            runs.progress.post_finished(state.name, ok=False, label="interrupted")
    where = ", ".join(runs.get(state.name).where(str(state.post.path)) for state in started)
    raise Interrupted(stop.signum or 2, where or "while posts waited for a worker")


# --- checking and storing a result -----------------------------------------------------------


def checked(state, bundle: PostBundle, result, options) -> BuildError | None:
    """The error a result carries or its checks find; None for a result fit to store."""
    error = result if isinstance(result, BuildError) else None
    if error is None:
        error = result.build_error() or check_result(state, bundle, result, options)
    if isinstance(error, Stopped):  # its task was cancelled, by the scheduler, not by us
        error = ExecutionError(state.post.path, "stopped on the worker (its Dask task was "
                               "cancelled); build again", cell=error.cell, ename="Cancelled")
    return error


def check_result(state, bundle: PostBundle, result: ResultBundle, options) -> BuildError | None:
    """None when the result is what was asked for; notes (or, with --strict, an error) for
    an environment that is not the lock's and data that are not the author's."""
    differences = key_differences(bundle, result)
    if differences:
        return ExecutionError(state.post.path, "the worker ran other inputs than were sent ("
                              + "; ".join(differences) + "); nothing stored. Is it running "
                              "another catdog blog version?", cell=0, ename="Mismatch")
    notes = environment_notes(result, options) + data_notes(bundle, result)
    if notes and options.strict:
        return ExecutionError(state.post.path, "not stored (--strict): " + "; ".join(notes),
                              cell=0, ename="Strict")
    for note in notes:
        log.warning("%s: %s (ran on %s)", state.post.path, note, result.worker.get("host"))
    return None


def ran_key(result: ResultBundle) -> dict[str, Any]:
    """The key parts recomputed from what the worker returned: the cells it ran (the injected
    one aside), the kernel, the parameters it injected, the catdog its kernel got."""
    notebook = result.notebook
    cells = [cell for cell in notebook.cells if not is_injected(cell)]
    injected = [cell.source for cell in notebook.cells if is_injected(cell)]
    return {"code": _code_hash(cells),
            "kernel": notebook.metadata.get("kernelspec", {}).get("name"),
            "parameters": _assigned(injected[0]) if injected else {},
            "catdog": result.ran.get("catdog", {}).get("hashes")}


def key_differences(bundle: PostBundle, result: ResultBundle) -> list[str]:
    ran = ran_key(result)
    wanted = {"code": bundle.key["code"], "kernel": bundle.kernel,
              "parameters": bundle.key["parameters"], "catdog": bundle.catdog["hashes"]}
    return [f"{part} differs" for part in wanted if ran[part] != wanted[part]]


def environment_notes(result: ResultBundle, options) -> list[str]:
    lock = Lock.read(options.root)
    note = lock.note(result.record.get("environment", {})) if lock else None
    return [note] if note else []


def data_notes(bundle: PostBundle, result: ResultBundle) -> list[str]:
    """The run read other bytes under a name the author's last run read: say so."""
    recorded = {item["name"]: item["fingerprint"] for item in bundle.data}
    notes = []
    for source in result.record.get("data", []):
        name = source.get("name") or Path(str(source.get("path", ""))).name
        if name in recorded and source.get("fingerprint") != recorded[name]:
            notes.append(f"read other data than its last run: {name} "
                         f"{recorded[name][:15]}… -> {str(source.get('fingerprint'))[:15]}…")
    return notes


def _code_hash(cells: list) -> str:
    import nbformat

    return code_hash(nbformat.v4.new_notebook(cells=cells))


def _assigned(source: str) -> dict[str, Any]:
    """`name = literal` lines of the injected cell, as the worker's kernel got them."""
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}


# --- the worker's side -----------------------------------------------------------------------


def run_task(bundle_bytes: bytes, topic: str, name: str) -> bytes:
    """The Dask task: runs one post bundle on this worker, publishing progress events, and
    returns its result bundle. A cancelled task (Ctrl-C in the build) stops its kernel."""
    worker = get_worker()
    key = worker.get_current_task()
    attempt = {"address": worker.address}

    def emit(event: str, details) -> None:
        worker.log_event(topic, {"post": name, "event": event, **attempt, **details})

    stop, done = threading.Event(), threading.Event()
    threading.Thread(target=_stop_when_cancelled, args=(worker, key, stop, done),
                     daemon=True).start()
    try:
        bundle = PostBundle.from_bytes(bundle_bytes)
        facts = {"address": worker.address, "name": str(worker.name)}
        return run_bundle(bundle, on_event=emit, stop=stop, facts=facts).to_bytes()
    finally:
        done.set()


def _stop_when_cancelled(worker, key, stop: threading.Event, done: threading.Event) -> None:
    """Sets `stop` once the scheduler no longer wants this task (the build cancelled it)."""
    while not done.wait(POLL_S):
        task = worker.state.tasks.get(key)
        if task is None or task.state in ("cancelled", "released", "forgotten"):
            stop.set()
            return
