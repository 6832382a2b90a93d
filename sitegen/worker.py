"""Turn a post bundle into a result bundle, on any machine: a cluster worker's side of a run.

    python -m sitegen.worker run < post.bundle > result.bundle

`run_bundle` gives the run what a machine other than the author's needs first: catdog's code
as the author's kernel has it (first on the kernel's path, whatever this machine has), the
post's data found here by fingerprint (shipped small data kept in a content-addressed cache),
a scratch folder; then it runs the post as the build runs one (`sitegen.execute.run_notebook`,
the one way a post runs) and returns the result with this machine's facts. Nothing here
imports Dask: sitegen.cluster hands bundles to this module. (Not to be confused with
sitegen.workers, the build's own process pool for parsing and rendering.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from catdog import results as catdog_results
from sitegen import datasources
from sitegen.bundle import PostBundle, ResultBundle, data_member, error_to_dict
from sitegen.cache import MAX_PUBLISHED_BYTES, PUBLISHED_SUFFIXES, now_iso
from sitegen.datasources import DataSource, FingerprintMemo
from sitegen.exceptions import ExecutionError
from sitegen.execute import Execution, kernel_variables, run_notebook
from sitegen.freshness import kernel_package
from sitegen.machine import gpu_names, hardware
from sitegen.stamps import package_hashes

log = logging.getLogger(__name__)

DATA_CACHE_ENV = "CATDOG_DATA_CACHE"  # where a worker keeps data by fingerprint

# Called with (event, details) as a run goes: "started", "cell", "finished".
Events = Callable[[str, Mapping[str, Any]], None]


def run_bundle(bundle: PostBundle, *, on_event: Events | None = None,
               stop: threading.Event | None = None,
               facts: Mapping[str, Any] | None = None) -> ResultBundle:
    """Runs a post bundle here and returns its result bundle; never raises for the post's
    own failures (a cell, missing data, Ctrl-C): the result carries the error instead.

    `facts` joins the worker's description (a Dask worker adds its address).
    """
    emit = on_event or (lambda event, details: None)
    result = ResultBundle(name=bundle.name, post_path=bundle.post_path,
                          worker={**describe_machine(), **(facts or {})})
    result.timings["ran_at"] = now_iso()
    emit("started", {"machine": result.worker})
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"catdog-{bundle.name}-") as scratch:
        workdir = Path(scratch) / "run"
        result.ran_in = str(workdir)
        try:
            env = prepare(bundle, Path(scratch), result)
        except ExecutionError as error:  # the data is not here: no kernel starts
            result.error = error_to_dict(error)
        else:
            result.timings["setup_s"] = round(time.monotonic() - start, 3)
            execution = run_notebook(
                bundle.notebook, bundle.parameters, path=Path(bundle.post_path),
                workdir=workdir, kernel_name=bundle.kernel, cell_timeout=bundle.cell_timeout,
                env=env, stop=stop,
                on_cell=lambda cell, cells: emit("cell", {"cell": cell, "cells": cells}))
            collect(execution, workdir, result)
        result.kernel_log = _read_log(workdir / "kernel.log")
    result.timings["wall_s"] = round(time.monotonic() - start, 3)
    emit("finished", {"ok": result.ok})
    return result


# --- before the run --------------------------------------------------------------------------


def prepare(bundle: PostBundle, scratch: Path, result: ResultBundle) -> dict[str, str]:
    """The kernel's environment on this machine, as the build gives a local run's
    (`kernel_variables`: the post's folder, this worker's path variables made absolute),
    plus the author's catdog and the data found here.

    Raises ExecutionError before any cell runs when the data is not here.
    """
    post_dir = scratch / "post"
    post_dir.mkdir()
    (post_dir / Path(bundle.post_path).name).write_text(bundle.text, encoding="utf-8")
    code = catdog_environment(bundle, scratch, result)
    data = data_environment(bundle, result)  # wins over this worker's own variables
    return {**kernel_variables(post_dir, bundle.path_variables), **data, **code}


def catdog_environment(bundle: PostBundle, scratch: Path,
                       result: ResultBundle) -> dict[str, str]:
    """The bundle's catdog first on the kernel's PYTHONPATH, whatever this machine has
    installed; this machine's own only when the bundle ships none. `result.ran["catdog"]`
    holds the hashes of the catdog the kernel imports with that path, asked of the kernel's
    Python as the author's build asks for its key (sitegen.freshness.kernel_package)."""
    env: dict[str, str] = {}
    if bundle.shipped_code():
        code = scratch / "code"
        for name, data in bundle.shipped_code().items():
            (code / name).parent.mkdir(parents=True, exist_ok=True)
            (code / name).write_bytes(data)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code),
                                                          os.environ.get("PYTHONPATH")]))
    imported = kernel_package(bundle.kernel, env=env)
    result.ran["catdog"] = {"source": "bundle" if env else "worker",
                            "hashes": package_hashes(imported)}
    return env


