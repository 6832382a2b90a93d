"""Rendering a post page from an in-memory executed notebook (no kernel): outputs, images,
escaping, cell tags, the summary box, the quick-run banner and prose quoting results."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import nbformat.v4 as v4
import pytest

from catdog.results import MIME_TYPE
from sitegen.config import make_config
from sitegen.exceptions import RenderError
from sitegen.posts import read_post
from sitegen.cache import Page
from sitegen.render import (clean_terminal_text, make_environment, percent, render_post, run_facts,
                            seconds, with_run_files)
from sitegen.sitewriter import SiteWriter

ROOT = Path(__file__).resolve().parents[1]
FRONT = "---\ntitle: {title}\ntags: [keras, cnn]\n---\n\n"
BODY = """# A cat or a dog?

We train for {{ results.epochs }} epochs and reach {{ results.test_accuracy | percent }}.

```python
print("training")
```
"""


def tiny_png(size: int = 24) -> bytes:
    """A two-colour PNG, so a screenshot of it is not blank."""
    from PIL import Image

    image = Image.new("RGB", (size, size), (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size // 2, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def record(values: dict, **extra) -> dict:
    payload = {"version": 1, "values": values, **extra}
    return v4.new_output("display_data", data={MIME_TYPE: payload, "text/plain": "recorded"})


VALUES = {"test_accuracy": 0.9713, "test_loss": 0.0812, "epochs": 3, "train_seconds": 312.4,
          "device": "CPU (2 cores)", "data_source": "cats_and_dogs_filtered.zip",
          "image_count": 3000, "quick": False}
ENVIRONMENT = {"python": "3.11.7", "keras_backend": "jax", "keras": "3.15.1", "jax": "0.4.30"}


def executed_cells(post, values: dict = VALUES) -> list:
    """The post's own cells, with outputs of every kind added to its code cell."""
    cells = [dict(cell) for cell in post.notebook.cells]
    code = v4.new_code_cell(cells[-1]["source"], outputs=[
        v4.new_output("stream", name="stdout",
                      text="Epoch 1/3\n\x1b[1m1/2\x1b[0m ━━ 1s\r\x1b[1m2/2\x1b[0m ━━━━ 2s\n"
                           "Epoch 2/3\n2/2 done\b\b\b\bDONE\n<script>alert(1)</script>\n"),
        v4.new_output("display_data", data={"image/png": base64.b64encode(tiny_png()).decode(),
                                            "text/plain": "<Figure>"}),
        v4.new_output("execute_result", data={"text/html": "<table><tr><td>cnn</td></tr></table>",
                                              "text/plain": "df"}, execution_count=1),
        record(values, environment=ENVIRONMENT),
    ])
    return [v4.new_markdown_cell(c["source"]) if c["cell_type"] == "markdown" else c
            for c in cells[:-1]] + [code]


def make_executed(post, values: dict = VALUES, mode: str = "real", cells=None):
    notebook = v4.new_notebook(cells=cells if cells is not None else executed_cells(post, values))
    from catdog.results import from_notebook

    return Page(post, from_notebook(notebook), {"mode": mode, "ran_at": "2024-01-05T10:00:00+00:00",
                                                "duration_s": 320.0, "parameters": {},
                                                "kernel": "python3"}, cells=notebook)


def publish(page: Page, site, env, out: Path) -> list[Path]:
    """What a build does with one page: render it, then write it through the site's writer."""
    names = SiteWriter(out).write_all(with_run_files(page, render_post(page, site, env)))
    return [out / name for name in names]


def publish_listings(pages: list[Page], site, env, out: Path) -> list[Path]:
    from sitegen.feeds import render_listings

    return [out / name for name in SiteWriter(out).write_all(render_listings(pages, site, env))]


def write_post(directory: Path, name: str = "2024-01-05-cat-or-dog.md", title: str = "Cat or dog",
               body: str = BODY, front: str | None = None) -> Path:
    path = directory / name
    path.write_text((front if front is not None else FRONT.format(title=title)) + body)
    return path


