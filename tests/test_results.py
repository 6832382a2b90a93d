"""catdog.results: the record a post leaves in its notebook for the site builder."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from catdog import results
from sitegen import freshness, stamps

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch):
    """Each test starts with nothing recorded, as a new kernel does."""
    monkeypatch.setattr(results, "_record", {"values": {}, "data": [], "environment": {}})


def notebook_with(*payloads):
    cell = nbformat.v4.new_code_cell("results.record(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data={results.MIME_TYPE: payload})
                    for payload in payloads]
    return nbformat.v4.new_notebook(cells=[cell])


def test_record_converts_numpy_values_and_keeps_everything_recorded():
    assert results.record(test_accuracy=np.float32(0.5), epochs=np.int64(3)) == {
        "test_accuracy": 0.5, "epochs": 3}
    results.record(test_accuracy=0.75)
    assert results.current()["values"] == {"test_accuracy": 0.75, "epochs": 3}
    assert results.current()["environment"]["python"]
    assert set(results.current()["environment"]["catdog"]) == {"version", "sha256", "path"}


def test_a_value_that_is_not_json_names_itself():
    with pytest.raises(ValueError, match=r"Cannot record `model`.*Received: model=<object object.*of type object"):
        results.record(model=object())


def test_from_notebook_merges_outputs_in_order():
    notebook = notebook_with(
        {"values": {"a": 1, "b": 2}, "data": [{"path": "x.zip", "fingerprint": "old"}]},
        {"values": {"b": 3}, "data": [{"path": "x.zip", "fingerprint": "new"}]})
    merged = results.from_notebook(notebook)
    assert merged["values"] == {"a": 1, "b": 3}
    assert merged["data"] == [{"path": "x.zip", "fingerprint": "new"}]


def test_a_file_is_fingerprinted_by_its_bytes(tmp_path):
    data = tmp_path / "data.zip"
    data.write_bytes(b"photos")
    assert results.fingerprint(data) == "sha256:" + hashlib.sha256(b"photos").hexdigest()


def test_a_folder_fingerprint_ignores_hidden_files_but_not_data(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "1.jpg").write_bytes(b"cat")
    before = results.fingerprint(tmp_path)
    (tmp_path / ".complete").write_text("marker")
    assert results.fingerprint(tmp_path) == before
    assert results.data_size(tmp_path) == (1, 3)
    (tmp_path / "cats" / "1.jpg").write_bytes(b"dog")
    assert results.fingerprint(tmp_path) != before


def test_data_sources_are_recorded_once_per_path(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(b"1")
    for fingerprint in ("sha256:a", "sha256:b"):
        results.record_data_source(str(data), files=1, bytes=1, fingerprint=fingerprint)
    assert [d["fingerprint"] for d in results.current()["data"]] == ["sha256:b"]


def test_the_environment_names_the_catdog_this_process_imported():
    catdog = results.environment()["catdog"]
    assert catdog["path"] == str(Path(results.__file__).resolve().parent)
    assert catdog["version"] == __import__("catdog").__version__
    assert catdog["sha256"] == results.package_digest(results.package_hashes(catdog["path"]))


def test_the_catdog_digest_hashes_files_as_the_cache_key_does():
    """The builder can compare the record with its key's `catdog` part (the catdog the
    kernel imports, hashed file by file)."""
    key_part = stamps.package_hashes(freshness.kernel_package("python3"))
    assert results.environment()["catdog"]["sha256"] == results.package_digest(key_part)


def test_another_catdog_records_another_digest_and_its_own_folder(tmp_path):
    other = tmp_path / "site-packages" / "catdog"
    shutil.copytree(REPO / "catdog", other, ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "stats.py").open("a") as f:
        f.write("# an edit the checkout does not have\n")
    done = subprocess.run(
        [sys.executable, "-c", "import json; from catdog import results; "
                               "print(json.dumps(results.environment()['catdog']))"],
        cwd=tmp_path, env={"PYTHONPATH": str(other.parent)}, capture_output=True, text=True,
        timeout=60)
    recorded = json.loads(done.stdout)
    assert recorded["path"] == str(other.resolve())
    assert recorded["sha256"] == results.package_digest(results.package_hashes(other))
    assert recorded["sha256"] != results.package_digest(results.package_hashes(REPO / "catdog"))
