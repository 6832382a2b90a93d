"""Reading posts: a Jupytext markdown notebook with Jekyll-style YAML front matter.

The front matter is split off and parsed here (not by jupytext) so that every error can name
the line it is on; the body goes to jupytext, which turns it into notebook cells. jupytext
would otherwise keep the non-`jupyter` keys as a leading raw cell, which is not part of the post.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import logging
import posixpath
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml
from nbformat.v4 import nbbase

from sitegen import cells, postmemo
from sitegen.cache import Cache
from sitegen.checks import VERDICTS, parse_expectation
from sitegen.config import SiteConfig
from sitegen.exceptions import PostError
from sitegen.memo import Memo
from sitegen.urls import fill_permalink, is_safe_path, is_slug_char, output_path_for, slugify
from sitegen.stamps import builder_context
from sitegen.parallel import parallel_map

log = logging.getLogger(__name__)

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)
DATED_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
# Fence names run as Python, as `python` is (jupytext itself runs only that one).
PYTHON_ALIASES = ("py", "py3", "python3", "ipython", "ipython3", "Python", "Python3")
PYTHON_FENCE = re.compile(rf"^```+[ \t]*({'|'.join(PYTHON_ALIASES)})\b", re.MULTILINE)
PANDOC_DIV = re.compile(r"^:::", re.MULTILINE)  # jupytext reads such a body as Pandoc's
POST_MEMO = "posts.pickle"  # read posts by file stamp, a local memo the cache keeps
MODES = ("real", "smoke")  # a run of either mode keeps the cells it was read into
KNOWN_KEYS = {"title", "date", "tags", "description", "layout", "draft", "expect", "claims", "smoke",
              "parameters", "slug", "permalink", "jupyter", "path_variables",
              "resources"}  # resources: Dask worker resources (sitegen.cluster)


class FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader, but dates stay strings: PyYAML raises a bare ValueError for
    `2024-13-45`, and read_date can name the line instead."""


class FastFrontMatterLoader(getattr(yaml, "CSafeLoader", FrontMatterLoader)):
    """The same, parsed by libyaml where PyYAML has it (the pure-Python parser was most of the
    time of reading a post's front matter); a mistake is parsed again by FrontMatterLoader,
    whose messages the author is shown."""


for _loader in (FrontMatterLoader, FastFrontMatterLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp",
                            lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Post:
    """One post, read and checked; its notebook holds the cells only (no front matter)."""

    path: Path
    slug: str
    title: str
    date: datetime.date
    tags: tuple[str, ...]
    description: str
    layout: str
    draft: bool
    expect: dict
    claims: dict
    smoke: dict
    parameters: dict
    front_matter: dict
    notebook: nbformat.NotebookNode
    url: str
    output_path: str
    path_variables: tuple[str, ...] = ()  # environment variables that hold paths
    resources: dict[str, float] = field(default_factory=dict)  # what a cluster worker must offer
    parse_key: str = ""  # what its cells were read from (sitegen.postmemo)

    @property
    def asset_dir(self) -> str:
        """Folder beside the page for its images and results.json: `2024/01/05/slug`."""
        if self.output_path.endswith("/index.html"):
            return self.output_path[: -len("/index.html")]
        return posixpath.splitext(self.output_path)[0]


def read_post(path: str | Path, site: SiteConfig, memo_dirs: Iterable[Path] = ()) -> Post:
    """Reads one post file and checks its front matter; raises PostError naming file and line.

    Its cells come from a run's memo in `memo_dirs` (its cache entries) when one was read from
    this very text, else from jupytext.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    meta, lines, body = split_front_matter(text, path)
    parse_key = postmemo.parse_key(meta, body)
    notebook = postmemo.load(memo_dirs, parse_key) or read_notebook(meta, body, path)
    slug = read_slug(meta, path, lines)
    date = read_date(meta, path, lines)
    url = read_url(site.permalink, date, slug, meta.get("permalink"), path, lines)
    return Post(
        path=path, slug=slug, title=read_title(meta, path, lines), date=date,
        tags=read_tags(meta, path, lines), description=str(meta.get("description") or ""),
        layout=read_layout(meta, site, path, lines), draft=bool(meta.get("draft", False)),
        expect=read_expect(meta, path, lines), claims=read_claims(meta, path, lines),
        smoke=read_mapping(meta, "smoke", path, lines),
        parameters=read_mapping(meta, "parameters", path, lines), front_matter=meta,
        notebook=notebook, url=url, output_path=output_path_for(url),
        path_variables=read_variable_names(meta, path, lines),
        resources=read_resources(meta, path, lines), parse_key=parse_key,
    )


def split_front_matter(text: str, path: Path) -> tuple[dict, dict[str, int], str]:
    """Returns (front matter, line of each key, body); the body keeps blank lines in place
    of the front matter so jupytext's cells keep their line numbers."""
    match = FRONT_MATTER.match(text)
    if not match:
        raise PostError(path, "no front matter: start the file with a `---` line, then "
                              "`title: ...`, then another `---` line", line=1)
    yaml_text = match.group(1) or ""
    try:
        node, meta = load_yaml(yaml_text)
    except yaml.YAMLError as error:
        # The context mark is where the broken construct starts (an unclosed `[`); the
        # problem mark alone often points at the end of the front matter.
        mark = getattr(error, "context_mark", None) or getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or str(error)
        raise PostError(path, f"bad front matter: {problem}{quote_hint(yaml_text, line - 2)}",
                        line=line) from None
    if not isinstance(meta, dict):
        raise PostError(path, "front matter must be `key: value` lines", line=2)
    lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value} if node else {}
    warn_unknown_keys(meta, path, lines)
    return meta, lines, "\n" * match.group(0).count("\n") + text[match.end():]


