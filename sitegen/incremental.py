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
import sys
from pathlib import Path
from typing import Any

from sitegen import cache
from sitegen.cache import Page
from sitegen.config import SiteConfig
from sitegen.exceptions import RenderError
from sitegen.freshness import PostState
from sitegen.memo import Memo
from sitegen.sitewriter import SiteWriter
from sitegen.stamps import MEMO_VERSION, builder_sources, hash_parts, versions
from sitegen.parallel import parallel_map

log = logging.getLogger(__name__)

BUILDINFO = ".buildinfo.json"
RENDER_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "mdit-py-plugins", "pygments",
                    "nbformat", "latex2mathml", "pillow")


def render_posts(published: list[PostState], config: SiteConfig, writer: SiteWriter,
                 errors: list[RenderError]) -> list[Page]:
    """Renders (or reuses) every published post's page through `writer`; the pages for the
    listings, which read only each run's record and facts."""
    common = _render_context(config)
    memo = Memo(writer.site_dir / BUILDINFO, context=str(MEMO_VERSION))
    old, info = memo.data, {}
    pages = {state.name: cache.page(state) for state in published}
    stamps = {s.name: _page_stamp(s, common) for s in published}
    to_render = []
    for state in published:
        before = old.get(state.name)
        if (before and before["stamp"] == stamps[state.name]
                and writer.link_unchanged(before["files"])):
            info[state.name] = before
        else:
            to_render.append(state)
    written = parallel_map(_render_one, [(state, pages[state.name], config, writer)
                                         for state in to_render])
    for state, files in zip(to_render, written):
        if isinstance(files, RenderError):  # the report shows it, once
            errors.append(files)
            previous = _previous_page(state, old.get(state.name), config, writer)
            if previous is not None:  # stamped so that it renders again next time
                info[state.name] = previous
            continue
        info[state.name] = {"stamp": stamps[state.name], "files": files, "mode": state.mode}
    memo.data = info
    writer.write(BUILDINFO, memo.dumps())
    log.info("%d pages rendered, %d reused", len(to_render), len(published) - len(to_render))
    return [pages[s.name] for s in published if s.name in info]


def _previous_page(state: PostState, before: dict[str, Any] | None, config: SiteConfig,
                   writer: SiteWriter) -> dict[str, Any] | None:
    """The page a post keeps when today's cannot be rendered: the old site's page if it came
    from a run of the same kind (never a quick run's page in a real build), else the page of
    its run as it ran (that run's prose); None when neither can be had."""
    if (before and before.get("mode") == state.mode
            and writer.link_unchanged(before["files"])):
        return {**before, "stamp": "previous page kept"}
    files = _render_one(state, cache.page(state, as_run=True), config, writer)
    if isinstance(files, RenderError):
        return None
    return {"stamp": "previous run's page", "files": files, "mode": state.mode}


def _render_one(state: PostState, page: Page, config: SiteConfig,
                writer: SiteWriter) -> list[str] | RenderError:
    """Renders one post's page; the files written, relative to the site, or why it could not."""
    from sitegen import render

    env = render.make_environment(config.templates_dir)
    try:
        files = render.with_run_files(page, render.render_post(page, config, env))
    except RenderError as error:
        return error
    except Exception as error:  # a renderer bug in one post must not stop the whole build
        return RenderError(state.post.path, f"cannot render the page: "
                                            f"{type(error).__name__}: {error}")
    return sorted(writer.write_all(files))


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
