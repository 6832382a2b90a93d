"""Writing files and folders so that a reader sees the old version or the new, never half."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def swap_directory(staging: Path, target: Path) -> None:
    """Replaces folder `target` by `staging`: readers see the old one or the new one, never half."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Writes a file so readers see the old content or the new, never a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, bytes):
        temporary.write_bytes(content)
    else:
        temporary.write_text(content)
    os.replace(temporary, path)
