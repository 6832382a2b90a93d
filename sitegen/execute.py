"""Execute one post in a fresh Jupyter kernel with nbclient.

Everything that decides how a post runs is visible in `execute_notebook`'s signature:
the working directory, the kernel, the per-cell timeout and the injected parameters.
"""

from __future__ import annotations

import ast
import copy
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert.filters import strip_ansi

from sitegen.exceptions import ExecutionError

log = logging.getLogger(__name__)

DEFAULT_KERNEL = "python3"
DEFAULT_CELL_TIMEOUT = 1800  # seconds; a real training cell on 2 CPU cores can take many minutes

# Called with (cell number, cell count) before each code cell runs.
CellProgress = Callable[[int, int], None]


@dataclass
class Execution:
    """An executed notebook and the facts of its run."""

    notebook: nbformat.NotebookNode
    duration_s: float


def inject_parameters(notebook: nbformat.NotebookNode, parameters: Mapping[str, Any]):
    """Returns a copy of `notebook` with `parameters` assigned right after its `parameters` cell.

    Papermill's convention: the cell tagged `parameters` holds the defaults; a new cell tagged
    `injected-parameters` after it overrides them. Without such a cell, the overrides go first.
    """
    notebook = copy.deepcopy(notebook)
    if not parameters:
        return notebook
    source = "# Parameters injected by build.py\n" + "".join(
        f"{name} = {value!r}\n" for name, value in sorted(parameters.items())
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    index = next(
        (i + 1 for i, c in enumerate(notebook.cells) if "parameters" in _tags(c)), 0
    )
    notebook.cells.insert(index, cell)
    return notebook


def parameter_names(notebook: nbformat.NotebookNode) -> set[str]:
    """The names the post's `parameters` cell assigns: the ones an override can change."""
    names: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in _tags(cell):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue  # the run itself will report it, with the cell
            names |= {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                      for target in node.targets if isinstance(target, ast.Name)}
    return names


def execute_notebook(
    notebook: nbformat.NotebookNode,
    *,
    path: Path,
    workdir: Path,
    kernel_name: str = DEFAULT_KERNEL,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    env: Mapping[str, str] | None = None,
    on_cell: CellProgress | None = None,
) -> Execution:
    """Runs every code cell of `notebook` in a fresh kernel started in `workdir`.

    `path` is the post's source file, used only to name it in errors. Cells tagged
    `raises-exception` may fail. Raises `ExecutionError` naming the cell for a failing cell,
    a cell timeout or a kernel that died.
    """
    notebook = copy.deepcopy(notebook)
    workdir.mkdir(parents=True, exist_ok=True)
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return Execution(notebook=notebook, duration_s=0.0)  # prose only: no kernel needed
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=cell_timeout,
        resources={"metadata": {"path": str(workdir)}},
        record_timing=False,
    )
    tracker = _CellTracker(notebook, on_cell)
    client.on_cell_start = tracker.started
    start = time.monotonic()
    kernel_log = workdir / "kernel.log"
    # The kernel's own stderr (native libraries' start-up chatter, ipykernel's notices) goes to
    # a log file, not the author's terminal; what cells write still lands in the notebook.
    with _kernel_environment(env), open(kernel_log, "w") as kernel_stderr:
        try:
            client.execute(stderr=kernel_stderr)
        except CellExecutionError as error:
            raise _cell_error(path, tracker, error) from None
        except CellTimeoutError as error:
            raise _stopped(path, tracker, f"timed out after {cell_timeout} s; raise "
                           "--timeout or make the cell faster", error) from None
        except DeadKernelError as error:
            raise _stopped(path, tracker, "the kernel died (out of memory?) while running "
                           "it", error) from None
        except RuntimeError as error:  # jupyter_client: "Kernel didn't respond in 60 seconds"
            raise ExecutionError(path, f"the kernel {kernel_name!r} could not start: {error}. "
                                 "Is ipykernel installed in this environment? Its log ends: "
                                 + kernel_log.read_text()[-500:], cell=0,
                                 ename=type(error).__name__, evalue=str(error)) from None
    return Execution(notebook=notebook, duration_s=time.monotonic() - start)


def _tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


class _CellTracker:
    """Knows which code cell runs now: for progress, and to name the cell that failed."""

    def __init__(self, notebook, on_cell: CellProgress | None):
        # Numbered as in the post's source: the injected-parameters cell does not count.
        self.code_cells = [c for c in notebook.cells
                           if c.cell_type == "code" and "injected-parameters" not in _tags(c)]
        self.on_cell = on_cell
        self.number = 0  # among code cells, from 1: what the author counts
        self.cell = None

    def started(self, cell, cell_index: int) -> None:
        if cell.cell_type != "code":
            return
        self.cell = cell
        self.number = next((i + 1 for i, c in enumerate(self.code_cells) if c is cell), 0)
        if self.on_cell is not None and self.number:
            self.on_cell(self.number, len(self.code_cells))

    def first_line(self) -> str:
        lines = [ln for ln in (self.cell.source if self.cell else "").splitlines() if ln.strip()]
        return lines[0].strip() if lines else ""


class _kernel_environment:
    """Sets extra environment variables for the kernel nbclient starts, then restores them.

    nbclient starts the kernel with this process's environment, so this is how a build
    passes e.g. CATDOG_DATA to a post without it being part of the post.
    """

    def __init__(self, env: Mapping[str, str] | None):
        self.env = dict(env or {})
        self.saved: dict[str, str | None] = {}

    def __enter__(self):
        for name, value in self.env.items():
            self.saved[name] = os.environ.get(name)
            os.environ[name] = value

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _cell_error(path: Path, tracker: _CellTracker, error: CellExecutionError):
    return ExecutionError(
        path,
        f"{error.ename}: {error.evalue}",
        cell=tracker.number,
        cell_source=tracker.first_line(),
        ename=error.ename,
        evalue=error.evalue,
        traceback=strip_ansi(str(error.traceback or "")),
    )


def _stopped(path: Path, tracker: _CellTracker, what: str, error: Exception):
    return ExecutionError(path, f"cell {what}", cell=tracker.number,
                          cell_source=tracker.first_line(), ename=type(error).__name__,
                          evalue=str(error))
