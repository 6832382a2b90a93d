"""Rendering one executed post into its page, its image files and its results.json.

Markdown cells are first rendered as Jinja templates (so prose can quote `{{ results.x }}` and
`{{ site.baseurl }}`), then as Markdown (sitegen.markup: math as MathML, heading anchors);
code is highlighted with Pygments (no JavaScript); outputs are cleaned the way a terminal
would show them and long ones cut (sitegen.outputs), images are written as files (heavy PNGs
re-encoded lighter) with alt text, terminal colours made readable in both colour schemes
(sitegen.contrast), and the results-record outputs are not shown: they are the data behind the
summary box. Boxes that may scroll sideways on a phone take keyboard focus.

Links to the page's own files are percent-encoded (`url_path`): slugs keep letters of any
script, and the files on disk carry those names in UTF-8.
"""

from __future__ import annotations

import ast
import base64
import datetime
import functools
import inspect
import json
import logging
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from catdog import stats
from catdog.results import MIME_TYPE
from sitegen import cells, markup
from sitegen.cache import Page
from sitegen.config import OUTPUT_DEFAULTS
from sitegen.contrast import readable_colours
from sitegen.exceptions import RenderError
from sitegen.datasources import DataSource
from sitegen.highlight import code_html, notebook_language
from sitegen.mathml import MathError
from sitegen.checks import is_number
from sitegen.outputs import cut_text, human_size, image_size, lighter_png, strip_ansi
from sitegen.urls import tag_path, url_path

log = logging.getLogger(__name__)


QUICK_BANNER = ("Quick run: tiny synthetic data, one epoch, random weights — "
                "these numbers mean nothing.")
IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


# ---------------------------------------------------------------- Jinja environments and filters

# One number format site-wide, kept in catdog.stats: "97.1 %" (a narrow no-break space before
# "%", so it never wraps alone), "5 min 12 s".
percent = stats.percent_text
seconds = stats.seconds_text


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(percent=percent, seconds=seconds, **stats.FILTERS)
    return env


@functools.lru_cache(maxsize=4)
def make_environment(templates_dir: str | Path) -> jinja2.Environment:
    """The build's one Jinja environment (per templates folder and process): layouts, feed,
    sitemap, and the prose of posts. Autoescape is on (prose is Markdown, not HTML, so it only
    affects substituted values: a recorded "<b>" shows as text), undefined is an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )
    return add_filters(env)


class Values:
    """Recorded values with attribute access (`results.test_accuracy`); a key named like a
    dict method (`items`) still means the value."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def names(self) -> list[str]:
        return sorted(self._values)


# ---------------------------------------------------------------- terminal text

def clean_terminal_text(text: str) -> str:
    """Shows text the way a terminal would: ANSI codes removed, `\\r` and `\\b` resolved.

    Keras and tqdm redraw progress bars with `\\r` and `\\b`; Jupyter front ends resolve
    these in JavaScript (JupyterLab's `fixCarriageReturn`/`fixBackspace`) and nbconvert's HTML
    exporter does not, so a `fit` log would otherwise hold every redraw. Here each line is
    replayed on a cursor: `\\r` goes to column 0, `\\b` back one, other characters overwrite.
    """
    return "\n".join(replay_line(line) for line in strip_ansi(text).split("\n"))


# TensorFlow's C++ start-up logging (absl, glog style: `I0000 00:00:17.5 123 port.cc:153] ...`)
# is written to file descriptor 2 before TF_CPP_MIN_LOG_LEVEL is read, so the kernel captures
# it into the first cell that imports Keras. It says nothing about the post: drop those lines.
NATIVE_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] .*"
                             r"|WARNING: All log messages before absl::InitializeLog\(\).*"
                             r"|To enable the following instructions: .*"
                             r"|This TensorFlow binary is optimized to use .*)$")


def drop_native_log_lines(text: str) -> str:
    """Removes native libraries' start-up log lines from a stderr stream."""
    return "\n".join(line for line in text.split("\n") if not NATIVE_LOG_LINE.match(line))


