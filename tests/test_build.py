"""build.py end to end: real posts, a real kernel, real files; then the HTML is parsed.

Each test writes its own tiny site (front matter, a code cell or two) into `tmp_path` and
runs `build.main([...])` exactly as a user runs `python build.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

import build
from conftest import REPO, run_build, write_site

pytestmark = pytest.mark.slow  # each test runs real kernels (seconds each)


SCORING_POST = """\
---
title: Scoring <post>
tags: [demo, keras]
expect:
  test_accuracy: ">= 0.5"
smoke:
  accuracy: 0.1
---

The score is {{ results.test_accuracy | percent }}.

```python tags=["parameters"]
accuracy = 0.75
```

```python
import matplotlib.pyplot as plt
from catdog import results

figure, axes = plt.subplots()
axes.plot([0, 1], [0, accuracy])
results.record(test_accuracy=accuracy, device="CPU", quick=accuracy < 0.5)
```
"""




class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_data(self, data):
        self.text.append(data)


def parse_page(path: Path) -> LinkParser:
    parser = LinkParser()
    parser.feed(path.read_text())
    return parser


@pytest.fixture
def site(tmp_path):
    return write_site(tmp_path, {"2026-01-02-scoring.md": SCORING_POST})


def test_build_writes_pages_images_feed_and_sitemap(site):
    assert run_build(site, "--check", "--url", "https://example.org") == 0

    page = site / "_site/2026/01/02/scoring.html"
    parsed = parse_page(page)
    assert "75.0 %" in "".join(parsed.text)
    assert "Scoring <post>" in "".join(parsed.text)  # escaped in HTML, shown as typed
    assert "<post>" not in page.read_text()
    assert parsed.images and all((page.parent / src).is_file() for src in parsed.images)
    assert "75.0 %" in (site / "_site/index.html").read_text()
    assert (site / "_site/tags/demo.html").is_file()
    assert (site / "_site/404.html").is_file()
    ET.parse(site / "_site/feed.xml")
    ET.parse(site / "_site/sitemap.xml")
    gathered = json.loads((site / "_site/results.json").read_text())
    assert "0.75" in json.dumps(gathered)


def test_second_build_starts_no_kernel(site, capsys):
    run_build(site)
    capsys.readouterr()
    assert run_build(site) == 0
    assert "0 executed, 1 from cache" in capsys.readouterr().out


def test_prose_and_front_matter_edits_start_no_kernel(site, capsys):
    run_build(site)
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("The score is", "Our score is")
                    .replace("tags: [demo, keras]", "tags: [demo]"))
    capsys.readouterr()
    run_build(site)
    assert "0 executed, 1 from cache" in capsys.readouterr().out
    assert "Our score is" in (site / "_site/2026/01/02/scoring.html").read_text()


def test_failing_cell_keeps_old_page_and_cache(site, capsys):
    run_build(site)
    page = site / "_site/2026/01/02/scoring.html"
    manifest = site / "_freeze/2026-01-02-scoring/real/manifest.json"
    old_page, old_manifest = page.read_text(), manifest.read_text()
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("axes.plot(", "raise ValueError('bad data')\naxes.plot("))
    (site / "posts/2026-01-03-other.md").write_text("---\ntitle: Other\n---\n\nHello.\n")

    assert run_build(site) == 1

    err = capsys.readouterr().err
    assert "posts/2026-01-02-scoring.md: cell 2 `import matplotlib.pyplot as plt`" in err
    assert "ValueError: bad data" in err
    assert page.read_text() == old_page
    assert manifest.read_text() == old_manifest
    assert (site / "_site/2026/01/03/other.html").is_file()  # the other post still built


def test_status_names_the_failed_cell(site, capsys):
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("accuracy = 0.75", "accuracy = 1 / 0"))
    run_build(site)
    capsys.readouterr()
    run_build(site, "--status")
    assert "failed last time (cell 1: ZeroDivisionError: division by zero)" in capsys.readouterr().out


def test_frozen_fails_naming_each_stale_post(site, capsys):
    assert run_build(site, "--frozen") == 1
    assert "2026-01-02-scoring.md: never run" in capsys.readouterr().err


def test_smoke_runs_are_cached_apart_and_bannered(site):
    run_build(site)
    assert run_build(site, "--smoke") == 0
    assert (site / "_freeze/2026-01-02-scoring/smoke/manifest.json").is_file()
    page = (site / "_site/2026/01/02/scoring.html").read_text()
    assert "Quick run" in page and "10.0 %" in page


def test_a_real_build_never_publishes_a_quick_runs_page(site, capsys):
    run_build(site)
    run_build(site, "--smoke")  # _site/ now holds the quick run's page
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("{{ results.test_accuracy | percent }}",
                                             "{{ results.test_acuracy | percent }}"))
    assert run_build(site) == 1  # today's prose cannot render: the real run's page stays
    page = (site / "_site/2026/01/02/scoring.html").read_text()
    assert "The score is 75.0 %" in page and "Quick run" not in page
    assert "75.0 %" in (site / "_site/index.html").read_text()


def test_smoke_one_post_runs_it_alone_and_shows_the_others_real_runs(tmp_path, capsys):
    site = write_site(tmp_path, {f"2026-01-0{day}-post-{day}.md": SCORING_POST for day in (2, 3)})
    run_build(site)
    capsys.readouterr()
    assert run_build(site, "--smoke", "post-2") == 0
    assert "1 executed, 1 from cache" in capsys.readouterr().out
    assert "Quick run" in (site / "_site/2026/01/02/post-2.html").read_text()
    assert "Quick run" not in (site / "_site/2026/01/03/post-3.html").read_text()


def test_smoke_check_skips_thresholds_and_says_so(site, capsys):
    assert run_build(site, "--smoke", "--check") == 0  # 10% is below `>= 0.5`: not checked
    captured = capsys.readouterr()
    assert ("SKIPPED posts/2026-01-02-scoring.md: expect: test_accuracy >= 0.5 (a quick run's "
            "numbers are not checked)") in captured.err.replace(str(site) + "/", "")
    assert "1 checks skipped (quick runs)" in captured.out


def test_assets_are_published_and_a_missing_one_is_named_with_its_post(tmp_path, capsys):
    site = write_site(tmp_path, {"2026-01-02-trip.md": "---\ntitle: Trip\n---\n\n"
                                 "![A glacier]({{ site.baseurl }}/assets/glacier.jpg)\n"})
    (site / "assets").mkdir()
    (site / "assets/glacier.jpg").write_bytes(b"not really a jpeg")
    assert run_build(site, "--check") == 0
    assert (site / "_site/assets/glacier.jpg").read_bytes() == b"not really a jpeg"
    (site / "assets/glacier.jpg").unlink()
    capsys.readouterr()
    assert run_build(site, "--check") == 1
    assert ("posts/2026-01-02-trip.md (2026/01/02/trip.html): missing image "
            "/assets/glacier.jpg") in capsys.readouterr().err


def test_a_draft_built_with_drafts_says_it_is_a_draft(tmp_path):
    site = write_site(tmp_path, {"2026-01-02-wip.md": "---\ntitle: WIP\ndraft: true\n---\n\nSoon.\n"})
    assert run_build(site) == 0 and not (site / "_site/2026/01/02/wip.html").exists()
    assert run_build(site, "--drafts") == 0
    assert 'class="banner draft"' in (site / "_site/2026/01/02/wip.html").read_text()


def test_check_lists_unmet_expectations(site, capsys):
    assert run_build(site, "--check", "-p", "accuracy=0.25") == 1
    assert "test_accuracy" in capsys.readouterr().err


def test_bad_front_matter_names_file_and_line_and_the_others_still_build(tmp_path, capsys):
    site = write_site(tmp_path, {"2026-01-02-bad.md": "---\ntitle: [unclosed\n---\n\nText\n",
                                 "2026-01-03-good.md": "---\ntitle: Good\n---\n\nText\n"})
    assert run_build(site) == 1
    assert "posts/2026-01-02-bad.md:2: bad front matter" in capsys.readouterr().err
    assert (site / "_site/2026/01/03/good.html").is_file()


def test_cell_timeout_is_reported_as_such(tmp_path, capsys):
    site = write_site(tmp_path, {"2026-01-02-slow.md": """\
        ---
        title: Slow
        ---

        ```python
        import time
        time.sleep(30)
        ```
        """})
    assert run_build(site, "--timeout", "2") == 1
    assert "timed out after 2 s" in capsys.readouterr().err


def test_two_builds_at_once_leave_a_valid_cache(site):
    command = [sys.executable, str(REPO / "build.py"), "--root", str(site), "--force"]
    builds = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
              for _ in range(2)]
    assert [b.wait(timeout=120) for b in builds] == [0, 0]
    manifest = json.loads((site / "_freeze/2026-01-02-scoring/real/manifest.json").read_text())
    assert manifest["results"]["values"]["test_accuracy"] == 0.75
    assert not list((site / "_freeze/2026-01-02-scoring").glob(".real-*"))


def test_dead_kernel_is_reported_as_such(tmp_path, capsys):
    site = write_site(tmp_path, {"2026-01-02-dies.md": """\
        ---
        title: Dies
        ---

        ```python
        import os
        os._exit(1)  # what the out-of-memory killer does to a kernel
        ```
        """})
    assert run_build(site) == 1
    assert "the kernel died" in capsys.readouterr().err


OVERLAP_POST = """\
---
title: Sleeps a little
---

