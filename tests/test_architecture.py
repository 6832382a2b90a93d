"""The builder's boundaries, measured: how often a build walks back into `sitegen/build.py`,
and which modules name paths inside `_freeze/`."""

from __future__ import annotations

import collections
import io
import re
import shutil
import sys
import threading
import tokenize
from pathlib import Path

import build

REPO = Path(__file__).resolve().parents[1]
SITEGEN = REPO / "sitegen"


def module_of(code) -> str | None:
    path = Path(code.co_filename)
    if path == REPO / "build.py":
        return "build.py"
    return f"sitegen/{path.name}" if path.parent == SITEGEN else None


def entries_during(argv: list[str]) -> collections.Counter:
    """How many times each project module is called into from another one while `argv` builds."""
    entered: collections.Counter = collections.Counter()

    def profile(frame, event, arg):
        callee = module_of(frame.f_code) if event == "call" else None
        if callee is None:
            return
        caller = frame.f_back
        while caller is not None and module_of(caller.f_code) is None:
            caller = caller.f_back
        if caller is None or module_of(caller.f_code) != callee:
            entered[callee] += 1

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        build.main(argv)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return entered


def test_a_build_enters_the_build_module_at_most_five_times(tmp_path):
    root = tmp_path / "golden"
    shutil.copytree(REPO / "tests/golden/site", root)
    shutil.copytree(REPO / "templates", root / "templates")
    assert entries_during(["--root", str(root), "--frozen"])["sitegen/build.py"] <= 5


def freeze_paths(path: Path) -> list[str]:
    """Where a module's code (not its prose) names `_freeze/` or goes below `freeze_dir`."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    found = []
    for token, following in zip(tokens, tokens[1:]):
        below = token.string == "freeze_dir" and following.string == "/"
        named = (token.type == tokenize.STRING and not token.string.startswith(('"""', "'''"))
                 and re.search(r"_freeze/|\.local|freeze_dir /", token.string))
        if below or named:
            found.append(f"{path.name}:{token.start[0]}")
    return found


def test_only_the_cache_names_a_path_inside_freeze():
    assert [where for path in sorted(SITEGEN.glob("*.py")) if path.name != "cache.py"
            for where in freeze_paths(path)] == []