def replay_line(line: str) -> str:
    if "\r" not in line and "\b" not in line:
        return line
    screen: list[str] = []
    column = 0
    for char in line:
        if char == "\r":
            column = 0
        elif char == "\b":
            column = max(0, column - 1)
        else:
            if column < len(screen):
                screen[column] = char
            else:
                screen.append(char)
            column += 1
    return "".join(screen).rstrip()


# ---------------------------------------------------------------- one post

def render_post(page: Page, site: Any, env: jinja2.Environment) -> dict[str, bytes]:
    """The post's page, its images and its results.json, by the name each is published under.

    Raises RenderError (naming the post and cell) if prose quotes a name that is not defined.
    Nothing is written here: the site's one writer (sitegen.sitewriter) writes what this returns.
    """
    post, results = page.post, page.results
    layout = make_page(post, site)
    summary = summarize(page)
    images = Assets(layout["asset_url"], dict(getattr(site, "outputs", OUTPUT_DEFAULTS)))
    reserved = {"contents", *(f"cell-{n}" for n in range(1, len(page.notebook.cells) + 1))}
    with markup.page_headings(reserved) as headings:
        body = render_cells(post, page.notebook, site, layout, results, images,
                            page.highlighted, page.prose)
    html = render_layout(env, post, site=site, page=layout, content=Markup(body),
                         summary=summary, run=page.run,
                         quick=is_quick(results, page.run), quick_banner=QUICK_BANNER,
                         toc=markup.contents(headings.found, getattr(site, "toc_min_headings", 4)))
    files = {post.output_path: html.encode("utf-8"),
             f"{post.asset_dir}/results.json": dump_json(post_record(page))}
    files.update({f"{post.asset_dir}/{name}": data for name, data in images.files.items()})
    return files


def with_run_files(page: Page, rendered: dict[str, bytes]) -> dict[str, bytes | Path]:
    """The page's files and those its run wrote (its CSV, say), published beside the page.

    The builder's own files there (results.json, figures, whole outputs) win: a run's file of
    the same name, in any letter case (macOS disks ignore it), is left out with a warning naming
    both.
    """
    prefix = f"{page.post.asset_dir}/"
    builders = {name[len(prefix):].casefold(): name[len(prefix):] for name in rendered
                if name.startswith(prefix)}
    files: dict[str, bytes | Path] = dict(rendered)
    for name, path in page.files.items():
        if (theirs := builders.get(name.casefold())) is not None:
            log.warning("%s: its run's file %s is not published: the builder writes %s beside "
                        "the page; have the post write it under another name.", page.post.path,
                        name, theirs)
            continue
        files[prefix + name] = path
    return files


def render_layout(env: jinja2.Environment, post: Any, **context: Any) -> str:
    """The post's layout filled in; a mistake in a template names the template and its line."""
    name = f"{post.layout}.html"
    try:
        return env.get_template(name).render(post=post, **context)
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name or name}:{error.lineno}"
        raise RenderError(post.path, f"template {where}: {error.message}") from None
    except Exception as error:  # a layout mistake must not crash the build
        where = f"templates/{name}:{template_line(error)}"
        raise RenderError(post.path, f"template {where}: {type(error).__name__}: "
                                     f"{error}") from None


def make_page(post: Any, site: Any) -> dict[str, Any]:
    """What templates and prose see as `page` (as in Jekyll); `root` is the relative way back
    to the site root, so pages also work opened from disk."""
    root = "../" * post.output_path.count("/")
    asset_dir = posixpath.relpath(post.asset_dir, posixpath.dirname(post.output_path))
    return {"title": post.title, "date": post.date, "url": post.url, "slug": post.slug,
            "description": post.description, "layout": post.layout, "root": root,
            # where the post's images and files are, relative to its page (percent-encoded)
            "asset_url": url_path(asset_dir),
            "tags": [{"name": t, "url": root + url_path(tag_path(t))} for t in post.tags]}


