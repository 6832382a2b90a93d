"""The builder's errors: each one knows which post (and line or cell) it is about and shows itself
as `posts/x.md:12: message`, so the command line can print it in one line."""

from __future__ import annotations

from pathlib import Path


class BuildError(Exception):
    """Base of every error the builder reports to the author."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None,
                 cell: int | None = None) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.message = message
        self.line = line
        self.cell = cell

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        if self.cell is not None:
            where += f": cell {self.cell}"
        return f"{where}: {self.message}"


class PostError(BuildError):
    """A post cannot be read: bad front matter, missing title, bad date, clashing permalink."""

    def __init__(self, path: str | Path, message: str, line: int | None = None,
                 *, cell: int | None = None) -> None:
        super().__init__(path, message, line=line, cell=cell)


class ExecutionError(BuildError):
    """A cell raised, timed out, or its kernel died; carries what the author needs to fix it."""

    def __init__(self, path: str | Path, message: str, *, cell: int | None = None,
                 first_line: str = "", ename: str = "", evalue: str = "",
                 traceback: str = "") -> None:
        super().__init__(path, message, cell=cell)
        self.first_line = first_line
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback


class CacheError(BuildError):
    """The execution cache cannot serve a post (e.g. `--frozen` and the entry is stale)."""


class CheckError(BuildError):
    """`--check` found unmet expectations, broken links or missing images."""
