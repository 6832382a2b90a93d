"""Rendered pages in headless Chromium (Debian's `chromium`): every image loads, a screenshot is
not blank, code and outputs scroll inside their box at a phone's and a desktop's width, the
dark scheme follows the reader's setting, math is laid out as MathML, `--serve` reloads an
open page after an edit, tables stay legible on a phone, a training log fits a desktop, and
axe-core finds no violation on a post or on any page of the golden site (375 and 1200 px,
light and dark).

The first two use Chromium's command line; the others drive it with Selenium through Debian's
`chromedriver`. Each skips when what it needs is absent. Probe scripts live in copies of pages
made by these tests only; templates carry no JavaScript.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat.v4 as v4
import pytest

from sitegen.config import make_config
from sitegen.posts import read_post
from sitegen.render import make_environment
from test_render import make_executed, publish, publish_listings, record, tiny_png, write_post, VALUES

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium: `apt-get install chromium chromium-driver`")]

PROBE = """<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.title = `images ${loaded}/${images.length}`;
});
</script>"""

LONG_LINE = ("results.record(test_accuracy=score['accuracy'], test_loss=score['loss'], "
             "device=run.device, train_seconds=run.seconds, epochs=epochs, image_count=3000)")
PROSE = ("## The loss\n\nWe minimise $L = -\\sum_{i=1}^{n} y_i \\log p_i$, and report\n\n"
         "$$\\mathrm{accuracy} = \\frac{TP + TN}{TP + TN + FP + FN}$$\n\n"
         "| model | validation accuracy | test accuracy | parameters | training time |\n"
         "| --- | --- | --- | --- | --- |\n"
         "| model1: small CNN | 63.4 % (95 % CI 59.1–67.5 %, 500 photos) | 65.8 % (95 % CI "
         "61.5–69.8 %, 500 photos) | 1,346,753 | 1 min 29 s |\n")
LOG_LINE = ("219/219 - 44s - 200ms/step - accuracy: 0.7089 - loss: 0.5639 - val_accuracy: 0.7680"
            " - val_loss: 0.5000")
SUMMARY = ('<pre style="white-space:pre;overflow-x:auto;line-height:normal">┏━━━━━━━━━━━━━━━━━━━━━━'
           '━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┓\n│ image (<span style="color: #0087ff; '
           'text-decoration-color: #0087ff">InputLayer</span>)              │ (<span style="color:'
           ' #00d7ff; text-decoration-color: #00d7ff">None</span>, <span style="color: #00af00; '
           'text-decoration-color: #00af00">150</span>, 3)         │\n</pre>')


def run_chromium(*args: str) -> str:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--window-size=1000,1400", "--virtual-time-budget=5000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=True).stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """A post with a heading, math, a code line longer than any screen and a figure."""
    tmp = tmp_path_factory.mktemp("browser")
    site = make_config({}, ROOT)
    env = make_environment(ROOT / "templates")
    post = read_post(write_post(tmp), site)
    cells = [v4.new_markdown_cell("# A cat or a dog?"), v4.new_markdown_cell(PROSE),
             v4.new_code_cell(LONG_LINE, outputs=[
                 v4.new_output("stream", name="stdout", text=f"Epoch 1/3\n{LOG_LINE}\n"),
                 v4.new_output("display_data", data={"text/html": SUMMARY}),
                 v4.new_output("display_data", data={
                     "image/png": base64.b64encode(tiny_png(240)).decode()}),
                 record(VALUES)])]
    executed = make_executed(post, cells=cells)
    publish(executed, site, env, tmp / "_site")
    publish_listings([executed], site, env, tmp / "_site")
    return tmp / "_site" / post.output_path


def test_every_image_loads(page):
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = run_chromium("--dump-dom", probe.as_uri())
    assert "<title>images 1/1</title>" in dom


def test_screenshot_is_not_blank(page, tmp_path):
    shot = tmp_path / "shot.png"
    run_chromium(f"--screenshot={shot}", page.as_uri())
    assert_not_blank(shot)


def assert_not_blank(shot: Path) -> None:
    from PIL import Image

    with Image.open(shot) as image:
        extrema = image.convert("RGB").getextrema()
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert any(low != high for low, high in extrema)
    assert len(colours) > 10  # text, the summary box and the figure, not one flat colour


# ---------------------------------------------------------------- driven with Selenium

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium under Selenium, with Debian's chromedriver (nothing downloaded)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium: `pip install -r requirements.lock -e \".[test]\"`")
    from selenium.webdriver.chrome.service import Service

    if CHROMEDRIVER is None:
        pytest.skip("needs chromedriver: `apt-get install chromium chromium-driver`")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def open_page(driver, url: str, width: int, scheme: str = "light", height: int = 900) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    driver.get(url)


def screenshot(driver, path: Path) -> Path:
    path.write_bytes(base64.b64decode(
        driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]))
    return path


@pytest.mark.parametrize("width", [375, 1200], ids=["phone", "desktop"])
def test_code_scrolls_inside_its_box_and_the_page_never_sideways(browser, page, width, tmp_path):
    open_page(browser, page.as_uri(), width)
    layout = browser.execute_script("""
      const code = Array.from(document.querySelectorAll('.highlight pre'))
        .find(p => p.textContent.includes('image_count=3000'));
      code.scrollLeft = 120;
      return {page: document.documentElement.scrollWidth, view: innerWidth,
              code: code.scrollWidth, box: code.clientWidth, scrolled: code.scrollLeft,
              boxRight: code.getBoundingClientRect().right};""")
    assert layout["page"] <= layout["view"]  # the body never scrolls sideways
    assert layout["code"] > layout["box"] and layout["scrolled"] > 0  # the box does
    assert layout["boxRight"] <= layout["view"]
    assert_not_blank(screenshot(browser, tmp_path / f"page-{width}.png"))


@pytest.mark.parametrize("width", [375, 1200], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme,background", [("light", "rgb(255, 255, 255)"),
                                               ("dark", "rgb(13, 17, 23)")])
def test_colour_scheme_follows_the_reader(browser, page, width, scheme, background, tmp_path):
    open_page(browser, page.as_uri(), width, scheme)
    colours = browser.execute_script("""
      const style = e => getComputedStyle(document.querySelector(e));
      return {body: style('body').backgroundColor, text: style('body').color,
              figure: style('.output.image img').backgroundColor,
              code: style('.highlight pre').backgroundColor};""")
    assert colours["body"] == background
    assert colours["figure"] == "rgb(255, 255, 255)"  # plots are drawn for white paper
    assert colours["text"] != colours["body"] and colours["code"] != colours["body"]
    assert_not_blank(screenshot(browser, tmp_path / f"page-{width}-{scheme}.png"))


def test_math_is_laid_out_natively(browser, page, tmp_path):
    open_page(browser, page.as_uri(), 1200)
    boxes = browser.execute_script("""
      const box = e => e.getBoundingClientRect().toJSON();
      const fraction = document.querySelector('.math.block mfrac');
      const sum = document.querySelector('.math.inline msubsup');
      fraction.scrollIntoView();
      return {numerator: box(fraction.children[0]), denominator: box(fraction.children[1]),
              operator: box(sum.children[0]), lower: box(sum.children[1]),
              source: document.body.innerText.includes('\\\\frac')};""")
    assert boxes["numerator"]["bottom"] <= boxes["denominator"]["top"] + 1  # stacked
    assert boxes["numerator"]["width"] > 50 and boxes["operator"]["height"] > 5
    assert boxes["lower"]["top"] > boxes["operator"]["top"]  # the subscript sits lower
    assert not boxes["source"]
    assert_not_blank(screenshot(browser, tmp_path / "math.png"))


# ---------------------------------------------------------------- live reload

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def preview(tmp_path):
    """`build.py --serve` on a one-post site whose post is prose only (no kernel starts)."""
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    post = tmp_path / "posts" / "2024-01-05-hello.md"
    post.parent.mkdir()
    post.write_text("---\ntitle: Hello\n---\n\nThe first version.\n")
    port = free_port()
    server = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "--serve", "--root",
                               str(tmp_path), "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_server(port, server)
        yield post, f"http://127.0.0.1:{port}/2024/01/05/hello.html", tmp_path / "_site"
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_for_server(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"build.py --serve exited: {server.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("build.py --serve did not start listening")


def page_text(driver) -> str:
    """The page's text, or "" while it is being replaced by a reload."""
    from selenium.common.exceptions import WebDriverException

    try:
        return driver.execute_script("return document.body ? document.body.innerText : ''")
    except WebDriverException:
        return ""