def is_quick(results: Mapping[str, Any], run: Mapping[str, Any] | None) -> bool:
    """A smoke run or one that recorded `quick=True`: its numbers mean nothing."""
    return (run or {}).get("mode") == "smoke" or bool(results.get("values", {}).get("quick"))


def post_record(page: Page) -> dict:
    """The post's results.json: where it is, what it recorded, how it ran, and (once
    `--reproduce` ran it) what came back.

    Data is given by identity (name, URL, fingerprint), and the environment without the path
    catdog was imported from: never a path of the machine that ran the post.
    """
    post = page.post
    record = {"url": post.url, "title": post.title, "date": post.date.isoformat(),
              "values": page.results.get("values", {}),
              "data": [source.published() for source in page.sources],
              "environment": published_environment(page.results.get("environment", {})),
              "run": dict(page.run or {})}
    return {**record, "reproduced": dict(page.reproduction)} if page.reproduction else record


def published_environment(environment: Mapping[str, Any]) -> dict[str, Any]:
    """The run's environment without `catdog.path` (where this machine has catdog)."""
    catdog = environment.get("catdog")
    if not isinstance(catdog, Mapping) or "path" not in catdog:
        return dict(environment)
    return {**environment, "catdog": {k: v for k, v in catdog.items() if k != "path"}}


def dump_json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


# ---------------------------------------------------------------- summary box

def summarize(page: Page) -> dict[str, Any]:
    """The summary box: the final test score and the run's facts, as display strings."""
    results, run = page.results, page.run or {}
    values, env = results.get("values", {}), results.get("environment", {})
    score = values.get("test_accuracy")
    loss = values.get("test_loss")
    return {"score": markup.keep_units_together(stats.accuracy_text(values, "test_", detail=True))
            if is_number(score) else None,
            "loss": f"{loss:.4f}" if is_number(loss) else None,
            "findings": findings(values),
            "facts": [(label, markup.keep_units_together(text)) for label, text in
                      run_facts(values, env, run, page.sources)
                      + reproduction_fact(page.reproduction) if text]}


