"""`build.py --cluster`: posts run on a real Dask cluster, and come back checked.

A `distributed.LocalCluster` (processes, two one-thread workers) serves the module; the special
workers are started as a user starts them, with the `dask worker` command: one with a fake
`GPU=1` resource, one with other catdog code, one to be killed mid-cell, two sharing a resource
(one killed, the other retrying its post under `--retries 1`). Each test writes its
own tiny site, as tests/test_build.py does, and runs `python build.py --cluster ...` as a user
does. Dask lives only in those processes: its threads outlive a client, and this process must
stay single-threaded for the tests after these (sitegen.incremental forks only then).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, write_site
from test_build import SCORING_POST
from test_execution import Lines, is_running, site_files

pytest.importorskip("distributed", reason="needs Dask: `pip install -e \".[cluster]\"`")

pytestmark = pytest.mark.slow

TIMED_POST = """\
---
title: Timed
{resources}
---

```python
import os, time
from catdog import results
started = time.time()
pathlib = __import__("pathlib")
pathlib.Path({pid_file!r}).write_text(str(os.getpid())) if {pid_file!r} else None
```

```python
time.sleep({seconds})
import catdog
results.record(started=started, ended=time.time(), catdog_file=catdog.__file__)
```
"""

DATA_POST = """\
---
title: Reads data
---

```python
import os
from catdog import results
path = os.environ["CATDOG_TINY"]
files, size = results.data_size(path)
results.record_data_source(path, files=files, bytes=size, env="CATDOG_TINY",
                           fingerprint=results.fingerprint(path))
results.record(size=size, read_from=path)
```
"""

OWN_DATA_POST = """\
---
title: Makes its data
---

```python
from pathlib import Path
from catdog import results
Path("made").mkdir()
Path("made/shape.txt").write_text("a circle")
files, size = results.data_size("made")
results.record_data_source(str(Path("made").resolve()), files=files, bytes=size,
                           fingerprint=results.fingerprint("made"))
results.record(size=size)
```
"""

LOCAL_CLUSTER = """\
from distributed import LocalCluster
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                       dashboard_address=None)
print(cluster.scheduler_address, flush=True)
input()
"""


def timed_post(seconds: float = 0, resources: str = "", pid_file: Path | str = "") -> str:
    return TIMED_POST.format(seconds=seconds, pid_file=str(pid_file),
                             resources=f"resources: {resources}" if resources else "")


def manifest(site: Path, stem: str) -> dict:
    return json.loads((site / "_freeze" / stem / "real" / "manifest.json").read_text())


def environment(**variables: str) -> dict[str, str]:
    """This process's variables, the kernels importing this checkout's catdog and sitegen."""
    return {**os.environ, "PYTHONPATH": str(REPO), **variables}


def build_site(site: Path, *arguments: str, **variables: str) -> subprocess.CompletedProcess:
    """`python build.py --root SITE ...`, as a user runs it."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), "--root", str(site),
                           *arguments], capture_output=True, text=True, timeout=300,
                          env=environment(**variables))


@pytest.fixture(scope="module")
def data_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data-cache")


@pytest.fixture(scope="module")
def cluster(data_cache):
    """A LocalCluster of two CPU workers, and a `dask worker --resources GPU=1` beside them;
    every worker keeps shipped data in `data_cache`. Yields the scheduler's address."""
    local = subprocess.Popen([sys.executable, "-c", LOCAL_CLUSTER], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=environment(CATDOG_DATA_CACHE=str(data_cache)))
    address = local.stdout.readline().strip()
    gpu = start_worker(address, "gpu", "--resources", "GPU=1",
                       CATDOG_DATA_CACHE=str(data_cache))
    try:
        yield address
    finally:
        stop_worker(gpu)
        local.communicate("\n", timeout=60)


