"""Incremental building: parse only changed posts, render only changed pages.

A no-op rebuild neither parses nor renders what it did last time, and `--status` parses only
changed posts:

- each post file is parsed once per (path, size, mtime); the Post is kept in
  `_freeze/.local/posts.pickle` (local, uncommitted, like the fingerprint memo);
- each page's inputs (post file, entry manifest and notebook, published files, templates,
  site settings, the renderer's source and library versions) are hashed into a stamp kept in
  `_site/.buildinfo.json` with the files the page wrote; a post whose stamp is unchanged has
  those files hard-linked from the old `_site/` into the new one instead of being rendered;
- what must be parsed or rendered is spread over worker processes, one per CPU, when there
  is enough of it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sitegen.stamps import MEMO_VERSION, builder_sources, hash_parts, versions
from sitegen.workers import parallel_map
from sitegen.files import write_file
from sitegen.config import SiteConfig
from sitegen.exceptions import RenderError
from sitegen.freshness import PostState

log = logging.getLogger(__name__)

BUILDINFO = ".buildinfo.json"
RENDER_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pygments",
                    "nbformat", "latex2mathml", "pillow")


def render_posts(published: list, config: SiteConfig, options, staging: Path,
                 errors: list[RenderError]) -> list:
    """Renders (or reuses) every published post's page into `staging`; the (post, entry) pairs
    for the listings, which read only the manifest's results and run."""
    common = _render_context(config)
    old = _load_buildinfo(options.site_dir)
    stamps = {s.name: _page_stamp(s, common) for s in published}
    info: dict[str, dict[str, Any]] = {}
    to_render = []
    for state in published:
        before = old.get(state.name)
        if (before and before["stamp"] == stamps[state.name]
                and _link_files(before["files"], options.site_dir, staging)):
            info[state.name] = before
        else:
            to_render.append(state)
    written = parallel_map(_render_one, [(state, config, staging) for state in to_render])
    for state, files in zip(to_render, written):
        if isinstance(files, RenderError):  # the report shows it, once
            errors.append(files)
            previous = _previous_page(state, old.get(state.name), config, options, staging)
            if previous is not None:  # stamped so that it renders again next time
                info[state.name] = previous
            continue
        info[state.name] = {"stamp": stamps[state.name], "files": files, "mode": state.mode}
    write_file(staging / BUILDINFO, json.dumps({"version": MEMO_VERSION, "posts": info},
                                               indent=1, sort_keys=True))
    log.info("%d pages rendered, %d reused", len(to_render), len(published) - len(to_render))
    return [(s.post, s.entry) for s in published if s.name in info]


def _previous_page(state: PostState, before: dict[str, Any] | None, config: SiteConfig,
                   options, staging: Path) -> dict[str, Any] | None:
    """The page a post keeps when today's cannot be rendered: the old site's page if it came
    from a run of the same kind (never a quick run's page in a real build), else the page of
    its run as it ran (that run's prose); None when neither can be had."""
    if (before and before.get("mode") == state.mode
            and _link_files(before["files"], options.site_dir, staging)):
        return {**before, "stamp": "previous page kept"}
    files = _render_one(state, config, staging, as_run=True)
    if isinstance(files, RenderError):
        return None
    return {"stamp": "previous run's page", "files": files, "mode": state.mode}


def _render_one(state, config: SiteConfig, staging: Path,
                as_run: bool = False) -> list[str] | RenderError:
    """Renders one post (or, `as_run`, its run with the prose it had then); the files
    written, relative to `staging`, or why it could not."""
    from sitegen import assembly, render

    env = render.make_environment(config.templates_dir)
    content = (assembly.as_run(state.entry) if as_run
               else assembly.assemble(state.post.notebook, state.entry, state.key))
    try:
        paths = render.render_post(state.post, content, config, env, staging)
    except RenderError as error:
        return error
    except Exception as error:  # a renderer bug in one post must not stop the whole build
        return RenderError(state.post.path, f"cannot render the page: "
                                            f"{type(error).__name__}: {error}")
    paths += assembly.copy_files(content, staging / state.post.asset_dir, paths,
                                 state.post.path)
    root = staging.resolve()
    return sorted({Path(p).resolve().relative_to(root).as_posix() for p in paths})


def _link_files(files: list[str], old_site: Path, staging: Path) -> bool:
    """Hard-links (or copies) a page's files from the old site; False if any is missing."""
    if not all((old_site / name).is_file() for name in files):
        return False
    for name in files:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old_site / name, target)
        except OSError:
            shutil.copy2(old_site / name, target)
    return True


def _page_stamp(state: PostState, common: str) -> str:
    """Everything one page is made from: a different stamp means render it again."""
    return hash_parts([common, str(state.post.path), json.dumps(state.key, sort_keys=True,
                                                                 default=str),
                        state.post.path.read_bytes(), *state.entry.stamp()])


def _render_context(config: SiteConfig) -> str:
    """What every page depends on: templates, settings, renderer source, library versions."""
    templates = sorted(p for p in Path(config.templates_dir).rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
    return hash_parts([str(MEMO_VERSION), repr(config), sys.version,
                        *versions(RENDER_LIBRARIES), *builder_sources(),
                        *(f"{p.relative_to(config.templates_dir)}" for p in templates),
                        *(p.read_bytes() for p in templates)])


def _load_buildinfo(site_dir: Path) -> dict[str, Any]:
    try:
        info = json.loads((site_dir / BUILDINFO).read_text())
        return info["posts"] if info.get("version") == MEMO_VERSION else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