def reproduction_fact(reproduction: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """("Reproduced", "on 2026-12-09, CPU (2 cores, TensorFlow): 24 of 24 values equal"), from
    the record `build.py --reproduce` keeps beside the entry (sitegen.reproduce)."""
    if not reproduction:
        return []
    machine = reproduction.get("hardware") or {}
    where = machine.get("device") or f"CPU {machine.get('cpus')} cores"
    day = str(reproduction.get("date", ""))[:10]
    return [("Reproduced", f"on {day}, {where}: {reproduction.get('summary', '')}")]


def findings(values: Mapping) -> list[dict[str, str]]:
    """The post's recorded questions and answers (`catdog.results.finding`), for the box."""
    recorded = values.get("findings")
    if not isinstance(recorded, list):
        return []
    return [{"question": str(f.get("question", "")), "answer": str(f.get("answer", "")),
             "test": str(f.get("test", ""))} for f in recorded if isinstance(f, Mapping)]


def image_counts(values: Mapping) -> str:
    """"8,000 (7,000 train, 500 validation, 500 test)": the total and what each split holds."""
    if not is_number(values.get("image_count")):
        return ""
    parts = [f"{values[f'{name}_images']:,} {label}" for name, label in
             (("train", "train"), ("validation", "validation"), ("test", "test"))
             if is_number(values.get(f"{name}_images"))]
    total = f"{values['image_count']:,}"
    return f"{total} ({', '.join(parts)})" if parts else total


def final_training(values: Mapping) -> str:
    """The final model's own epochs and time, as the post recorded them."""
    epochs, spent = values.get("epochs"), values.get("train_seconds")
    parts = [f"{epochs} epochs" if is_number(epochs) else "",
             seconds(spent) if is_number(spent) else ""]
    return ", ".join(part for part in parts if part)


def all_training(values: Mapping) -> str:
    """Every training of the post (`catdog.train.training_total`): runs, epochs, time."""
    total = values.get("training")
    if not isinstance(total, Mapping) or not is_number(total.get("epochs")):
        return ""
    runs = total.get("runs", 0)
    return (f"{total['epochs']:,} epochs in {runs} training{'' if runs == 1 else 's'}, "
            f"{seconds(total.get('seconds', 0))}")


def data_fallback(sources: list[DataSource]) -> str:
    """What the run read, from catdog's data records, when the post recorded no `data_source`."""
    return "; ".join(f"{source.name} ({source.kind})" for source in sources)


def data_identity(sources: list[DataSource]) -> str:
    """Which bytes the run read, so a reader anywhere can check they have the same data."""
    return "; ".join(source.describe() for source in sources)


def run_facts(values: Mapping, env: Mapping, run: Mapping,
              sources: list[DataSource]) -> list[tuple[str, str]]:
    backend = env.get("keras_backend")
    return [
        ("Validation accuracy", stats.accuracy_text(values, "val_", detail=True)
         if is_number(values.get("val_accuracy")) else ""),
        ("Device", str(values.get("device") or "")),
        ("Data", str(values.get("data_source") or data_fallback(sources))),
        ("Data fingerprint", data_identity(sources)),
        ("Images", image_counts(values)),
        ("Final model's training", final_training(values)),
        ("All training in this post", all_training(values)),
        ("Whole post ran", seconds(run["duration_s"]) if is_number(run.get("duration_s")) else ""),
        ("Ran at", readable_time(run.get("ran_at"))),
        ("Ran on", worker_text(run.get("worker"))),
        ("Run", "quick (smoke)" if is_quick({"values": values}, run) else "real"),
        ("Keras", " ".join(filter(None, [env.get("keras"), backend and f"({backend}"
                                         f" {env.get(backend) or ''}".rstrip() + ")"]))),
    ]


def worker_text(worker: Mapping | None) -> str:
    """'gpu-box (AMD EPYC, 16 cores; NVIDIA H200)': the cluster worker that ran the post
    (`build.py --cluster`); empty, so no fact is shown, for a post run by the build itself."""
    if not isinstance(worker, Mapping) or not worker.get("host"):
        return ""
    machine = ", ".join(filter(None, [str(worker.get("processor") or ""),
                                      f"{worker['cpus']} cores" if worker.get("cpus") else ""]))
    gpus = "; ".join(str(gpu) for gpu in worker.get("gpu") or [])
    details = "; ".join(filter(None, [machine, gpus]))
    return f"{worker['host']} ({details})" if details else str(worker["host"])


def readable_time(iso: str | None) -> str:
    """'2026-11-28T04:22:35+00:00' -> '2026-11-28 04:22 UTC' (what a reader wants to see)."""
    if not iso:
        return ""
    try:
        moment = datetime.datetime.fromisoformat(iso).astimezone(datetime.timezone.utc)
    except ValueError:
        return str(iso)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# ---------------------------------------------------------------- cells

@dataclass
class Assets:
    """A page's files (images, full outputs), the page-relative folder they are linked from
    (`slug`, percent-encoded), so they load from disk and under any baseurl alike, and the
    site's `outputs:` limits."""

    prefix: str
    limits: dict[str, int] = field(default_factory=lambda: dict(OUTPUT_DEFAULTS))
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.prefix}/{url_path(name)}" if self.prefix != "." else url_path(name)

    def is_too_large(self, data: bytes) -> bool:
        return len(data) > self.limits["max_bytes"]


