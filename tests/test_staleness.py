"""What decides a result: change exactly one input, and `--status` names it as the cause."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

import build

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)

REPO = Path(__file__).resolve().parents[1]

DATA_POST = """\
---
title: Reads data
---

Prose that does not decide the result.

```python tags=["parameters"]
epochs = 20
data_file = "data.bin"
```

```python
from catdog import results

with open(data_file, "rb") as f:
    content = f.read()
results.record_data_source(data_file, files=1, bytes=len(content),
                           fingerprint=results.fingerprint(data_file))
results.record(test_accuracy=0.5, epochs=epochs)
```
"""


@pytest.fixture
def site(tmp_path):
    """A built site whose post read `data.bin`."""
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "posts").mkdir()
    (tmp_path / "data.bin").write_bytes(b"0123456789")
    post = textwrap.dedent(DATA_POST).replace('"data.bin"', repr(str(tmp_path / "data.bin")))
    (tmp_path / "posts/2026-01-02-reads-data.md").write_text(post)
    assert build.main(["--root", str(tmp_path)]) == 0
    return tmp_path


def status_line(site: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    build.main(["--root", str(site), "--status", *args])
    return capsys.readouterr().out.strip()


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new))


def test_unchanged_post_is_fresh(site, capsys):
    assert status_line(site, capsys) == "posts/2026-01-02-reads-data.md: fresh"


def test_prose_edit_keeps_it_fresh(site, capsys):
    edit(site / "posts/2026-01-02-reads-data.md", "Prose that", "Other prose that")
    edit(site / "posts/2026-01-02-reads-data.md", "title: Reads data", "title: New title")
    assert status_line(site, capsys).endswith(": fresh")


def test_code_cell_edit_is_a_cause(site, capsys):
    edit(site / "posts/2026-01-02-reads-data.md", "test_accuracy=0.5", "test_accuracy=0.6")
    assert status_line(site, capsys).endswith("stale: code cells changed")


def importable_catdog(folder: Path, monkeypatch) -> Path:
    """A copy of catdog in `folder`, first on the kernel's PYTHONPATH: the one a run imports."""
    shutil.copytree(REPO / "catdog", folder / "catdog", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [
        str(folder), os.environ.get("PYTHONPATH")])))
    return folder / "catdog"


def test_an_installed_catdog_that_differs_is_a_cause_wherever_the_site_is(site, capsys,
                                                                           tmp_path_factory,
                                                                           monkeypatch):
    installed = importable_catdog(tmp_path_factory.mktemp("site-packages"), monkeypatch)
    with open(installed / "train.py", "a") as f:
        f.write("\n# not the checkout's catdog\n")
    assert status_line(site, capsys).endswith("stale: catdog/train.py changed")


def test_a_catdog_beside_the_site_that_the_kernel_does_not_import_is_no_cause(site, capsys):
    shutil.copytree(REPO / "catdog", site / "catdog", ignore=shutil.ignore_patterns("__pycache__"))
    with open(site / "catdog/train.py", "a") as f:
        f.write("\n# never imported: the kernel finds the installed one\n")
    assert status_line(site, capsys) == "posts/2026-01-02-reads-data.md: fresh"


def test_parameter_change_is_a_cause(site, capsys):
    line = status_line(site, capsys, "-p", "epochs=5")
    assert line.endswith("stale: parameters changed: epochs (the post's default) -> 5")


def test_front_matter_parameter_change_shows_old_and_new(site, capsys):
    post = site / "posts/2026-01-02-reads-data.md"
    edit(post, "title: Reads data", "title: Reads data\nparameters:\n  epochs: 20")
    build.main(["--root", str(site)])
    edit(post, "epochs: 20\n---", "epochs: 5\n---")
    assert status_line(site, capsys).endswith("stale: parameters changed: epochs 20 -> 5")


def test_data_size_change_is_a_cause(site, capsys):
    (site / "data.bin").write_bytes(b"0123")
    assert "data changed: " in (line := status_line(site, capsys))
    assert "(size 10 -> 4)" in line


def test_data_content_change_of_same_size_is_a_cause(site, capsys):
    (site / "data.bin").write_bytes(b"abcdefghij")
    assert "(content differs, same size: sha256:" in status_line(site, capsys)


def test_missing_data_is_a_note_and_a_cause_when_strict(site, capsys):
    (site / "data.bin").unlink()
    assert "fresh (data not on this machine: data.bin, sha256:" in status_line(site, capsys)
    assert "stale: data not on this machine: " in status_line(site, capsys, "--strict")


def resealed(record: dict) -> dict:
    """A manifest edited here as if another machine's run had written it: digests updated."""
    from sitegen.cache import record_digest

    return {**record, "digests": {**record["digests"], "record": record_digest(record)}}


