"""Issue 21: how heavy, how accessible and how well-scored every page of a built site is.

    python build.py && python bench/audit.py --label after [--site _site] [--no-lighthouse]

For every HTML page of the site, served on 127.0.0.1 as a real host would serve it:

- weight: the page and every file it loads (style, favicon, images), in bytes;
- axe-core (bench/node_modules/axe-core, the version Lighthouse 12.2.3 bundles; else the one
  axe-selenium-python bundles) in headless Chromium at 375 and 1200 px, light and dark:
  violations by rule, with the number of nodes;
- Lighthouse 12.2.3 (`npm ci --prefix bench`), mobile and desktop: the four category scores and
  the largest contentful paint.

Writes `bench/results/audit-<label>.json` (everything) and `audit-<label>.md` (a table).
Needs Debian's `chromium` and `chromedriver`, `pip install selenium axe-selenium-python`.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from axe_check import axe_script, run_axe, start_chromium, open_page  # noqa: E402

LIGHTHOUSE = ROOT / "bench" / "node_modules" / ".bin" / "lighthouse"
WIDTHS = (375, 1200)
SCHEMES = ("light", "dark")


class Loads(HTMLParser):
    """The files a page loads by itself: stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") in ("stylesheet", "icon"):
            self.urls.append(attributes["href"] or "")
        elif tag == "img":
            self.urls.append(attributes.get("src") or "")


def page_weight(site: Path, page: Path) -> int:
    """Bytes of the page and everything it loads (each file once)."""
    parser = Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    files = {page}
    for url in parser.urls:
        path = unquote(urlsplit(urljoin(page.relative_to(site).as_posix(), url)).path)
        files.add(site / path.lstrip("/"))
    return sum(f.stat().st_size for f in files if f.is_file())


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102: one line per request is noise here
        pass


def axe_violations(driver, url: str) -> dict[str, dict[str, int]]:
    """`width-scheme` -> {rule id: nodes} for one page."""
    found = {}
    for width in WIDTHS:
        for scheme in SCHEMES:
            open_page(driver, url, width, scheme)
            found[f"{width}-{scheme}"] = {v["id"]: len(v["nodes"]) for v in run_axe(driver)}
    return found


def lighthouse(url: str, preset: str, out: Path) -> dict[str, float]:
    """Lighthouse's four scores (0-100) and LCP (s) for `url`, `preset` mobile or desktop."""
    command = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    if preset == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": "/usr/bin/chromium"}
    subprocess.run(command, check=True, env=env, capture_output=True, timeout=300)
    report = json.loads(out.read_text())
    scores = {name: round(100 * (category["score"] or 0))
              for name, category in report["categories"].items()}
    scores["lcp_s"] = round(report["audits"]["largest-contentful-paint"]["numericValue"] / 1000, 2)
    scores["failed"] = sorted(name for name, audit in report["audits"].items()
                              if audit.get("score") is not None and audit["score"] < 0.9
                              and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings"))
    return scores


def audit(site: Path, use_lighthouse: bool, scratch: Path) -> dict:
    pages = sorted(p for p in site.rglob("*.html"))
    server, base = serve(site)
    driver = start_chromium(scratch / "profile")
    results = {"site_bytes": sum(f.stat().st_size for f in site.rglob("*") if f.is_file()),
               "axe_core": axe_script().parent.parent.name + " " + axe_version(driver, base),
               "pages": {}}
    try:
        for page in pages:
            name = page.relative_to(site).as_posix()
            url = base + name
            entry = {"bytes": page_weight(site, page), "axe": axe_violations(driver, url)}
            if use_lighthouse:
                entry["lighthouse"] = {preset: lighthouse(url, preset, scratch / "lh.json")
                                       for preset in ("mobile", "desktop")}
            results["pages"][name] = entry
            print(name, json.dumps(entry), flush=True)
    finally:
        driver.quit()
        server.shutdown()
    return results


def axe_version(driver, base: str) -> str:
    open_page(driver, base + "index.html", 1200)
    run_axe(driver)
    return driver.execute_script("return axe.version")


def table(results: dict) -> str:
    """One markdown row per page: weight, axe violations (nodes), Lighthouse scores."""
    lines = [f"site: {results['site_bytes']:,} bytes; {results['axe_core']}", "",
             "| page | bytes | axe nodes (375/1200 × light/dark) | Lighthouse mobile P/A/BP/SEO, LCP | desktop |",
             "| --- | ---: | --- | --- | --- |"]
    for name, entry in results["pages"].items():
        axe = " / ".join(str(sum(rules.values())) for rules in entry["axe"].values())
        rules = sorted({rule for rules in entry["axe"].values() for rule in rules})
        scores = []
        for preset in ("mobile", "desktop"):
            s = entry.get("lighthouse", {}).get(preset)
            scores.append(f"{s['performance']}/{s['accessibility']}/{s['best-practices']}/"
                          f"{s['seo']}, {s['lcp_s']} s" if s else "")
        lines.append(f"| {name} | {entry['bytes']:,} | {axe} {' '.join(rules)} | {scores[0]} | {scores[1]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_site")
    parser.add_argument("--label", default="now")
    parser.add_argument("--no-lighthouse", action="store_true")
    args = parser.parse_args()
    scratch = ROOT / "bench" / "scratch" / "audit"
    scratch.mkdir(parents=True, exist_ok=True)
    use_lighthouse = not args.no_lighthouse and LIGHTHOUSE.exists()
    results = audit(args.site.resolve(), use_lighthouse, scratch)
    out = ROOT / "bench" / "results" / f"audit-{args.label}"
    out.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    out.with_suffix(".md").write_text(table(results))
    print(table(results))


if __name__ == "__main__":
    main()