@pytest.fixture
def env():
    return make_environment(ROOT / "templates")


@pytest.fixture
def rendered(tmp_path, site_config, env):
    """A rendered post: (post, out_dir, page html, written paths)."""
    post = read_post(write_post(tmp_path), site_config)
    out = tmp_path / "_site"
    written = publish(make_executed(post), site_config, env, out)
    return post, out, (out / post.output_path).read_text(), written


class WellFormed(HTMLParser):
    """Fails on a closing tag that does not match the open one (void elements aside)."""

    VOID = {"meta", "link", "img", "br", "hr", "input", "source", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def assert_well_formed(html: str) -> None:
    parser = WellFormed()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"


def test_page_is_written_at_its_permalink_and_well_formed(rendered):
    post, out, html, written = rendered
    assert post.output_path == "2024/01/05/cat-or-dog.html"
    assert (out / post.output_path) in written
    assert_well_formed(html)


def test_images_are_files_beside_the_page_not_base64(rendered):
    post, out, html, _ = rendered
    assert (out / "2024/01/05/cat-or-dog/fig-2-2.png").read_bytes() == tiny_png()
    assert 'src="cat-or-dog/fig-2-2.png"' in html
    assert "base64" not in html


def test_results_json_beside_the_page(rendered):
    post, out, _, _ = rendered
    record = json.loads((out / "2024/01/05/cat-or-dog/results.json").read_text())
    assert record["values"]["test_accuracy"] == 0.9713
    assert record["run"]["mode"] == "real" and record["url"] == post.url


def test_summary_box_shows_score_and_run_facts(rendered):
    html = rendered[2]
    assert "97.1 %" in html and "0.0812" in html
    for fact in ("CPU (2 cores)", "cats_and_dogs_filtered.zip", "3,000", "5\u00a0min 12\u00a0s",
                 "2024-01-05 10:00 UTC", "3.15.1 (jax 0.4.30)"):
        assert fact in html
    assert "Quick run" not in html
    assert "Ran on" not in html  # this build ran it: no worker to name


def test_a_post_run_on_a_cluster_worker_names_it_in_the_facts():
    worker = {"host": "gpu-box", "processor": "AMD EPYC 7763", "cpus": 16,
              "gpu": ["GPU 0: NVIDIA H200"]}
    facts = dict(run_facts({}, {}, {"worker": worker}, []))
    assert facts["Ran on"] == "gpu-box (AMD EPYC 7763, 16 cores; GPU 0: NVIDIA H200)"
    assert dict(run_facts({}, {}, {}, []))["Ran on"] == ""  # an empty fact is not shown


def test_the_findings_box_lists_each_question_with_its_answer_and_test(tmp_path, site_config, env):
    from catdog import stats

    post = read_post(write_post(tmp_path), site_config)
    comparison = stats.paired_comparison([1] * 10, [1] * 8 + [0] * 2, names=("B", "A"))
    finding = {"name": "b_beats_a", "question": "Does B beat A?", "verdict": "too_few",
               "answer": stats.verdict_text(comparison), "test": stats.method_text(comparison)}
    values = {**VALUES, "findings": [finding], "training": {"runs": 3, "epochs": 40,
                                                             "seconds": 1500.0}}
    executed = make_executed(post, values)
    out = tmp_path / "_site"
    publish(executed, site_config, env, out)
    html = (out / post.output_path).read_text()
    box = html[html.index('<section class="findings"'):html.index("</section>")]
    assert "<strong>Does B beat A?</strong> B and A disagree on only 2 photos (2 vs 0)" in box
    assert "(exact McNemar test on the photos only one of the two got right)" in box
    assert "40 epochs in 3 trainings, 25\u00a0min 0\u00a0s" in html  # the whole post's training


def test_prose_quotes_recorded_results(rendered):
    assert "We train for 3 epochs and reach 97.1 %." in rendered[2]


def test_results_record_output_is_not_shown(rendered):
    assert ">recorded</pre>" not in rendered[2] and MIME_TYPE not in rendered[2]


def test_stream_is_cleaned_like_a_terminal_and_escaped(rendered):
    html = rendered[2]
    assert "2/2 ━━━━ 2s" in html and "1/2" not in html and "\x1b" not in html
    assert "2/2 DONE" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_rich_html_output_is_kept(rendered):
    assert "<table><tr><td>cnn</td></tr></table>" in rendered[2]


def test_code_is_highlighted_with_pygments(rendered):
    assert '<div class="highlight"><pre>' in rendered[2]
    assert '<span class="nb">print</span>' in rendered[2]


def test_title_is_escaped(tmp_path, site_config, env):
    post = read_post(write_post(tmp_path, title="'<script>x</script>'"), site_config)
    publish(make_executed(post), site_config, env, tmp_path / "out")
    html = (tmp_path / "out" / post.output_path).read_text()
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.parametrize("mode,quick", [("smoke", False), ("real", True)], ids=["smoke-run",
                                                                               "quick-value"])
def test_quick_runs_carry_a_banner(tmp_path, site_config, env, mode, quick):
    post = read_post(write_post(tmp_path), site_config)
    publish(make_executed(post, {**VALUES, "quick": quick}, mode), site_config, env, tmp_path)
    assert "these numbers mean nothing" in (tmp_path / post.output_path).read_text()


def test_error_output_is_shown_without_ansi(tmp_path, site_config, env):
    post = read_post(write_post(tmp_path), site_config)
    error = v4.new_output("error", ename="ValueError", evalue="bad <x>",
                          traceback=["\x1b[31mValueError\x1b[0m: bad <x>"])
    cells = [v4.new_code_cell("raise ValueError", outputs=[error])]
    publish(make_executed(post, cells=cells), site_config, env, tmp_path)
    html = (tmp_path / post.output_path).read_text()
    assert '<pre class="output error">ValueError: bad &lt;x&gt;</pre>' in html


@pytest.mark.parametrize("tag,shown,folded", [
    ("hide-input", True, "Show code"), ("hide-output", True, "Show output"),
    ("remove-cell", False, None), ("remove-input", False, None)])
def test_cell_tags(tmp_path, site_config, env, tag, shown, folded):
    post = read_post(write_post(tmp_path), site_config)
    cell = v4.new_code_cell("secret_code = 1", metadata={"tags": [tag]},
                            outputs=[v4.new_output("stream", name="stdout", text="visible\n")])
    publish(make_executed(post, cells=[cell]), site_config, env, tmp_path)
    html = (tmp_path / post.output_path).read_text()
    assert ("secret_code" in html) is shown
    if folded:
        assert f"<details><summary>{folded}</summary>" in html
    if tag == "remove-input":
        assert "visible" in html


def test_undefined_result_names_post_cell_and_known_names(tmp_path, site_config, env):
    post = read_post(write_post(tmp_path, body="Hi\n\n```python\nx\n```\n\n"
                                               "Got {{ results.f1_score }}.\n"), site_config)
    with pytest.raises(RenderError) as caught:
        publish(make_executed(post, cells=[
            v4.new_markdown_cell("Hi"), v4.new_code_cell("x", outputs=[record(VALUES)]),
            v4.new_markdown_cell("Got {{ results.f1_score }}.")]), site_config, env, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{post.path}:12: `results.f1_score` is not recorded by the run")
    assert "test_accuracy" in message
    assert not (tmp_path / post.output_path).exists()


def test_a_filter_given_the_wrong_value_names_the_md_line_and_the_filter(tmp_path, site_config, env):
    prose = "The test split.\n\nIt scores {{ results.test | accuracy_ci }}."
    post = read_post(write_post(tmp_path, body=f"Hi\n\n```python\nx\n```\n\n{prose}\n"), site_config)
    values = {"test": {"loss": 0.3}}  # a dict without `accuracy`
    with pytest.raises(RenderError) as caught:
        publish(make_executed(post, cells=[
            v4.new_markdown_cell("Hi"), v4.new_code_cell("x", outputs=[record(values)]),
            v4.new_markdown_cell(prose)]), site_config, env, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{post.path}:14: filter `accuracy_ci` failed on "
                              "`{{ results.test | accuracy_ci }}` (KeyError: 'accuracy')")
    assert "\n" not in message


def test_site_baseurl_in_prose(tmp_path, env):
    site_config = make_config({"baseurl": "/catdog"}, ROOT)
    post = read_post(write_post(tmp_path, body="![cat]({{ site.baseurl }}/cat.png)\n"), site_config)
    publish(make_executed(post, cells=[v4.new_markdown_cell(
        "![cat]({{ site.baseurl }}/cat.png)")]), site_config, env, tmp_path)
    assert 'src="/catdog/cat.png"' in (tmp_path / post.output_path).read_text()


def test_markdown_tables_and_math(tmp_path, site_config, env):
    post = read_post(write_post(tmp_path), site_config)
    cells = [v4.new_markdown_cell("| a | b |\n|---|---|\n| 1 | 2 |\n\nLoss $L = -\\log p$")]
    publish(make_executed(post, cells=cells), site_config, env, tmp_path)
    html = (tmp_path / post.output_path).read_text()
    assert "<table>" in html and '<span class="math inline">' in html


@pytest.mark.parametrize("raw,clean", [
    ("a\rb", "b"), ("abc\rx", "xbc"), ("abc\b\bZ", "aZc"), ("\x1b[1mbold\x1b[0m", "bold"),
    ("1/3 [==>   ]\r2/3 [=====>]\r3/3 [========]\nnext", "3/3 [========]\nnext"),
    ("line\r\n", "line\n")], ids=["cr", "cr-partial", "backspace", "ansi", "keras-bar", "crlf"])
def test_clean_terminal_text(raw, clean):
    assert clean_terminal_text(raw) == clean


def test_filters():
    assert percent(0.9713) == "97.1 %"
    assert seconds(312.4) == "5 min 12 s" and seconds(4.25) == "4.2 s"
    assert seconds(3725) == "1 h 2 min" and seconds(42) == "42 s"


def test_native_start_up_logging_is_dropped_from_stderr():
    from sitegen.render import drop_native_log_lines

    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
            "I0000 00:00:1795839224.673343   22817 port.cc:153] oneDNN custom operations are on.\n"
            "UserWarning: a real warning")
    assert drop_native_log_lines(text) == "UserWarning: a real warning"


def test_consecutive_stream_outputs_show_as_one_block():
    from sitegen.render import coalesce_streams

    outputs = [{"output_type": "stream", "name": "stdout", "text": "Epoch 1/2\n"},
               {"output_type": "stream", "name": "stdout", "text": ["63/63 - 5s - loss: 0.6\n"]},
               {"output_type": "stream", "name": "stderr", "text": "warning\n"}]
    joined = coalesce_streams(outputs)
    assert [o["text"] for o in joined] == ["Epoch 1/2\n63/63 - 5s - loss: 0.6\n", "warning\n"]


# ---------------------------------------------------------------- long outputs (issue 13)

def render_cells_of(tmp_path, cells, settings: dict | None = None, body: str = BODY):
    """Renders a post whose executed notebook is `cells`; (post, out dir, page html)."""
    site_config = make_config(settings or {}, ROOT)
    post = read_post(write_post(tmp_path, body=body), site_config)
    out = tmp_path / "_site"
    publish(make_executed(post, cells=cells), site_config, make_environment(ROOT / "templates"),
                out)
    return post, out, (out / post.output_path).read_text()


def printing(text: str, name: str = "stdout"):
    return v4.new_code_cell("for step in range(300_000): print(step)",
                            outputs=[v4.new_output("stream", name=name, text=text)])


def test_a_chatty_cell_shows_its_first_and_last_lines_and_links_the_rest(tmp_path):
    text = "".join(f"step {i} loss 0.{i % 97:02d}\n" for i in range(300_000))
    post, out, html = render_cells_of(tmp_path, [printing(text)])
    assert len(html.encode()) < 60_000  # the whole output is ~6 MB
    assert "step 39 loss" in html and "step 40 loss" not in html
    assert "step 299979 loss" not in html and "step 299980 loss" in html
    assert "⋯ 299,940 more lines not shown" in html
    assert 'href="cat-or-dog/output-1-1.txt"' in html
    assert (out / "2024/01/05/cat-or-dog/output-1-1.txt").read_text() == text


def test_output_limits_come_from_the_site_settings(tmp_path):
    text = "\n".join(f"line {i}" for i in range(10))
    _, _, html = render_cells_of(tmp_path, [printing(text)],
                                 {"outputs": {"head_lines": 2, "tail_lines": 1}})
    shown = html.split('<pre class="output stream stdout long">')[1].split("</pre>")[0]
    assert shown.startswith("line 0\nline 1\n<span class=\"cut\">⋯ 7 more lines not shown")
    assert shown.endswith("</span>\nline 9")


def test_a_short_output_is_shown_whole(tmp_path):
    _, out, html = render_cells_of(tmp_path, [printing("a\nb\n")])
    assert '<pre class="output stream stdout">a\nb</pre>' in html
    assert not list(out.rglob("*.txt"))


def test_one_huge_line_is_cut_too(tmp_path):
    _, out, html = render_cells_of(tmp_path, [printing("x" * 5_000_000)],
                                   {"outputs": {"max_bytes": 10_000}})
    assert len(html.encode()) < 40_000 and "the whole output (5.0 MB)" in html
    assert "⋯ 5.0 MB of this line not shown" in html  # not "0 more lines"
    assert len((out / "2024/01/05/cat-or-dog/output-1-1.txt").read_text()) == 5_000_001


def test_cut_markers_count_what_was_cut_in_its_own_unit():
    from sitegen.outputs import cut_text

    lines = "\n".join(f"line {i}" for i in range(10))
    assert cut_text(lines, 2, 1, 1000).describe() == "7 more lines"
    assert cut_text(lines, 2, 0, 1000).describe() == "8 more lines"
    assert cut_text("x" * 50_000_000, 40, 20, 2_000_000).describe() == "48.0 MB of this line"
    few_huge = "\n".join(["a" * 3_000_000, "b" * 3_000_000, "c" * 3_000_000])
    cut = cut_text(few_huge, 40, 20, 2_000_000)
    assert cut.describe() == "7.0 MB in 3 lines"
    assert cut.head + cut.hidden + cut.tail == few_huge


def test_images_and_html_over_the_byte_limit_are_linked_with_a_note(tmp_path):
    big_html = "<table>" + "<tr><td>row</td></tr>" * 200 + "</table>"
    cell = v4.new_code_cell("show()", outputs=[
        v4.new_output("display_data", data={"image/png": base64.b64encode(tiny_png(64)).decode()}),
        v4.new_output("display_data", data={"text/html": big_html, "text/plain": "t"})])
    _, out, html = render_cells_of(tmp_path, [cell], {"outputs": {"max_bytes": 150}})
    assert "<img" not in html and big_html not in html
    assert "Figure from cell 1 not shown" in html and "HTML output not shown" in html
    assert 'href="cat-or-dog/fig-1-1.png"' in html and 'href="cat-or-dog/output-1-2.html"' in html
    assert (out / "2024/01/05/cat-or-dog/output-1-2.html").read_text() == big_html


def test_a_huge_markdown_output_is_shown_as_cut_text(tmp_path):
    table = "| n |\n|---|\n" + "".join(f"| {i} |\n" for i in range(1000))
    cell = v4.new_code_cell("display(Markdown(table))", outputs=[
        v4.new_output("display_data", data={"text/markdown": table, "text/plain": "md"})])
    _, out, html = render_cells_of(tmp_path, [cell], {"outputs": {"max_bytes": 1000}})
    assert "<table>" not in html and "⋯ 942 more lines not shown" in html
    assert (out / "2024/01/05/cat-or-dog/output-1-1.txt").read_text() == table


# ---------------------------------------------------------------- math, headings, contents

def test_math_becomes_mathml_at_build_time(tmp_path):
    cells = [v4.new_markdown_cell("The loss $L = -\\sum_{i=1}^{n} y_i \\log p_i$ and\n\n"
                                  "$$\\mathrm{acc} = \\frac{TP + TN}{N}$$\n\nIt costs $5 and $10.")]
    _, _, html = render_cells_of(tmp_path, cells)
    assert '<span class="math inline"><math xmlns="http://www.w3.org/1998/Math/MathML"' in html
    assert "<msubsup><mo>∑</mo>" in html and "<mfrac>" in html
    assert '<mi>log</mi><mspace width="0.1667em"></mspace><msub><mi>p</mi>' in html  # as TeX
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in html
    assert "\\sum" not in html and "It costs $5 and $10." in html


@pytest.mark.parametrize("formula,why", [
    ("\\frac{1}", "needs 2 parts"), ("\\lossfn(y)", "unknown command `\\lossfn`"),
    ("x^", "cannot convert"), ("a}", "closes no")],
    ids=["missing-argument", "unknown-command", "missing-script", "brace"])
def test_a_formula_that_cannot_be_converted_names_post_and_formula(tmp_path, formula, why):
    cells = [v4.new_markdown_cell("Intro"), v4.new_markdown_cell(f"See ${formula}$ here.")]
    with pytest.raises(RenderError) as caught:
        render_cells_of(tmp_path, cells)
    message = str(caught.value)
    assert "2024-01-05-cat-or-dog.md" in message and f"${formula}$" in message
    assert why in message and "markdown cell 2" in message


LONG_POST = ["## Setup", "## Load the data", "### Its size", "## Train", "## Results", "## Results"]


def test_headings_get_anchor_links_unique_on_the_page(tmp_path):
    cells = [v4.new_markdown_cell(f"{h}\n\nText.") for h in LONG_POST]
    cells.append(v4.new_markdown_cell("## Été 猫"))
    _, _, html = render_cells_of(tmp_path, cells)
    assert ('<h2 id="results">Results <a class="header-anchor" href="#results" '
            'aria-label="Link to this section: Results">#</a></h2>') in html
    assert '<h2 id="results-2">' in html and '<h3 id="its-size">' in html
    assert '<h2 id="été-猫">' in html


def test_long_posts_get_a_table_of_contents(tmp_path):
    cells = [v4.new_markdown_cell(f"{h}\n\nText.") for h in LONG_POST]
    _, _, html = render_cells_of(tmp_path, cells)
    import re

    contents = html.split('<nav class="toc" aria-labelledby="contents">')[1].split("</nav>")[0]
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', contents) == [
        ("setup", "Setup"), ("load-the-data", "Load the data"), ("its-size", "Its size"),
        ("train", "Train"), ("results", "Results"), ("results-2", "Results")]
    assert '<ol><li><a href="#its-size">Its size</a></li></ol>' in contents  # nested under its h2
    assert html.index('id="contents"') < html.index('id="setup"')


