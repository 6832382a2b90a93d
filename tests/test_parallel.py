"""Render and parse workers: forked, handed job numbers only, and as if there were none."""

from __future__ import annotations

import os

import pytest

from sitegen import parallel

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


def square_and_pid(number: int, big: list) -> tuple[int, int]:
    if number == 13:
        raise ValueError("thirteen")
    return number * number + len(big), os.getpid()


@pytest.mark.skipif(not TWO_CPUS, reason="workers are forked only with two CPUs or more: "
                    "run it where `nproc` says 2 or more")
def test_workers_give_what_a_loop_gives():
    big = list(range(100_000))  # inherited by the workers, never pickled
    jobs = [(n, big) for n in range(40) if n != 13]
    results = parallel.parallel_map(square_and_pid, jobs)
    assert [value for value, _ in results] == [n * n + len(big) for n, _ in jobs]
    assert {pid for _, pid in results} - {os.getpid()}  # some ran in workers
    assert parallel._FORKED == (None, [])  # nothing kept alive after the map


def test_an_error_in_a_worker_is_raised_as_without_workers():
    with pytest.raises(ValueError, match="thirteen"):
        parallel.parallel_map(square_and_pid, [(n, []) for n in range(40)])
