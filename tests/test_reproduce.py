"""`build.py --reproduce POST`: run a post again beside its committed run and say what came back.

A tiny post runs in a real kernel; `TINY_SHIFT` in the environment (which the kernel inherits and
the cache key ignores) moves its accuracy, as another machine's CPU kernels would.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import build
from sitegen.cache import Entry
from sitegen.lock import Lock
from sitegen.reproduce import compare, machine_part, reproduce_timeout
from sitegen.state import DEFAULT_CELL_TIMEOUT, BuildOptions

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)

REPO = Path(__file__).resolve().parents[1]
POST = "2026-01-03-tiny"
ENTRY = f"_freeze/{POST}/real"

TINY_POST = """\
---
title: Tiny
smoke: {quick: true}
---

A tiny post that reads `data.bin` beside the site.

```python tags=["parameters"]
quick = False
```

```python
import os, time
from catdog import results

start = time.perf_counter()
data_file = os.path.join(os.environ["CATDOG_POST_DIR"], "..", "data.bin")
results.record_data_source(data_file, files=1, bytes=os.path.getsize(data_file),
                           fingerprint=results.fingerprint(data_file))
shift = float(os.environ.get("TINY_SHIFT", "0"))
results.record(test_accuracy=0.9 + shift, test_interval=[0.85, 0.94], test_loss=0.3 + shift,
               epochs=3, quick=quick, train_seconds=time.perf_counter() - start,
               model={"test_accuracy": 0.9 + shift, "test_interval": [0.85, 0.94],
                      "seconds_per_epoch": time.perf_counter() - start})
```
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A site with the tiny post run once (its committed entry), and its data beside it."""
    root = tmp_path_factory.mktemp("reproduce") / "site"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copytree(REPO / "catdog", root / "catdog", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir()
    (root / "posts" / f"{POST}.md").write_text(TINY_POST)
    (root / "data.bin").write_bytes(b"0123456789")
    assert build.main(["--root", str(root)]) == 0
    return root


@pytest.fixture
def site(built, tmp_path) -> Path:
    shutil.copytree(built, tmp_path / "site", symlinks=True)
    return tmp_path / "site"


def run(site: Path, *args: str) -> int:
    return build.main(["--root", str(site), *args])


def status_line(site: Path, capsys) -> str:
    capsys.readouterr()
    run(site, "--status")
    return capsys.readouterr().out.strip()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every committed file under `folder` (not the local memos in `_freeze/.local/`)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith((".local", ".lock"))}


def published_record(site: Path) -> dict:
    return json.loads((site / "_site/2026/01/03/tiny/results.json").read_text())


# --- the tolerance rules, as examples ------------------------------------------------------


def verdicts(committed: dict, reproduced: dict) -> dict[str, str]:
    return {row.name: row.verdict for row in compare(committed, reproduced)}


def test_the_same_value_is_equal_to_the_last_bit():
    assert verdicts({"epochs": 3, "loss": 0.25}, {"epochs": 3, "loss": 0.25 + 1e-16}) == {
        "epochs": "equal", "loss": "different"}


def test_an_accuracy_inside_its_committed_interval_is_within_and_its_loss_goes_with_it():
    committed = {"test_accuracy": 0.9, "test_interval": [0.85, 0.94], "test_loss": 0.3}
    assert verdicts(committed, {**committed, "test_accuracy": 0.92, "test_loss": 0.31}) == {
        "test_accuracy": "within", "test_interval": "equal", "test_loss": "within"}
    assert verdicts(committed, {**committed, "test_accuracy": 0.95})["test_accuracy"] == "different"


def test_an_evaluation_record_is_judged_by_its_accuracy():
    committed = {"final": {"accuracy": 0.98, "correct": 490, "count": 500,
                           "interval": [0.96, 0.99], "loss": 0.07}}
    moved = {"final": {"accuracy": 0.97, "correct": 485, "count": 500,
                       "interval": [0.95, 0.98], "loss": 0.08}}
    assert verdicts(committed, moved) == {"final": "within"}


def test_timings_and_the_device_are_facts_of_the_machine_not_differences():
    assert verdicts({"train_seconds": 90.1, "batch_ms": {"fused": 118.5}, "device": "CPU"},
                    {"train_seconds": 88.7, "batch_ms": {"fused": 97.0}, "device": "GPU"}) == {
        "batch_ms": "machine", "device": "machine", "train_seconds": "machine"}


def test_a_mapping_is_as_good_as_its_worst_part_timings_inside_it_left_out():
    model = {"epochs": 10, "seconds_per_epoch": 9.8, "history": [0.51, 0.62]}
    assert verdicts({"model1": model}, {"model1": {**model, "seconds_per_epoch": 7.1}}) == {
        "model1": "equal"}
    assert verdicts({"model1": model}, {"model1": {**model, "history": [0.52, 0.62]}}) == {
        "model1": "different"}


def test_a_timing_verdict_and_a_finding_stated_from_it_are_machine_facts_too():
    from catdog import stats

    fast = stats.timing_comparison([3.1, 3.2, 3.3], [6.0, 6.1, 6.2], names=("a", "b"))
    slow = stats.timing_comparison([5.9, 6.0, 6.1], [6.0, 6.1, 6.2], names=("a", "b"))
    accuracy = stats.paired_comparison([1, 1, 0, 1], [1, 0, 0, 1], names=("a", "b"))

    def finding(comparison):
        return {"name": "x", "verdict": comparison["verdict"], "comparison": comparison,
                "answer": stats.verdict_text(comparison)}
    committed = {"speed": fast, "findings": [finding(fast), finding(accuracy)]}
    reproduced = {"speed": slow, "findings": [finding(slow), finding(accuracy)]}
    assert verdicts(committed, reproduced) == {"speed": "machine", "findings": "equal"}


def test_a_value_only_one_run_recorded_is_different():
    assert verdicts({"old": 1}, {"new": 1}) == {"new": "different", "old": "different"}


# --- running it ----------------------------------------------------------------------------


def test_machine_facts_are_named_by_kind():
    assert machine_part(["train_seconds", "strides_speed"]) == (
        "2 timings not compared (facts of the machine, not results)")
    assert machine_part(["device"]) == (
        "the device not compared (facts of the machine, not results)")
    assert machine_part(["train_seconds", "device"]).startswith("1 timing and the device not")


def test_a_post_that_comes_back_prints_a_table_and_keeps_a_record_beside_its_entry(site, capsys):
    entry_before = snapshot(site / ENTRY)
    assert run(site, "--reproduce", POST) == 0
    out = capsys.readouterr().out
    assert "value" in out and "verdict" in out
    assert "test_accuracy  0.9" in out and "equal" in out
    assert "6 of 7 values equal, 1 timing not compared (facts of the machine, not results)" in out
    record = json.loads((site / ENTRY / "reproduced.json").read_text())
    assert record["counts"] == {"values": 7, "equal": 6, "machine": 1, "within": 0,
                                "different": 0}
    assert record["hardware"]["cpus"] >= 1 and record["environment"]["python"]
    assert snapshot(site / ENTRY) == {**entry_before, "reproduced.json": snapshot(
        site / ENTRY)["reproduced.json"]}  # the entry's own parts untouched


def test_the_record_names_the_catdog_it_imported_as_the_entry_does_not_by_this_machines_path(
        site, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(site))  # the kernel imports the site's own catdog copy
    assert run(site, "--reproduce", POST) == 0
    catdog = json.loads((site / ENTRY / "reproduced.json").read_text())["environment"]["catdog"]
    assert catdog["path"] == "catdog"  # relative to the site, as a committed entry says it
    assert catdog["sha256"] and catdog["version"]


def test_the_record_is_not_a_hand_edit_and_status_the_page_and_results_json_report_it(site,
                                                                                      capsys):
    assert run(site, "--reproduce", POST) == 0
    day = json.loads((site / ENTRY / "reproduced.json").read_text())["date"][:10]
    assert status_line(site, capsys) == (
        f"posts/{POST}.md: fresh (reproduced on {day}: 6 of 7 values equal, 1 timing not "
        "compared (facts of the machine, not results))")
    assert run(site) == 0  # from the cache: 0 executed
    assert "(0 executed, 1 from cache" in capsys.readouterr().out
    cpus = published_record(site)["reproduced"]["hardware"]["cpus"]  # no `device` recorded
    assert (f"<dt>Reproduced</dt><dd>on {day}, CPU {cpus} cores: 6 of 7 values equal, 1 timing not "
            "compared (facts of the machine, not results)</dd>") in (site / "_site/2026/01/03/tiny.html").read_text()
    assert published_record(site)["reproduced"]["counts"]["equal"] == 6
    everything = json.loads((site / "_site/results.json").read_text())
    assert everything["/2026/01/03/tiny.html"]["reproduced"]["summary"].startswith("6 of 7")


def test_a_record_about_an_earlier_run_is_not_shown(site, capsys):
    assert run(site, "--reproduce", POST) == 0
    record_file = site / ENTRY / "reproduced.json"
    record_file.write_text(record_file.read_text().replace('"of_run": "', '"of_run": "1999'))
    assert status_line(site, capsys) == f"posts/{POST}.md: fresh"


def test_inside_the_interval_passes_beyond_it_fails_and_the_page_names_the_values(
        site, capsys, monkeypatch):
    monkeypatch.setenv("TINY_SHIFT", "0.02")
    assert run(site, "--reproduce", POST) == 0
    assert "3 within the committed 95 % interval" in capsys.readouterr().out
    monkeypatch.setenv("TINY_SHIFT", "0.1")
    assert run(site, "--reproduce", POST) == 1
    out = capsys.readouterr().out
    assert re.search(r"^test_accuracy +0\.9 +1 +DIFFERENT$", out, re.M)
    assert run(site) == 0
    assert ("3 different (model, test_accuracy, test_loss)"
            in (site / "_site/2026/01/03/tiny.html").read_text())


def test_a_quick_run_is_reproduced_with_smoke(site, capsys):
    assert run(site, "--smoke") == 0
    assert run(site, "--reproduce", "--smoke", "tiny") == 0
    record = json.loads((site / f"_freeze/{POST}/smoke/reproduced.json").read_text())
    assert record["mode"] == "smoke" and record["counts"]["different"] == 0
    assert not (site / ENTRY / "reproduced.json").exists()


def never_run(site: Path) -> str:
    (site / "posts/2026-01-04-new.md").write_text("---\ntitle: New\n---\n\n```python\n1\n```\n")
    return "2026-01-04-new"


def without_data(site: Path) -> str:
    (site / "data.bin").unlink()
    return POST


@pytest.mark.parametrize("setup, message, status", [
    (lambda site: "no-such-post", "--reproduce: no post named no-such-post in ", 2),
    (never_run, "cannot reproduce: never run (no entry in ", 1),
    (without_data, "cannot reproduce: the data it read is not on this machine: data.bin, "
                   "sha256:", 1),
], ids=["unknown post", "never run", "data missing"])
def test_bad_input_is_one_line_and_changes_nothing(site, capsys, setup, message, status):
    name = setup(site)
    before = snapshot(site / "_freeze")
    capsys.readouterr()
    assert run(site, "--reproduce", name) == status
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert snapshot(site / "_freeze") == before


def test_the_weekly_workflow_reproduces_the_shortest_post_and_uploads_the_table(site, tmp_path):
    workflow = yaml.safe_load((REPO / ".github/workflows/reproduce.yml").read_text())
    assert workflow[True]["schedule"][0]["cron"].split()[2:4] == ["*", "*"]  # weekly: one weekday
    steps = workflow["jobs"]["reproduce"]["steps"]
    command = next(step["run"] for step in steps if "--reproduce" in step.get("run", ""))
    durations = {path.parent.parent.name: json.loads(path.read_text())["run"]["duration_s"]
                 for path in (REPO / "_freeze").glob("*/real/manifest.json")}
    assert shlex.split(command)[3] == min(durations, key=durations.get)
    table = command.split("tee ")[1].strip()
    uploaded = next(step["with"]["path"] for step in steps
                    if step.get("uses", "").startswith("actions/upload-artifact"))
    assert table in uploaded.split()

    builder = f"{shlex.quote(sys.executable)} {REPO / 'build.py'} --root {site}"
    here = command.replace("python build.py", builder).replace(shlex.split(command)[3], POST)
    done = subprocess.run(["bash", "-o", "pipefail", "-c", here], cwd=tmp_path, text=True,
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "6 of 7 values equal" in (tmp_path / table).read_text()


# --- the lock ------------------------------------------------------------------------------


LOCK = """\
# This file was autogenerated by uv via the following command:
#    bash tools/lock.sh
keras==3.15.1
    # via catdog-blog (pyproject.toml)