def render_cells(post: Any, notebook: Any, site: Any, page: dict, results: Mapping,
                 images: Assets, highlighted: Mapping[str, str] | None = None,
                 prose: Mapping[str, dict] | None = None) -> str:
    """The HTML of every cell, in order; image files are collected in `images`;
    `highlighted` and `prose` are the cache entry's memos of code and markdown cells' HTML."""
    language = notebook_language(notebook)
    context = {"site": site, "page": page, "results": Values(results.get("values", {}))}
    parts, heading = [], ""
    for number, cell in enumerate(notebook.cells, start=1):
        tags = cells.tags(cell)
        if cell.cell_type == "markdown":
            heading = last_heading(cell.source) or heading
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            parts.append(render_markdown(cell.source, context, post, number, prose))
        elif cell.cell_type == "code":
            alt = figure_alt(cell.source, heading, number) if shows_image(cell) else ""
            parts.append(render_code_cell(cell, number, tags, language, images, alt,
                                          highlighted))
    return "\n".join(parts)


def shows_image(cell: Any) -> bool:
    """Whether a code cell has a figure, the only output that needs alt text (reading the
    cell's code for it costs a parse)."""
    return any(mime in output.get("data", {}) for output in cell.get("outputs", [])
               for mime in IMAGE_TYPES)


def render_markdown(source: str, context: dict, post: Any, number: int,
                    prose: Mapping[str, dict] | None = None) -> str:
    """Jinja first (quoting results, site, page), then Markdown with tables and math; a plain
    cell's HTML comes from the entry's memo (`prose`) when it has it."""
    html = markup.remembered(source, prose) if prose else None
    if html is not None:
        return f'<div class="cell markdown">\n{html}</div>'
    text = source
    if markup.is_template(source):
        text = render_prose_template(source, context, post, number)
    try:
        html = markup.keep_units_together(markup.render(text))
    except MathError as error:
        formula = re.search(r"formula (\$.*?\$):", str(error))
        raise prose_error(post, source, number,
                          _line_of(source, formula.group(1) if formula else ""),
                          f"{error}; write it in LaTeX that latex2mathml knows, or escape a "
                          "literal dollar as \\$") from None
    return f'<div class="cell markdown">\n{html}</div>'


def render_prose_template(source: str, context: dict, post: Any, number: int) -> str:
    """The cell's Jinja rendered; any mistake in it is one RenderError naming the .md line."""
    env = make_environment(context["site"].templates_dir)
    try:
        return env.from_string(source).render(context)
    except jinja2.TemplateSyntaxError as error:
        raise prose_error(post, source, number, error.lineno or 1,
                          f"bad template syntax: {error.message}") from None
    except jinja2.UndefinedError as error:
        names = ", ".join(context["results"].names()) or "none"
        missing = re.search(r"has no attribute '(\w+)'", error.message or "")
        what = (f"`results.{missing.group(1)}` is not recorded by the run" if missing
                and "Values" in error.message else error.message)
        raise prose_error(post, source, number, template_line(error),
                          f"{what}; recorded results: {names}; `site` and `page` are also "
                          "defined") from None
    except Exception as error:  # a filter given the wrong value: say which, never crash
        raise prose_error(post, source, number, template_line(error),
                          filter_failure(error, source, env)) from None


def filter_failure(error: Exception, source: str, env: jinja2.Environment) -> str:
    """`{{ results.test | accuracy_ci }}` failed: which filter, on what, and what it wants."""
    line = source.splitlines()[template_line(error) - 1] if source.strip() else ""
    name = failed_filter(error, env)
    expressions = re.findall(r"{{.*?}}", line)
    expression = next((e for e in expressions if name and name in e),
                      expressions[0] if expressions else line.strip())
    reason = f"{type(error).__name__}: {error}"
    if name is None:
        return f"`{expression}` failed ({reason})"
    wants = (inspect.getdoc(env.filters[name]) or "").split("\n")[0]
    return f"filter `{name}` failed on `{expression}` ({reason}); {name}: {wants}"


def failed_filter(error: Exception, env: jinja2.Environment) -> str | None:
    """The filter whose code raised `error`, found in its traceback, if any did."""
    codes = {getattr(function, "__code__", None): name for name, function in env.filters.items()}
    frames = [frame for frame, _ in traceback_lines(error)]  # outermost first: the filter the
    return next((codes[f.f_code] for f in frames if f.f_code in codes), None)  # template called


