"""Site settings: one place for title, author, url, baseurl, permalinks and quick-run defaults.

Read from `_config.yml` at the repository root, with the names Jekyll uses, so a Jekyll user
finds them where they expect.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from collections.abc import Mapping
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


# What `--smoke` injects when neither the post nor _config.yml says (`smoke:`).
SMOKE_DEFAULTS = {"quick": True, "epochs": 1, "weights": None}
# Per output: the first `head_lines` and last `tail_lines` lines of a long text output are
# shown (the whole of it is a .txt file beside the page); an image or HTML output larger than
# `max_bytes` is linked instead of shown, so one chatty cell cannot make a page of megabytes.
OUTPUT_DEFAULTS = {"head_lines": 40, "tail_lines": 20, "max_bytes": 2 * 1024 * 1024}


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
    smoke: dict[str, Any] = field(default_factory=lambda: dict(SMOKE_DEFAULTS))
    # How much of one cell output a page shows (see OUTPUT_DEFAULTS); the rest is linked.
    outputs: dict[str, int] = field(default_factory=lambda: dict(OUTPUT_DEFAULTS))
    # A post with at least this many section headings gets a contents list at its top.
    toc_min_headings: int = 4
    # Environment variables holding paths, made absolute for every post's kernel.
    path_variables: tuple[str, ...] = ()
    # A Dask scheduler (`tcp://host:8786`) that runs stale posts; `build.py --cluster` wins.
    cluster: str = ""
    # How many times a post whose cluster worker died may start again elsewhere (`--retries`).
    cluster_retries: int = 0
    # The site's source folders, under the root `load_config` read (as MkDocs' docs_dir); the
    # root itself, and the folders a build writes, are the build's (BuildOptions).
    posts_dir: Path = Path("posts")
    templates_dir: Path = Path("templates")


def load_config(root: str | Path = ".", overrides: Mapping[str, Any] | None = None) -> SiteConfig:
    """Reads `_config.yml` under `root`; a missing file gives the defaults.

    `overrides` win over the file (`build.py --baseurl /project`, as `jekyll build --baseurl`).
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
        return make_config({**raw, **(overrides or {})}, root)
    except (yaml.YAMLError, ValueError, TypeError) as error:
        raise BuildError(path, f"bad site settings: {error}") from None


def make_config(settings: dict[str, Any], root: str | Path = ".") -> SiteConfig:
    """Builds a SiteConfig from a settings dict, checking names and normalising url/baseurl."""
    known = {f.name for f in dataclasses.fields(SiteConfig)} - {"posts_dir", "templates_dir"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"Unknown settings in {CONFIG_FILE}: {unknown}. "
                         f"Allowed: {sorted(known)}.")
    values = dict(settings)
    values["url"] = str(values.get("url") or "").rstrip("/")
    if values["url"] and not re.match(r"https?://", values["url"]):
        raise ValueError(f"`url` must start with http:// or https:// (the feed and sitemap "
                         f"need absolute links), or be empty. Received: url={values['url']!r}")
    if not isinstance(values.get("smoke") or {}, dict):
        raise ValueError(f"`smoke` must map parameter names to quick-run values, e.g. "
                         f"{{quick: true, epochs: 1}}. Received: smoke={values['smoke']!r}")
    values["baseurl"] = normalize_baseurl(values.get("baseurl") or "")
    values["permalink"] = resolve_permalink(values.get("permalink") or "date")
    values["layouts"] = tuple(values.get("layouts") or ("post",))
    values["outputs"] = read_outputs(values.get("outputs"))
    values["path_variables"] = read_names("path_variables", values.get("path_variables"))
    values["toc_min_headings"] = read_count("toc_min_headings", values.get("toc_min_headings", 4))
    values["cluster"] = read_address(values.get("cluster"))
    values["cluster_retries"] = read_count("cluster_retries", values.get("cluster_retries", 0))
    if values.get("smoke") is None:
        values.pop("smoke", None)
    root = Path(root)
    return SiteConfig(**values, posts_dir=root / "posts", templates_dir=root / "templates")


def read_outputs(outputs: Any) -> dict[str, int]:
    """`outputs:` over the defaults; each a whole number >= 0 (`max_bytes` >= 1)."""
    outputs = {} if outputs is None else outputs
    if not isinstance(outputs, dict) or set(outputs) - set(OUTPUT_DEFAULTS):
        raise ValueError(f"`outputs` must be a mapping with any of {sorted(OUTPUT_DEFAULTS)}, "
                         f"e.g. {{head_lines: 40, tail_lines: 20}}. Received: outputs={outputs!r}")
    merged = {**OUTPUT_DEFAULTS, **outputs}
    checked = {name: read_count(f"outputs.{name}", value) for name, value in merged.items()}
    if checked["max_bytes"] < 1:
        raise ValueError("`outputs.max_bytes` must be at least 1. Received: outputs.max_bytes=0")
    return checked


def read_names(name: str, value: Any) -> tuple[str, ...]:
    """A list of environment variable names (one name alone is a list of one)."""
    names = [value] if isinstance(value, str) else (value or [])
    if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier()
                                              for n in names):
        raise ValueError(f"`{name}` must list environment variable names, e.g. [MY_PHOTOS]. "
                         f"Received: {name}={value!r}")
    return tuple(names)


def read_address(value: Any) -> str:
    """A Dask scheduler's address (`tcp://host:8786`), or "" for none."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError("`cluster` must be a Dask scheduler's address, e.g. "
                         f"tcp://gpu-box:8786, or be left out. Received: cluster={value!r}")
    return value


def read_count(name: str, value: Any) -> int:
    """A whole number >= 0 (YAML gives int; a bool is refused although it is an int)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`{name}` must be a whole number >= 0. Received: {name}={value!r}")
    return value


def normalize_baseurl(baseurl: str) -> str:
    """"" or "/project" (leading slash, no trailing one), as Jekyll expects `{{ site.baseurl }}/x`."""
    baseurl = str(baseurl).strip().strip("/")
    return f"/{baseurl}" if baseurl else ""


def permalink_values(date: datetime.date, slug: str) -> dict[str, str]:
    """Jekyll's placeholders and what each becomes for one post (the one list of them):
    https://jekyllrb.com/docs/permalinks/#placeholders"""
    return {
        ":year": f"{date.year:04d}", ":short_year": f"{date.year % 100:02d}",
        ":month": f"{date.month:02d}", ":i_month": str(date.month),
        ":day": f"{date.day:02d}", ":i_day": str(date.day),
        ":y_day": f"{date.timetuple().tm_yday:03d}", ":title": slug, ":slug": slug,
    }


PERMALINK_PLACEHOLDERS = tuple(permalink_values(datetime.date(2000, 1, 1), "slug"))


def resolve_permalink(permalink: str) -> str:
    """Turns a Jekyll style name (`date`, `pretty`, ...) into its pattern; patterns pass through."""
    pattern = PERMALINK_STYLES.get(permalink, permalink)
    unknown = sorted(set(re.findall(r":[a-z_]+", pattern)) - set(PERMALINK_PLACEHOLDERS))
    if unknown:
        raise ValueError(f"unknown placeholder(s) {unknown} in permalink; allowed: "
                         f"{', '.join(PERMALINK_PLACEHOLDERS)}. Received: permalink={permalink!r}")
    if not pattern.startswith("/") or ":title" not in pattern and ":slug" not in pattern:
        raise ValueError(f"permalink must be one of {sorted(PERMALINK_STYLES)} or a pattern that "
                         f"starts with / and contains :title. Received: permalink={permalink!r}")
    return pattern
