"""Data is known by its content: a post run once publishes on any machine, with or without its data.

The workflow this protects: run a post where the data is (`build.py --force POST`), commit
`_freeze/<post>/`, and every other clone publishes it. Here a tiny post reads a folder that the
variable TINY_DATA points at, as `catdog.data` reads CATDOG_DATA.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

import build

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)

REPO = Path(__file__).resolve().parents[1]
POST = "posts/2026-01-03-reads-a-folder.md"
MANIFEST = "_freeze/2026-01-03-reads-a-folder/real/manifest.json"

FOLDER_POST = """\
---
title: Reads a folder
---

```python
import os
from catdog import results

folder = os.environ["TINY_DATA"]
files, size = results.data_size(folder)
results.record_data_source(folder, kind="folder", files=files, bytes=size,
                           fingerprint=results.fingerprint(folder), env="TINY_DATA")
results.record(test_accuracy=0.5)
```

It scores {{ results.test_accuracy | percent }}.
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A site whose one post was run for real on `photos/`, found through TINY_DATA."""
    root = tmp_path / "site"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "catdog", root / "catdog", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir()
    (root / POST).write_text(textwrap.dedent(FOLDER_POST))
    photos = tmp_path / "photos"
    for name in ("cats/1.jpg", "cats/2.jpg", "dogs/1.jpg"):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        (photos / name).write_bytes(name.encode() * 10)
    monkeypatch.setenv("TINY_DATA", str(photos))
    assert build.main(["--root", str(root)]) == 0
    return root


def status_line(site: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    build.main(["--root", str(site), "--status", *args])
    return capsys.readouterr().out.strip()


def test_the_same_bytes_elsewhere_are_the_same_data(site, capsys, monkeypatch, tmp_path):
    moved = shutil.move(tmp_path / "photos", tmp_path / "elsewhere" / "photos")
    monkeypatch.setenv("TINY_DATA", str(moved))
    assert status_line(site, capsys) == f"{POST}: fresh"


def test_missing_data_leaves_the_results_standing(site, capsys, tmp_path):
    shutil.rmtree(tmp_path / "photos")
    line = status_line(site, capsys)
    assert line.startswith(f"{POST}: fresh (data not on this machine: photos, sha256:")
    assert line.endswith("…; results as recorded)")
    (site / "_site").rename(site / "_site.before")
    assert build.main(["--root", str(site), "--frozen", "--check"]) == 0
    assert "It scores 50.0" in (site / "_site/2026/01/03/reads-a-folder.html").read_text()


def test_strict_asks_for_the_data(site, capsys, tmp_path):
    shutil.rmtree(tmp_path / "photos")
    line = status_line(site, capsys, "--strict")
    assert line.startswith(f"{POST}: stale: data not on this machine: photos, sha256:")
    assert line.endswith("… (--strict)")
    assert build.main(["--root", str(site), "--frozen", "--strict"]) == 1


def test_forcing_a_run_without_the_data_fails_before_the_kernel(site, capsys, tmp_path):
    shutil.rmtree(tmp_path / "photos")
    page = site / "_site/2026/01/03/reads-a-folder.html"
    before = page.read_bytes(), (site / MANIFEST).read_bytes()
    assert build.main(["--root", str(site), "--force", POST]) == 1
    error = capsys.readouterr().err
    assert "cannot run: the data it read is not on this machine" in error
    assert "photos, sha256:" in error and "set TINY_DATA=/path/to/photos" in error
    assert f"looked for TINY_DATA={tmp_path / 'photos'}, ../photos ({tmp_path / 'photos'})" in error
    assert "The post would run in an empty folder of its own under" in error
    assert (page.read_bytes(), (site / MANIFEST).read_bytes()) == before


def test_one_changed_file_is_a_change_named_where_it_was_found(site, capsys, tmp_path):
    (tmp_path / "photos/dogs/1.jpg").write_bytes(b"D" * 100)  # same size, other bytes
    line = status_line(site, capsys)
    assert f"stale: data changed: photos at TINY_DATA={tmp_path / 'photos'}" in line
    assert "(content differs, same size: sha256:" in line


def test_a_bad_data_record_is_a_warning_naming_the_entry(site, capsys, caplog):
    from sitegen.cache import record_digest

    manifest = json.loads((site / MANIFEST).read_text())  # as another catdog version wrote it:
    manifest["results"]["data"] = [{**manifest["results"]["data"][0], "fingerprint": "md5:x"},
                                   {**manifest["results"]["data"][0], "kind": "tape"}]
    manifest["digests"]["record"] = record_digest(manifest)  # sealed, as a run seals it
    (site / MANIFEST).write_text(json.dumps(manifest))
    assert status_line(site, capsys).startswith(f"{POST}: fresh (data source 1 in ")
    assert build.main(["--root", str(site)]) == 0
    assert "manifest.json ignored: fingerprint 'md5:x'" in caplog.text
    assert "unknown kind 'tape'" in caplog.text


def test_pages_name_the_data_by_content_not_by_path(site, tmp_path):
    published = json.loads((site / "_site/2026/01/03/reads-a-folder/results.json").read_text())
    [source] = published["data"]
    assert source["name"] == "photos" and source["fingerprint"].startswith("sha256:")
    assert "path" not in source and str(tmp_path) not in json.dumps(published)
    page = (site / "_site/2026/01/03/reads-a-folder.html").read_text()
    assert source["fingerprint"][:15] in page and str(tmp_path) not in page
