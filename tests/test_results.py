"""catdog.results: the record a post leaves in its notebook for the site builder."""

import hashlib

import nbformat
import numpy as np
import pytest

from catdog import results


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