def test_environment_difference_warns_and_is_stale_when_strict(site, capsys):
    manifest = site / "_freeze/2026-01-02-reads-data/real/manifest.json"
    record = json.loads(manifest.read_text())
    record["results"]["environment"]["keras"] = "3.0.0"
    manifest.write_text(json.dumps(resealed(record)))
    assert "fresh (keras 3.0.0 -> " in status_line(site, capsys)
    assert "(warning)" in status_line(site, capsys)
    assert "stale: keras 3.0.0 -> " in status_line(site, capsys, "--strict")


def test_corrupt_entry_is_a_miss_with_a_warning(site, capsys, caplog):
    (site / "_freeze/2026-01-02-reads-data/real/manifest.json").write_text("{not json")
    assert ": stale: cache entry damaged (manifest.json: " in status_line(site, capsys)
    assert "Ignoring cache entry" in caplog.text and "the post will run again" in caplog.text


def test_entry_from_an_older_cache_format_is_a_miss(site, capsys, caplog):
    manifest = site / "_freeze/2026-01-02-reads-data/real/manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "format": 0}))
    assert status_line(site, capsys).endswith(
        ": stale: cache entry in another cache format (cache format 0, expected 1)")
    assert "cache format 0" in caplog.text


def test_entry_from_a_newer_builder_says_so(site, capsys):
    manifest = site / "_freeze/2026-01-02-reads-data/real/manifest.json"
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "format": 2, "new_part": {}}))
    assert status_line(site, capsys).endswith(
        ": stale: cache entry written by a newer builder (cache format 2, this one reads 1): "
        "update the builder to use it")


def test_status_imports_no_keras(site):
    import subprocess
    import sys

    code = ("import sys, build; build.main(['--root', sys.argv[1], '--status']); "
            "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code, str(site)], cwd=REPO, check=True)


def test_injected_parameters_stay_after_the_parameters_cell():
    import nbformat
    from sitegen.cache import merge_outputs
    from sitegen.execute import inject_parameters

    v4 = nbformat.v4
    post = v4.new_notebook(cells=[v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
                                  v4.new_markdown_cell("New prose"), v4.new_code_cell("a")])
    executed = inject_parameters(post, {"a": 2})
    executed.cells[2] = v4.new_markdown_cell("Old prose")
    merged = merge_outputs(post, executed)
    assert [c.source for c in merged.cells] == [
        "a = 1", "# Parameters injected by build.py\na = 2\n", "New prose", "a"]


def test_data_a_post_writes_in_its_own_folder_is_not_an_input(site, capsys):
    post = site / "posts/2026-01-02-reads-data.md"
    edit(post, 'results.record(test_accuracy=0.5', '''open("made.bin", "wb").write(b"1")
results.record_data_source("made.bin", files=1, bytes=1, fingerprint="sha256:x")
results.record(test_accuracy=0.5''')
    build.main(["--root", str(site)])
    manifest = json.loads((site / "_freeze/2026-01-02-reads-data/real/manifest.json").read_text())
    assert [Path(d["path"]).name for d in manifest["results"]["data"]] == ["data.bin"]
    assert status_line(site, capsys).endswith(": fresh")


def test_a_cache_entry_without_its_post_is_reported(site, capsys, caplog):
    (site / "posts/2026-01-02-reads-data.md").rename(site / "2026-01-02-reads-data.md")
    status_line(site, capsys)
    assert "2026-01-02-reads-data: cache entry of a post that no longer exists" in caplog.text


def test_a_run_whose_catdog_changed_under_it_is_not_stored(site, capsys, tmp_path_factory,
                                                           monkeypatch):
    installed = importable_catdog(tmp_path_factory.mktemp("site-packages"), monkeypatch)
    post = site / "posts/2026-01-02-reads-data.md"
    edit(post, "from catdog import results\n", "from catdog import results\n"
         f"open({str(installed / 'train.py')!r}, 'a').write('# edited mid-run')\n")
    manifest = next((site / "_freeze").rglob("manifest.json"))
    before = manifest.read_text()

    assert build.main(["--root", str(site)]) == 1

    assert "whose code is not the code its cache key hashed" in capsys.readouterr().err
    assert manifest.read_text() == before


def test_the_committed_record_names_the_catdog_folder_relative_to_the_site(tmp_path_factory,
                                                                            monkeypatch):
    site = tmp_path_factory.mktemp("site")
    importable_catdog(site / "vendor", monkeypatch)  # the kernel imports the site's own copy
    shutil.copytree(REPO / "templates", site / "templates")
    (site / "posts").mkdir()
    (site / "posts/2026-01-02-scored.md").write_text(
        "---\ntitle: Scored\n---\n\n```python\nfrom catdog import results\n"
        "results.record(test_accuracy=0.5)\n```\n")
    assert build.main(["--root", str(site)]) == 0

    manifest = json.loads(next((site / "_freeze").rglob("manifest.json")).read_text())
    assert manifest["results"]["environment"]["catdog"]["path"] == "vendor/catdog"
    assert str(site) not in json.dumps(manifest)
