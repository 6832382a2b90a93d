"""The post's cells kept with its cache entry: a fresh clone reads them from the run's memo,
and only for the very text they were read from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen import postmemo
from sitegen.posts import read_post

ROOT = Path(__file__).resolve().parents[1]
POST = "---\ntitle: A\n---\n\nSome prose.\n\n```python tags=[\"parameters\"]\nepochs = 3\n```\n"


@pytest.fixture
def post_file(tmp_path) -> Path:
    path = tmp_path / "2024-01-05-a.md"
    path.write_text(POST)
    return path


def store_memo(directory: Path, key: str, notebook) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / postmemo.MEMO).write_text(postmemo.make_memo(key, notebook))


def test_the_cells_come_from_the_memo_of_the_same_text(tmp_path, post_file, site_config):
    read = read_post(post_file, site_config)
    read.notebook.cells[0].source = "From the memo."  # shows where the cells came from
    store_memo(tmp_path / "real", read.parse_key, read.notebook)
    again = read_post(post_file, site_config, [tmp_path / "smoke", tmp_path / "real"])
    assert again.notebook.cells[0].source == "From the memo."
    assert again.notebook.cells[1].metadata.tags == ["parameters"]


def test_an_edited_post_is_read_again(tmp_path, post_file, site_config):
    read = read_post(post_file, site_config)
    store_memo(tmp_path, read.parse_key, read.notebook)
    post_file.write_text(POST.replace("Some prose.", "Other prose."))
    edited = read_post(post_file, site_config, [tmp_path])
    assert edited.parse_key != read.parse_key
    assert edited.notebook.cells[0].source == "Other prose."


def test_a_broken_or_foreign_memo_is_ignored(tmp_path, post_file, site_config):
    read = read_post(post_file, site_config)
    (tmp_path / postmemo.MEMO).write_text('{"key": "' + read.parse_key + '", "notebook": [')
    assert read_post(post_file, site_config, [tmp_path]).notebook.cells[0].source == "Some prose."
    (tmp_path / postmemo.MEMO).write_text(json.dumps({"key": "another", "notebook": {}}))
    assert read_post(post_file, site_config, [tmp_path]).notebook.cells[0].source == "Some prose."


def test_the_key_names_the_reader_versions():
    assert postmemo.version().startswith("jupytext ")
    assert postmemo.parse_key({}, "body") != postmemo.parse_key({"jupyter": {"x": 1}}, "body")