def data_environment(bundle: PostBundle, result: ResultBundle) -> dict[str, str]:
    """The variables that point the kernel at each data source of the manifest, found here.

    Where the author's build would find it (sitegen.datasources.locate: this worker's
    variable, the recorded place, the Keras download cache; the first that exists decides),
    with the variable passed as a local build passes it (`Found.variable`); else in this
    worker's data cache by fingerprint, where shipped data lands. Data with a URL is left to
    the post to download; any other data not here raises ExecutionError naming it.
    """
    cache_dir = data_cache()
    memo = FingerprintMemo(cache_dir / "fingerprints.json")
    env, ran, missing = {}, [], []
    for item in bundle.data:
        source = DataSource.from_record(item)
        found = datasources.locate(source, Path.cwd(), memo)
        path = found.path if found.same else in_data_cache(bundle, item, source, cache_dir, memo)
        if found.same:
            env.update(found.variable())
        elif path is not None and source.env:
            env[source.env] = str(path)
        elif path is None and not source.url:
            missing.append((source, cache_dir))
        ran.append({"name": source.name, "fingerprint": source.fingerprint,
                    "place": str(path) if path else None})
    with contextlib.suppress(OSError):
        memo.save()
    result.ran["data"] = ran
    if missing:
        raise ExecutionError(bundle.post_path, missing_data_message(missing), cell=0,
                             ename="MissingData")
    return env


def data_cache() -> Path:
    """This machine's data by fingerprint: `$CATDOG_DATA_CACHE/<sha256 hex>/<name>`."""
    default = Path.home() / ".cache" / "catdog" / "data"
    return Path(os.environ.get(DATA_CACHE_ENV) or default).expanduser()


def in_data_cache(bundle: PostBundle, item: Mapping[str, Any], source: DataSource,
                  cache_dir: Path, memo: FingerprintMemo) -> Path | None:
    """The recorded bytes in the data cache (shipped ones written there first), or None."""
    path = cache_dir / data_member(item).removeprefix("data/")
    data = bundle.files.get(data_member(item)) if item.get("shipped") else None
    if data is not None and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")  # two posts may share it
        partial.write_bytes(data)
        partial.replace(path)
    if path.exists() and memo.fingerprint(path) == source.fingerprint:
        return path
    return None


def missing_data_message(missing: list[tuple[DataSource, Path]]) -> str:
    host = socket.gethostname()
    lines = [f"  {source.describe()}: put it at {cache_dir / source.fingerprint[7:] / source.name}"
             f"{' or set ' + source.env + ' on the worker' if source.env else ''}"
             for source, cache_dir in missing]
    return (f"cannot run on worker {host}: the data it read is not there (none of its places "
            "holds these bytes):\n" + "\n".join(lines))


# --- after the run ---------------------------------------------------------------------------


def collect(execution: Execution, workdir: Path, result: ResultBundle) -> None:
    """The executed notebook, its results record and the small files the post wrote; or the
    error that stopped it."""
    if execution.error is not None:
        result.error = error_to_dict(execution.error)
        return
    result.notebook = execution.notebook
    result.record = catdog_results.from_notebook(execution.notebook)
    result.timings["duration_s"] = round(execution.duration_s, 3)
    result.files = {path.name: path.read_bytes() for path in sorted(workdir.iterdir())
                    if path.suffix.lower() in PUBLISHED_SUFFIXES
                    and path.is_file() and not path.is_symlink()
                    and path.stat().st_size <= MAX_PUBLISHED_BYTES}


def describe_machine() -> dict[str, Any]:
    """The worker: host, CPU model and cores, GPU if any, and the versions it runs."""
    return {"host": socket.gethostname(), **hardware({}), "gpu": gpu_names(),
            "platform": platform.platform(), "environment": catdog_results.environment()}


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-20_000:]
    except OSError:
        return ""


# --- the command -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """`python -m sitegen.worker run < post-bundle > result-bundle`; progress on stderr."""
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["run"]:
        print("usage: python -m sitegen.worker run < post-bundle > result-bundle",
              file=sys.stderr)
        return 2
    try:
        bundle = PostBundle.from_bytes(sys.stdin.buffer.read())
    except ValueError as error:
        print(f"sitegen.worker: {error}", file=sys.stderr)
        return 2
    result = run_bundle(bundle, on_event=lambda event, details: print(
        f"{bundle.name}: {event_text(event, details)}", file=sys.stderr))
    sys.stdout.buffer.write(result.to_bytes())
    return 0 if result.ok else 1


def event_text(event: str, details: Mapping[str, Any]) -> str:
    """`started on gpu-box`, `cell 3/12`, `finished: ok` (or `FAILED`)."""
    if event == "started":
        return f"started on {details['machine']['host']}"
    if event == "cell":
        return f"cell {details['cell']}/{details['cells']}"
    return f"{event}: {'ok' if details.get('ok') else 'FAILED'}"


if __name__ == "__main__":
    sys.exit(main())
