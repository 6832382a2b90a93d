"""A post's cells as jupytext read them, kept with its cache entry (`post.json`), so a fresh
clone does not read every post again.

Reading a body into cells (jupytext, then nbformat's validation) was a third of a cold render
once code highlighting was kept with each entry (`bench/results/profile-*.txt`), and a clone
has no local parse memo (`_freeze/.local/posts.pickle`). A run stores the cells it was made
from; the memo is found by a key made of the text it was read from and the versions of
jupytext, nbformat and sitegen/posts.py, so it stands for that text alone: a post edited since
its run, or a newer reader, reads the post as usual.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat

from sitegen.files import RefusedFile, open_regular

MEMO = "post.json"  # beside an entry's notebook.ipynb


@functools.cache
def version() -> str:
    """What reading a post depends on besides its text."""
    reader = hashlib.sha256((Path(__file__).parent / "posts.py").read_bytes()).hexdigest()[:16]
    jupytext = importlib.metadata.version("jupytext")  # not imported: it is slow to import
    return f"jupytext {jupytext}; nbformat {nbformat.__version__}; sitegen.posts {reader}"


def parse_key(meta: dict, body: str) -> str:
    """The key of the cells read from `body` with front matter `meta` (its `jupyter:` key)."""
    jupyter = json.dumps(meta.get("jupyter"), sort_keys=True, default=str)
    return hashlib.sha256(f"{version()}\0{jupyter}\0{body}".encode()).hexdigest()


def make_memo(key: str, notebook: nbformat.NotebookNode) -> str:
    return json.dumps({"key": key, "notebook": notebook}, sort_keys=True)


def load(directories: Iterable[Path], key: str) -> nbformat.NotebookNode | None:
    """The cells a memo in one of `directories` holds for `key`, or None (read the post)."""
    for directory in directories:
        try:
            with open_regular(directory / MEMO) as reader:
                memo: Any = json.loads(reader.read(), object_hook=nbformat.NotebookNode)
        except (OSError, ValueError, RefusedFile):
            continue
        if isinstance(memo, dict) and memo.get("key") == key and isinstance(memo.get("notebook"),
                                                                              dict):
            return memo["notebook"]
    return None
