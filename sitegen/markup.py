"""Markdown to HTML for one page: tables, math as MathML, heading anchors, lazy images, and the
headings a contents list is made of; and what keeps any HTML legible on a phone: tables in a
box that scrolls sideways and takes keyboard focus, numbers kept on one line with their unit.

A page is many markdown cells rendered one by one, but its heading ids must be unique across
the whole page (two sections may both be called "Results"). markdown-it's anchors plugin keeps
its "ids used" set per render call, so its slug function here asks the page's own set, which
`page_headings` installs for the time one page renders.

A run keeps the HTML of its plain markdown cells (no Jinja) with its cache entry
(`prose.json`), each with the heading ids it gave; a page takes a cell from there when none of
those ids is taken on the page yet (then the page would give the same ones), else renders it.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import html
import importlib.metadata
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.mathml import MathError, to_mathml
from sitegen.urls import slugify

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@dataclass
class Headings:
    """One page's heading ids (taken, so new ones stay unique) and its headings in order."""

    taken: set[str] = field(default_factory=set)
    found: list[tuple[int, str, str]] = field(default_factory=list)  # (level, title, id)

    def unique(self, base: str) -> str:
        slug, number = base, 1
        while slug in self.taken:
            number += 1
            slug = f"{base}-{number}"
        self.taken.add(slug)
        return slug


CURRENT: contextvars.ContextVar[Headings] = contextvars.ContextVar("headings")


@contextlib.contextmanager
def page_headings(reserved: set[str]) -> Iterator[Headings]:
    """Collects the headings of one page; ids in `reserved` (`cell-3`, `contents`) are not
    given to headings."""
    headings = Headings(taken=set(reserved))
    token = CURRENT.set(headings)
    try:
        yield headings
    finally:
        CURRENT.reset(token)


def heading_slug(title: str) -> str:
    """A heading's id: slugified as tags are (any script kept), unique on its page."""
    base = slugify(title) or "section"
    headings = CURRENT.get(None)
    return headings.unique(base) if headings is not None else base


def render_math(tex: str, options: dict[str, Any]) -> str:
    """dollarmath's renderer hook: MathML, or MathError naming the formula."""
    try:
        return to_mathml(tex, bool(options.get("display_mode")))
    except MathError as error:
        raise MathError(f"formula ${tex}$: {error}") from None


def render_image(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """Images written in prose load lazily (their size is unknown here: the file may be one
    the post wrote)."""
    tokens[index].attrSet("loading", "lazy")
    return self.image(tokens, index, options, env)


def render_math_block(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """`$$…$$` on its own lines; a long formula's box may scroll on a phone, so it may take focus."""
    tex = tokens[index].content.strip()
    return (f'<div class="math block"{focusable(tex)}>\n{render_math(tex, {"display_mode": True})}'
            '\n</div>\n')


def render_table_open(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    """A table opens inside its scroll box, labelled by its header cells."""
    headers = []
    for token in tokens[index + 1:]:
        if token.type in ("thead_close", "table_close"):
            break
        if token.type == "inline":
            headers.append(token.content)
    return scroll_box_open(headers) + self.renderToken(tokens, index, options, env)


def render_table_close(self: Any, tokens: list[Token], index: int, options: Any, env: Any) -> str:
    return self.renderToken(tokens, index, options, env) + "</div>\n"


@functools.cache
def markdown() -> MarkdownIt:
    """The site's one Markdown parser, made (and markdown-it imported) on first use: a page
    whose prose all comes from its run's memo needs none."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    # allow_space/allow_digits off, as in Pandoc: "$5 and $10" is money, not a formula.
    parser = (MarkdownIt("commonmark", {"html": True})
              .enable(["table", "strikethrough"])
              .use(dollarmath_plugin, double_inline=True, allow_space=False, allow_digits=False,
                   renderer=render_math)
              .use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_slug,
                   permalink=True, permalinkSymbol="#"))
    parser.add_render_rule("image", render_image)
    parser.add_render_rule("math_block", render_math_block)
    parser.add_render_rule("table_open", render_table_open)
    parser.add_render_rule("table_close", render_table_close)
    return parser


def render(source: str) -> str:
    """HTML of one markdown text; its headings join the current page's. Raises MathError."""
    parser = markdown()
    tokens = parser.parse(source, {})
    headings = CURRENT.get(None)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            title = label_anchor(tokens[index + 1])
            if headings is not None:
                headings.found.append((int(token.tag[1]), title, str(token.attrGet("id"))))
    return parser.renderer.render(tokens, parser.options, {})


def label_anchor(inline: Token) -> str:
    """The heading's plain text; its `#` link gets a label a screen reader can say."""
    title = "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
    for child in inline.children or []:
        if child.type == "link_open" and child.attrGet("class") == "header-anchor":
            child.attrSet("aria-label", f"Link to this section: {title.strip()}")
    return title.strip()


def contents(found: list[tuple[int, str, str]], minimum: int) -> list[dict[str, Any]]:
    """The contents list: the page's top heading level, each with the next level nested; empty
    when fewer than `minimum` top-level headings (a short post needs none)."""
    if not found:
        return []
    top = min(level for level, _, _ in found)
    items: list[dict[str, Any]] = []
    for level, title, slug in found:
        if level == top:
            items.append({"title": title, "id": slug, "children": []})
        elif level == top + 1 and items:
            items[-1]["children"].append({"title": title, "id": slug, "children": []})
    return items if len(items) >= minimum else []


# ---------------------------------------------------------------- legible on a phone

PHONE_COLUMNS = 30  # monospace characters surely visible in a code box on a 320-375 px screen


def focusable(text: str) -> str:
    """` tabindex="0"` for a box whose longest line may not fit a phone: a box that scrolls
    sideways must take keyboard focus, or a keyboard user cannot scroll it (axe's
    `scrollable-region-focusable`); short boxes add no stop to the Tab order."""
    longest = max((len(line) for line in text.split("\n")), default=0)
    return ' tabindex="0"' if longest > PHONE_COLUMNS else ""


TAG = re.compile(r"<[^>]+>")
HTML_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL | re.IGNORECASE)
HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.DOTALL | re.IGNORECASE)
# A number and its unit: "97.1 %", "95 % CI", "5 min 12 s", "4.63 MB" never wrap apart.
NUMBER_UNIT = re.compile(r"(\d) (?=(?:%|‰|ms|s|min|h|B|kB|MB|GB|px|×)(?![\w-]))")


def scroll_box_open(headers: list[str]) -> str:
    """A wide table scrolls inside this box, not the page; the box takes keyboard focus (a
    keyboard user scrolls it with the arrow keys: axe's `scrollable-region-focusable`) and is a
    region named after the table's first columns, so a screen reader says what it holds."""
    names = [plain_text(h) for h in headers if plain_text(h)][:3]
    label = "Table" + (": " + ", ".join(names) + ("…" if len(headers) > 3 else "") if names else "")
    return f'<div class="table-scroll" role="region" tabindex="0" aria-label="{html.escape(label)}">'


def plain_text(fragment: str) -> str:
    return " ".join(plain_text_lines(fragment).split())


def plain_text_lines(fragment: str) -> str:
    """An HTML fragment's text, its line breaks kept."""
    return html.unescape(TAG.sub("", fragment))


def scrollable_tables(fragment: str) -> str:
    """Every <table> of an HTML output (a DataFrame, catdog's comparison tables) in its scroll box."""
    return HTML_TABLE.sub(lambda m: scroll_box_open(HEADER_CELL.findall(m.group(0)))
                          + m.group(0) + "</div>", fragment)


def keep_units_together(text: str) -> str:
    """The space between a number and its unit made non-breaking ("%" never starts a line)."""
    return NUMBER_UNIT.sub("\\1\u00a0", text)


# ---------------------------------------------------------------- the prose memo of a cache entry

PROSE_MEMO = "prose.json"  # beside an entry's notebook.ipynb
PROSE_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "latex2mathml")


