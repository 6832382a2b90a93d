"""axe-core in headless Chromium, shared by tests/test_browser.py and bench/audit.py.

axe-selenium-python injects and runs axe-core; the axe-core it bundles (3.1 on Python 3.11)
predates rules such as `scrollable-region-focusable`, so a newer axe-core is used when one is
installed: `$AXE_CORE_JS`, else `bench/node_modules/axe-core/axe.min.js` (`npm ci --prefix bench`:
the version Lighthouse 12.2.3 runs), else the bundled one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# WCAG 2.x A and AA, and axe's best practices: what Lighthouse's accessibility audit draws on.
AXE_OPTIONS = {"resultTypes": ["violations"],
               "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                                     "best-practice"]}}


AXE_4 = ROOT / "bench" / "node_modules" / "axe-core" / "axe.min.js"  # npm ci --prefix bench


def axe_script() -> Path:
    """The newest axe-core at hand (see the module's docstring)."""
    candidates = [os.environ.get("AXE_CORE_JS"), AXE_4]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    from axe_selenium_python import axe

    return Path(axe._DEFAULT_SCRIPT)


def start_chromium(profile: Path) -> Any:
    """Headless Chromium through Debian's chromedriver (Selenium Manager downloads nothing)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def open_page(driver: Any, url: str, width: int, scheme: str = "light", height: int = 900) -> None:
    """`url` as a phone (under 600 px) or a desktop shows it, in the reader's colour scheme."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    driver.get(url)


def run_axe(driver: Any) -> list[dict]:
    """axe-core's violations on the open page (an empty list when it passes)."""
    import json

    from axe_selenium_python import Axe

    axe = Axe(driver, script_url=str(axe_script()))
    axe.inject()
    driver.set_script_timeout(300)  # a loaded 2-core CI machine: axe on a long post takes a while
    return axe.run(options=json.dumps(AXE_OPTIONS))["violations"]


def describe(violations: list[dict]) -> str:
    """One line per rule, with its first nodes: what a failing test prints."""
    return "\n".join(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}: "
                     + "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
                     for v in violations)
