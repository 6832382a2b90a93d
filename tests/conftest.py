"""Fixtures shared by the tests: the site settings, a tiny site folder, and a build's status.

Tests are examples: each writes the few posts it needs into `tmp_path` and runs `build.main`
exactly as `python build.py` runs.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

import build
from sitegen.config import SiteConfig, make_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def site_config() -> SiteConfig:
    """This repository's site settings defaults (its templates, no _config.yml values)."""
    return make_config({}, REPO)


@pytest.fixture
def new_site() -> Callable[..., Path]:
    """Writes a site folder (the project's templates and config, and the given posts)."""
    return write_site


@pytest.fixture
def status(capsys) -> Callable[..., str]:
    """The `--status` lines of a site, as `build.py --status` prints them."""
    def status_of(site: Path, *args: str) -> str:
        capsys.readouterr()
        build.main(["--root", str(site), "--status", *args])
        return capsys.readouterr().out.strip()
    return status_of


def write_site(root: Path, posts: dict[str, str]) -> Path:
    shutil.copytree(REPO / "templates", root / "templates")
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    (root / "posts").mkdir(parents=True)
    for name, text in posts.items():
        (root / "posts" / name).write_text(textwrap.dedent(text))
    return root


def run_build(root: Path, *args: str) -> int:
    return build.main(["--root", str(root), *args])