@functools.cache
def prose_version() -> str:
    """What a cell's HTML depends on besides its source: these modules and libraries."""
    code = b"".join((Path(__file__).parent / name).read_bytes()
                    for name in ("markup.py", "mathml.py", "posts.py"))  # posts: slugify
    libraries = [f"{name} {importlib.metadata.version(name)}" for name in PROSE_LIBRARIES]
    return "; ".join([*libraries, f"sitegen.markup {hashlib.sha256(code).hexdigest()[:16]}"])


def is_template(source: str) -> bool:
    """Prose that quotes results or settings (Jinja): its HTML is made on every render."""
    return "{{" in source or "{%" in source or "{#" in source


def prose_key(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:32]


def render_cell(source: str) -> tuple[str, list[tuple[int, str, str]]]:
    """A markdown cell's HTML on a page of its own, and the headings it gave ids to."""
    with page_headings(set()) as headings:
        return keep_units_together(render(source)), headings.found


def make_prose_memo(notebook: Any) -> str:
    """The memo of an executed notebook: its plain markdown cells' HTML and headings, by key;
    a cell whose math does not convert is left out (rendering it says why)."""
    cells = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and not is_template(cell.source):
            try:
                page, found = render_cell(cell.source)
            except MathError:
                continue
            cells[prose_key(cell.source)] = {"html": page, "headings": found}
    return json.dumps({"version": prose_version(), "cells": cells}, indent=0, sort_keys=True)


def read_prose_memo(text: bytes) -> dict[str, dict]:
    """The cells of a memo made by this very version; {} for any other or a broken one."""
    try:
        memo = json.loads(text)
        cells = memo["cells"] if memo.get("version") == prose_version() else {}
        return {key: {"html": str(cell["html"]),
                      "headings": [(int(level), str(title), str(slug))
                                   for level, title, slug in cell["headings"]]}
                for key, cell in cells.items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def remembered(source: str, memo: Mapping[str, dict]) -> str | None:
    """The cell's HTML from the memo, its headings joining the page's; None when the memo
    lacks it or the page has taken one of its ids (the cell is then rendered)."""
    cell = memo.get(prose_key(source))
    headings = CURRENT.get(None)
    if cell is None or headings is None:
        return None
    ids = [slug for _, _, slug in cell["headings"]]
    if any(slug in headings.taken for slug in ids):
        return None
    headings.taken.update(ids)
    headings.found.extend(cell["headings"])
    return cell["html"]