def start_worker(address: str, name: str, *arguments: str,
                 **variables: str) -> subprocess.Popen:
    """`dask worker ADDRESS --name NAME ...`, as the README starts one; waits until it joined."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dask", "worker", address, "--name", name, "--nthreads", "1",
         "--no-dashboard", "--no-nanny", *arguments], env=environment(**variables),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    if not Lines(process.stderr).wait_for("Registered to:", seconds=60):
        stop_worker(process)
        raise RuntimeError(f"dask worker {name} did not join {address}")
    return process


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_gpu_post_runs_on_the_gpu_worker_and_its_page_names_the_worker(tmp_path, cluster):
    site = write_site(tmp_path, {"2026-01-02-gpu.md": timed_post(resources="{GPU: 1}"),
                                 "2026-01-03-cpu.md": SCORING_POST})
    assert build_site(site, "--cluster", cluster).returncode == 0
    worker = manifest(site, "2026-01-02-gpu")["run"]["worker"]
    assert worker["name"] == "gpu"
    assert worker["host"] and worker["processor"] and worker["cpus"] >= 1
    page = (site / "_site/2026/01/02/gpu.html").read_text()
    assert f"{worker['host']} ({worker['processor']}, {worker['cpus']} cores)" in page
    assert (site / "_site/2026/01/03/cpu.html").is_file()


def test_two_cpu_posts_run_side_by_side_on_two_workers(tmp_path, cluster):
    site = write_site(tmp_path, {f"2026-01-0{day}-p{day}.md": timed_post(seconds=3)
                                 for day in (2, 3)})
    built = build_site(site, "--cluster", cluster)
    assert built.returncode == 0, built.stderr
    first, second = (manifest(site, f"2026-01-0{day}-p{day}") for day in (2, 3))
    assert first["run"]["worker"]["name"] != second["run"]["worker"]["name"]
    a, b = first["results"]["values"], second["results"]["values"]
    assert a["started"] < b["ended"] and b["started"] < a["ended"], "they did not overlap"
    assert "post 2/2" in built.stderr and "cell 2/2" in built.stderr


def test_a_second_build_runs_nothing_on_the_cluster(tmp_path, cluster):
    site = write_site(tmp_path, {"2026-01-02-scoring.md": SCORING_POST})
    assert build_site(site, "--cluster", cluster).returncode == 0
    built = build_site(site, "--cluster", cluster)
    assert built.returncode == 0 and "0 executed, 1 from cache" in built.stdout


def test_a_killed_worker_fails_its_post_in_one_line_and_the_others_go_on(tmp_path, cluster):
    pid_file = tmp_path / "kernel.pid"
    site = write_site(tmp_path, {
        "2026-01-02-doomed.md": timed_post(60, resources="{DOOMED: 1}", pid_file=pid_file),
        "2026-01-03-fine.md": timed_post(4)})
    doomed = start_worker(cluster, "doomed", "--resources", "DOOMED=1")
    threading.Thread(target=kill_when_running, args=(doomed, pid_file), daemon=True).start()
    try:
        built = build_site(site, "--cluster", cluster)
    finally:
        stop_worker(doomed)
        if pid_file.exists():
            kill(int(pid_file.read_text()))  # the orphaned kernel
    assert built.returncode == 1
    line = next(line for line in built.stderr.splitlines() if "doomed.md" in line)
    assert "doomed.md: cell 2: the worker" in line and "died" in line and "not retried" in line
    assert not (site / "_freeze/2026-01-02-doomed/real/manifest.json").exists()
    assert manifest(site, "2026-01-03-fine")["results"]["values"]["ended"]  # it went on


def kill_when_running(worker: subprocess.Popen, pid_file: Path) -> None:
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # cell 2 is sleeping now
    worker.send_signal(signal.SIGKILL)


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


RETRIED_POST = """\
---
title: Retried
resources: {{RETRY: 1}}
---

```python
import os, pathlib, time
from catdog import results
marker = pathlib.Path({marker!r})
first = not marker.exists()
marker.write_text(str(os.getpid())) if first else None
```