def test_short_posts_have_no_table_of_contents(tmp_path):
    cells = [v4.new_markdown_cell(f"{h}\n\nText.") for h in LONG_POST[:3]]
    assert '<nav class="toc"' not in render_cells_of(tmp_path, cells)[2]
    assert '<nav class="toc"' in render_cells_of(tmp_path, cells, {"toc_min_headings": 2})[2]


# ---------------------------------------------------------------- reading comfort

def test_facts_box_links_results_json(rendered):
    post, out, html, _ = rendered
    aside = html.split('<aside class="summary"')[1].split("</aside>")[0]
    assert '<a href="cat-or-dog/results.json" type="application/json">results.json</a>' in aside
    assert (out / "2024/01/05/cat-or-dog/results.json").is_file()


def two_figures():
    png = base64.b64encode(tiny_png(48)).decode()
    return v4.new_code_cell("plots.training_curves(run)", outputs=[
        v4.new_output("display_data", data={"image/png": png}),
        v4.new_output("display_data", data={"image/png": png},
                      metadata={"image/png": {"width": 24, "height": 24}})])


def test_figures_carry_their_size_and_load_lazily_below_the_facts_box(tmp_path):
    _, _, html = render_cells_of(tmp_path, [two_figures()])
    assert "<dt>" in html.split('<aside class="summary"')[1].split("</aside>")[0]
    assert ('<img src="cat-or-dog/fig-1-1.png" alt="Training curves" loading="lazy" '
            'decoding="async" width="48" height="48">') in html
    assert ('<img src="cat-or-dog/fig-1-2.png" alt="Training curves" loading="lazy" '
            'decoding="async" width="24" height="24">') in html


