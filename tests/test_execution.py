"""How posts run: in the kernel they name, with their own environment, and stopped by Ctrl-C.

Real kernels and real signals: `build.py` runs as a subprocess in its own process group, and
the signal goes to the group, as a terminal's Ctrl-C does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from sitegen.state import kernel_name
from conftest import REPO, run_build, write_site

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)

PROSE_POST = """\
---
title: Prose only
---

Published before the slow post arrives; no kernel needed.
"""

SLEEPING_POST = """\
---
title: Sleeps
---

```python
import os, pathlib
pathlib.Path(PID_FILE).write_text(str(os.getpid()))
```

```python
import time
time.sleep(60)
```
"""


def site_files(site: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) of `_site/` and `_freeze/`, but the local memos."""
    found = {}
    for top in ("_site", "_freeze"):
        for path in sorted((site / top).rglob("*")):
            if ".local" not in path.parts:
                found[str(path.relative_to(site))] = path.read_bytes() if path.is_file() else None
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited: only its entry waits to be reaped


class Lines:
    """Collects a stream's lines in a thread, so a test can wait for one without blocking."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.thread.start()

    def wait_for(self, text: str, seconds: float = 60) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.05)
        return False

    def text(self) -> str:
        self.thread.join(timeout=5)
        return "".join(self.lines)


@pytest.mark.parametrize("arguments, signum, exit_code", [
    ([], signal.SIGINT, 130),
    ([], signal.SIGTERM, 143),
    (["--serve", "--port", "0"], signal.SIGINT, 130),
], ids=["ctrl-c", "sigterm", "serve-ctrl-c"])
def test_a_signal_stops_a_running_cell_within_seconds_and_publishes_nothing(
        tmp_path, arguments, signum, exit_code):
    site = write_site(tmp_path / "site", {"2026-01-02-prose.md": PROSE_POST})
    assert run_build(site) == 0
    before = site_files(site)
    pid_file = tmp_path / "kernel.pid"
    (site / "posts/2026-01-03-sleeps.md").write_text(
        SLEEPING_POST.replace("PID_FILE", repr(str(pid_file))))
    build = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(site),
                              *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    stderr = Lines(build.stderr)
    try:
        assert stderr.wait_for("cell 2/2") and pid_file.exists(), stderr.text()
        time.sleep(0.5)  # the cell is sleeping now
        signalled = time.monotonic()
        os.killpg(build.pid, signum)
        assert build.wait(timeout=30) == exit_code
        seconds = time.monotonic() - signalled
    finally:
        if build.poll() is None:
            os.killpg(build.pid, signal.SIGKILL)
    print(f"{signal.Signals(signum).name} to exit: {seconds:.2f} s")
    assert seconds < 8
    assert ("interrupted: posts/2026-01-03-sleeps.md at cell 2 of 2; nothing published"
            in stderr.text())
    assert "Traceback" not in stderr.text()
    assert not is_running(int(pid_file.read_text()))
    assert site_files(site) == before


def make_kernel(jupyter_dir: Path, name: str, **env: str) -> None:
    """An ipykernel kernelspec under `jupyter_dir` (found through JUPYTER_PATH) with `env`."""
    folder = jupyter_dir / "kernels" / name
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Kernel {name[-1]}", "language": "python", "env": env}))


def post_in_kernel(kernel: str, marker: Path | None = None) -> str:
    marker_line = f"open({str(marker)!r}, 'w').close()\n" if marker else ""
    return f"""\
---
title: Runs in {kernel}
jupyter:
  kernelspec: {{name: {kernel}}}
---

