"""The memos kept with a cache entry: a run stores its code cells' highlighted HTML and its
plain markdown cells' HTML, a fresh clone renders from them, and a memo that is stale, edited
or missing only costs time: the page is the same byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import nbformat.v4 as v4
import pytest

from sitegen import highlight, markup
from sitegen.cache import Cache, Page
from sitegen.config import make_config
from sitegen.execute import Execution
from sitegen.posts import read_post
from sitegen.render import make_environment
from test_render import publish

ROOT = Path(__file__).resolve().parents[1]
PROSE = ["# Results\n\nAccuracy of 97 % with $\\log p$.", "## Results\n\n| a | b |\n|---|---|\n| 1 | 2 |",
         "We quote {{ results.x }}.", "Bad math: $\\frac{1}$."]

CODE = "import keras\nmodel = keras.Sequential()  # a comment long enough to scroll\n"


def executed_notebook():
    return v4.new_notebook(cells=[v4.new_markdown_cell("# Title"), v4.new_code_cell(CODE),
                                  v4.new_code_cell("%time 1 + 1"), v4.new_code_cell("  "),
                                  *map(v4.new_markdown_cell, PROSE)],
                           metadata={"language_info": {"name": "python"}})


@pytest.fixture
def entry(tmp_path):
    """An entry as a run stores it (no kernel: the notebook is made here)."""
    post = tmp_path / "posts" / "2026-01-01-memo.md"
    workdir = tmp_path / "work"
    workdir.mkdir()
    state = SimpleNamespace(post=SimpleNamespace(path=post, parse_key="k", notebook=None),
                            mode="real", key={"code": "x"}, parameters={}, kernel="python3")
    execution = Execution(executed_notebook(), 1.0, state, workdir, "2026-01-01T00:00:00+00:00")
    return Cache(tmp_path / "_freeze", tmp_path).store(state, execution)


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


def test_a_run_stores_its_plain_prose_but_not_templates_or_bad_math(entry):
    memo = reloaded(entry).prose
    assert set(memo) == {markup.prose_key(source) for source in ["# Title", *PROSE[:2]]}
    cell = memo[markup.prose_key(PROSE[1])]
    assert cell["headings"] == [(2, "Results", "results")] and "table-scroll" in cell["html"]


def test_a_cell_whose_heading_id_the_page_took_is_rendered_again(entry):
    memo = reloaded(entry).prose
    with markup.page_headings({"contents"}) as headings:
        first = markup.remembered(PROSE[0], memo)
        assert markup.remembered(PROSE[1], memo) is None  # "results" is taken: results-2
    assert first == markup.render_cell(PROSE[0])[0]
    assert headings.found == [(1, "Results", "results")]


def test_a_page_is_the_same_from_the_memos_as_without(entry, tmp_path):
    post_file = tmp_path / "posts" / "2026-01-01-memo.md"
    post_file.parent.mkdir(exist_ok=True)
    post_file.write_text("---\ntitle: Memo\n---\n\n# Title\n\n```python\n" + CODE + "```\n")
    site = make_config({}, ROOT)
    post = read_post(post_file, site)
    stored = reloaded(entry)
    stored.manifest["results"] = {"values": {"x": 1}}
    stored.notebook.cells.pop()  # the bad formula: that page is an error either way
    with_memos = Page(post, stored.results, stored.run, entry=stored)
    assert with_memos.highlighted and with_memos.prose
    without = Page(post, stored.results, stored.run, cells=with_memos.notebook)
    env = make_environment(ROOT / "templates")
    pages = []
    for name, page in (("memo", with_memos), ("plain", without)):
        publish(page, site, env, tmp_path / name)
        pages.append((tmp_path / name / post.output_path).read_bytes())
    assert pages[0] == pages[1]
    assert b"results-2" in pages[0]  # the second "Results" rendered again, on this page


def test_a_prose_memo_of_another_markdown_is_ignored(entry):
    path = entry.directory / markup.PROSE_MEMO
    memo = json.loads(path.read_text())
    assert markup.read_prose_memo(path.read_bytes())
    other = json.dumps({**memo, "version": "markdown-it-py 0.1"}).encode()
    assert markup.read_prose_memo(other) == {}