def template_line(error: Exception) -> int:
    """The line, within a cell, of the template expression that raised `error` (Jinja puts
    the template's own line numbers in the traceback it re-raises)."""
    lines = [lineno for frame, lineno in traceback_lines(error)
             if frame.f_code.co_filename == "<template>"]
    return lines[-1] if lines else 1


def traceback_lines(error: BaseException) -> list[tuple[Any, int]]:
    """(frame, line) of each step of `error`'s traceback, outermost first."""
    found, tb = [], error.__traceback__
    while tb is not None:
        found.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return found


def prose_error(post: Any, source: str, number: int, line_in_cell: int,
                message: str) -> RenderError:
    """A prose mistake as the author fixes it: the post's `.md` line, else the cell's number."""
    line = markdown_line(post.path, source, line_in_cell)
    if line is None:
        message = f"{message} (markdown cell {number}, counting every cell)"
    return RenderError(post.path, message, line=line)


def markdown_line(path: Path | str, source: str, line_in_cell: int) -> int | None:
    """The line of the post file holding line `line_in_cell` (from 1) of a markdown cell, or
    None when the cell is not in the file as it is today (a run's older prose)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    cell = source.strip("\n")
    at = text.find(cell) if cell.strip() else -1
    if at < 0:
        return None
    skipped = len(source) - len(source.lstrip("\n"))  # blank lines jupytext kept at its top
    return text.count("\n", 0, at) + 1 + max(0, line_in_cell - 1 - skipped)


def _line_of(source: str, needle: str) -> int:
    """The line (from 1) of `source` where `needle` first appears; 1 if it does not."""
    at = source.find(needle) if needle else -1
    return source.count("\n", 0, at) + 1 if at >= 0 else 1


def render_code_cell(cell: Any, number: int, tags: set[str], language: str,
                     images: Assets, alt: str = "",
                     highlighted: Mapping[str, str] | None = None) -> str:
    """Input (highlighted) and outputs; `hide-*` folds a part away, `remove-*` drops it. `alt`
    is what the cell's figures say to a reader who cannot see them, unless they carry their own."""
    parts = []
    if "remove-input" not in tags and cell.source.strip():
        parts.append(fold(code_html(cell.source, language, highlighted or {}), "Show code",
                          "hide-input" in tags))
    if "remove-output" not in tags:
        outputs = "".join(render_output(o, number, i, images, alt)
                          for i, o in enumerate(coalesce_streams(cell.get("outputs", [])),
                                                start=1))
        if outputs:
            parts.append(fold(f'<div class="outputs">{outputs}</div>', "Show output",
                              "hide-output" in tags))
    return f'<div class="cell code" id="cell-{number}">\n' + "\n".join(parts) + "\n</div>"


def coalesce_streams(outputs: list) -> list:
    """Joins consecutive outputs of the same stream, as a notebook shows them.

    Keras writes "Epoch 3/20" and that epoch's metrics as two stream outputs; shown apart they
    would be two boxes. This is nbconvert's CoalesceStreamsPreprocessor, done here on plain
    dicts: importing nbconvert's preprocessors costs each build a few tenths of a second.
    """
    joined: list = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (last is not None and output.get("output_type") == "stream"
                and last.get("output_type") == "stream" and last.get("name") == output.get("name")):
            joined[-1] = {**last, "text": join_text(last["text"]) + join_text(output["text"])}
        else:
            joined.append(output)
    return joined


def fold(html: str, summary: str, hidden: bool) -> str:
    """A hidden part stays one click away, with no JavaScript: <details>."""
    if not hidden:
        return html
    return f"<details><summary>{summary}</summary>\n{html}\n</details>"


