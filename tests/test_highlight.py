"""The highlighting memo kept with a cache entry: a run stores its code cells' HTML, a fresh
clone renders from it, and a memo that is stale, edited or missing only costs time."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat.v4 as v4
import pytest

from sitegen import highlight
from sitegen.cache import Cache

CODE = "import keras\nmodel = keras.Sequential()  # a comment long enough to scroll\n"


def executed_notebook():
    return v4.new_notebook(cells=[v4.new_markdown_cell("# Title"), v4.new_code_cell(CODE),
                                  v4.new_code_cell("%time 1 + 1"), v4.new_code_cell("  ")],
                           metadata={"language_info": {"name": "python"}})


@pytest.fixture
def entry(tmp_path):
    """An entry as a run stores it (no kernel: the notebook is made here)."""
    post = tmp_path / "posts" / "2026-01-01-memo.md"
    run = {"mode": "real", "ran_at": "2026-01-01T00:00:00+00:00", "duration_s": 1.0,
           "parameters": {}, "kernel": "python3"}
    workdir = tmp_path / "work"
    workdir.mkdir()
    return Cache(tmp_path / "_freeze").store(post, "real", notebook=executed_notebook(),
                                             key={"code": "x"}, run=run, workdir=workdir,
                                             root=tmp_path)


def reloaded(entry):
    return Cache(entry.directory.parents[1]).load(Path(entry.directory.parent.name + ".md"),
                                                  "real")


def test_a_run_stores_the_html_of_each_code_cell(entry):
    memo = reloaded(entry).highlighted
    assert memo == {highlight.cell_key(CODE, "python"): highlight.highlight_code(CODE, "python"),
                    highlight.cell_key("%time 1 + 1", "python"):
                        highlight.highlight_code("%time 1 + 1", "python")}
    assert '<pre tabindex="0">' in memo[highlight.cell_key(CODE, "python")]


def test_the_page_uses_the_memo_and_falls_back_to_pygments():
    memo = {highlight.cell_key(CODE, "python"): "<pre>from the memo</pre>"}
    assert highlight.code_html(CODE, "python", memo) == "<pre>from the memo</pre>"
    assert highlight.code_html("x = 1", "python", memo) == highlight.highlight_code("x = 1",
                                                                                     "python")


def test_a_memo_of_another_pygments_is_ignored(entry):
    path = entry.directory / highlight.MEMO
    memo = json.loads(path.read_text())
    assert highlight.read_memo(path.read_bytes()) == memo["cells"]
    other = json.dumps({**memo, "version": "pygments 1.0; sitegen.highlight 0"}).encode()
    assert highlight.read_memo(other) == {}
    assert highlight.read_memo(b"{not json") == {}


def test_a_memo_edited_by_hand_is_ignored_and_the_entry_still_used(entry):
    path = entry.directory / highlight.MEMO
    path.write_text(path.read_text().replace("keras", "<script>x</script>"))
    again = reloaded(entry)
    assert again.notebook.cells[1].source == CODE  # the entry itself is still good
    assert again.highlighted == {}


def test_an_entry_without_a_memo_renders_as_before(entry):
    (entry.directory / highlight.MEMO).unlink()
    assert reloaded(entry).highlighted == {}
