"""The pages made from all posts together: index, tag pages, Atom feed, sitemap, 404, the
stylesheet, the favicon and `_site/results.json`.

Each takes the complete list of `(post, executed)` pairs (`executed` None for a post that has
no run yet: it is left out, as it has no page), so it runs after every post was read and loaded. Output is
deterministic: posts newest first, ties by slug; dates come from the posts, and the only build
stamp (the feed's `<updated>`) is SOURCE_DATE_EPOCH when set, else the newest post's date.
"""

from __future__ import annotations

import datetime
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from catdog.results import from_notebook
from sitegen.files import naming
from sitegen.render import dump_json, is_quick, percent, post_record, write_file
from sitegen.urls import tag_path, url_path

log = logging.getLogger(__name__)

Pair = tuple[Any, Any]  # (Post, Executed | None)


def render_listings(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
                    out_dir: str | Path) -> list[Path]:
    """Everything but the post pages themselves, in one call."""
    for clash in tag_clashes(pairs):
        log.warning("%s", clash)
    if not site.url:
        log.warning("%s", NO_URL)
    sitemap = [render_sitemap(pairs, site, env, out_dir)] if site.url else []
    return [render_index(pairs, site, env, out_dir), *render_tags(pairs, site, env, out_dir),
            render_feed(pairs, site, env, out_dir), *sitemap,
            render_404(pairs, site, env, out_dir), write_all_results(pairs, site, env, out_dir),
            *copy_static(env, out_dir)]


NO_URL = ("_config.yml has no `url`: feed.xml links are relative to the feed, and sitemap.xml "
          "is not written (sitemaps need absolute URLs). Set `url: https://you.github.io` in "
          "_config.yml, or pass --url, to publish both")
STATIC_FILES = ("style.css", "favicon.svg")


def render_index(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
                 out_dir: str | Path) -> Path:
    """index.html: every post, newest first, with its final test score."""
    page = {"title": site.title, "root": "", "url": "/", "description": site.description}
    tags = [{"name": t, "url": url_path(tag_path(t))} for t in collect_tags(pairs)]
    html = env.get_template("index.html").render(site=site, page=page, tags=tags,
                                                 items=list_items(pairs, ""))
    return write_file(Path(out_dir), "index.html", html.encode("utf-8"))


def render_tags(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
                out_dir: str | Path) -> list[Path]:
    """tags/<tag>.html for every tag: the posts carrying it, newest first."""
    written = []
    for tag, tagged in sorted(collect_tags(pairs).items()):
        page = {"title": f"Posts tagged {tag}", "root": "../", "url": "/" + url_path(tag_path(tag)),
                "description": tag_description(tag, tagged, site)}
        html = env.get_template("tag.html").render(site=site, page=page, tag=tag,
                                                   items=list_items(tagged, "../"))
        written.append(write_file(Path(out_dir), tag_path(tag), html.encode("utf-8")))
    return written


def render_feed(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
                out_dir: str | Path, limit: int = 20) -> Path:
    """feed.xml (Atom): the newest `limit` posts, links absolute when `site.url` is set."""
    base = site.url + site.baseurl
    entries = [{"title": post.title, "link": base + url_path(post.url), "id": entry_id(post, site),
                "updated": rfc3339(post.date), "tags": post.tags,
                "summary": post.description or score_text(executed) or post.title}
               for post, executed in sort_pairs(pairs)[:limit]]
    xml = env.get_template("feed.xml").render(
        site=site, base=base, entries=entries, updated=build_stamp(pairs),
        feed_id=(base + "/") if site.url else "tag:catdog-blog,2024:" + (site.baseurl or "/"))
    return write_file(Path(out_dir), "feed.xml", xml.encode("utf-8"))


def render_sitemap(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
                   out_dir: str | Path) -> Path:
    """sitemap.xml: the index, every post and every tag page."""
    base = site.url + site.baseurl
    newest = max((post.date for post, _ in sort_pairs(pairs)), default=None)
    entries = [{"loc": base + "/", "lastmod": newest.isoformat() if newest else ""}]
    entries += [{"loc": base + url_path(post.url), "lastmod": post.date.isoformat()}
                for post, _ in sort_pairs(pairs)]
    entries += [{"loc": f"{base}/{url_path(tag_path(tag))}", "lastmod": ""}
                for tag in sorted(collect_tags(pairs))]
    xml = env.get_template("sitemap.xml").render(site=site, entries=entries)
    return write_file(Path(out_dir), "sitemap.xml", xml.encode("utf-8"))


def render_404(pairs: Sequence[Pair], site: Any, env: jinja2.Environment,
               out_dir: str | Path) -> Path:
    """404.html: served at any missing URL, so its links are absolute (with baseurl)."""
    page = {"title": "Page not found", "root": site.baseurl + "/", "url": "/404.html",
            "description": f"There is no page at this address on {site.title}; "
                           "its list of posts links every post."}
    html = env.get_template("404.html").render(site=site, page=page)
    return write_file(Path(out_dir), "404.html", html.encode("utf-8"))