def test_preview_reloads_the_open_page_after_an_edit(browser, preview):
    post, url, site_dir = preview
    open_page(browser, url, 1200)
    assert "The first version." in page_text(browser)
    post.write_text(post.read_text().replace("first", "second"))
    edited = time.monotonic()
    while time.monotonic() - edited < 20:
        if "The second version." in page_text(browser):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the open page did not reload within 20 s of the edit")
    assert time.monotonic() - edited < 5  # polled each second, rebuilt in ~0.2 s, then reload
    published = (site_dir / "2024/01/05/hello.html").read_text()
    assert "The second version." in published and "livereload" not in published


# ---------------------------------------------------------------- issue 21: phones, keyboards, axe

def test_a_table_on_a_phone_scrolls_in_its_box_keeping_words_together(browser, page):
    open_page(browser, page.as_uri(), 375)
    table = browser.execute_script("""
      const box = document.querySelector('.table-scroll');
      const cells = Array.from(box.querySelectorAll('td'));
      const numbers = cells.slice(1);
      box.focus();
      return {focused: document.activeElement === box, page: document.documentElement.scrollWidth,
              view: innerWidth, scrolls: box.scrollWidth > box.clientWidth,
              narrowest: Math.min(...numbers.map(c => c.getBoundingClientRect().width)),
              first: getComputedStyle(cells[0]).position};""")
    assert table["focused"] and table["scrolls"]  # the keyboard can reach and scroll it
    assert table["page"] <= table["view"]  # the page itself never scrolls sideways
    assert table["narrowest"] >= 130  # a few words a line, not one
    assert table["first"] == "sticky"  # the row's name stays in view


