"""The builder's errors: each names the post (and line or cell) and says how to fix it.

`build.py` prints `str(error)` as one clear line and exits non-zero; nothing else is needed
to show an error to the user.
"""

from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """Base class: an error in one post or in the site, located as precisely as we can."""

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
        if self.cell is not None:
            where += f": cell {self.cell}"
        return where

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}" if self.location() else self.message


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

    def summary(self) -> str:
        """One line for `--status`: `cell 4: ValueError: ...`."""
        return f"cell {self.cell}: {self.message}"[:200]


class RenderError(BuildError):
    """A page cannot be rendered, e.g. prose quotes a result the run did not record."""


class CacheError(BuildError):
    """`--frozen` found stale or missing cache entries."""


class CheckError(BuildError):
    """`--check` found unmet expectations, broken links or missing images."""
