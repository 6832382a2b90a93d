"""Post and result bundles: what travels to a worker, what comes back, how it is checked,
and how the worker finds a post's data.

`python -m sitegen.worker run < post > result` is run as a user runs it; the checks of
sitegen.cluster are exercised on results changed by hand, as a worker gone wrong would send;
the worker's data lookup is run on real files, with its variables set as a worker's shell
would set them.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from catdog import results as catdog_results
from conftest import REPO, write_site
from sitegen.build import gather
from sitegen.bundle import PostBundle, ResultBundle, make_post_bundle
from sitegen.datasources import DataSource
from sitegen.exceptions import ExecutionError
from sitegen.execute import inject_parameters
from sitegen.state import BuildOptions
from sitegen.worker import data_environment
from test_build import SCORING_POST


@pytest.fixture
def bundled(tmp_path):
    """A site with one post, and that post's bundle as a `--cluster` build makes it (with a
    parameter injected, and a lock file to name)."""
    site = write_site(tmp_path, {"2026-01-02-scoring.md": SCORING_POST})
    (site / "requirements.lock").write_text("keras==3.15.1\n")
    options = BuildOptions(root=site, parameters={"accuracy": 0.5})
    config, states = gather(options, [])
    return make_post_bundle(states[0], options, config), states[0], options


@pytest.fixture
def cluster():
    """sitegen.cluster, whose checks of a result need Dask (`pip install -e ".[cluster]"`)."""
    return pytest.importorskip("sitegen.cluster",
                               reason='needs Dask: `pip install -e ".[cluster]"`')


def test_a_post_bundle_survives_the_trip_as_bytes(bundled):
    bundle, state, _ = bundled
    again = PostBundle.from_bytes(bundle.to_bytes())
    assert again.notebook == bundle.notebook and again.key == state.key
    assert again.parameters == {"accuracy": 0.5} and again.text.startswith("---")
    assert again.lock["file"] == "requirements.lock"


def test_the_bundle_carries_the_catdog_the_kernel_imports_as_the_key_names_it(bundled):
    bundle, state, _ = bundled
    shipped = bundle.shipped_code()
    assert "catdog/results.py" in shipped
    assert bundle.catdog["hashes"] == state.key["catdog"]
    assert {name: hashlib.sha256(code).hexdigest() for name, code in shipped.items()} \
        == bundle.catdog["hashes"]


def test_a_local_build_never_imports_dask(tmp_path):
    root = tmp_path / "golden"
    shutil.copytree(REPO / "tests/golden/site", root)
    shutil.copytree(REPO / "templates", root / "templates")
    script = ("import sys, build\n"
              f"code = build.main(['--root', {str(root)!r}, '--frozen'])\n"
              "print(code, 'distributed' in sys.modules, 'sitegen.bundle' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.stdout.split()[-3:] == ["0", "False", "False"], done.stderr


def test_something_else_than_a_bundle_is_refused_saying_so():
    with pytest.raises(ValueError, match="not a post bundle"):
        PostBundle.from_bytes(b"hello")


def run_worker_command(bundle: PostBundle) -> tuple[int, ResultBundle, str]:
    done = subprocess.run([sys.executable, "-m", "sitegen.worker", "run"],
                          input=bundle.to_bytes(), capture_output=True, cwd=REPO, timeout=300)
    return done.returncode, ResultBundle.from_bytes(done.stdout), done.stderr.decode()


@pytest.mark.slow
def test_the_worker_command_turns_a_post_bundle_into_a_result_bundle(bundled):
    bundle, _, _ = bundled
    code, result, progress = run_worker_command(bundle)
    assert code == 0 and result.ok
    assert result.record["values"]["test_accuracy"] == 0.5
    assert result.worker["host"] and result.worker["cpus"] >= 1
    assert result.timings["duration_s"] > 0 and result.ran["catdog"]["source"] == "bundle"
    assert result.ran["catdog"]["hashes"] == bundle.catdog["hashes"]
    assert "2026-01-02-scoring: cell 2/2" in progress and "finished: ok" in progress


@pytest.mark.slow
def test_a_result_is_checked_against_what_was_sent(bundled, cluster):
    bundle, state, options = bundled
    _, result, _ = run_worker_command(bundle)
    assert cluster.check_result(state, bundle, result, options) is None
    result.ran["catdog"]["hashes"]["catdog/results.py"] = "0" * 64  # a worker gone wrong
    error = cluster.check_result(state, bundle, result, options)
    assert "catdog differs" in error.message and "nothing stored" in error.message


@pytest.mark.slow
def test_a_failing_cell_comes_back_as_the_same_error(bundled):
    bundle, _, _ = bundled
    bundle.notebook.cells[-1].source = "1 / 0"
    code, result, _ = run_worker_command(bundle)
    error = result.build_error()
    assert code == 1 and not result.ok
    assert error.cell == 2 and error.ename == "ZeroDivisionError" and "1 / 0" in error.cell_source


def test_an_environment_other_than_the_lock_is_a_note_or_with_strict_an_error(bundled,
                                                                              cluster):
    bundle, state, options = bundled
    result = ResultBundle(name=bundle.name, post_path=bundle.post_path,
                          record={"environment": {"python": "3.11.7", "keras": "3.9.0"}},
                          worker={"host": "gpu-box"})
    assert cluster.environment_notes(result, options) == [
        "ran under other versions than requirements.lock: keras 3.9.0 (locked 3.15.1); a "
        "fresh install may not get its numbers back (--force POST runs it under the lock)"]
    options.strict = True
    result.notebook = inject_parameters(bundle.notebook, bundle.parameters)
    result.notebook.metadata["kernelspec"] = {"name": bundle.kernel}
    result.ran = {"catdog": {"hashes": bundle.catdog["hashes"]}}
    error = cluster.check_result(state, bundle, result, options)
    assert error is not None and "not stored (--strict)" in error.message


# --- the worker finds the data ---------------------------------------------------------------


def data_bundle(data: Path, *, env: str = "CATDOG_TINY", path: str | None = None,
                shipped: bool = False) -> PostBundle:
    """A bundle whose post read `data` (its record as the author's run made it)."""
    files, size = catdog_results.data_size(data)
    source = DataSource(name=data.name, kind="file", files=files, bytes=size,
                        fingerprint=catdog_results.fingerprint(data), path=path or str(data),
                        env=env)
    item = {**asdict(source), "found": str(data), "shipped": shipped}
    bundle = PostBundle(name="p", post_path="posts/p.md", text="", notebook=None, mode="real",
                        kernel="python3", parameters={}, cell_timeout=60, key={}, catdog={},
                        data=[item], lock={})
    if shipped:
        hex_digest = source.fingerprint.removeprefix("sha256:")
        bundle.files[f"data/{hex_digest}/{data.name}"] = data.read_bytes()
    return bundle


@pytest.fixture
def worker_shell(tmp_path, monkeypatch):
    """The worker's environment: its own data cache, no CATDOG_TINY set."""
    monkeypatch.setenv("CATDOG_DATA_CACHE", str(tmp_path / "data-cache"))
    monkeypatch.delenv("CATDOG_TINY", raising=False)
    return tmp_path / "data-cache"


def test_data_at_its_recorded_place_is_passed_in_its_unset_variable(tmp_path, worker_shell):
    data = tmp_path / "tiny.bin"
    data.write_bytes(b"12345")
    result = ResultBundle(name="p", post_path="posts/p.md")
    assert data_environment(data_bundle(data), result) == {"CATDOG_TINY": str(data)}
    assert result.ran["data"][0]["place"] == str(data)


def test_data_its_variable_points_at_here_needs_nothing_more(tmp_path, worker_shell,
                                                             monkeypatch):
    data = tmp_path / "tiny.bin"
    data.write_bytes(b"12345")
    monkeypatch.setenv("CATDOG_TINY", str(data))
    result = ResultBundle(name="p", post_path="posts/p.md")
    assert data_environment(data_bundle(data, path="/elsewhere/tiny.bin"), result) == {}


def test_shipped_data_lands_in_the_data_cache_and_the_kernel_reads_it_there(tmp_path,
                                                                            worker_shell):
    data = tmp_path / "tiny.bin"
    data.write_bytes(b"12345")
    bundle = data_bundle(data, path="/elsewhere/tiny.bin", shipped=True)
    env = data_environment(bundle, ResultBundle(name="p", post_path="posts/p.md"))
    cached = Path(env["CATDOG_TINY"])
    assert cached.is_relative_to(worker_shell) and cached.read_bytes() == b"12345"


def test_other_bytes_under_the_variable_are_replaced_by_the_recorded_ones(tmp_path,
                                                                          worker_shell,
                                                                          monkeypatch):
    data = tmp_path / "tiny.bin"
    data.write_bytes(b"12345")
    other = tmp_path / "other.bin"
    other.write_bytes(b"54321")
    monkeypatch.setenv("CATDOG_TINY", str(other))
    bundle = data_bundle(data, path="/elsewhere/tiny.bin", shipped=True)
    env = data_environment(bundle, ResultBundle(name="p", post_path="posts/p.md"))
    assert Path(env["CATDOG_TINY"]).read_bytes() == b"12345"


def test_data_found_nowhere_fails_before_any_cell_naming_it(tmp_path, worker_shell):
    data = tmp_path / "tiny.bin"
    data.write_bytes(b"12345")
    bundle = data_bundle(data, path="/elsewhere/tiny.bin")
    data.unlink()
    with pytest.raises(ExecutionError, match="the data it read is not there") as raised:
        data_environment(bundle, ResultBundle(name="p", post_path="posts/p.md"))
    assert raised.value.cell == 0
    assert f"tiny.bin, {bundle.data[0]['fingerprint'][:15]}" in raised.value.message
    assert "or set CATDOG_TINY on the worker" in raised.value.message
