"""Benchmark: `build.py --cluster` on a LocalCluster of 1 and 2 workers against a local build
with `--jobs 1` and `--jobs 2`, on 8 tiny posts.

Each post has two code cells: a `parameters` cell and one that sleeps SECONDS (default 2; a
stand-in for work that leaves the CPU to others, so that the figures measure the build and
not this shared machine's free cores) and records a value. Every arm builds the same 8 posts
from scratch in a fresh folder; a warm-up build of one post on each cluster (workers import
sitegen, nbclient, catdog) is left out. Reported:

- the per-post overhead of the cluster path: (1 worker - local --jobs 1) / 8, target < 1 s;
- the speed-up from 1 to 2 workers: wall(1 worker) / wall(2 workers), target >= 1.8x;
- the load average before and after, since a busy machine moves every figure.

Run from the repository root (about 2 minutes on 2 cores):

    PYTHONPATH=. python bench/cluster.py > bench/results/cluster.txt
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import build  # noqa: E402

POSTS = 8
POST = """\
---
title: Tiny {number}
---

```python tags=["parameters"]
seconds = {seconds}
```

```python
import time
from catdog import results
time.sleep(seconds)
results.record(number={number})
```
"""


def make_site(root: Path, posts: int, seconds: float) -> Path:
    """A fresh site with the project's templates and config and `posts` tiny posts."""
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir()
    for number in range(1, posts + 1):
        (root / "posts" / f"2026-01-{number:02d}-tiny-{number}.md").write_text(
            POST.format(number=number, seconds=seconds))
    return root


def timed_build(posts: int, seconds: float, *arguments: str) -> float:
    """Seconds one build of a fresh site takes (all its posts executed)."""
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(sys.stderr):
        site = make_site(Path(folder), posts, seconds)
        start = time.monotonic()
        code = build.main(["--root", str(site), *arguments])
        elapsed = time.monotonic() - start
    if code != 0:
        raise SystemExit(f"bench/cluster.py: the build {arguments} failed (exit {code})")
    return elapsed


def on_cluster(workers: int, seconds: float) -> float:
    """The build's seconds on a LocalCluster of `workers` one-thread workers, warm."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        timed_build(1, 0, "--cluster", cluster.scheduler_address)  # warm-up, not counted
        return timed_build(POSTS, seconds, "--cluster", cluster.scheduler_address)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="each post's sleep")
    args = parser.parse_args()
    load_before = os.getloadavg()
    walls = {"local --jobs 1": timed_build(POSTS, args.seconds, "--jobs", "1"),
             "local --jobs 2": timed_build(POSTS, args.seconds, "--jobs", "2"),
             "cluster, 1 worker": on_cluster(1, args.seconds),
             "cluster, 2 workers": on_cluster(2, args.seconds)}
    load_after = os.getloadavg()
    report(walls, args.seconds, load_before, load_after)


def report(walls: dict[str, float], seconds: float, before, after) -> None:
    cpus = os.cpu_count() or 1
    print(f"{POSTS} tiny posts, each sleeping {seconds} s in one cell; {cpus} CPUs; "
          f"load average before {before[0]:.2f}, after {after[0]:.2f}")
    if max(before[0], after[0]) > cpus:
        print(f"BUSY MACHINE: the load was above {cpus} (another job held the CPUs): every "
              "figure moves with it, kernel start-up most")
    for arm, wall in walls.items():
        print(f"{arm:20s} {wall:6.1f} s  ({wall / POSTS:.2f} s per post)")
    overhead = (walls["cluster, 1 worker"] - walls["local --jobs 1"]) / POSTS
    speedup = walls["cluster, 1 worker"] / walls["cluster, 2 workers"]
    local = walls["local --jobs 1"] / walls["local --jobs 2"]
    print(f"cluster overhead per post: {overhead:+.2f} s (target < 1 s; below 0 is noise: "
          "both paths start one kernel per post)")
    print(f"speed-up 1 -> 2 workers: {speedup:.2f}x (target >= 1.8x); "
          f"local --jobs 1 -> 2: {local:.2f}x")


if __name__ == "__main__":
    main()