numpy==2.4.6 ; python_full_version < '3.12'
numpy==2.5.0 ; python_full_version >= '3.12'
"""


def test_the_lock_is_read_for_the_python_a_run_recorded(tmp_path):
    (tmp_path / "requirements.lock").write_text(LOCK)
    lock = Lock.read(tmp_path)
    assert lock.versions("3.11.7") == {"keras": "3.15.1", "numpy": "2.4.6"}
    assert lock.note({"python": "3.11.7", "keras": "3.15.1", "numpy": "2.4.6"}) is None
    assert lock.note({"python": "3.12.1", "keras": "3.15.1", "numpy": "2.4.6"}).startswith(
        "ran under other versions than requirements.lock: numpy 2.4.6 (locked 2.5.0)")


def test_status_notes_a_post_whose_recorded_environment_differs_from_the_lock(site, capsys):
    (site / "requirements.lock").write_text("numpy==1.0.0\n")
    assert "ran under other versions than requirements.lock: numpy " in status_line(site, capsys)
    assert ": fresh (" in status_line(site, capsys)  # a note; --strict keeps its own meaning


def test_this_repositorys_lock_pins_what_the_committed_runs_recorded():
    lock = Lock.read(REPO)
    for manifest in (REPO / "_freeze").glob("*/real/manifest.json"):
        environment = json.loads(manifest.read_text())["results"]["environment"]
        assert lock.note(environment) is None, manifest
    assert lock.versions("3.11.7")["pygments"] == "2.20.0"  # the golden pages' Pygments


def test_a_cell_may_take_three_times_the_committed_runs_whole_duration():
    """A slower or busier machine is not cut off halfway; a larger --timeout wins."""
    committed = Entry(REPO, {"run": {"duration_s": 1650.4}})
    assert reproduce_timeout(committed, BuildOptions(root=REPO)) == 4952
    assert reproduce_timeout(committed, BuildOptions(root=REPO, cell_timeout=9000)) == 9000
    unknown = Entry(REPO, {"run": {}})
    assert reproduce_timeout(unknown, BuildOptions(root=REPO)) == DEFAULT_CELL_TIMEOUT


VARIABLE_POST = """\
---
title: Read through a variable
---