```python
{marker_line}import os
from catdog import results
results.record(who=os.environ.get("CATDOG_TEST_WHO"), data=os.environ.get("CATDOG_DATA"))
```
"""


def test_posts_side_by_side_each_run_in_their_own_kernel_with_their_own_environment(
        tmp_path, monkeypatch):
    make_kernel(tmp_path / "jupyter", "python3-a", CATDOG_TEST_WHO="a")
    make_kernel(tmp_path / "jupyter", "python3-b", CATDOG_TEST_WHO="b")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("CATDOG_DATA", "data.zip")  # relative: each kernel gets it made absolute
    site = write_site(tmp_path / "site", {"2026-01-02-a.md": post_in_kernel("python3-a"),
                                          "2026-01-03-b.md": post_in_kernel("python3-b")})

    assert run_build(site, "--jobs", "2") == 0

    for who in "ab":
        manifest = json.loads((site / f"_freeze/2026-01-0{2 + (who == 'b')}-{who}/real/"
                               "manifest.json").read_text())
        assert manifest["results"]["values"]["who"] == who
        assert manifest["results"]["values"]["data"] == str(Path("data.zip").resolve())
        assert manifest["key"]["kernel"] == manifest["run"]["kernel"] == f"python3-{who}"
        notebook = json.loads((site / f"_freeze/2026-01-0{2 + (who == 'b')}-{who}/real/"
                               "notebook.ipynb").read_text())
        assert notebook["metadata"]["kernelspec"]["display_name"] == f"Kernel {who}"
    assert os.environ["CATDOG_DATA"] == "data.zip"
    assert "CATDOG_TEST_WHO" not in os.environ


def test_a_kernel_that_is_not_installed_is_named_before_any_cell_runs(tmp_path, capsys):
    marker = tmp_path / "a-cell-ran"
    site = write_site(tmp_path / "site", {
        "2026-01-02-elsewhere.md": post_in_kernel("no-such-kernel", marker),
        "2026-01-03-prose.md": PROSE_POST})

    assert run_build(site) == 1

    err = capsys.readouterr().err
    assert "posts/2026-01-02-elsewhere.md" in err
    assert "the kernel 'no-such-kernel' is not installed (installed: " in err and "python3" in err
    assert not marker.exists()
    assert not (site / "_freeze/2026-01-02-elsewhere/real").exists()
    assert (site / "_site/2026/01/03/prose.html").is_file()  # the other post still built


@pytest.mark.parametrize("metadata, kernel", [
    ({}, "python3"),
    ({"kernelspec": {"name": "python3-jax", "display_name": "JAX"}}, "python3-jax"),
    ({"kernelspec": "python3-jax"}, "python3-jax"),
], ids=["none-named", "front-matter-kernelspec", "name-only"])
def test_the_kernelspec_decides_the_kernel(metadata, kernel):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(metadata)  # as sitegen.posts does with front matter `jupyter:`
    assert kernel_name(notebook) == kernel


PATHS_POST = """\
---
title: Where am I
path_variables: [MY_PHOTOS]
---

```python
import os
from catdog import results

results.record(**{name: os.environ.get(name) for name in
                  ("CATDOG_POST_DIR", "CATDOG_LAUNCH_DIR", "CATDOG_PHOTOS", "MY_PHOTOS",
                   "OTHER_PHOTOS", "CATDOG_EPOCHS")})
```
"""


def test_the_kernel_is_told_where_the_post_is_and_gets_relative_paths_made_absolute(
        tmp_path, monkeypatch):
    site = write_site(tmp_path / "site", {"2026-01-02-where.md": PATHS_POST})
    monkeypatch.chdir(tmp_path)  # where build.py is launched from
    monkeypatch.setenv("CATDOG_PHOTOS", "../photos/my_trip")  # any CATDOG_* variable
    monkeypatch.setenv("MY_PHOTOS", "photos/mine")  # named by the post's `path_variables`
    monkeypatch.setenv("OTHER_PHOTOS", "photos/other")  # named by nothing: left alone
    monkeypatch.setenv("CATDOG_EPOCHS", "3")  # not a path

    assert run_build(site) == 0

    manifest = json.loads((site / "_freeze/2026-01-02-where/real/manifest.json").read_text())
    values = manifest["results"]["values"]
    assert values["CATDOG_POST_DIR"] == str((site / "posts").resolve())
    assert values["CATDOG_LAUNCH_DIR"] == str(tmp_path)
    assert values["CATDOG_PHOTOS"] == str((tmp_path / "../photos/my_trip").resolve())
    assert values["MY_PHOTOS"] == str(tmp_path / "photos/mine")
    assert (values["OTHER_PHOTOS"], values["CATDOG_EPOCHS"]) == ("photos/other", "3")
    assert str(tmp_path) not in json.dumps(manifest["key"])  # no machine's paths in the key


def test_a_file_not_found_says_where_the_post_runs(tmp_path, capsys):
    site = write_site(tmp_path / "site", {"2026-01-02-lost.md": """\
---
title: Lost
---

```python
open("../photos/my_trip/cat.jpg")
```
"""})
    assert run_build(site) == 1
    err = capsys.readouterr().err
    assert "FileNotFoundError" in err and "runs in an empty folder of its own" in err
    assert f"CATDOG_POST_DIR={(site / 'posts').resolve()}" in err
