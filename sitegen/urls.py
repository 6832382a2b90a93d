"""Where a post lives: its slug, its URL, the file it is written to, and how links spell them.

One module for every name a page is found by, so the reader (posts), the renderer, the
listings and the checks agree on them.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import unicodedata
from urllib.parse import quote

from sitegen.config import permalink_values


def slugify(text: str, keep_case: bool = False) -> str:
    """Jekyll's default slugify: every run of characters that are not letters, marks or
    decimal digits (in any script) becomes one dash; `Chats & été` -> `chats-été`, `猫` -> `猫`.

    Jekyll's `:title` keeps the file name's case, so post slugs do; tag slugs are lower-case.
    Text is NFC-normalised first: macOS writes file names decomposed (`e` + accent), and the
    same slug must come out of either spelling. Links to these names are percent-encoded
    where they are written (`url_path`).
    https://github.com/jekyll/jekyll/blob/master/lib/jekyll/utils.rb (`slugify`, mode "default")
    """
    text = unicodedata.normalize("NFC", text)
    text = text if keep_case else text.lower()
    dashed = "".join(char if is_slug_char(char) else "-" for char in text)
    return re.sub(r"-{2,}", "-", dashed).strip("-")


def is_slug_char(char: str) -> bool:
    """A letter, mark or decimal digit (Unicode categories L*, M*, Nd), as Jekyll keeps."""
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def is_safe_path(text: str, punctuation: str) -> bool:
    """Only slug characters and the given punctuation: nothing a URL or file system treats
    specially (no spaces, `%`, `?`, `#`, backslashes)."""
    return bool(text) and all(is_slug_char(c) or c in punctuation for c in text)


def fill_permalink(pattern: str, date: datetime.date, slug: str) -> str:
    """The site's (checked) permalink pattern with this post's date and slug filled in."""
    values = permalink_values(date, slug)
    names = sorted(values, key=len, reverse=True)  # `:i_month` before `:month`
    return re.sub("|".join(map(re.escape, names)), lambda m: values[m.group(0)], pattern)


def output_path_for(url: str) -> str:
    """Where the page is written under _site: `/a/b.html` -> `a/b.html`, `/a/b/` -> `a/b/index.html`."""
    relative = url.lstrip("/")
    if not relative or relative.endswith("/"):
        return relative + "index.html"
    if not posixpath.splitext(relative)[1]:
        return relative + ".html"
    return relative


def tag_path(tag: str) -> str:
    """`Keras CNN` -> `tags/keras-cnn.html`, `Été` -> `tags/été.html` (a file name: link to it
    with `url_path`)."""
    return f"tags/{slugify(tag)}.html"


def url_path(path: str) -> str:
    """A file's path as it goes in a link: `2024/été.html` -> `2024/%C3%A9t%C3%A9.html`.

    Slugs keep non-ASCII letters; browsers would accept them raw, but the sitemap protocol
    and many feed readers want RFC 3986 URLs, so every link is encoded the same way.
    """
    return quote(path, safe="/~")
