"""Nothing a post, a hand or a disk can do corrupts the site (issue 22).

A post is code: it may leave links, pipes and hard links in its folder, or name its files like
the builder's. A committed cache entry is edited, merged and damaged by people and tools. A
disk fills up. Each case here is made for real (real links, real damaged files, a real
file-size limit, a real full tmpfs) and the build must end in the safe behaviour or one clear
line: nothing from outside a run's folder published, nothing edited by hand published as a run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import build

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)

REPO = Path(__file__).resolve().parents[1]
POST = "posts/2026-01-02-hostile.md"
ENTRY = "_freeze/2026-01-02-hostile/real"
ASSETS = "_site/2026/01/02/hostile"
SECRET = "the build machine's secret"
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
       "rkJggg==")

# Cell 2 shows a figure (fig-2-1.png) and a long output (output-2-2.txt, whole beside the page),
# and leaves in its folder a table, links, a pipe, a hard link and files named like the builder's.
HOSTILE_POST = f'''\
---
title: Hostile
---

The answer is {{{{ results.answer }}}}.

```python
import base64, os, pathlib
from IPython.display import Image, display
from catdog import results


outside = pathlib.Path(OUTSIDE)
pathlib.Path("table.csv").write_text("a,b\\n1,2\\n")
os.symlink(outside, "secret.txt")
os.symlink(outside.parent, "folder.csv")
os.mkfifo("pipe.csv")
os.link(outside, "hard.csv")
pathlib.Path("results.json").write_text('{{"forged": true}}')
pathlib.Path("FIG-2-1.png").write_bytes(b"forged figure")
pathlib.Path("output-2-2.txt").write_text("forged output")
display(Image(data=base64.b64decode("{PNG}")))
print("\\n".join(f"line {{i}}" for i in range(100)))
results.record(answer=42)
```
'''


def make_site(root: Path, post: str = HOSTILE_POST) -> Path:
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir(parents=True)
    (root / "outside").mkdir()
    (root / "outside/secret.txt").write_text(SECRET)
    text = post.replace("OUTSIDE", repr(str(root / "outside/secret.txt")))
    (root / POST).write_text(textwrap.dedent(text))
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The hostile post, run once in a real kernel; each test gets a copy of the built site."""
    root = make_site(tmp_path_factory.mktemp("built") / "site")
    assert build.main(["--root", str(root)]) == 0
    return root


