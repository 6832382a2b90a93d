"""Code cells as highlighted HTML (Pygments), and the memo of it kept with each cache entry.

Highlighting is most of a cold render's CPU (`bench/results/profile-before.txt`: 35 code cells a
post through Pygments' regex lexer). Its HTML depends only on a cell's source, its language,
Pygments and this module, so a run stores its cells' HTML beside its notebook
(`highlight.json`), and a fresh clone renders from that instead of lexing again. A memo made by
another Pygments or another version of this module is ignored, and a cell it lacks (prose
edited, a test's notebook) is highlighted here: the memo changes how fast a page is made, never
what it says.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sitegen.markup import focusable

MEMO = "highlight.json"  # beside an entry's notebook.ipynb
IPYTHON_SYNTAX = re.compile(r"^\s*[%!]|\?\s*$", re.MULTILINE)


@functools.cache
def version() -> str:
    """What a memo's HTML depends on besides the sources: Pygments and this module's code."""
    import pygments

    own = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
    return f"pygments {pygments.__version__}; sitegen.highlight {own}"


def notebook_language(notebook: Any) -> str:
    """The language of a notebook's code cells, as its kernel recorded it."""
    metadata = notebook.get("metadata", {})
    return (metadata.get("language_info", {}).get("name")
            or metadata.get("kernelspec", {}).get("language") or "python")


@functools.cache
def formatter() -> Any:
    """One HTML formatter for every cell (Pygments is imported only when a cell is not in a
    memo: its lexer tables take some 40 ms to load)."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight", nowrap=False)


@functools.lru_cache(maxsize=16)
def find_lexer(language: str) -> Any:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language)
    except ClassNotFound:
        return get_lexer_by_name("text")


@functools.lru_cache(maxsize=4096)
def highlight_code(source: str, language: str) -> str:
    """Pygments HTML, the slowest step of rendering; memoised because `--serve` re-renders
    unchanged cells. The IPython lexer (magics, `!shell`) is a third slower than Python's, so
    it is used only for cells that have such lines."""
    if language == "python" and IPYTHON_SYNTAX.search(source):
        language = "ipython3"
    from pygments import highlight

    html = highlight(source, find_lexer(language), formatter())
    return html.replace("<pre>", f"<pre{focusable(source)}>", 1)


def cell_key(source: str, language: str) -> str:
    return hashlib.sha256(f"{language}\0{source}".encode()).hexdigest()[:32]


def code_html(source: str, language: str, memo: Mapping[str, str]) -> str:
    """A cell's highlighted HTML: from the entry's memo when it has it, else made here."""
    return memo.get(cell_key(source, language)) or highlight_code(source, language)


def make_memo(notebook: Any) -> str:
    """The memo of an executed notebook: every code cell's HTML, by its key, with the version."""
    language = notebook_language(notebook)
    cells = {cell_key(cell.source, language): highlight_code(cell.source, language)
             for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()}
    return json.dumps({"version": version(), "cells": cells}, indent=0, sort_keys=True)


def read_memo(text: bytes) -> dict[str, str]:
    """The cells of a memo made by this very version; {} for any other or a broken one."""
    try:
        memo = json.loads(text)
        cells = memo["cells"] if memo.get("version") == version() else {}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}
    if not isinstance(cells, dict) or not all(isinstance(v, str) for v in cells.values()):
        return {}
    return cells
