"""The pages made from all posts: index, tags, Atom feed, sitemap, 404, results.json; a whole
small site built from in-memory runs passes check_site. (That a build publishes the same bytes
twice is the golden-site test's, through the real build path.)"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from sitegen.checks import check_site
from sitegen.config import make_config
from sitegen.posts import read_post
from sitegen.render import make_environment
from test_render import (VALUES, assert_well_formed, make_executed, publish, publish_listings,
                         write_post)

ROOT = Path(__file__).resolve().parents[1]
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def read_all(posts_dir: Path, site) -> list:
    """The posts, newest first, as the build lists them."""
    posts = [read_post(path, site) for path in sorted(posts_dir.glob("*.md"))]
    return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)


def build_site(tmp_path: Path, site, out: Path) -> list:
    """Four posts: a real run, a quick run, one that recorded no score, one with no run yet."""
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir(exist_ok=True)
    write_post(posts_dir, "2024-01-05-cat-or-dog.md", title="Cat & <dog>")
    write_post(posts_dir, "2024-02-01-quick.md", title="Quick one")
    write_post(posts_dir, "2023-12-01-pending.md", title="Pending",
               front="---\ntitle: Pending\ntags: [Keras CNN]\n---\n\n", body="No score.\n")
    write_post(posts_dir, "2023-11-01-never-ran.md", title="Never ran")
    env = make_environment(ROOT / "templates")
    pages = []
    for post in read_all(posts_dir, site):
        if post.slug == "never-ran":  # no run, no page
            continue
        quick = post.slug == "quick"
        values = {**VALUES, "test_accuracy": 0.5 if quick else 0.9713}
        if post.slug == "pending":
            values = {"epochs": 1}
        executed = make_executed(post, values, mode="smoke" if quick else "real")
        publish(executed, site, env, out)
        pages.append(executed)
    publish_listings(pages, site, env, out)
    return pages


@pytest.fixture
def built(tmp_path):
    site = make_config({"url": "https://example.org", "baseurl": "/blog"}, ROOT)
    out = tmp_path / "_site"
    build_site(tmp_path, site, out)
    return site, out


def test_index_lists_posts_newest_first_with_scores(built):
    _, out = built
    html = (out / "index.html").read_text()
    assert_well_formed(html)
    assert html.index("Quick one") < html.index("Cat &amp; &lt;dog&gt;") < html.index("Pending")
    assert "test accuracy 97.1 %" in html and "test accuracy 50.0 % (quick run)" in html
    assert "Never ran" not in html


def test_a_page_per_tag(built):
    _, out = built
    assert sorted(p.name for p in (out / "tags").iterdir()) == ["cnn.html", "keras-cnn.html",
                                                                 "keras.html"]
    html = (out / "tags/keras-cnn.html").read_text()
    assert_well_formed(html)
    assert "Pending" in html and "Quick one" not in html


def test_feed_is_valid_atom_with_absolute_links(built):
    _, out = built
    feed = ET.parse(out / "feed.xml").getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Quick one", "Cat & <dog>", "Pending"]
    assert entries[1].find(f"{ATOM}link").get("href") == \
        "https://example.org/blog/2024/01/05/cat-or-dog.html"
    assert feed.findtext(f"{ATOM}updated") == "2024-02-01T00:00:00Z"


def test_feed_updated_honours_source_date_epoch(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    build_site(tmp_path, make_config({}, ROOT), tmp_path / "out")
    feed = ET.parse(tmp_path / "out/feed.xml").getroot()
    assert feed.findtext(f"{ATOM}updated") == "2023-11-14T22:13:20Z"


def test_sitemap_lists_index_posts_and_tags(built):
    _, out = built
    locs = [u.findtext(f"{SITEMAP}loc") for u in ET.parse(out / "sitemap.xml").getroot()]
    assert locs[0] == "https://example.org/blog/"
    assert "https://example.org/blog/2024/01/05/cat-or-dog.html" in locs
    assert "https://example.org/blog/tags/keras-cnn.html" in locs and len(locs) == 7


def test_without_a_url_the_feed_is_relative_and_no_sitemap_is_written(tmp_path, caplog):
    out = tmp_path / "_site"
    build_site(tmp_path, make_config({"url": ""}, ROOT), out)
    assert not (out / "sitemap.xml").exists()  # sitemaps.org: <loc> must be absolute
    links = [l.get("href") for l in ET.parse(out / "feed.xml").getroot().iter(f"{ATOM}link")]
    assert "/2024/01/05/cat-or-dog.html" in links  # Atom allows a reference relative to the feed
    assert "has no `url`" in caplog.text and "--url" in caplog.text


def test_every_page_has_a_description_and_a_favicon(built):
    site, out = built
    for page in sorted(out.rglob("*.html")):
        html = page.read_text()
        assert re.search(r'<meta name="description" content="[^"]+">', html), page
        assert '<link rel="icon" href="' in html and 'favicon.svg" type="image/svg+xml">' in html
    assert (out / "favicon.svg").is_file()
    assert ('content="1 post on catdog blog tagged Keras CNN: Pending."'
            in (out / "tags/keras-cnn.html").read_text())


def test_404_links_are_absolute_with_baseurl(built):
    html = (built[1] / "404.html").read_text()
    assert_well_formed(html)
    assert 'href="/blog/style.css"' in html


def test_all_results_gathered(built):
    records = json.loads((built[1] / "results.json").read_text())
    assert list(records) == ["/2023/12/01/pending.html", "/2024/01/05/cat-or-dog.html",
                             "/2024/02/01/quick.html"]
    assert records["/2024/01/05/cat-or-dog.html"]["values"]["test_accuracy"] == 0.9713
    assert records["/2024/02/01/quick.html"]["run"]["mode"] == "smoke"
    assert records["/2023/12/01/pending.html"]["values"] == {"epochs": 1}


def test_built_site_has_no_broken_links_or_missing_images(built):
    site, out = built
    assert (out / "style.css").exists()
    assert check_site(out, site.baseurl) == []


@pytest.fixture
def unicode_site(tmp_path):
    """Accented and CJK names everywhere: a post file, its tags, and a tag two posts spell
    differently (`Keras` and `keras`: one page)."""
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    write_post(posts_dir, "2024-08-04-chats-été.md", title="Chats 🐱 et été",
               front="---\ntitle: Chats 🐱 et été\ntags: [été, 猫, Keras]\n---\n\n")
    write_post(posts_dir, "2024-08-05-dogs.md", title="Dogs",
               front="---\ntitle: Dogs\ntags: [keras]\n---\n\n")
    site = make_config({"url": "https://example.org", "baseurl": "/blog"}, ROOT)
    env = make_environment(ROOT / "templates")
    out = tmp_path / "_site"
    pages = [make_executed(post) for post in read_all(posts_dir, site)]
    for page in pages:
        publish(page, site, env, out)
    publish_listings(pages, site, env, out)
    return site, out, pages


def test_unicode_names_give_files_and_percent_encoded_links(unicode_site):
    site, out, _ = unicode_site
    assert (out / "2024/08/04/chats-été.html").is_file()
    assert (out / "tags/été.html").is_file() and (out / "tags/猫.html").is_file()
    index = (out / "index.html").read_text()
    assert 'href="2024/08/04/chats-%C3%A9t%C3%A9.html"' in index
    assert 'href="tags/%E7%8C%AB.html"' in index and ">猫</a>" in index
    page = (out / "2024/08/04/chats-été.html").read_text()
    assert 'src="chats-%C3%A9t%C3%A9/fig-2-2.png"' in page
    assert 'href="../../../tags/%C3%A9t%C3%A9.html"' in page
    assert check_site(out, site.baseurl) == []


def test_unicode_links_in_feed_and_sitemap_are_valid_urls(unicode_site):
    _, out, _ = unicode_site
    feed = ET.parse(out / "feed.xml").getroot()
    links = [e.find(f"{ATOM}link").get("href") for e in feed.findall(f"{ATOM}entry")]
    assert "https://example.org/blog/2024/08/04/chats-%C3%A9t%C3%A9.html" in links
    assert "Chats 🐱 et été" in [e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")]
    assert {c.get("term") for c in feed.iter(f"{ATOM}category")} >= {"été", "猫"}
    locs = [u.findtext(f"{SITEMAP}loc") for u in ET.parse(out / "sitemap.xml").getroot()]
    assert "https://example.org/blog/tags/%C3%A9t%C3%A9.html" in locs
    assert all(loc.isascii() for loc in locs)


def test_tags_that_slugify_alike_share_a_page_and_are_reported(unicode_site, caplog):
    from sitegen.feeds import tag_clashes

    site, out, pages = unicode_site
    assert sorted(p.name for p in (out / "tags").iterdir()) == ["keras.html", "été.html",
                                                                 "猫.html"]
    html = (out / "tags/keras.html").read_text()
    assert "Dogs" in html and "Chats" in html and "Posts tagged “Keras”" in html
    assert tag_clashes(pages) == [
        "tags 'Keras', 'keras' all make tags/keras.html ('Keras' in 2024-08-04-chats-été.md; "
        "'keras' in 2024-08-05-dogs.md): they share one page titled 'Keras'; spell them alike"]
    with caplog.at_level("WARNING", logger="sitegen.feeds"):
        publish_listings(pages, site, make_environment(ROOT / "templates"), out)
    assert "tags/keras.html" in caplog.text
