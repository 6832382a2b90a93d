"""A rendered post opened in headless Chromium (Debian's `chromium`): every image loads and a
screenshot is not blank. The probe script lives in a copy of the page made by this test only;
templates carry no JavaScript."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sitegen.config import make_config
from sitegen.feeds import render_listings
from sitegen.posts import read_post
from sitegen.render import make_environment, render_post
from test_render import make_executed, write_post

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")]

PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = `images ${loaded}/${images.length}`;
});
</script>"""


def run_chromium(*args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--window-size=1000,1400", "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    site = make_config({}, ROOT)
    env = make_environment(ROOT / "templates")
    post = read_post(write_post(tmp), site)
    executed = make_executed(post)
    render_post(post, executed, site, env, tmp / "_site")
    render_listings([(post, executed)], site, env, tmp / "_site")
    return tmp / "_site" / post.output_path


def test_every_image_loads(page):
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = run_chromium("--dump-dom", probe.as_uri())
    assert "<title>images 1/1</title>" in dom


def test_screenshot_is_not_blank(page, tmp_path):
    from PIL import Image

    shot = tmp_path / "shot.png"
    run_chromium(f"--screenshot={shot}", page.as_uri())
    with Image.open(shot) as image:
        extrema = image.convert("RGB").getextrema()
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert any(low != high for low, high in extrema)
    assert len(colours) > 10  # text, the summary box and the figure, not one flat colour
