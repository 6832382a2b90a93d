"""Writing files and folders so that a reader sees the old version or the new, never half;
reading a file only if it is what it says it is.

A post's working folder and a committed cache entry are written by code and people the
builder does not control: a name there may be a link to a file anywhere on the machine, or a
device. `open_regular` reads a regular file and nothing else, never following a link, so no
byte from outside the folder can be published.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class RefusedFile(Exception):
    """A name the builder will not read: a link, a device, a pipe, a folder, or unreadable."""


def swap_directory(staging: Path, target: Path) -> None:
    """Replaces folder `target` by `staging`: readers see the old one or the new one, never half.

    Should the second rename fail, the old folder is put back: `target` is never lost.
    """
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Writes a file so readers see the old content or the new, never a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_file(temporary, content)
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def write_file(path: Path, content: str | bytes) -> None:
    """Writes `path`; a failure names it, even one (a full disk) that the OS reports unnamed."""
    with naming(path):
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@contextlib.contextmanager
def naming(path: Path) -> Iterator[None]:
    """Gives an OSError raised inside the name of the file being written, when it has none.

    A write that fails for lack of space raises `[Errno 28]` without a file name: the open
    succeeded, the write did not. The error shown to the author must still say which file.
    """
    try:
        yield
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise


def final_name(error: OSError, staging: Path | None, target: Path) -> str:
    """The file an error names, as it would have been called once `staging` became `target`:
    the author knows `_site/`, not `_site.new-x1y2`. Before `staging` exists (the error made
    it fail), the target itself is what could not be written."""
    name = str(error.filename or target)
    if staging is None:
        return str(target)
    if name.startswith(str(staging)):
        return str(target) + name[len(str(staging)):]
    return name


def describe_irregular(path: Path) -> str | None:
    """Why `path` is not a regular file (`a symbolic link to /etc/hostname`), or None if it is."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return f"a symbolic link to {os.readlink(path)}"
    if stat.S_ISDIR(info.st_mode):
        return "a folder"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, pipe or socket)"
    return None


def open_regular(path: Path) -> BinaryIO:
    """Opens `path` for reading only if it is a regular file itself, never following a link.

    The check is made on the file opened (not only on the name before), so a link swapped in
    between is refused too. Raises RefusedFile saying what it is instead, or why it cannot be
    opened.
    """
    if (why := describe_irregular(path)) is not None:
        raise RefusedFile(why)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link put there since the check
            raise RefusedFile("a symbolic link") from None
        raise RefusedFile(f"unreadable ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise RefusedFile("not a regular file")
    return os.fdopen(descriptor, "rb")


def copy_regular(source: Path, target: Path) -> None:
    """Copies a regular file (with its modification time), refusing links and devices."""
    with open_regular(source) as reader, naming(target), open(target, "wb") as writer:
        shutil.copyfileobj(reader, writer)
        info = os.fstat(reader.fileno())
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