```python
import time
from catdog import results
started = time.time()
time.sleep(3)
results.record(started=started, ended=time.time())
```
"""


def test_jobs_run_posts_side_by_side(tmp_path, capsys):
    """With --jobs 2, the two posts' own clocks show them running at the same time."""
    posts = {f"2026-01-0{day}-post-{day}.md": OVERLAP_POST for day in (2, 3)}
    site = write_site(tmp_path, posts)
    assert run_build(site, "--jobs", "2") == 0
    assert "2 executed" in capsys.readouterr().out
    runs = [json.loads((site / f"_freeze/{Path(name).stem}/real/manifest.json").read_text())
            ["results"]["values"] for name in posts]
    assert max(run["started"] for run in runs) < min(run["ended"] for run in runs)


CATDOG_POST = """\
---
title: A tiny classifier
tags: [keras]
---

```python tags=["parameters"]
epochs = 2
```

```python
from catdog import data, models, plots, results, train


splits = data.cats_and_dogs(quick=True, image_size=(32, 32), batch_size=8)
model = models.compile_model(models.make_small_cnn((32, 32), filters=(8, 8), dense_units=16))
run = train.fit(model, splits.train, splits.validation, epochs=epochs)
plots.training_curves(run)
```

```python
score = train.evaluate(model, splits.test)
results.record(test_accuracy=score["accuracy"], test_loss=score["loss"], epochs=run.epochs_run,
               device=run.device, **splits.summary())
```

It scores {{ results.test_accuracy | percent }} after {{ results.epochs }} epochs.
"""


