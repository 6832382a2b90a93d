"""Where catdog finds things on this machine: `KERAS_HOME`, its cache, a post's relative paths.

Keras's `file_utils` decides where downloads go; this is catdog's counterpart, and the only
place catdog reads `KERAS_HOME`. It imports nothing but the standard library, so
`catdog.results` and the site builder can use it without a Keras backend.

Example:
    >>> from catdog import paths
    >>> paths.cache_root(None).name
    'catdog_cache'
"""

from __future__ import annotations

import os
from pathlib import Path

POST_DIR_ENV = "CATDOG_POST_DIR"  # set by the site builder: the folder of the post's .md file
LAUNCH_DIR_ENV = "CATDOG_LAUNCH_DIR"  # set by the site builder: where build.py was started


def keras_home() -> Path:
    """`$KERAS_HOME`, else `~/.keras`, read at call time (Keras reads it once at import).

    An empty `KERAS_HOME` counts as unset, so a blank export never puts the cache, the
    downloads or the ImageNet weights in the working folder.

    Example:
        >>> keras_home()  # doctest: +SKIP
        PosixPath('/home/me/.keras')
    """
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def cache_root(cache_dir: str | os.PathLike | None) -> Path:
    """`cache_dir`, else `$KERAS_HOME/catdog_cache`: where decoded arrays and zips are kept.

    Example:
        >>> cache_root("/tmp/cache")
        PosixPath('/tmp/cache')
    """
    return Path(cache_dir).expanduser() if cache_dir is not None else (
        keras_home() / "catdog_cache")


def resolve_path(path: str | os.PathLike) -> Path:
    """Finds a relative path the way a post's author means it.

    A post runs in its own empty working folder, so `"../photos/my_trip"` would otherwise
    point nowhere. Tried in order: the working folder (files the post wrote itself), the
    post's folder (`$CATDOG_POST_DIR`, set by the site builder), and the folder `build.py`
    was started from (`$CATDOG_LAUNCH_DIR`). The first that exists wins; if none does, the
    working folder's path is returned and the caller's error says where it looked
    (`where_looked`).

    Example:
        >>> resolve_path("/data/photos")
        PosixPath('/data/photos')
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    for base in _search_bases():
        if (base / path).exists():
            return (base / path).resolve()
    return path


def _search_bases() -> list[Path]:
    bases = [Path.cwd()]
    for env in (POST_DIR_ENV, LAUNCH_DIR_ENV):
        if os.environ.get(env):
            bases.append(Path(os.environ[env]))
    return bases


def where_looked(path: str | os.PathLike) -> str:
    """"looked in /a/x, /b/x": every place `resolve_path` tried, for "not found" messages."""
    path = Path(path).expanduser()
    if path.is_absolute():
        return f"{path} does not exist"
    tried = ", ".join(str((base / path).resolve()) for base in _search_bases())
    return (f"a relative path, looked for in {tried} (the post runs in {Path.cwd()}; relative "
            f"paths are tried from there, from the post's folder and from where build.py was "
            f"started)")


def existing_folder(path: str | os.PathLike, name: str) -> Path:
    """Returns `path` as a Path if it is a folder, else raises FileNotFoundError."""
    folder = resolve_path(path)
    if folder.is_file():
        raise FileNotFoundError(f"`{name}` must be a folder. Received: {name}={str(path)!r}, "
                                f"which is a file ({folder}).")
    if not folder.is_dir():
        raise FileNotFoundError(f"`{name}` must be an existing folder. Received: "
                                f"{name}={str(path)!r}; {where_looked(path)}. Check the path.")
    return folder