@pytest.fixture
def site(built, tmp_path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(built, root, symlinks=True)
    return root


def status_line(site: Path, capsys) -> str:
    capsys.readouterr()
    build.main(["--root", str(site), "--status"])
    return capsys.readouterr().out.strip()


def published_bytes(site: Path) -> bytes:
    return b"".join(path.read_bytes() for path in (site / "_site").rglob("*") if path.is_file())


# --- what a post leaves in its folder --------------------------------------------------------


def test_only_regular_files_of_the_run_folder_are_kept_and_published(built):
    assert sorted(os.listdir(built / ENTRY / "files")) == [
        "FIG-2-1.png", "output-2-2.txt", "results.json", "table.csv"]
    assert (built / ASSETS / "table.csv").read_text() == "a,b\n1,2\n"
    assert SECRET.encode() not in published_bytes(built)
    assert SECRET.encode() not in b"".join(p.read_bytes() for p in (built / ENTRY).rglob("*")
                                           if p.is_file())


def test_each_skipped_file_is_one_warning_naming_the_post_and_the_file(tmp_path, caplog):
    root = make_site(tmp_path / "site")
    assert build.main(["--root", str(root)]) == 0
    skipped = [r.getMessage() for r in caplog.records if "from its working folder" in r.message]
    assert len(skipped) == 4 and all(message.startswith(str(root / POST)) for message in skipped)
    assert any(f"secret.txt from its working folder: it is a symbolic link to "
               f"{root / 'outside/secret.txt'}" in message for message in skipped)
    assert any("folder.csv" in m and "symbolic link" in m for m in skipped)
    assert any("pipe.csv" in m and "not a regular file" in m for m in skipped)
    assert any("hard.csv" in m and "hard link (2 names)" in m for m in skipped)


def test_the_builders_files_win_over_the_posts_with_a_warning_naming_both(site, caplog):
    (site / POST).write_text((site / POST).read_text().replace("The answer", "Our answer"))
    assert build.main(["--root", str(site)]) == 0
    assert json.loads((site / ASSETS / "results.json").read_text())["values"] == {"answer": 42}
    assert (site / ASSETS / "fig-2-1.png").read_bytes().startswith(b"\x89PNG")
    assert (site / ASSETS / "output-2-2.txt").read_text().startswith("line 0\n")
    assert not (site / ASSETS / "FIG-2-1.png").exists()  # one name on a case-blind disk
    assert (f"{site / POST}: its run's file FIG-2-1.png is not published: the builder writes "
            "fig-2-1.png beside the page") in caplog.text
    assert "file results.json is not published: the builder writes results.json" in caplog.text
    assert "file output-2-2.txt is not published" in caplog.text


def test_a_link_committed_into_a_cache_entry_is_not_published(site, caplog):
    (site / ENTRY / "files/passwd.csv").symlink_to(site / "outside/secret.txt")
    (site / ENTRY / "files/etc").symlink_to(site / "outside", target_is_directory=True)
    (site / "_site").rename(site / "old_site")  # render every page again
    assert build.main(["--root", str(site), "--frozen"]) == 0
    assert SECRET.encode() not in published_bytes(site)
    assert f"{site / ENTRY / 'files/passwd.csv'}: not publishing it: it is a symbolic link" \
        in caplog.text
    assert f"{site / ENTRY / 'files/etc'}: not publishing it" in caplog.text


# --- damaged and hand-edited cache entries ---------------------------------------------------

MERGE_CONFLICT = '<<<<<<< HEAD\n{"cells": []}\n=======\n{"cells": [1]}\n>>>>>>> theirs\n'


@pytest.mark.parametrize("damage", ["", MERGE_CONFLICT, '{"valid": "JSON, not a notebook"}'])
def test_a_damaged_notebook_is_never_fresh_and_never_crashes(site, capsys, damage):
    (site / ENTRY / "notebook.ipynb").write_text(damage)
    assert status_line(site, capsys).endswith(": stale: cache entry modified by hand (notebook)")
    page = (site / "_site/2026/01/02/hostile.html").read_bytes()
    assert build.main(["--root", str(site), "--frozen"]) == 1
    assert f"{POST}: stale: cache entry modified by hand (notebook)" in capsys.readouterr().err
    assert (site / "_site/2026/01/02/hostile.html").read_bytes() == page  # nothing published


def test_a_hand_edited_output_is_run_again_not_published(site, capsys, caplog):
    notebook = site / ENTRY / "notebook.ipynb"
    notebook.write_text(notebook.read_text().replace('"answer": 42', '"answer": 99'))
    assert status_line(site, capsys).endswith(": stale: cache entry modified by hand (notebook)")
    assert build.main(["--root", str(site)]) == 0
    assert f"Ignoring cache entry {site / ENTRY}: modified by hand (notebook); the post will " \
           "run again." in caplog.text
    assert "1 executed" in capsys.readouterr().out
    assert "The answer is 42." in (site / "_site/2026/01/02/hostile.html").read_text()
    assert status_line(site, capsys).endswith(": fresh")


def test_a_hand_edited_value_or_file_names_the_part(site, capsys):
    manifest = site / ENTRY / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"answer": 42', '"answer": 99'))
    (site / ENTRY / "files/table.csv").write_text("a,b\n1,3\n")
    assert status_line(site, capsys).endswith(
        ": stale: cache entry modified by hand (record; files: table.csv)")


def legacy(site: Path) -> Path:
    """The entry as builders before digests wrote it (this repository's committed entries)."""
    manifest = site / ENTRY / "manifest.json"
    record = json.loads(manifest.read_text())
    del record["digests"]
    manifest.write_text(json.dumps(record))
    return manifest


def test_an_entry_written_before_digests_stays_fresh(site, capsys):
    legacy(site)
    assert status_line(site, capsys).endswith(": fresh")


def test_a_legacy_entry_that_is_damaged_or_disagrees_with_its_notebook_is_not_used(site, capsys):
    manifest = legacy(site)
    manifest.write_text(manifest.read_text().replace('"answer": 42', '"answer": 99'))
    assert status_line(site, capsys).endswith(": stale: cache entry modified by hand "
                                              "(record: values differ from the notebook's)")
    (site / ENTRY / "notebook.ipynb").write_text(MERGE_CONFLICT)
    assert ": stale: cache entry damaged (notebook.ipynb: " in status_line(site, capsys)


def test_this_repositorys_committed_entries_are_still_used_as_they_are():
    from sitegen.cache import Cache, Entry

    cache = Cache(REPO / "_freeze")
    for post in sorted((REPO / "posts").glob("*.md")):
        assert isinstance(cache.load(post, "real"), Entry), post


# --- disk errors -----------------------------------------------------------------------------

CHATTY_POST = """\
---
title: Chatty
---

Many lines.

```python
print("\\n".join(f"line {i:05d} " + "x" * 50 for i in range(4000)))
```
"""


def build_in_subprocess(site: Path, *args: str, limit_kb: int | None = None):
    """`python build.py` as a user runs it, under `ulimit -f` when given."""
    command = f"exec {sys.executable} build.py --root {site} {' '.join(args)}"
    if limit_kb is not None:
        command = f"ulimit -f {limit_kb}; {command}"
    return subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".local" not in p.parts}


