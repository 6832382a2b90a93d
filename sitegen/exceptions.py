"""The builder's errors: each names the post (and line or cell) and says how to fix it.

As Click's exceptions do, each error knows how to show itself (`show()`) and which exit code
it means (`exit_code`), so `build.py` and `--serve` report every error the same way.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TextIO


class BuildError(Exception):
    """Base class: an error in one post or in the site, located as precisely as we can."""

    exit_code = 1

    def __init__(self, path: Path | str | None, message: str, *, line: int | None = None,
                 cell: int | None = None):
        super().__init__(message)
        self.path = Path(path) if path is not None else None
        self.message = message
        self.line = line
        self.cell = cell

    def __reduce__(self):
        # Picklable with keyword-only arguments, so an error can come back from a worker.
        return (self.__class__.__new__, (self.__class__,), self.__dict__)

    def location(self) -> str:
        where = str(self.path) if self.path else ""
        if self.line is not None:
            where += f":{self.line}"
        if self.cell:  # cells count from 1; 0 means before any cell ran
            where += f": cell {self.cell}"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}" if self.location() else self.message

    def detail(self) -> str:
        """What helps fix it beyond the one line (a traceback, say); empty when nothing does."""
        return ""

    def show(self, file: TextIO | None = None) -> None:
        """Writes the error for the author: one line, then its detail."""
        file = file or sys.stderr
        print(f"build.py: {self}", file=file)
        if self.detail():
            print(self.detail(), file=file)


class UsageError(BuildError):
    """A mistake on the command line (an unknown post, a malformed `-p`): Click's and
    argparse's exit status 2, shown as argparse shows its own, `build.py: error: ...`."""

    exit_code = 2

    def show(self, file: TextIO | None = None) -> None:
        print(f"build.py: error: {self.message} (python build.py --help)", file=file or sys.stderr)


class PostError(BuildError):
    """A post cannot be read: bad front matter, missing title, bad date, unknown layout..."""


class ExecutionError(BuildError):
    """A cell raised, timed out, or the kernel died while running a post."""

    def __init__(self, path, message, *, cell, cell_source="", ename="", evalue="",
                 traceback=""):
        super().__init__(path, message, cell=cell)
        self.cell_source = cell_source
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback

    def __str__(self) -> str:
        first_line = f" `{self.cell_source}`" if self.cell_source else ""
        return f"{self.location()}{first_line}: {self.message}"

    def detail(self) -> str:
        return self.traceback

    def summary(self) -> str:
        """One line for `--status`: `cell 4: ValueError: ...`."""
        where = f"cell {self.cell}: " if self.cell else ""
        return f"{where}{self.message}"[:200]


class RenderError(BuildError):
    """A page cannot be rendered, e.g. prose quotes a result the run did not record."""


class CacheError(BuildError):
    """`--frozen` found stale or missing cache entries."""


class WriteError(BuildError):
    """A file could not be written: a full disk, no permission, a read-only disk, a size limit.

    The build stops at once (what follows would fail the same way), and the message says what
    was kept as it was, so the author knows nothing half-written was published.
    """

    ADVICE = {
        errno.ENOSPC: "the disk is full: free some space and build again",
        errno.EDQUOT: "the disk quota is used up: free some space and build again",
        errno.EACCES: "no permission: make that folder writable and build again",
        errno.EPERM: "no permission: make that folder writable and build again",
        errno.EROFS: "the disk is read-only: build on a writable disk",
        errno.EFBIG: "the file is over this process's file-size limit (ulimit -f): raise it "
                     "and build again",
    }

    @classmethod
    def of(cls, error: OSError, path: Path | str, kept: str) -> WriteError:
        """`path: cannot write (No space left on device): the disk is full...; <kept>`."""
        advice = cls.ADVICE.get(error.errno or 0, "build again once it is fixed")
        return cls(path, f"cannot write ({error.strerror or error}): {advice}; {kept}")


class Stopped(BuildError):
    """A post's run was stopped on request (Ctrl-C): not a failure of the post, never cached."""

    def __init__(self, path: Path | str, *, cell: int, cells: int):
        super().__init__(path, "stopped", cell=cell)
        self.cells = cells

    def where(self, shown_path: str | None = None) -> str:
        """`posts/x.md at cell 7 of 16`, with the path as the caller shows it."""
        path = shown_path or self.path
        if not self.cell:
            return f"{path} before its first cell"
        return f"{path} at cell {self.cell} of {self.cells}"

    def __str__(self) -> str:
        return self.where()


class Interrupted(BuildError):
    """Ctrl-C or SIGTERM stopped the build: `where` says what it was doing; nothing published.

    The exit code is the shell's for a process killed by that signal (130, 143), so a script
    running `build.py` sees an interrupt, not a failed post.
    """

    def __init__(self, signum: int, where: str):
        super().__init__(None, f"interrupted: {where}; nothing published")
        self.signum = signum

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        return 128 + self.signum

    def show(self, file: TextIO | None = None) -> None:
        print(self.message, file=file or sys.stderr)