def render_output(output: Any, number: int, index: int, images: Assets, alt: str = "") -> str:
    """One output as HTML: stream and text cleaned and escaped, images as files, the results
    record not shown at all."""
    kind = output.get("output_type")
    name = f"output-{number}-{index}"
    if kind == "stream":
        stream = output.get("name", "stdout")
        text = clean_terminal_text(join_text(output.get("text", "")))
        text = drop_native_log_lines(text) if stream == "stderr" else text
        return pre(text, f"stream {stream}", images, name) if text.strip() else ""
    if kind == "error":
        traceback = "\n".join(output.get("traceback", [])) or \
            f"{output.get('ename')}: {output.get('evalue')}"
        return pre(strip_ansi(traceback), "error", images, name)
    data = output.get("data", {})
    if MIME_TYPE in data:
        return ""
    for mime, extension in IMAGE_TYPES.items():
        if mime in data:
            image = decode_image(data[mime], mime)
            metadata = output.get("metadata", {}).get(mime, {})
            size = displayed_size(metadata, image, mime)
            if mime == "image/png":
                image, extension = lighter_png(image)
            src = images.add(f"fig-{number}-{index}.{extension}", image)
            if images.is_too_large(image):
                return too_large(src, f"Figure from cell {number}", len(image), images)
            text = metadata.get("alt") if isinstance(metadata.get("alt"), str) else alt
            return image_tag(src, size, text or f"Figure from cell {number}")
    return render_rich(data, images, name)


def render_rich(data: Mapping[str, Any], images: Assets, name: str) -> str:
    """HTML from our own kernel is kept (tables); other text is shown as escaped text."""
    if "text/html" in data:
        html = join_text(data["text/html"])
        if images.is_too_large(html.encode("utf-8")):
            src = images.add(f"{name}.html", html.encode("utf-8"))
            return too_large(src, "HTML output", len(html.encode("utf-8")), images)
        return f'<div class="output html">{readable_html(html)}</div>'
    if "text/markdown" in data:
        text = join_text(data["text/markdown"])
        if images.is_too_large(text.encode("utf-8")):  # shown as text: cut, the rest linked
            return pre(text, "result", images, name)
        return f'<div class="output markdown">{markup.render(text)}</div>'
    for mime in ("text/latex", "text/plain"):
        if mime in data:
            return pre(clean_terminal_text(join_text(data[mime])), "result", images, name)
    return ""


def too_large(src: str, what: str, size: int, images: Assets) -> str:
    """The note shown instead of an image or HTML output over `outputs.max_bytes`."""
    limit = human_size(images.limits["max_bytes"])
    return (f'<p class="output too-large">{what} not shown: {human_size(size)} is over this '
            f'site\'s {limit} per output (<code>outputs: max_bytes</code> in _config.yml). '
            f'<a href="{escape(src)}">Open it</a>.</p>')


def join_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def pre(text: str, css_class: str, images: Assets, name: str) -> str:
    """Text in a box; a long one shows its first and last lines, a marker saying how many are
    hidden, and a link to the whole of it as `name.txt` beside the page."""
    text = text.rstrip()
    if not text.strip():
        return ""
    limits = images.limits
    cut = cut_text(text, limits["head_lines"], limits["tail_lines"], limits["max_bytes"])
    scroll = "" if css_class.startswith("stream") else markup.focusable(text)  # logs wrap instead
    if cut is None:
        return f'<pre class="output {css_class}"{scroll}>{escape(text)}</pre>'
    whole = (text + "\n").encode("utf-8")
    href = images.add(f"{name}.txt", whole)
    marker = (f'<span class="cut">⋯ {cut.describe()} not shown · '
              f'<a href="{escape(href)}">the whole output ({human_size(len(whole))})</a> ⋯</span>')
    tail = f"\n{escape(cut.tail)}" if cut.tail else ""
    return f'<pre class="output {css_class} long"{scroll}>{escape(cut.head)}\n{marker}{tail}</pre>'


def decode_image(value: Any, mime: str) -> bytes:
    """PNG and JPEG come base64-encoded; SVG is plain text."""
    text = join_text(value)
    if mime == "image/svg+xml":
        return text.encode("utf-8")
    return base64.b64decode(text)


