"""Work spread over worker processes, one per CPU, when there is enough of it to pay."""

from __future__ import annotations

import os
import threading

PARALLEL_MIN = 16  # fewer jobs than this run in this process: a worker pool costs ~0.1 s

_FORKED: tuple = (None, [])  # (function, jobs) of the running parallel_map, for its workers


def parallel_map(function, jobs: list[tuple]) -> list:
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