def test_prose_images_load_lazily(tmp_path):
    _, _, html = render_cells_of(tmp_path, [v4.new_markdown_cell("![a cat](cat.png)")])
    assert '<img src="cat.png" alt="a cat" loading="lazy" />' in html


def test_stylesheet_follows_the_reader_colour_scheme():
    css = (ROOT / "templates/style.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css and "color-scheme: light dark" in css
    assert "pre { overflow-x: auto;" in css


# ---------------------------------------------------------------- issue 21: every screen, every reader

def figure(source: str, metadata: dict | None = None):
    png = base64.b64encode(tiny_png(48)).decode()
    return v4.new_code_cell(source, outputs=[v4.new_output(
        "display_data", data={"image/png": png}, metadata={"image/png": metadata or {}})])


@pytest.mark.parametrize("cells,alt", [
    ([figure("plots.confusion_matrix(y, p)", {"alt": "Confusion matrix: 97 of 100 right"})],
     "Confusion matrix: 97 of 100 right"),  # catdog's own alt text wins
    ([v4.new_markdown_cell("## Where it goes wrong\n\nThe mistakes:"),
      figure("predicted = model(x)\nplots.confusion_matrix(y, predicted)")],
     "Confusion matrix, in the section “Where it goes wrong”"),
    ([figure("fig = draw()\n# loss per epoch, both runs\nfig")], "Loss per epoch, both runs"),
    ([figure("%matplotlib inline\nshow()")], "Figure from cell 1"),  # nothing to go by
], ids=["metadata", "call-and-heading", "comment", "nothing-known"])
def test_figures_say_what_they_show(tmp_path, cells, alt):
    _, _, html = render_cells_of(tmp_path, cells)
    assert f'alt="{alt}"' in html


def noise_png(size: int = 200) -> bytes:
    """A photo-like RGBA PNG (every pixel its own colour), as matplotlib writes photo grids."""
    import random

    from PIL import Image

    rng = random.Random(0)
    image = Image.new("RGBA", (size, size))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256), 255)
                   for _ in range(size * size)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def plot_png() -> bytes:
    """A plot-like RGBA PNG (36 kB): a few flat colours and anti-aliased lines."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (1000, 400), "white")
    draw = ImageDraw.Draw(image)
    for step in range(0, 1000, 7):
        draw.line([(step, 0), (999 - step, 399)], fill=(31, 119, 180, 255), width=2)
        draw.line([(0, step % 400), (999, 399 - step % 400)], fill=(255, 127, 14, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_heavy_pngs_are_published_lighter_with_their_size(tmp_path):
    from PIL import Image

    photo, plot = noise_png(), plot_png()
    cells = [v4.new_code_cell(f"show({n})", outputs=[v4.new_output(
        "display_data", data={"image/png": base64.b64encode(data).decode()})])
        for n, data in enumerate((photo, plot, tiny_png()), start=1)]
    post, out, html = render_cells_of(tmp_path, cells)
    folder = out / post.asset_dir
    assert 'src="cat-or-dog/fig-1-1.webp"' in html and 'width="200" height="200"' in html
    assert (folder / "fig-1-1.webp").stat().st_size < len(photo) / 2  # a photo: WebP
    with Image.open(folder / "fig-2-1.png") as drawn:
        assert drawn.mode == "P"  # a plot: a palette PNG, as sharp
    assert (folder / "fig-2-1.png").stat().st_size < len(plot)
    assert (folder / "fig-3-1.png").read_bytes() == tiny_png()  # small: kept as it is


def test_wide_tables_scroll_in_a_focusable_labelled_box(tmp_path):
    markdown = "| model | accuracy | time |\n| --- | --- | --- |\n| cnn | 97.1 % | 5 min |\n"
    output = v4.new_code_cell("table", outputs=[v4.new_output("execute_result", data={
        "text/html": "<table><tr><th>file</th><th>p_cats</th></tr><tr><td>1.jpg</td>"
                     "<td>0.9</td></tr></table>"}, execution_count=1)])
    _, _, html = render_cells_of(tmp_path, [v4.new_markdown_cell(markdown), output])
    assert ('<div class="table-scroll" role="region" tabindex="0" '
            'aria-label="Table: model, accuracy, time"><table>') in html
    assert ('<div class="table-scroll" role="region" tabindex="0" '
            'aria-label="Table: file, p_cats"><table>') in html
    assert_well_formed(html)


def test_boxes_that_may_scroll_on_a_phone_take_keyboard_focus(tmp_path):
    cells = [v4.new_code_cell("x = 1", outputs=[v4.new_output("execute_result", data={
        "text/plain": "a result line far longer than a phone's screen is wide"},
        execution_count=1)]), v4.new_code_cell("y = " + "1 + " * 20 + "1")]
    _, _, html = render_cells_of(tmp_path, cells)
    assert '<pre><span></span><span class="n">x</span>' in html  # short: no Tab stop
    assert '<pre class="output result" tabindex="0">a result line' in html
    assert '<pre tabindex="0"><span></span><span class="n">y</span>' in html


def test_terminal_colours_are_readable_in_both_colour_schemes(tmp_path):
    from sitegen.contrast import DARK_BACKGROUNDS, LIGHT_BACKGROUNDS, contrast

    summary = ('<pre style="white-space:pre;overflow-x:auto">│ image (<span style="color: #00d7ff; '
               'text-decoration-color: #00d7ff">InputLayer</span>) │ (None, 150, 150, 3) │</pre>')
    cell = v4.new_code_cell("model.summary()", outputs=[v4.new_output(
        "display_data", data={"text/html": summary})])
    _, _, html = render_cells_of(tmp_path, [cell])
    assert ('style="color: #007d94; color: light-dark(#007d94, #00d7ff); '
            'text-decoration-color: #00d7ff"') in html  # cyan, darkened for white paper
    assert all(contrast("#007d94", b) >= 4.5 for b in LIGHT_BACKGROUNDS)
    assert all(contrast("#00d7ff", b) >= 4.5 for b in DARK_BACKGROUNDS)
    assert '<pre style="white-space:pre;overflow-x:auto" tabindex="0">' in html


def test_numbers_stay_with_their_units(tmp_path):
    _, _, html = render_cells_of(tmp_path, [v4.new_markdown_cell(
        "It scores 97.1 % (95 % CI 96.0–98.0 %) in 5 min 12 s on 3 cats.")])
    assert "97.1\u00a0% (95\u00a0% CI 96.0–98.0\u00a0%) in 5\u00a0min 12\u00a0s on 3 cats" in html


def test_results_json_leaves_out_where_catdog_was_imported_from(tmp_path, site_config, env):
    post = read_post(write_post(tmp_path), site_config)
    page = make_executed(post)
    page.results["environment"] = {"keras": "3.0", "catdog": {"path": "/home/me/catdog",
                                                              "sha256": "abc"}}
    publish(page, site_config, env, tmp_path / "_site")
    record = json.loads((tmp_path / "_site" / post.asset_dir / "results.json").read_text())
    assert record["environment"] == {"keras": "3.0", "catdog": {"sha256": "abc"}}
