"""The builder's boundaries, measured: how often a build walks back into `sitegen/build.py`,
how often each stage is entered per post, which modules name paths inside `_freeze/`, and
that one module alone writes `_site/`."""

from __future__ import annotations

import ast
import collections
import io
import os
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


# ---------------------------------------------------------------- one writer of _site/

# Every sitegen module that writes a file, and what it writes. Only sitewriter writes the site;
# a new writer must be added here, saying what it writes, or the test below fails.
WRITERS = {
    "sitewriter.py": "_site/ (the only one)",
    "files.py": "the primitives the writers call",
    "cache.py": "entries under _freeze/",
    "memo.py": "memos under _freeze/.local/ (and .buildinfo.json, through sitewriter)",
    "reproduce.py": "reproduced.json beside an entry",
    "execute.py": "the kernel's log in the run's working folder",
    "bundle.py": "a cluster run's files into its working folder, as a local run leaves them",
    "worker.py": "a post bundle's scratch folder, and the worker's data cache (by fingerprint)",
    "newpost.py": "a new post under posts/",
}
WRITE_CALLS = {"write_bytes", "write_text", "copyfile", "copyfileobj", "copy2", "copytree",
               "copy_regular", "symlink", "swap_directory", "write_atomically", "write_file"}
OS_WRITE_CALLS = {"link", "rename", "replace", "move", "copy"}  # as os.x or shutil.x: str has some


def write_calls(path: Path) -> list[str]:
    """Where a module's code calls something that writes a file: a copy, link, rename or
    write, or `open` with a mode that writes."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        owner = getattr(getattr(node.func, "value", None), "id", "")
        modes = [arg.value for arg in node.args[1:2] + [k.value for k in node.keywords
                                                        if k.arg == "mode"]
                 if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        if (name in WRITE_CALLS or (name in OS_WRITE_CALLS and owner in ("os", "shutil"))
                or (name == "open" and any(set(m) & set("wax+") for m in modes))):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_only_the_listed_modules_write_files():
    writers = {path.name for path in SITEGEN.glob("*.py") if write_calls(path)}
    assert writers == set(WRITERS)


def test_only_the_site_writer_writes_under_the_site(tmp_path, monkeypatch):
    """Every file operation of a build under `_site` (its staging folder and the old one it
    swaps out included) comes from sitegen/sitewriter.py, as Python's audit events show."""
    root = tmp_path / "golden"
    shutil.copytree(REPO / "tests/golden/site", root)
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "assets").mkdir()
    (root / "assets" / "photo.txt").write_text("a photo")
    writers: collections.Counter = collections.Counter()
    _AUDIT.update(root=str(root.resolve()), writers=writers)
    try:
        for _ in range(2):  # the first build renders every page, the second links them
            assert build.main(["--root", str(root), "--frozen"]) == 0
    finally:
        _AUDIT.clear()
    assert set(writers) == {"sitewriter.py"} and writers["sitewriter.py"] > 20


_AUDIT: dict = {}  # set while a test listens: an audit hook cannot be removed once added
WRITE_EVENTS = {"open", "os.link", "os.rename", "os.replace", "os.mkdir", "shutil.copyfile",
                "shutil.copytree", "os.remove", "os.rmdir", "os.symlink", "os.utime"}


def _site_writer(event: str, args: tuple) -> None:
    if not _AUDIT or event not in WRITE_EVENTS:
        return
    if event == "open" and (args[1] is None or not set(str(args[1])) & set("wax+")) \
            and not (isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR)):
        return
    paths = [str(arg) for arg in args if isinstance(arg, (str, Path))]
    if not any(_under_site(path) for path in paths):
        return
    frame = sys._getframe(1)
    while frame is not None and not _is_writer_frame(frame):
        frame = frame.f_back
    _AUDIT["writers"][Path(frame.f_code.co_filename).name if frame else "?"] += 1


def _under_site(path: str) -> bool:
    root = _AUDIT["root"]
    resolved = os.path.realpath(path)
    return resolved.startswith(root + os.sep) and "_site" in resolved[len(root):].split(os.sep)[1]


def _is_writer_frame(frame) -> bool:
    """The nearest builder module (the file primitives are called by their writer)."""
    name = module_of(frame.f_code)
    return name is not None and name not in ("sitegen/files.py",)


sys.addaudithook(_site_writer)


# ---------------------------------------------------------------- each stage once per post

# A post's life, one entry function per stage (execute.run_post and cache.store are entered
# once per run: tests/test_build.py runs posts; a --frozen build runs none).
STAGES = {"read": ("sitegen/posts.py", "read_post"), "key": ("sitegen/freshness.py", "assess_post"),
          "load": ("sitegen/cache.py", "load"), "page": ("sitegen/cache.py", "page"),
          "render": ("sitegen/render.py", "render_post")}


def stage_calls(argv: list[str]) -> dict[str, int]:
    """How many times each stage's entry function is called while `argv` builds."""
    wanted = {where: stage for stage, where in STAGES.items()}
    calls = collections.Counter()

    def profile(frame, event, arg):
        if event == "call":
            stage = wanted.get((module_of(frame.f_code), frame.f_code.co_name))
            if stage:
                calls[stage] += 1

    sys.setprofile(profile)
    try:
        build.main(argv)
    finally:
        sys.setprofile(None)
    return dict(calls)


def test_a_build_enters_each_stage_once_per_post(tmp_path):
    root = tmp_path / "golden"
    shutil.copytree(REPO / "tests/golden/site", root)
    shutil.copytree(REPO / "templates", root / "templates")
    posts = len(list((root / "posts").glob("*.md")))
    assert stage_calls(["--root", str(root), "--frozen"]) == dict.fromkeys(STAGES, posts)