def displayed_size(metadata: Mapping[str, Any], image: bytes, mime: str) -> tuple[int, int] | None:
    """The size the notebook asked for (a retina figure's metadata halves its pixels), else
    the image's own."""
    if is_number(metadata.get("width")) and is_number(metadata.get("height")):
        return int(metadata["width"]), int(metadata["height"])
    return image_size(image, mime)


def image_tag(src: str, size: tuple[int, int] | None, alt: str) -> str:
    """width and height reserve the figure's box (no layout shift as it loads). Every figure
    loads lazily: the title and the facts box fill the first screen of every post, so none is in
    view when the page opens (post 3's first figure, loaded at once, cost a phone's LCP 1.3 s
    in Lighthouse, issue 21)."""
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    return (f'<figure class="output image"><img src="{escape(src)}"'
            f' alt="{escape(alt)}" loading="lazy" decoding="async"{dimensions}></figure>')


# ---------------------------------------------------------------- phones, keyboards, screen readers

RICH_PRE = re.compile(r"<pre\b(?![^>]*\btabindex=)([^>]*)>(.*?)</pre>", re.DOTALL | re.IGNORECASE)


def readable_html(html: str) -> str:
    """An HTML output as a reader needs it: terminal colours readable in both schemes, tables in
    a focusable scroll box, `rich`'s wide <pre> (model.summary()) focusable."""
    html = markup.scrollable_tables(readable_colours(html))
    return RICH_PRE.sub(lambda m: f"<pre{m.group(1)}{markup.focusable(markup.plain_text_lines(m.group(2)))}>"
                        f"{m.group(2)}</pre>", html)


HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
TEMPLATE_TAG = re.compile(r"\{[{%#].*?[}%#]\}", re.DOTALL)


def last_heading(source: str) -> str:
    """The last heading of a markdown cell, as plain text (no Jinja, no markup), or ""."""
    found = HEADING.findall(TEMPLATE_TAG.sub("", source))
    return re.sub(r"[*_`]|\[|\]\([^)]*\)", "", found[-1]).strip() if found else ""


def figure_alt(source: str, heading: str, number: int) -> str:
    """What a figure says when its output carries no alt text of its own
    (`metadata["image/png"]["alt"]`): what drew it (a comment just above the cell's last line,
    else the function it calls: `plots.confusion_matrix(...)` is "Confusion matrix"), and the
    section it is in; "Figure from cell N" only when neither is known."""
    what = drawing_comment(source) or drawing_call(source)
    where = f"in the section “{heading}”" if heading else ""
    if what and where:
        return f"{what}, {where}"
    return what or (f"Figure {where}" if where else f"Figure from cell {number}")


def drawing_comment(source: str) -> str:
    """The full-line comment right above the cell's last statement, e.g. `# loss per epoch`."""
    lines = source.rstrip().split("\n")
    statement = last_statement_line(source)
    above = lines[statement - 2].strip() if statement and statement > 1 else ""
    return above.lstrip("#").strip().capitalize() if above.startswith("#") else ""


def last_statement_line(source: str) -> int | None:
    statement = last_statement(source)
    return statement.lineno if statement else None


@functools.lru_cache(maxsize=64)
def last_statement(source: str) -> ast.stmt | None:
    """The cell's last statement, parsed once for both guesses at what it draws."""
    try:
        body = ast.parse(source).body
    except SyntaxError:  # IPython magics: no statement to read
        return None
    return body[-1] if body else None


def drawing_call(source: str) -> str:
    """`plots.training_curves(run)` as the cell's last statement -> "Training curves"."""
    last = last_statement(source)
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)):
        return ""
    function = last.value.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    return "" if name in NOT_DRAWING else name.replace("_", " ").strip().capitalize()


NOT_DRAWING = {"print", "display", "show", "savefig", "tight_layout", "close"}