def test_a_training_log_line_fits_a_desktop_screen(browser, page):
    open_page(browser, page.as_uri(), 1200)
    lines = browser.execute_script("""
      const log = document.querySelector('.output.stream'), style = getComputedStyle(log);
      const text = log.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      return Math.round(text / parseFloat(style.lineHeight));""")
    assert lines == 2  # "Epoch 1/3" and its 102-character line, unwrapped


@pytest.fixture(scope="module")
def golden_site(tmp_path_factory):
    """The golden site built with this checkout's templates (tests/test_golden_site.py) and
    served at its baseurl, /golden/, as a host serves it (its 404 page links absolutely):
    yields the URLs of its pages."""
    import functools
    import http.server
    import threading

    import build

    root = tmp_path_factory.mktemp("golden") / "site"
    shutil.copytree(ROOT / "tests/golden/site", root)
    shutil.copytree(ROOT / "templates", root / "templates")
    assert build.main(["--root", str(root), "--frozen"]) == 0
    (root / "served").mkdir()
    (root / "served/golden").symlink_to(root / "_site")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "served"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/golden/"
    yield [base + p.relative_to(root / "_site").as_posix()
           for p in sorted((root / "_site").rglob("*.html"))]
    server.shutdown()


@pytest.mark.parametrize("width", [375, 1200], ids=["phone", "desktop"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation(browser, page, golden_site, width, scheme):
    pytest.importorskip("axe_selenium_python", reason="needs `pip install axe-selenium-python`")
    from axe_check import AXE_4, axe_script, describe, run_axe

    if axe_script() != AXE_4 and not os.environ.get("AXE_CORE_JS"):  # the bundled one's path
        # also holds "node_modules": compare with the file `npm ci --prefix bench` installs
        pytest.skip("needs axe-core 4 (the bundled 3.1 lacks the rules these pages are checked "
                    "for, and times out on a loaded machine): `npm ci --prefix bench`")

    for url in [page.as_uri(), *golden_site]:
        open_page(browser, url, width, scheme)
        violations = run_axe(browser)
        assert not violations, f"{url} at {width} px, {scheme}:\n{describe(violations)}"
