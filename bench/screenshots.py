"""Screenshots of built pages in headless Chromium, at a phone's and a desktop's width, in the
light and the dark colour scheme (issue 13's "look right" check).

    python build.py && python bench/screenshots.py [--site _site] [--out bench/scratch/shots]

Writes `<page>-<width>-<scheme>.png` (the whole page; with `-end.png` for its last 16,000 px
when it is taller) and `<page>-<width>-<scheme>-top.png` (the first screen) for every post page, and prints, per shot, whether the page scrolls
sideways (it must not) and how many code or output boxes scroll inside themselves. Needs
Debian's `chromium` and `chromedriver`, and `pip install selenium`.
"""

from __future__ import annotations

import argparse
import base64
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (375, 1200)
SCHEMES = ("light", "dark")
MAX_HEIGHT = 16_000  # Chromium's capture limit is ~16k px per side


def start_chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium driven through Debian's chromedriver (no Selenium Manager download)."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def show(driver: webdriver.Chrome, url: str, width: int, height: int, scheme: str) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    driver.get(url)


def capture(driver: webdriver.Chrome, path: Path) -> None:
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))


def wait_for_images(driver: webdriver.Chrome, seconds: float = 20) -> None:
    """Every image loaded and decoded: a 1.5 MB PNG is still blank for a moment after `complete`
    (the figures load lazily and decode asynchronously)."""
    # A lazy figure outside the window never loads (and its decode() never settles): a
    # screenshot of the whole page wants every one of them.
    driver.execute_script("document.querySelectorAll('img[loading=lazy]')"
                          ".forEach(i => i.loading = 'eager')")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not driver.execute_script(
            "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"):
        time.sleep(0.1)
    driver.set_script_timeout(seconds)
    driver.execute_async_script("const done = arguments[0]; Promise.all(Array.from("
                                "document.images).map(i => i.decode().catch(() => null)))"
                                ".then(() => requestAnimationFrame(() => done()));")


LAYOUT = """return {page: document.documentElement.scrollWidth - innerWidth,
  boxes: Array.from(document.querySelectorAll('pre, .math.block, table, .output.html'))
    .filter(b => b.scrollWidth > b.clientWidth + 1).length,
  height: document.documentElement.scrollHeight}"""


def shoot_page(driver: webdriver.Chrome, page: Path, out: Path) -> None:
    for width in WIDTHS:
        for scheme in SCHEMES:
            name = f"{page.stem}-{width}-{scheme}"
            show(driver, page.as_uri(), width, 900, scheme)
            capture(driver, out / f"{name}-top.png")
            layout = driver.execute_script(LAYOUT)
            show(driver, page.as_uri(), width, min(layout["height"], MAX_HEIGHT), scheme)
            wait_for_images(driver)
            capture(driver, out / f"{name}.png")
            if layout["height"] > MAX_HEIGHT:  # the rest: the page's last MAX_HEIGHT pixels
                driver.execute_script("scrollTo(0, document.documentElement.scrollHeight)")
                wait_for_images(driver)
                capture(driver, out / f"{name}-end.png")
            print(f"{name}: page scrolls sideways by {layout['page']} px, "
                  f"{layout['boxes']} boxes scroll inside, {layout['height']} px tall")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_site")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "scratch" / "shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pages = sorted(p.resolve() for p in args.site.glob("[0-9]*/**/*.html"))
    driver = start_chromium(args.out / ".profile")
    try:
        for page in pages:
            shoot_page(driver, page, args.out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
