"""One page's content, assembled in one place: today's post, its cached run, the files it wrote.

The cache stores and loads runs; the renderer turns content into HTML. Between them, this module
decides what a page shows. The key covers code cells only, so an entry stays fresh while the
prose changes, and the page must show today's prose with the run's outputs; a post whose code
changed since its last good run (and failed, or is not re-run under `--frozen`) shows that run
as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from sitegen.cache import Entry
from sitegen.files import RefusedFile, copy_regular

log = logging.getLogger(__name__)


@dataclass
class PageContent:
    """What a page is made of (the renderer's `Executed`): a notebook, the run's record and
    facts, the files published beside the page, and the run's memos of its cells' HTML."""

    notebook: nbformat.NotebookNode
    results: dict[str, Any]
    run: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)
    highlighted: dict[str, str] = field(default_factory=dict)
    prose: dict[str, dict] = field(default_factory=dict)
    reproduction: dict[str, Any] | None = None  # what `--reproduce` found (sitegen.reproduce)


def assemble(post_notebook: nbformat.NotebookNode, entry: Entry,
             key: dict[str, Any]) -> PageContent:
    """The page of a post whose run is `entry`, given the post as it reads today and its key."""
    same_code = entry.key.get("code") == key["code"]
    notebook = merge_outputs(post_notebook, entry.notebook) if same_code else entry.notebook
    return PageContent(notebook, entry.results, entry.run, entry.files,
                       highlighted=entry.highlighted, prose=entry.prose,
                       reproduction=entry.reproduction)


def as_run(entry: Entry) -> PageContent:
    """The page of a run exactly as it ran: its own prose, not today's."""
    return PageContent(entry.notebook, entry.results, entry.run, entry.files,
                       highlighted=entry.highlighted, prose=entry.prose,
                       reproduction=entry.reproduction)


def copy_files(content: PageContent, asset_dir: Path, taken: Iterable[Path],
               post_path: Path) -> list[Path]:
    """Publishes the files the post wrote (its CSV, say) into `asset_dir`, beside its page.

    The builder's own files there (`taken`: results.json, figures, whole outputs) win: a post's
    file of the same name, in any letter case (macOS disks ignore it), is left out with a
    warning naming both. Files are copied without following links.
    """
    folder = asset_dir.resolve()
    builders = {path.relative_to(folder).as_posix().casefold(): path.relative_to(folder)
                for path in map(Path, taken) if path.is_relative_to(folder)}
    written = []
    for name, path in content.files.items():
        if (theirs := builders.get(name.casefold())) is not None:
            log.warning("%s: its run's file %s is not published: the builder writes %s beside "
                        "the page; have the post write it under another name.", post_path, name,
                        theirs.as_posix())
            continue
        target = asset_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            copy_regular(path, target)
        except RefusedFile as why:
            log.warning("%s: not publishing %s: it is %s.", post_path, path, why)
            continue
        written.append(target)
    return written


def merge_outputs(post_notebook: nbformat.NotebookNode,
                  executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The post's cells, each code cell carrying the outputs of its executed twin.

    Cells injected by the build (parameters) stay right after the cell they followed. Copies
    are shallow (neither notebook is changed, nor is the result: it is only rendered), as a deep
    copy of every output cost 3 % of a cold render.
    """
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    twins = [cell for cell in ran if not _is_injected(cell)]
    injected_after = {id(ran[i - 1]): cell for i, cell in enumerate(ran) if _is_injected(cell)}
    cells, twin_of = [], iter(twins)
    for cell in post_notebook.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        twin = next(twin_of)
        merged = nbformat.NotebookNode(cell)
        merged.outputs, merged.execution_count = twin.outputs, twin.execution_count
        cells.append(merged)
        if id(twin) in injected_after:
            cells.append(injected_after[id(twin)])
    notebook = nbformat.NotebookNode(executed)
    notebook.cells = cells
    return notebook


def _is_injected(cell) -> bool:
    return "injected-parameters" in cell.metadata.get("tags", [])