def load_yaml(text: str) -> tuple[Any, Any]:
    """The YAML's node tree (for the line of each key) and its value ({} if empty), from one
    parse (`yaml.compose` then `yaml.load` parsed it twice); libyaml's first, and the pure-Python
    parser's for a mistake, so that the message is the one it always was."""
    try:
        return parse_yaml(text, FastFrontMatterLoader)
    except yaml.YAMLError:
        return parse_yaml(text, FrontMatterLoader)


def parse_yaml(text: str, loader_class: type) -> tuple[Any, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None) or {}
    finally:
        loader.dispose()


def quote_hint(yaml_text: str, index: int) -> str:
    """YAML reads `title: Cats: a study` as a mapping inside a value; say to quote it."""
    lines = yaml_text.splitlines()
    key, sep, value = lines[index].partition(":") if 0 <= index < len(lines) else ("", "", "")
    if not sep or ": " not in value.strip() + " " or value.strip()[:1] in "\"'":
        return ""
    return f"; quote a value that holds ': ', e.g. {key.strip()}: \"{value.strip()}\""


def warn_unknown_keys(meta: dict, path: Path, lines: dict[str, int]) -> None:
    """Jekyll allows any key, so an unknown one is only a warning (it may be a typo)."""
    for key in sorted(set(map(str, meta)) - KNOWN_KEYS):
        log.warning("%s:%s: unknown front matter key %r (known: %s)", path, lines.get(key, 1),
                    key, ", ".join(sorted(KNOWN_KEYS)))


def read_title(meta: dict, path: Path, lines: dict[str, int]) -> str:
    title = meta.get("title")
    if title is None or not str(title).strip():
        raise PostError(path, "missing title: add `title: ...` to the front matter",
                        line=lines.get("title", 1))
    return str(title).strip()


def read_date(meta: dict, path: Path, lines: dict[str, int]) -> datetime.date:
    """The `date:` key, else the `YYYY-MM-DD-` prefix of the file name, as in Jekyll's _posts."""
    value = meta.get("date")
    if value is None:
        match = DATED_NAME.match(path.stem)
        if not match:
            raise PostError(path, "no date: add `date: YYYY-MM-DD` to the front matter or name "
                                  "the file YYYY-MM-DD-slug.md", line=1)
        value = "-".join(match.groups()[:3])
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise PostError(path, f"bad date {value!r}: write it as YYYY-MM-DD, e.g. 2024-01-05",
                        line=lines.get("date", 1)) from None