```python
import os
from catdog import results

data_file = os.environ["TINY_DATA"]  # as catdog reads CATDOG_DATA: the variable, nowhere else
results.record_data_source(data_file, files=1, bytes=os.path.getsize(data_file),
                           fingerprint=results.fingerprint(data_file), env="TINY_DATA")
results.record(test_accuracy=0.9, test_interval=[0.85, 0.94])
```
"""


def test_data_found_where_the_last_run_read_it_is_given_to_the_kernel_by_its_variable(
        tmp_path, monkeypatch, capsys):
    """A reader whose shell sets no TINY_DATA still re-runs the post: the key found the
    recorded bytes at the recorded place, so the kernel is told where they are."""
    root = tmp_path / "site"
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir()
    (root / "posts" / "2026-01-04-variable.md").write_text(VARIABLE_POST)
    (root / "data.bin").write_bytes(b"0123456789")
    monkeypatch.setenv("TINY_DATA", str(root / "data.bin"))
    assert build.main(["--root", str(root)]) == 0
    monkeypatch.delenv("TINY_DATA")
    capsys.readouterr()
    assert build.main(["--root", str(root), "--reproduce", "2026-01-04-variable"]) == 0
    assert "2 of 2 values equal" in capsys.readouterr().out


def test_a_timing_named_per_run_inside_a_model_summary_is_a_machine_fact():
    """Post 3's `hand` = {seconds_per_run, test: {...}}: only its timing changed."""
    committed = {"hand": {"seconds_per_run": 191.6, "test": {"mean": 0.65}}}
    reproduced = {"hand": {"seconds_per_run": 120.3, "test": {"mean": 0.65}}}
    assert verdicts(committed, reproduced) == {"hand": "equal"}
