"""Checks for CI (`build.py --check`): a post's declared expectations against its recorded
results, and every internal link, `#anchor` and image of the built site.

Each check returns a list of messages, empty when all is well, so the command line can list
every problem at once rather than stop at the first.
"""

from __future__ import annotations

import logging
import operator
import posixpath
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

OPERATORS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
             ">": operator.gt, "<": operator.lt}
CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<)?\s*([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$")
LINK_ATTRIBUTES = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
                   ("source", "src"), ("iframe", "src")}


def parse_expectation(condition: Any) -> tuple[str, float]:
    """">= 0.90" -> (">=", 0.9); a bare number means "==". Raises ValueError if unreadable."""
    if isinstance(condition, bool) or not isinstance(condition, (str, int, float)):
        raise ValueError(f"a condition is a number or a string like \">= 0.90\". "
                         f"Received: {condition!r}")
    match = CONDITION.match(str(condition))
    if not match:
        raise ValueError(f"a condition is an operator ({', '.join(OPERATORS)}) and a number, "
                         f"like \">= 0.90\". Received: {condition!r}")
    return match.group(1) or "==", float(match.group(2))


def check_expectations(expect: Mapping[str, Any], values: dict[str, Any]) -> list[str]:
    """One message per unmet entry of a post's `expect:`; a value never recorded is unmet.

    Messages do not repeat the post's path: the caller prefixes it (see sitegen.build.check).
    Taking the mapping, not the Post, keeps this module below sitegen.posts, which uses
    `parse_expectation` to check `expect:` as it reads a post.
    """
    problems = []
    for name, condition in sorted(expect.items()):
        op, target = parse_expectation(condition)
        value = values.get(name)
        if not is_number(value):
            problems.append(f"expected {name} {op} {target:g}, but the run "
                            f"recorded {'no ' + name if value is None else repr(value)}")
        elif not OPERATORS[op](value, target):
            problems.append(f"expected {name} {op} {target:g}, got {value:g}")
    return problems


# The verdicts catdog.stats gives (paired, pooled, timing, reference, early stopping).
VERDICTS = frozenset({"better", "worse", "no_difference", "too_few", "faster", "slower",
                      "above", "below", "inside", "fired", "not_fired"})


def check_claims(claims: Mapping[str, tuple[str, ...]], values: dict[str, Any]) -> list[str]:
    """One message per claim of a post's front matter that its recorded findings do not support.

    A claim names a finding (`catdog.results.finding(name, ...)`) and the verdicts the author
    asserts; the message names the claim, the verdict the run recorded and its sentence.
    """
    findings = {f["name"]: f for f in values.get("findings", []) if isinstance(f, Mapping)}
    problems = []
    for name, wanted in sorted(claims.items()):
        finding = findings.get(name)
        if finding is None:
            problems.append(f"claim {name!r}: the run recorded no finding of that name "
                            f"(recorded: {', '.join(sorted(findings)) or 'none'})")
        elif finding.get("verdict") not in wanted:
            problems.append(f"claim {name}: {' or '.join(wanted)} is not what the run shows; its "
                            f"verdict is {finding.get('verdict')}: {finding.get('answer', '')}")
    return problems


def is_number(value: Any) -> bool:
    """An int or a float, never a bool (True is an int to Python, not a score)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class LinkCollector(HTMLParser):
    """Collects (tag, url) of every link-like attribute in one HTML page, and its ids (what a
    `#fragment` can point at: any element's id, an <a name>)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (tag, name) in LINK_ATTRIBUTES and value is not None:
                self.links.append((tag, value))
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


def collect(page: Path) -> LinkCollector:
    collector = LinkCollector()
    collector.feed(page.read_text(encoding="utf-8"))
    return collector


def check_site(site_dir: str | Path, baseurl: str = "",
               sources: Mapping[str, str] | None = None) -> list[str]:
    """Every internal href/src in every page must name a file under `site_dir`, and its
    `#fragment`, if any, an id on the page it names (the same page for `#x`).

    Absolute links must start with `baseurl` (as `{{ site.baseurl }}/x` makes them); a missing
    <img> is reported as a missing image, a missing id as a missing anchor, anything else as
    a broken link. `sources` names what a page is made from (its post), so the author knows
    which file to fix.
    """
    site_dir = Path(site_dir).resolve()
    pages = {page.relative_to(site_dir).as_posix(): collect(page)
             for page in sorted(site_dir.rglob("*.html"))}
    problems = []
    for page_path, collector in pages.items():
        for tag, url in collector.links:
            if not is_internal(url):
                continue
            target = page_path if url.startswith("#") else resolve_link(url, page_path, baseurl)
            if target is None or not has_file(site_dir, target):
                kind = "missing image" if tag == "img" else "broken link"
                problems.append(f"{(sources or {}).get(page_path, page_path)}: {kind} {url}")
            elif not has_anchor(pages, site_dir, target, urlsplit(url).fragment):
                problems.append(f"{(sources or {}).get(page_path, page_path)}: missing anchor "
                                f"{url} (no id \"{unquote(urlsplit(url).fragment)}\" on {target})")
    return problems


def has_anchor(pages: Mapping[str, LinkCollector], site_dir: Path, target: str,
               fragment: str) -> bool:
    """No fragment, `#top` (HTML's name for the page's start), a text fragment (`#:~:text=`)
    or a file that is not a page: nothing to check. Else the page must have that id."""
    if not fragment or fragment.lower() == "top" or fragment.startswith(":~:"):
        return True
    if (site_dir / target).is_dir():
        target = posixpath.join(target, "index.html")
    elif target not in pages and (site_dir / (target + ".html")).is_file():
        target += ".html"
    collector = pages.get(target)
    return collector is None or unquote(fragment) in collector.ids


def is_internal(url: str) -> bool:
    """Links to other sites, mail and data: URIs are not checked; `#x` and `page.html#x` are."""
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or not (parts.path or parts.fragment))


def resolve_link(url: str, page_path: str, baseurl: str) -> str | None:
    """The site-relative file path a link points to, or None if it leaves the site."""
    path = unquote(urlsplit(url).path)
    if path.startswith("/"):
        if baseurl and not (path == baseurl or path.startswith(baseurl + "/")):
            return None
        path = path[len(baseurl):]
    else:
        path = posixpath.join(posixpath.dirname(page_path), path)
    trailing = path.endswith("/")
    path = posixpath.normpath("/" + path).lstrip("/")
    if path.startswith(".."):
        return None
    return posixpath.join(path, "index.html") if trailing else path


def has_file(site_dir: Path, target: str) -> bool:
    """A file, a folder with index.html, or `x` served as `x.html` (as GitHub Pages does)."""
    path = site_dir / target
    if path.is_dir():
        path = path / "index.html"
    return path.is_file() or (not path.suffix and path.with_suffix(".html").is_file())
