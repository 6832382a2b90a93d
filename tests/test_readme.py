"""The README shows only names that exist: each `catdog.…` and `sitegen.…` it writes in code imports."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

README = Path(__file__).resolve().parents[1] / "README.md"
DOTTED = re.compile(r"\b(?:catdog|sitegen)(?:\.[A-Za-z_]\w*)+")


def names_in_code() -> list[str]:
    """Every dotted catdog/sitegen name in the README's code spans and code blocks."""
    tokens = MarkdownIt("commonmark").parse(README.read_text(encoding="utf-8"))
    code = [child.content for token in tokens for child in (token.children or [])
            if child.type == "code_inline"]
    code += [token.content for token in tokens if token.type in ("fence", "code_block")]
    return sorted({name for text in code for name in DOTTED.findall(text)})


def resolve(dotted: str) -> object:
    """`catdog.stats.accuracy_text` -> the function: the longest importable module, then
    attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


def test_the_readme_shows_dotted_names_in_code():
    assert {"catdog.data.from_directory", "catdog.stats.accuracy_text"} <= set(names_in_code())


@pytest.mark.parametrize("dotted", names_in_code())
def test_every_name_the_readme_shows_exists(dotted):
    assert resolve(dotted) is not None