```python
time.sleep(60 if first else 0)
results.record(first=first)
```
"""


def test_with_retries_a_killed_workers_post_runs_again_on_another(tmp_path, cluster):
    marker = tmp_path / "kernel.pid"
    site = write_site(tmp_path, {"2026-01-02-retried.md": RETRIED_POST.format(marker=str(marker))})
    workers = {f"retry-{n}": start_worker(cluster, f"retry-{n}", "--resources", "RETRY=1")
               for n in (1, 2)}
    killed: dict = {}
    threading.Thread(target=kill_the_runner, args=(workers, marker, killed), daemon=True).start()
    try:
        built = build_site(site, "--cluster", cluster, "--retries", "1")
    finally:
        for worker in workers.values():
            stop_worker(worker)
        kill(int(marker.read_text())) if marker.exists() else None  # the orphaned kernel
    assert built.returncode == 0, built.stderr
    assert "died while this cell ran; retrying on another worker (1 of 1)" in built.stderr, \
        built.stderr
    run = manifest(site, "2026-01-02-retried")
    assert run["results"]["values"]["first"] is False
    assert run["run"]["worker"]["name"] not in ("", killed["name"])


def kill_the_runner(workers: dict[str, subprocess.Popen], marker: Path, killed: dict) -> None:
    """Kills the worker whose kernel wrote `marker` (the kernel's parent), once it sleeps."""
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # cell 2 is sleeping now
    stat = Path(f"/proc/{int(marker.read_text())}/stat").read_text()
    parent = int(stat.rsplit(")", 1)[1].split()[1])
    name = next(name for name, worker in workers.items() if worker.pid == parent)
    killed["name"] = name
    workers[name].send_signal(signal.SIGKILL)


def test_a_worker_with_other_catdog_code_runs_the_authors(tmp_path, cluster):
    other = tmp_path / "other"
    shutil.copytree(REPO / "catdog", other / "catdog",
                    ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "catdog" / "results.py", "a") as file:
        file.write("\n# another catdog\n")
    site = write_site(tmp_path / "site", {"2026-01-02-other.md": timed_post(
        resources="{OTHER: 1}")})
    worker = start_worker(cluster, "other", "--resources", "OTHER=1",
                          PYTHONPATH=f"{other}{os.pathsep}{REPO}")
    try:
        built = build_site(site, "--cluster", cluster)
    finally:
        stop_worker(worker)
    assert built.returncode == 0, built.stderr
    values = manifest(site, "2026-01-02-other")["results"]["values"]
    assert str(other) not in values["catdog_file"]  # the kernel got the bundle's catdog
    assert "/code/catdog/" in values["catdog_file"]


def site_with_data(tmp_path: Path, size: int) -> tuple[Path, dict]:
    """A post run here once on `size` random bytes: its entry records them (name,
    fingerprint). Returns the site and that entry's manifest."""
    data = tmp_path / "tiny.bin"
    data.write_bytes(os.urandom(size))
    site = write_site(tmp_path / "site", {"2026-01-02-data.md": DATA_POST})
    assert build_site(site, CATDOG_TINY=str(data)).returncode == 0
    return site, manifest(site, "2026-01-02-data")


def test_small_data_travels_with_the_bundle(tmp_path, cluster, data_cache):
    site, _ = site_with_data(tmp_path, 1000)
    built = build_site(site, "--cluster", cluster, "--force")
    assert built.returncode == 0, built.stderr
    values = manifest(site, "2026-01-02-data")["results"]["values"]
    assert values["read_from"].startswith(str(data_cache)) and values["size"] == 1000


def test_data_a_post_makes_in_the_workers_folder_is_no_input(tmp_path, cluster):
    site = write_site(tmp_path / "site", {"2026-01-02-made.md": OWN_DATA_POST})
    built = build_site(site, "--cluster", cluster)
    assert built.returncode == 0, built.stderr
    assert manifest(site, "2026-01-02-made")["results"]["data"] == []
    status = build_site(site, "--status")
    assert status.stdout.strip() == "posts/2026-01-02-made.md: fresh"


def test_a_worker_without_the_data_fails_the_post_before_any_cell(tmp_path, cluster):
    from sitegen.bundle import MAX_SHIPPED_DATA_BYTES

    site, before = site_with_data(tmp_path, MAX_SHIPPED_DATA_BYTES + 1)  # too big to travel
    built = build_site(site, "--cluster", cluster, "--force")
    assert built.returncode == 1
    fingerprint = before["results"]["data"][0]["fingerprint"]
    assert "the data it read is not there" in built.stderr
    assert f"tiny.bin, {fingerprint[:15]}" in built.stderr
    assert "cell 1" not in built.stderr
    assert manifest(site, "2026-01-02-data") == before  # its last good run stays


def test_ctrl_c_cancels_the_remote_run_and_publishes_nothing(tmp_path, cluster):
    site = write_site(tmp_path, {"2026-01-02-scoring.md": SCORING_POST})
    assert build_site(site, "--cluster", cluster).returncode == 0
    before = site_files(site)
    pid_file = tmp_path / "kernel.pid"
    (site / "posts/2026-01-03-sleeps.md").write_text(timed_post(60, pid_file=pid_file))
    build = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(site),
                              "--cluster", cluster], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             env=environment())
    stderr = Lines(build.stderr)
    try:
        assert stderr.wait_for("cell 2/2", seconds=120) and pid_file.exists(), stderr.text()
        time.sleep(0.5)  # the remote cell is sleeping now
        os.killpg(build.pid, signal.SIGINT)  # as a terminal's Ctrl-C
        assert build.wait(timeout=60) == 130
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    assert "interrupted: " in stderr.text() and "sleeps.md at cell 2 of 2 on " in stderr.text()
    assert "nothing published" in stderr.text() and "Traceback" not in stderr.text()
    assert site_files(site) == before
    kernel = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while is_running(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not is_running(kernel), "the remote kernel still runs"


def test_an_unreachable_scheduler_is_one_line_before_anything_runs(tmp_path):
    site = write_site(tmp_path, {"2026-01-02-scoring.md": SCORING_POST})
    built = build_site(site, "--cluster", "tcp://127.0.0.1:9")
    assert built.returncode == 1
    lines = [line for line in built.stderr.splitlines() if line.startswith("build")]
    assert len(lines) == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in lines[0]
    assert not (site / "_freeze/2026-01-02-scoring/real").exists()
