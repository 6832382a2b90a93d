"""The pages made from all posts together: index, tag pages, Atom feed, sitemap, 404, the
stylesheet, the favicon and `_site/results.json`.

Each takes the complete list of pages (sitegen.cache.Page: a post with no run yet has none, so
no listing links to it), so it runs after every post was read and loaded, and returns the files
it makes by name, for the site's one writer (sitegen.sitewriter). Output is deterministic: posts newest first, ties by slug; dates come from the posts, and the only build
stamp (the feed's `<updated>`) is SOURCE_DATE_EPOCH when set, else the newest post's date.
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from sitegen.cache import Page
from sitegen.render import dump_json, is_number, is_quick, percent, post_record
from sitegen.urls import tag_path, url_path

log = logging.getLogger(__name__)

Files = dict[str, bytes]  # what a listing publishes, by name


def render_listings(pages: Sequence[Page], site: Any, env: jinja2.Environment) -> Files:
    """Everything but the post pages themselves, in one call."""
    for clash in tag_clashes(pages):
        log.warning("%s", clash)
    if not site.url:
        log.warning("%s", NO_URL)
    sitemap = render_sitemap(pages, site, env) if site.url else {}
    return {**render_index(pages, site, env), **render_tags(pages, site, env),
            **render_feed(pages, site, env), **sitemap, **render_404(site, env),
            **all_results(pages), **static_files(env)}


NO_URL = ("_config.yml has no `url`: feed.xml links are relative to the feed, and sitemap.xml "
          "is not written (sitemaps need absolute URLs). Set `url: https://you.github.io` in "
          "_config.yml, or pass --url, to publish both")
STATIC_FILES = ("style.css", "favicon.svg")


def render_index(pages: Sequence[Page], site: Any, env: jinja2.Environment) -> Files:
    """index.html: every post, newest first, with its final test score."""
    page = {"title": site.title, "root": "", "url": "/", "description": site.description}
    tags = [{"name": t, "url": url_path(tag_path(t))} for t in collect_tags(pages)]
    html = env.get_template("index.html").render(site=site, page=page, tags=tags,
                                                 items=list_items(pages, ""))
    return {"index.html": html.encode("utf-8")}


def render_tags(pages: Sequence[Page], site: Any, env: jinja2.Environment) -> Files:
    """tags/<tag>.html for every tag: the posts carrying it, newest first."""
    written = {}
    for tag, tagged in sorted(collect_tags(pages).items()):
        page = {"title": f"Posts tagged {tag}", "root": "../", "url": "/" + url_path(tag_path(tag)),
                "description": tag_description(tag, tagged, site)}
        html = env.get_template("tag.html").render(site=site, page=page, tag=tag,
                                                   items=list_items(tagged, "../"))
        written[tag_path(tag)] = html.encode("utf-8")
    return written


def render_feed(pages: Sequence[Page], site: Any, env: jinja2.Environment,
                limit: int = 20) -> Files:
    """feed.xml (Atom): the newest `limit` posts, links absolute when `site.url` is set."""
    base = site.url + site.baseurl
    entries = [{"title": post.title, "link": base + url_path(post.url), "id": entry_id(post, site),
                "updated": rfc3339(post.date), "tags": post.tags,
                "summary": post.description or score_text(page) or post.title}
               for page in sort_pages(pages)[:limit] for post in [page.post]]
    xml = env.get_template("feed.xml").render(
        site=site, base=base, entries=entries, updated=build_stamp(pages),
        feed_id=(base + "/") if site.url else "tag:catdog-blog,2024:" + (site.baseurl or "/"))
    return {"feed.xml": xml.encode("utf-8")}


def render_sitemap(pages: Sequence[Page], site: Any, env: jinja2.Environment) -> Files:
    """sitemap.xml: the index, every post and every tag page."""
    base = site.url + site.baseurl
    newest = max((post.date for post in posts_of(pages)), default=None)
    entries = [{"loc": base + "/", "lastmod": newest.isoformat() if newest else ""}]
    entries += [{"loc": base + url_path(post.url), "lastmod": post.date.isoformat()}
                for post in posts_of(pages)]
    entries += [{"loc": f"{base}/{url_path(tag_path(tag))}", "lastmod": ""}
                for tag in sorted(collect_tags(pages))]
    xml = env.get_template("sitemap.xml").render(site=site, entries=entries)
    return {"sitemap.xml": xml.encode("utf-8")}


def render_404(site: Any, env: jinja2.Environment) -> Files:
    """404.html: served at any missing URL, so its links are absolute (with baseurl)."""
    page = {"title": "Page not found", "root": site.baseurl + "/", "url": "/404.html",
            "description": f"There is no page at this address on {site.title}; "
                           "its list of posts links every post."}
    html = env.get_template("404.html").render(site=site, page=page)
    return {"404.html": html.encode("utf-8")}


def all_results(pages: Sequence[Page]) -> Files:
    """_site/results.json: post url -> its values, data, environment and run facts."""
    return {"results.json": dump_json({page.post.url: post_record(page)
                                       for page in sort_pages(pages)})}


def static_files(env: jinja2.Environment) -> Files:
    """style.css and favicon.svg as they are, not rendered: CSS braces are not Jinja. A
    templates folder without a favicon (an older site's) publishes none."""
    templates = Path(env.loader.searchpath[0])  # type: ignore[union-attr]
    return {name: (templates / name).read_bytes() for name in STATIC_FILES
            if name == "style.css" or (templates / name).is_file()}


def tag_description(tag: str, tagged: Sequence[Page], site: Any) -> str:
    """A tag page's meta description: how many posts, and their titles."""
    titles = "; ".join(page.post.title for page in tagged)
    count = f"{len(tagged)} post{'s' if len(tagged) != 1 else ''}"
    return f"{count} on {site.title} tagged {tag}: {titles}."


# ---------------------------------------------------------------- helpers

def sort_pages(pages: Sequence[Page]) -> list[Page]:
    """Newest first, ties by slug: the same order every build."""
    return sorted(pages, key=lambda page: (page.post.date, page.post.slug), reverse=True)


def posts_of(pages: Sequence[Page]) -> list[Any]:
    return [page.post for page in sort_pages(pages)]


def collect_tags(pages: Sequence[Page]) -> dict[str, list[Page]]:
    """Tag -> its pages, newest first. Tags that make the same page (`Keras` in one post,
    `keras` in another) share it under the first spelling in sort order; `tag_clashes` says
    which posts to change."""
    found: dict[str, dict[str, list[Page]]] = {}  # tag page -> spelling -> pages
    for page in sort_pages(pages):
        for tag in page.post.tags:
            found.setdefault(tag_path(tag), {}).setdefault(tag, []).append(page)
    tags = {}
    for spellings in found.values():
        tags[min(spellings)] = sort_pages([page for tagged in spellings.values()
                                           for page in tagged])
    return dict(sorted(tags.items()))


def tag_clashes(pages: Sequence[Page]) -> list[str]:
    """One message per tag page that two spellings of a tag share, naming the posts."""
    found: dict[str, dict[str, list[str]]] = {}
    for post in posts_of(pages):
        for tag in post.tags:
            found.setdefault(tag_path(tag), {}).setdefault(tag, []).append(post.path.name)
    return [f"tags {', '.join(repr(t) for t in sorted(spellings))} all make {page} (" +
            "; ".join(f"{t!r} in {', '.join(sorted(spellings[t]))}" for t in sorted(spellings))
            + f"): they share one page titled {min(spellings)!r}; spell them alike"
            for page, spellings in sorted(found.items()) if len(spellings) > 1]


def list_items(pages: Sequence[Page], root: str) -> list[dict[str, Any]]:
    """What index and tag pages show of each post."""
    return [{"title": page.post.title, "href": root + url_path(page.post.output_path),
             "date": page.post.date, "description": page.post.description,
             "score": score_text(page), "quick": is_quick(page.results, page.run)}
            for page in sort_pages(pages)]


def score_text(page: Page) -> str:
    """"test accuracy 97.1%" or "" when the run recorded none."""
    accuracy = page.results.get("values", {}).get("test_accuracy")
    return f"test accuracy {percent(accuracy)}" if is_number(accuracy) else ""


def entry_id(post: Any, site: Any) -> str:
    """A stable Atom id: the post's absolute URL, or a tag: URI when the site has no url."""
    if site.url:
        return site.url + site.baseurl + url_path(post.url)
    return f"tag:catdog-blog,{post.date.isoformat()}:{site.baseurl}{url_path(post.url)}"


def rfc3339(date: datetime.date) -> str:
    return f"{date.isoformat()}T00:00:00Z"


def build_stamp(pages: Sequence[Page]) -> str:
    """SOURCE_DATE_EPOCH (reproducible builds) if set, else the newest post's date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        moment = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    newest = max((post.date for post in posts_of(pages)), default=datetime.date(1970, 1, 1))
    return rfc3339(newest)
