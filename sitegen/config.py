"""Site settings: one place for title, author, url, baseurl, permalinks and quick-run defaults.

Read from `_config.yml` at the repository root, with the names Jekyll uses, so a Jekyll user
finds them where they expect.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sitegen.exceptions import BuildError

CONFIG_FILE = "_config.yml"

# Jekyll's built-in permalink styles, without `/:categories` (posts here have none).
# https://jekyllrb.com/docs/permalinks/#built-in-formats
PERMALINK_STYLES = {
    "date": "/:year/:month/:day/:title.html",
    "pretty": "/:year/:month/:day/:title/",
    "ordinal": "/:year/:y_day/:title.html",
    "none": "/:title.html",
}


@dataclass(frozen=True)
class SiteConfig:
    """Everything about the site as a whole; templates see it as `site`."""

    title: str = "catdog blog"
    author: str = "catdog blog authors"
    description: str = ""
    url: str = ""
    baseurl: str = ""
    permalink: str = PERMALINK_STYLES["date"]
    layouts: tuple[str, ...] = ("post",)
    smoke: dict[str, Any] = field(default_factory=lambda: {"quick": True, "epochs": 1,
                                                           "weights": None})
    root: Path = Path(".")

    @property
    def posts_dir(self) -> Path:
        return self.root / "posts"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"


def load_config(root: str | Path = ".") -> SiteConfig:
    """Reads `_config.yml` under `root`; a missing file gives the defaults.

    Raises BuildError naming the file for bad YAML or an unknown or malformed setting.
    """
    root = Path(root)
    path = root / CONFIG_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        raw = raw or {}
        if not isinstance(raw, dict):
            raise ValueError(f"it must hold a mapping of settings. "
                             f"Received: {type(raw).__name__}")
        return make_config(raw, root)
    except (yaml.YAMLError, ValueError, TypeError) as error:
        raise BuildError(path, f"bad site settings: {error}") from None


def make_config(settings: dict[str, Any], root: str | Path = ".") -> SiteConfig:
    """Builds a SiteConfig from a settings dict, checking names and normalising url/baseurl."""
    known = {f.name for f in dataclasses.fields(SiteConfig)} - {"root"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"Unknown settings in {CONFIG_FILE}: {unknown}. "
                         f"Allowed: {sorted(known)}.")
    values = dict(settings)
    values["url"] = str(values.get("url") or "").rstrip("/")
    values["baseurl"] = normalize_baseurl(values.get("baseurl") or "")
    values["permalink"] = resolve_permalink(values.get("permalink") or "date")
    values["layouts"] = tuple(values.get("layouts") or ("post",))
    if values.get("smoke") is None:
        values.pop("smoke", None)
    return SiteConfig(**values, root=Path(root))


def normalize_baseurl(baseurl: str) -> str:
    """"" or "/project" (leading slash, no trailing one), as Jekyll expects `{{ site.baseurl }}/x`."""
    baseurl = str(baseurl).strip().strip("/")
    return f"/{baseurl}" if baseurl else ""


def resolve_permalink(permalink: str) -> str:
    """Turns a Jekyll style name (`date`, `pretty`, ...) into its pattern; patterns pass through."""
    pattern = PERMALINK_STYLES.get(permalink, permalink)
    if not pattern.startswith("/") or ":title" not in pattern and ":slug" not in pattern:
        raise ValueError(f"permalink must be one of {sorted(PERMALINK_STYLES)} or a pattern that "
                         f"starts with / and contains :title. Received: permalink={permalink!r}")
    return pattern