def leftovers(site: Path) -> list[Path]:
    return [*site.glob("_site.new-*"), *site.glob("_freeze/*/.real-*")]


@pytest.fixture(scope="module")
def chatty(tmp_path_factory) -> Path:
    root = make_site(tmp_path_factory.mktemp("chatty") / "site", CHATTY_POST)
    assert build.main(["--root", str(root)]) == 0
    return root


@pytest.fixture
def chatty_site(chatty, tmp_path) -> Path:
    shutil.copytree(chatty, tmp_path / "site")
    return tmp_path / "site"


def test_a_file_size_limit_while_writing_the_site_is_one_line(chatty_site):
    (chatty_site / POST).write_text((chatty_site / POST).read_text().replace("Many", "So many"))
    site_before = snapshot(chatty_site / "_site")
    done = build_in_subprocess(chatty_site, limit_kb=100)  # the whole output is 220 kB
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"build.py: {chatty_site / ASSETS}/output-2-1.txt: "
        "cannot write (File too large): the file is over this process's file-size limit "
        f"(ulimit -f): raise it and build again; {chatty_site / '_site'} is as it was")
    assert snapshot(chatty_site / "_site") == site_before and not leftovers(chatty_site)


@pytest.mark.slow
def test_a_file_size_limit_while_storing_a_run_is_one_line(chatty_site):
    entry_before = snapshot(chatty_site / "_freeze")
    site_before = snapshot(chatty_site / "_site")
    done = build_in_subprocess(chatty_site, "--force", limit_kb=100)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"build.py: {chatty_site / ENTRY}/notebook.ipynb: cannot write (File too large): the "
        "file is over this process's file-size limit (ulimit -f): raise it and build again; "
        f"nothing was stored for {chatty_site / POST}: its cache entry is as it was")
    assert snapshot(chatty_site / "_freeze") == entry_before
    assert snapshot(chatty_site / "_site") == site_before and not leftovers(chatty_site)
    assert not list((chatty_site / "_freeze").glob("*/.real-run-*"))


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (only root may mount one; elsewhere these tests are skipped)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): `sudo -E python -m pytest tests/test_safety.py`")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path, leave: int = 0) -> Path:
    """Fills the disk, then frees `leave` bytes of it."""
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.mark.slow
def test_a_full_disk_while_writing_the_site_is_one_line(small_disk):
    site = make_site(small_disk / "site", CHATTY_POST)
    assert build_in_subprocess(site).returncode == 0
    (site / POST).write_text((site / POST).read_text().replace("Many", "So many"))
    site_before = snapshot(site / "_site")
    fill(small_disk)
    done = build_in_subprocess(site)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"build.py: {site / '_site'}/")
    assert last.endswith("cannot write (No space left on device): the disk is full: free some "
                         f"space and build again; {site / '_site'} is as it was")
    assert snapshot(site / "_site") == site_before and not leftovers(site)


@pytest.mark.slow
def test_a_post_that_fills_the_disk_fails_as_a_post_and_frees_it(small_disk):
    site = make_site(small_disk / "site", CHATTY_POST.replace(
        'print(', 'with open("big.bin", "wb") as f:\n    while True: f.write(b"x" * 65536)\nprint('))
    done = build_in_subprocess(site)
    assert done.returncode == 1 and "No space left on device" in done.stderr
    assert f"\nbuild.py: {site / POST}: cell 1 `with open(" in done.stderr
    assert not list((site / "_freeze").glob("*/.real-*")) and not leftovers(site)
    assert shutil.disk_usage(small_disk).free > 2_000_000  # its file went with its folder


def test_a_read_only_disk_is_one_line(small_disk, chatty):
    site = small_disk / "site"
    shutil.copytree(chatty, site)
    (site / POST).write_text((site / POST).read_text().replace("Many", "So many"))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    done = build_in_subprocess(site)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"build.py: {site / '_site'}: cannot write (Read-only file system): the disk is "
        f"read-only: build on a writable disk; {site / '_site'} is as it was")