def read_slug(meta: dict, path: Path, lines: dict[str, int]) -> str:
    """`slug:` from the front matter (must already be safe), else made from the file name."""
    if "slug" in meta:
        slug = unicodedata.normalize("NFC", str(meta["slug"]))
        if not is_safe_path(slug, "._-") or not is_slug_char(slug[0]) or ".." in slug:
            raise PostError(path, f"bad slug {slug!r}: start with a letter or digit (any "
                                  "script) and use only those, '-', '_' or '.', with no '/' or "
                                  "'..'", line=lines.get("slug", 1))
        return slug
    match = DATED_NAME.match(path.stem)
    slug = slugify(match.group(4) if match else path.stem, keep_case=True)
    if not slug:
        raise PostError(path, "cannot make a slug from the file name: add `slug: ...`", line=1)
    return slug


def read_tags(meta: dict, path: Path, lines: dict[str, int]) -> tuple[str, ...]:
    """A YAML list, or one string of space-separated tags as Jekyll allows."""
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = tags.split()
    if not isinstance(tags, list) or not all(isinstance(t, (str, int)) for t in tags):
        raise PostError(path, f"tags must be a list of words, e.g. [keras, cnn]. "
                              f"Received: {tags!r}", line=lines.get("tags", 1))
    tags = list(dict.fromkeys(unicodedata.normalize("NFC", str(t).strip()) for t in tags))
    if any(not slugify(t) for t in tags):
        raise PostError(path, f"each tag needs a letter or digit (any script). "
                              f"Received: {tags!r}", line=lines.get("tags", 1))
    check_tag_clash(tags, path, lines.get("tags", 1))
    return tuple(tags)


def check_tag_clash(tags: list[str], path: Path, line: int) -> None:
    """Two tags of one post that make the same tag page (`Keras CNN`, `keras-cnn`)."""
    seen: dict[str, str] = {}
    for tag in tags:
        other = seen.setdefault(slugify(tag), tag)
        if other != tag:
            raise PostError(path, f"tags {other!r} and {tag!r} both make the page "
                                  f"tags/{slugify(tag)}.html: keep one of them", line=line)


def read_layout(meta: dict, site: SiteConfig, path: Path, lines: dict[str, int]) -> str:
    layout = str(meta.get("layout") or "post")
    if layout not in site.layouts:
        raise PostError(path, f"unknown layout {layout!r}: use one of {list(site.layouts)}",
                        line=lines.get("layout", 1))
    return layout


def read_mapping(meta: dict, key: str, path: Path, lines: dict[str, int]) -> dict:
    value = meta.get(key) or {}
    if not isinstance(value, Mapping):
        example = "{test_accuracy: \">= 0.9\"}" if key == "expect" else "{epochs: 1}"
        raise PostError(path, f"`{key}` must be a mapping like `{example}`. "
                              f"Received: {value!r}", line=lines.get(key, 1))
    return dict(value)


def read_variable_names(meta: dict, path: Path, lines: dict[str, int]) -> tuple[str, ...]:
    """`path_variables: [MY_PHOTOS]`: environment variables whose relative paths the build
    makes absolute for the kernel."""
    names = meta.get("path_variables") or []
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier()
                                              for n in names):
        raise PostError(path, "`path_variables` must list environment variable names, e.g. "
                              f"[MY_PHOTOS]. Received: {names!r}",
                        line=lines.get("path_variables", 1))
    return tuple(names)


def read_resources(meta: dict, path: Path, lines: dict[str, int]) -> dict[str, float]:
    """`resources: {GPU: 1}`: what a cluster worker must offer to run the post (Dask worker
    resources); checked here, so a local build reports a typo too."""
    resources = meta.get("resources") or {}
    if not isinstance(resources, dict) or not all(
            isinstance(name, str) and isinstance(amount, (int, float))
            and not isinstance(amount, bool) and amount > 0
            for name, amount in resources.items()):
        raise PostError(path, "`resources` must map resource names to positive amounts, e.g. "
                              f"resources: {{GPU: 1}}. Received: {resources!r}",
                        line=lines.get("resources", 1))
    return dict(resources)


