"""Markdown to HTML for one page: tables, math as MathML, heading anchors, lazy images, and the
headings a contents list is made of.

A page is many markdown cells rendered one by one, but its heading ids must be unique across
the whole page (two sections may both be called "Results"). markdown-it's anchors plugin keeps
its "ids used" set per render call, so its slug function here asks the page's own set, which
`page_headings` installs for the time one page renders.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from sitegen.mathml import MathError, to_mathml
from sitegen.posts import slugify


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


# allow_space/allow_digits off, as in Pandoc: "$5 and $10" is money, not a formula.
MARKDOWN = (MarkdownIt("commonmark", {"html": True})
            .enable(["table", "strikethrough"])
            .use(dollarmath_plugin, double_inline=True, allow_space=False, allow_digits=False,
                 renderer=render_math)
            .use(anchors_plugin, min_level=1, max_level=6, slug_func=heading_slug,
                 permalink=True, permalinkSymbol="#"))
MARKDOWN.add_render_rule("image", render_image)


def render(source: str) -> str:
    """HTML of one markdown text; its headings join the current page's. Raises MathError."""
    tokens = MARKDOWN.parse(source, {})
    headings = CURRENT.get(None)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.attrGet("id"):
            title = label_anchor(tokens[index + 1])
            if headings is not None:
                headings.found.append((int(token.tag[1]), title, str(token.attrGet("id"))))
    return MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})


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