@pytest.mark.slow
def test_a_post_that_trains_with_catdog_publishes_its_score(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # the kernel inherits it
    site = write_site(tmp_path, {"2026-01-02-tiny.md": CATDOG_POST})
    assert run_build(site, "--check") == 0
    record = json.loads((site / "_site/2026/01/02/tiny/results.json").read_text())
    accuracy = record["values"]["test_accuracy"]
    page = parse_page(site / "_site/2026/01/02/tiny.html")
    assert f"{accuracy * 100:.1f}\u202f%" in "".join(page.text)
    assert f"{accuracy * 100:.1f}\u202f%" in (site / "_site/index.html").read_text()
    assert record["data"][0]["kind"] == "synthetic"
    assert any(src.endswith(".png") for src in page.images)


@pytest.mark.slow
def test_a_post_that_read_a_data_folder_stays_fresh(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # the kernel inherits it
    site = write_site(tmp_path, {"2026-01-02-tiny.md": CATDOG_POST})
    run_build(site)
    capsys.readouterr()
    run_build(site, "--status")
    assert capsys.readouterr().out.strip().endswith(": fresh")
    run_build(site)
    assert "0 executed, 1 from cache" in capsys.readouterr().out


def test_prose_quoting_an_unrecorded_result_keeps_the_old_page(site, capsys):
    run_build(site)
    page = site / "_site/2026/01/02/scoring.html"
    old_page = page.read_text()
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("{{ results.test_accuracy | percent }}",
                                             "{{ results.test_acuracy | percent }}"))
    assert run_build(site) == 1
    err = capsys.readouterr().err
    assert "posts/2026-01-02-scoring.md:10: `results.test_acuracy` is not recorded" in err
    assert err.count("test_acuracy") == 1  # said once, on one line
    assert page.read_text() == old_page
    assert "Scoring" in (site / "_site/index.html").read_text()


def test_a_filter_mistake_in_prose_is_one_line_not_a_traceback(site, capsys):
    run_build(site)
    post = site / "posts/2026-01-02-scoring.md"
    post.write_text(post.read_text().replace("{{ results.test_accuracy | percent }}",
                                             "{{ results.device | accuracy_ci }}"))
    capsys.readouterr()
    assert run_build(site) == 1
    err = capsys.readouterr().err
    assert ("posts/2026-01-02-scoring.md:10: filter `accuracy_ci` failed on "
            "`{{ results.device | accuracy_ci }}` (ValueError") in err
    assert "Traceback" not in err and err.count("accuracy_ci` failed") == 1


def test_serve_serves_the_site_and_rebuilds_on_change(site):
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(REPO / "build.py"), "--root", str(site),
                               "--serve", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def fetch(path: str) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.read().decode()

    def wait_for(condition, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if condition():
                    return True
            except OSError:
                pass
            time.sleep(0.5)
        return False

    try:
        assert wait_for(lambda: "75.0 %" in fetch("/2026/01/02/scoring.html"))
        post = site / "posts/2026-01-02-scoring.md"
        post.write_text(post.read_text().replace("The score is", "Served score:"))
        assert wait_for(lambda: "Served score:" in fetch("/2026/01/02/scoring.html"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_force_one_post_reruns_only_that_post(tmp_path, capsys):
    posts = {f"2026-01-0{day}-post-{day}.md": SCORING_POST for day in (2, 3)}
    site = write_site(tmp_path, posts)
    run_build(site)
    capsys.readouterr()
    assert run_build(site, "--force", "posts/2026-01-03-post-3.md") == 0
    assert "1 executed, 1 from cache" in capsys.readouterr().out


def test_bad_site_settings_name_the_config_file(site, capsys):
    (site / "_config.yml").write_text("title: x\npermalinks: date\n")
    assert run_build(site) == 1
    err = capsys.readouterr().err
    assert "_config.yml: bad site settings: Unknown settings" in err and "permalinks" in err


@pytest.mark.parametrize("setting, message", [
    ("url: example.com", "`url` must start with http"),
    ("smoke: 3", "`smoke` must map parameter names"),
    ("permalink: /:year/:bogus/:title.html", "unknown placeholder(s) [':bogus']"),
], ids=["url-without-scheme", "smoke-not-a-mapping", "unknown-placeholder"])
def test_each_bad_setting_is_named(site, capsys, setting, message):
    (site / "_config.yml").write_text(f"title: x\n{setting}\n")
    assert run_build(site) == 1
    assert message in capsys.readouterr().err


def test_force_names_a_post_that_does_not_exist(site, capsys):
    assert run_build(site, "--force", "nosuch") == 2
    assert "--force: no post named nosuch; posts are: 2026-01-02-scoring" in capsys.readouterr().err


def test_an_override_no_parameters_cell_assigns_is_warned_about(site, caplog):
    run_build(site, "-p", "acuracy=0.9")
    assert "-p acuracy: no post's `parameters` cell assigns acuracy" in caplog.text


def test_a_parameter_reruns_only_the_posts_that_have_it(tmp_path, capsys):
    other = (SCORING_POST.replace("accuracy = 0.75", "score = 0.75")
             .replace("[0, accuracy]", "[0, score]"))
    other = other.replace("test_accuracy=accuracy, device=\"CPU\", quick=accuracy < 0.5",
                          "test_accuracy=score, device=\"CPU\"")
    site = write_site(tmp_path, {"2026-01-02-has-it.md": SCORING_POST,
                                 "2026-01-03-has-not.md": other})
    run_build(site)
    capsys.readouterr()
    assert run_build(site, "-p", "accuracy=0.5") == 0
    assert "1 executed, 1 from cache" in capsys.readouterr().out
    assert "50.0 %" in (site / "_site/2026/01/02/has-it.html").read_text()


def test_a_parameter_for_one_post_and_force_by_slug(tmp_path, capsys):
    posts = {f"2026-01-0{day}-post-{day}.md": SCORING_POST for day in (2, 3)}
    site = write_site(tmp_path, posts)
    run_build(site)
    capsys.readouterr()
    assert run_build(site, "-p", "post-3:accuracy=0.5") == 0
    assert "1 executed, 1 from cache" in capsys.readouterr().out
    assert "50.0 %" in (site / "_site/2026/01/03/post-3.html").read_text()
    assert run_build(site, "--force", "post-2", "-p", "post-3:accuracy=0.5") == 0  # a slug
    assert "1 executed, 1 from cache" in capsys.readouterr().out
    assert run_build(site, "-p", "nosuch:accuracy=0.5") == 2
    assert "-p: no post named nosuch" in capsys.readouterr().err


def test_a_parameter_that_is_not_a_literal_is_refused(site, capsys):
    assert run_build(site, "-p", "accuracy=x=y") == 2
    assert "build.py: error: -p accuracy=... must be a Python literal" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--jobs", "0"], "argument --jobs/-j: must be 1 or more. Received: 0"),
    (["--force", "nosuch"], "--force: no post named nosuch"),
    (["-p", "=5"], "-p expects NAME=VALUE"),
    (["--retries", "-1"], "argument --retries: must be 0 or more. Received: -1"),
], ids=["argparse", "unknown post", "malformed -p", "negative retries"])
def test_every_command_line_mistake_is_one_line_and_status_2(site, capsys, argv, message):
    assert run_build(site, *argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"build.py: error: {message}"), err


@pytest.mark.slow
def test_a_new_post_runs_as_it_is_under_smoke(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # the kernel inherits it
    site = write_site(tmp_path, {})
    new = ["new", "Cats: a first look", "--date", "2026-01-02", "--root", str(site)]
    assert build.main(new) == 0
    assert "--smoke cats-a-first-look" in capsys.readouterr().out
    assert run_build(site, "--smoke", "cats-a-first-look", "--check") == 0
    page = parse_page(site / "_site/2026/01/02/cats-a-first-look.html")
    assert "Cats: a first look" in "".join(page.text) and len(page.images) >= 2
    html = (site / "_site/2026/01/02/cats-a-first-look.html").read_text()
    assert "<dd>made-up shapes (" in html  # its data named as a reader reads it
    assert "SKIPPED" in capsys.readouterr().err  # the quick run's threshold is not checked
    assert build.main(new) == 1
    assert "already exists" in capsys.readouterr().err