def read_expect(meta: dict, path: Path, lines: dict[str, int]) -> dict:
    """`expect:` maps a recorded value to a condition such as ">= 0.90"; checked now, not in CI."""
    expect = read_mapping(meta, "expect", path, lines)
    for name, condition in expect.items():
        try:
            parse_expectation(condition)
        except ValueError as error:
            raise PostError(path, f"expect.{name}: {error}", line=lines.get("expect", 1)) from None
    return expect


def read_claims(meta: dict, path: Path, lines: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """`claims:` maps a finding's name to the verdict (or list of verdicts) the post asserts.

    For example `claims: {fine_tuning_helps: better}`: `--check` fails if the run's recorded
    finding `fine_tuning_helps` has another verdict. Verdicts are checked here, as the post is read.
    """
    claims = {}
    for name, wanted in read_mapping(meta, "claims", path, lines).items():
        verdicts = tuple(wanted) if isinstance(wanted, list) else (wanted,)
        unknown = [v for v in verdicts if v not in VERDICTS]
        if unknown or not verdicts:
            raise PostError(path, f"claims.{name}: a claim is a verdict or a list of verdicts, "
                                  f"one of {', '.join(sorted(VERDICTS))}. Received: {wanted!r}",
                            line=lines.get("claims", 1))
        claims[str(name)] = verdicts
    return claims


def read_notebook(meta: dict, body: str, path: Path) -> nbformat.NotebookNode:
    """Cells of the body via jupytext; the front matter's `jupyter:` key becomes metadata.
    (jupytext is imported here: it brings Jupyter's client and Tornado, a tenth of a cold
    render, and a post read from its run's memo, or a no-op build, never needs it.)"""
    import jupytext

    try:
        with validation_once():
            notebook = jupytext.reads(python_fences(body), fmt=jupytext_format(body))
        nbformat.validate(notebook)
    except Exception as error:  # jupytext raises many types for malformed cells
        raise PostError(path, f"jupytext cannot read the body: {error}") from None
    if isinstance(meta.get("jupyter"), Mapping):
        notebook.metadata.update(meta["jupyter"])
    # Blank lines in place of the front matter give jupytext an empty first cell; drop it.
    while notebook.cells and notebook.cells[0].cell_type == "markdown" \
            and not notebook.cells[0].source.strip():
        notebook.cells.pop(0)
    return notebook


def jupytext_format(body: str) -> str:
    """`md:markdown` when the body can only be jupytext's plain Markdown format, else `md` (let
    jupytext guess): its guess parses the whole body once more with markdown-it, looking for
    MyST `{code-cell}` fences and Pandoc `:::` divs, a fifth of the time of reading a post."""
    if "{code-cell}" in body or "{raw-cell}" in body or PANDOC_DIV.search(body):
        return "md"
    return "md:markdown"


def parameter_names(notebook: nbformat.NotebookNode) -> set[str]:
    """The names the post's `parameters` cell assigns: the ones an override can change."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cells.tags(cell):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue  # the run itself will report it, with the cell
            names |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                      for target in node.targets if isinstance(target, ast.Name)}
    return names


def python_fences(body: str) -> str:
    """The body with every top-level ```` ```py ```` fence (and ```` ```python3 ````,
    ```` ```ipython ````...) written ```` ```python ````: jupytext makes code cells of that
    name only, and authors write any of them. Fences are found by markdown-it, so a fence quoted
    inside another one (a ```` ````markdown ```` example) is left alone."""
    if not PYTHON_FENCE.search(body):
        return body
    from markdown_it import MarkdownIt

    lines = body.split("\n")
    for token in MarkdownIt("commonmark").parse(body):
        words = token.info.split(maxsplit=1) if token.type == "fence" else []
        line = lines[token.map[0]] if words else ""
        if words and words[0] in PYTHON_ALIASES and line.startswith("```"):
            lines[token.map[0]] = f"{token.markup}python" + line[len(token.markup):].lstrip()[
                len(words[0]):]
    return "\n".join(lines)


@contextlib.contextmanager
def validation_once() -> Iterator[None]:
    """Skips nbformat's per-cell validation while jupytext builds cells; the caller validates
    the whole notebook once instead.

    `nbformat.v4.new_code_cell` validates each new cell against a sub-schema, which nbformat
    can only do with the slow `jsonschema` backend (fastjsonschema takes no `ref`): 90% of the
    time of reading a 35-cell post. Whole-notebook validation uses fastjsonschema.
    https://github.com/jupyter/nbformat/blob/main/nbformat/validator.py (`_validate`)
    """
    original = nbbase.validate
    nbbase.validate = lambda node, ref=None: None
    try:
        yield
    finally:
        nbbase.validate = original


def check_unique_permalink(post: Post, earlier: list[Post]) -> None:
    for other in earlier:
        if other.output_path == post.output_path:
            raise PostError(post.path, f"duplicate permalink {post.url}: {other.path} has the "
                                       "same one; change the date, the file name, `slug:` or `permalink:`")


def read_url(pattern: str, date: datetime.date, slug: str, permalink: Any, path: Path,
             lines: dict[str, int]) -> str:
    """The page's URL from the site pattern (or the post's own `permalink:`), never outside
    the site: `..` and `.` segments, backslashes and odd characters are refused."""
    line = lines.get("permalink", 1)
    if permalink is not None:
        url = str(permalink)
    else:
        line = lines.get("slug", 1)
        url = fill_permalink(pattern, date, slug)
    url = unicodedata.normalize("NFC", url)
    segments = url.split("/")
    if (not url.startswith("/") or any(s in (".", "..") for s in segments)
            or not is_safe_path(url, "._~/-")):
        raise PostError(path, f"bad permalink {url!r}: it must start with '/' and use only "
                              "letters and digits (any script), '-', '_', '.', '~' and '/', "
                              "with no '..'", line=line)
    return url


# --- every post ---------------------------------------------------------------------------


def read_posts(config: SiteConfig, cache: Cache, drafts: bool,
               errors: list[PostError]) -> list[Post]:
    """Every post of the site, newest first, parsing only the files changed since the last build.

    Drafts are left out unless `drafts`. A bad post (or the second of two with one
    permalink) joins `errors`, and the other posts are still read: the build goes on.
    """
    memo = Memo(cache.memo_file(POST_MEMO),
                builder_context([repr(config)], ("jupytext", "nbformat", "pyyaml")))
    paths = sorted(config.posts_dir.glob("*.md"))
    stamps = {path: file_stamp(path) for path in paths}
    known = {path: memo.data[str(path)][1] for path in paths
             if str(path) in memo.data and memo.data[str(path)][0] == stamps[path]}
    misses = [path for path in paths if path not in known]
    parsed = dict(zip(misses, parallel_map(_read_or_error, [
        (path, config, [cache.entry_directory(path, mode) for mode in MODES]) for path in misses])))
    posts: list[Post] = []
    kept = {}
    for path in paths:
        try:
            post = known.get(path) or parsed.get(path)
            if isinstance(post, PostError):
                raise post
            check_unique_permalink(post, posts)
        except PostError as error:  # the build reports it, once, and goes on
            log.info("%s", error)
            errors.append(error)
            continue
        if not set(map(str, post.front_matter)) - KNOWN_KEYS:  # else warn again next time
            kept[str(path)] = (stamps[path], post)
        if drafts or not post.draft:
            posts.append(post)
    memo.changed = kept.keys() != memo.data.keys() or bool(misses)
    memo.data = kept
    memo.save()
    return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)


def _read_or_error(path: Path, config: SiteConfig, memo_dirs: list[Path]) -> Post | PostError:
    """A post, or why it cannot be read: one bad post must not stop the others being read."""
    try:
        return read_post(path, config, memo_dirs)
    except PostError as error:
        return error


def file_stamp(path: Path) -> list[int]:
    """A file's size, modification time and inode: a different stamp, a different file."""
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ino]
