"""The one writer of `_site/`: every file a build publishes goes through `SiteWriter`.

A build writes into a fresh folder beside `_site/` and swaps it in only when complete, so an
interrupted build never leaves half a site; a page whose inputs did not change has its files
hard-linked from the old site instead of being rendered again. Renderers only return
`{relative name: bytes}` (or the path of a regular file to copy); this module alone turns them
into files, refusing any name that would land outside the site.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from sitegen.files import RefusedFile, copy_regular, naming, swap_directory

log = logging.getLogger(__name__)

Content = bytes | Path  # bytes to write, or a regular file to copy as it is


class SiteWriter:
    """Writes files under `out` (the staging folder) for the site published at `site_dir`."""

    def __init__(self, out: Path, site_dir: Path | None = None):
        self.out = Path(out)
        self.site_dir = Path(site_dir) if site_dir is not None else self.out

    @classmethod
    def staging(cls, site_dir: Path) -> SiteWriter:
        """A writer into a new, empty folder beside `site_dir`, swapped in by `publish`."""
        site_dir.parent.mkdir(parents=True, exist_ok=True)
        return cls(Path(tempfile.mkdtemp(prefix="_site.new-", dir=site_dir.parent)), site_dir)

    def write(self, relative: str, content: Content) -> str | None:
        """Writes one file; its name as written, or None for a file that must not be copied
        (a link or a device among a run's files: warned about, skipped)."""
        path = self.path(relative)
        if not path.parent.is_dir():  # one look where the folder exists (a page's files share it)
            path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            return self._copy(content, path)
        with naming(path):  # a full disk's error names no file by itself
            path.write_bytes(content)
        return path.relative_to(self.out.resolve()).as_posix()

    def write_all(self, files: Mapping[str, Content]) -> list[str]:
        """Writes every file, in name order; the names written."""
        written = [self.write(name, content) for name, content in sorted(files.items())]
        return [name for name in written if name is not None]

    def path(self, relative: str) -> Path:
        """Where `relative` lands; a name that would leave the site is refused."""
        path = (self.out / relative).resolve()
        if not path.is_relative_to(self.out.resolve()):
            raise ValueError(f"refusing to write outside {self.out}. Received: {relative!r}")
        return path

    def link_unchanged(self, names: list[str]) -> bool:
        """Hard-links (or copies) files of the old site into this one; False if any is missing."""
        if not all((self.site_dir / name).is_file() for name in names):
            return False
        for name in names:
            target = self.path(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(str(self.site_dir / name), str(target))
        return True

    def copy_tree(self, source: Path, relative: str) -> None:
        """The author's static files (`assets/`) as they are, hard-linked where the file
        system allows (a folder of photos is copied in no time)."""
        if source.is_dir():
            shutil.copytree(source, self.path(relative), copy_function=_link_or_copy)

    def publish(self) -> None:
        """Swaps the finished folder in for the site: readers see the old site or the new."""
        swap_directory(self.out, self.site_dir)

    def discard(self) -> None:
        shutil.rmtree(self.out, ignore_errors=True)

    def _copy(self, source: Path, target: Path) -> str | None:
        try:
            copy_regular(source, target)
        except RefusedFile as why:
            log.warning("%s: not publishing it: it is %s.", source, why)
            return None
        return target.relative_to(self.out.resolve()).as_posix()


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
