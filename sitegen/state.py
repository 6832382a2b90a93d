"""What a build is given (`BuildOptions`) and what it did (`BuildReport`).

These sit below `sitegen.build` so that every module working on posts (incremental rendering,
the server, the command line) can import them without importing the build's steps.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import nbformat

from sitegen.exceptions import BuildError
from sitegen.posts import Post

DEFAULT_KERNEL = "python3"  # when a post names no kernelspec, as Jupyter itself defaults
DEFAULT_CELL_TIMEOUT = 1800  # seconds; a real training cell on 2 CPU cores can take many minutes


def kernel_name(notebook: nbformat.NotebookNode) -> str:
    """The kernel a post asks for (front matter `jupyter: {kernelspec: {name: ...}}`, or just
    `kernelspec: name`), else python3."""
    kernelspec = notebook.metadata.get("kernelspec")
    name = kernelspec.get("name") if isinstance(kernelspec, Mapping) else kernelspec
    return str(name) if isinstance(name, str) and name.strip() else DEFAULT_KERNEL


def post_names(post: Post) -> set[str]:
    """What a post answers to on the command line: its file stem, or its slug alone."""
    return {post.path.stem, post.slug}


@dataclass
class BuildOptions:
    """Every choice a build makes; `build.py`'s flags map onto these one to one."""

    root: Path = Path(".")
    smoke: bool | frozenset[str] = False  # quick runs: True, or only these posts (stems or slugs)
    force: bool | frozenset[str] = False  # True, or the posts (stems or slugs) to re-run
    frozen: bool = False  # never execute; fail naming every stale or missing post
    strict: bool = False  # an environment difference makes a post stale, not just a warning
    check: bool = False  # check expectations, links and images in the built site
    jobs: int = 1
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    parameters: dict[str, Any] = field(default_factory=dict)  # for posts that have them
    post_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)  # by post name
    drafts: bool = False
    settings: dict[str, Any] = field(default_factory=dict)  # _config.yml values set by flags

    @property
    def mode(self) -> str:
        return "smoke" if self.smoke else "real"

    def mode_for(self, post: Post) -> str:
        """`smoke` for the posts this build runs quickly, `real` for the others."""
        if isinstance(self.smoke, frozenset):
            return "smoke" if self.smoke & post_names(post) else "real"
        return self.mode

    @property
    def site_dir(self) -> Path:
        return self.root / "_site"

    @property
    def freeze_dir(self) -> Path:
        return self.root / "_freeze"


@dataclass
class BuildReport:
    """What a build did; `show()` tells the author, `exit_code` tells the shell."""

    posts: int = 0
    executed: list[str] = field(default_factory=list)
    from_cache: list[str] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # from --check
    skipped: list[str] = field(default_factory=list)  # checks a quick run cannot pass
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.problems)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def summary(self) -> str:
        posts = f"{self.posts} post" + ("" if self.posts == 1 else "s")
        text = (f"Processed {posts} ({len(self.executed)} executed, "
                f"{len(self.from_cache)} from cache, {len(self.errors)} failed) "
                f"in {self.seconds:.2f} s")
        if self.problems:
            text += f"; {len(self.problems)} check problems"
        if self.skipped:
            text += f"; {len(self.skipped)} checks skipped (quick runs)"
        return text

    def show(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        """Every error (with its traceback) and check problem on stderr, the summary on stdout.

        `build.py` and `--serve` both report a build this way, so neither loses anything.
        """
        err = err or sys.stderr
        for error in self.errors:
            error.show(err)
        for problem in self.problems:
            print(f"CHECK {problem}", file=err)
        for skipped in self.skipped:
            print(f"SKIPPED {skipped}", file=err)
        print(self.summary(), file=out or sys.stdout)