def write_all_results(pairs: Sequence[Pair], site: Any, env: jinja2.Environment | None,
                      out_dir: str | Path) -> Path:
    """_site/results.json: post url -> its values, data, environment and run facts."""
    records = {post.url: post_record(post, results_of(executed), run_of(executed),
                                     getattr(executed, "reproduction", None))
               for post, executed in sort_pairs(pairs)}
    return write_file(Path(out_dir), "results.json", dump_json(records))


def copy_static(env: jinja2.Environment, out_dir: str | Path) -> list[Path]:
    """style.css and favicon.svg are copied as they are, not rendered: CSS braces are not
    Jinja. A templates folder without a favicon (an older site's) publishes none."""
    templates = Path(env.loader.searchpath[0])  # type: ignore[union-attr]
    copied = []
    for name in STATIC_FILES:
        if name == "style.css" or (templates / name).is_file():
            target = Path(out_dir) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with naming(target):
                shutil.copyfile(templates / name, target)
            copied.append(target)
    return copied


def tag_description(tag: str, tagged: Sequence[Pair], site: Any) -> str:
    """A tag page's meta description: how many posts, and their titles."""
    titles = "; ".join(post.title for post, _ in tagged)
    count = f"{len(tagged)} post{'s' if len(tagged) != 1 else ''}"
    return f"{count} on {site.title} tagged {tag}: {titles}."


# ---------------------------------------------------------------- helpers

def sort_pairs(pairs: Sequence[Pair]) -> list[Pair]:
    """Posts that have a page (a run), newest first, ties by slug: the same order every build.

    A post with no run yet (`executed` None) has no page, so no listing may link to it.
    """
    published = [pair for pair in pairs if pair[1] is not None]
    return sorted(published, key=lambda pair: (pair[0].date, pair[0].slug), reverse=True)


def collect_tags(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    """Tag -> its posts, newest first. Tags that make the same page (`Keras` in one post,
    `keras` in another) share it under the first spelling in sort order; `tag_clashes` says
    which posts to change."""
    pages: dict[str, dict[str, list[Pair]]] = {}  # tag page -> spelling -> posts
    for pair in sort_pairs(pairs):
        for tag in pair[0].tags:
            pages.setdefault(tag_path(tag), {}).setdefault(tag, []).append(pair)
    tags = {}
    for spellings in pages.values():
        tagged = [pair for posts in spellings.values() for pair in posts]
        tags[min(spellings)] = sorted(tagged, key=lambda p: (p[0].date, p[0].slug), reverse=True)
    return dict(sorted(tags.items()))


def tag_clashes(pairs: Sequence[Pair]) -> list[str]:
    """One message per tag page that two spellings of a tag share, naming the posts."""
    pages: dict[str, dict[str, list[str]]] = {}
    for post, _ in sort_pairs(pairs):
        for tag in post.tags:
            pages.setdefault(tag_path(tag), {}).setdefault(tag, []).append(post.path.name)
    return [f"tags {', '.join(repr(t) for t in sorted(spellings))} all make {page} (" +
            "; ".join(f"{t!r} in {', '.join(sorted(spellings[t]))}" for t in sorted(spellings))
            + f"): they share one page titled {min(spellings)!r}; spell them alike"
            for page, spellings in sorted(pages.items()) if len(spellings) > 1]


def list_items(pairs: Sequence[Pair], root: str) -> list[dict[str, Any]]:
    """What index and tag pages show of each post."""
    return [{"title": post.title, "href": root + url_path(post.output_path), "date": post.date,
             "description": post.description, "score": score_text(executed),
             "quick": executed is not None and is_quick(results_of(executed), run_of(executed))}
            for post, executed in sort_pairs(pairs)]


def results_of(executed: Any) -> dict[str, Any]:
    if executed is None:
        return {"values": {}, "data": [], "environment": {}}
    return executed.results or from_notebook(executed.notebook)


def run_of(executed: Any) -> dict[str, Any]:
    return dict(getattr(executed, "run", None) or {})


def score_text(executed: Any) -> str:
    """"test accuracy 97.1%" or "" when the run recorded none."""
    accuracy = results_of(executed)["values"].get("test_accuracy")
    if isinstance(accuracy, (int, float)) and not isinstance(accuracy, bool):
        return f"test accuracy {percent(accuracy)}"
    return ""


def entry_id(post: Any, site: Any) -> str:
    """A stable Atom id: the post's absolute URL, or a tag: URI when the site has no url."""
    if site.url:
        return site.url + site.baseurl + url_path(post.url)
    return f"tag:catdog-blog,{post.date.isoformat()}:{site.baseurl}{url_path(post.url)}"


def rfc3339(date: datetime.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def build_stamp(pairs: Sequence[Pair]) -> str:
    """SOURCE_DATE_EPOCH (reproducible builds) if set, else the newest post's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = max((post.date for post, _ in sort_pairs(pairs)), default=datetime.date(1970, 1, 1))
    return rfc3339(newest)
