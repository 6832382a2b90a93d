"""Benchmark: rendering 200 cached posts with sitegen against building the same markdown with Jekyll.

Both arms start from 200 posts made from seed 001's markdown (`/work/shared/seeds/001*.txt`),
each body different (its own intro paragraph and numbers):

(a) sitegen: read the 200 Jupytext posts (front matter + jupytext), load each post's cached
    executed notebook from disk (a fake `.ipynb` with a stream log, one PNG and a results
    record: no kernel), render every page, its image and results.json, then the index, tag
    pages, Atom feed, sitemap, 404 and `results.json`, into a fresh `_site/`.
(b) Jekyll: `jekyll build` of a Jekyll site with the same 200 posts in `_posts/`, the minima
    theme and the jekyll-feed and jekyll-sitemap plugins (Debian's packages), from a clean
    destination (its own start-up included, as a user would see it). "Cold" first deletes
    `.jekyll-cache` (Jekyll 4 keeps converted markdown there); "warm" keeps it.

With `--builder-cmd CMD` the command (e.g. the lead's `python build.py`) is also run twice and
the second run is reported as the no-op rebuild; without it, only (a) and (b) are measured.
Each arm runs `--repeat` times (default 3) after one untimed warm-up; the median is printed.
Goal: (a) faster than (b), i.e. ratio jekyll / sitegen > 1.

Run from the repository root:

    python bench/site_vs_jekyll.py [--posts 200] [--repeat 3] [--builder-cmd "python build.py"]

Work files go to bench/work/ (ignored by git).
"""

from __future__ import annotations

import argparse
import base64
import io
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import nbformat.v4 as v4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catdog.results import MIME_TYPE, from_notebook  # noqa: E402
from sitegen.config import make_config  # noqa: E402
from sitegen.feeds import render_listings  # noqa: E402
from sitegen.posts import read_posts  # noqa: E402
from sitegen.render import highlight_code, make_environment, render_post  # noqa: E402

SEED_GLOB = "001*.txt"
SEEDS = Path("/work/shared/seeds")
WORK = ROOT / "bench" / "work"
FIT_LOG = "".join(f"Epoch {e}/3\n" + "".join(f"\r{s}/63 [{'=' * (s * 30 // 63)}>] - loss: 0.6"
                                               for s in range(1, 64, 8)) + "\n" for e in (1, 2, 3))


def read_seed() -> tuple[str, str]:
    """(title, body) of seed 001: Jekyll front matter stripped."""
    text = next(SEEDS.glob(SEED_GLOB)).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    title = next(line.split(":", 1)[1].strip() for line in front.splitlines()
                 if line.startswith("title:"))
    return title, body


def post_body(body: str, number: int) -> str:
    """Each post different: its own first paragraph and batch size."""
    intro = f"This is bench post number {number}, about run {number * 7 % 101} of the series.\n\n"
    return intro + body.replace("BATCH_SIZE = 32", f"BATCH_SIZE = {32 + number}")


def post_date(number: int) -> str:
    return f"2023-{1 + number % 12:02d}-{1 + number % 28:02d}"


def tiny_png() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_sitegen_posts(directory: Path, count: int) -> None:
    title, body = read_seed()
    directory.mkdir(parents=True)
    for n in range(count):
        front = (f"---\ntitle: \"{title} ({n})\"\ntags: [keras, bench-{n % 5}]\n"
                 f"description: Bench post {n}.\n---\n")
        (directory / f"{post_date(n)}-bench-{n:03d}.md").write_text(front + post_body(body, n))


def make_cached_notebooks(posts: list, directory: Path) -> None:
    """A fake executed notebook per post: its cells, a fit log, a PNG, a results record."""
    directory.mkdir(parents=True)
    png = base64.b64encode(tiny_png()).decode()
    for i, post in enumerate(posts):
        notebook = nbformat.from_dict({**post.notebook, "cells": list(post.notebook.cells)})
        codes = [c for c in notebook.cells if c.cell_type == "code"]
        codes[0]["outputs"] = [v4.new_output("stream", name="stdout", text=FIT_LOG)]
        codes[1]["outputs"] = [v4.new_output("display_data", data={"image/png": png,
                                                                   "text/plain": "<Figure>"})]
        codes[-1]["outputs"] = [v4.new_output("display_data", data={
            MIME_TYPE: {"version": 1, "values": {"test_accuracy": 0.9 + i / 10000, "epochs": 3,
                                                 "train_seconds": 312.4, "device": "CPU"}},
            "text/plain": "recorded"})]
        nbformat.write(notebook, directory / f"{post.slug}.ipynb")


def load_cached(post, directory: Path) -> SimpleNamespace:
    notebook = nbformat.read(directory / f"{post.slug}.ipynb", as_version=4)
    return SimpleNamespace(notebook=notebook, results=from_notebook(notebook),
                           run={"mode": "real", "ran_at": "2024-01-05T10:00:00+00:00",
                                "duration_s": 320.0, "parameters": {}, "kernel": "python3"})


def build_with_sitegen(posts_dir: Path, cache_dir: Path, out: Path, memo: bool = True) -> float:
    """Read posts, load their cached runs, render everything; returns seconds.

    The highlight memo starts empty each time, as in a fresh process; it still helps here
    since the generated posts share most code cells. `memo=False` clears it before each post.
    """
    shutil.rmtree(out, ignore_errors=True)
    highlight_code.cache_clear()
    start = time.perf_counter()
    site = make_config({"title": "bench"}, ROOT)
    env = make_environment(ROOT / "templates")
    posts = read_posts(posts_dir, site)
    pairs = [(post, load_cached(post, cache_dir)) for post in posts]
    for post, executed in pairs:
        if not memo:
            highlight_code.cache_clear()
        render_post(post, executed, site, env, out)
    render_listings(pairs, site, env, out)
    return time.perf_counter() - start


def make_jekyll_site(directory: Path, count: int) -> None:
    title, body = read_seed()
    (directory / "_posts").mkdir(parents=True)
    (directory / "_config.yml").write_text(
        "title: bench\ntheme: minima\nplugins: [jekyll-feed, jekyll-sitemap]\n"
        "permalink: date\nmarkdown: kramdown\n")
    (directory / "index.md").write_text("---\nlayout: home\n---\n")
    for n in range(count):
        front = f"---\nlayout: post\ntitle: \"{title} ({n})\"\ntags: [keras, bench-{n % 5}]\n---\n"
        (directory / "_posts" / f"{post_date(n)}-bench-{n:03d}.md").write_text(
            front + post_body(body, n))


def build_with_jekyll(directory: Path, cold: bool = True) -> float:
    """A cold build drops Jekyll's disk cache of converted markdown (.jekyll-cache) first."""
    shutil.rmtree(directory / "_site", ignore_errors=True)
    if cold:
        shutil.rmtree(directory / ".jekyll-cache", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(["jekyll", "build", "--quiet", "--source", str(directory), "--destination",
                    str(directory / "_site")], check=True, capture_output=True)
    return time.perf_counter() - start


def run_command(command: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, shell=True, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def median_of(measure, repeat: int) -> float:
    measure()  # warm-up: file cache, Ruby gems, Python imports
    return statistics.median(measure() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--builder-cmd", help="a full site build command to time as a no-op rebuild")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    posts_dir, cache_dir = WORK / "sitegen" / "posts", WORK / "sitegen" / "_freeze"
    make_sitegen_posts(posts_dir, args.posts)
    make_cached_notebooks(read_posts(posts_dir, make_config({}, ROOT)), cache_dir)
    make_jekyll_site(WORK / "jekyll", args.posts)

    ours = median_of(lambda: build_with_sitegen(posts_dir, cache_dir, WORK / "sitegen" / "_site"),
                     args.repeat)
    ours_no_memo = median_of(lambda: build_with_sitegen(
        posts_dir, cache_dir, WORK / "sitegen" / "_site", memo=False), args.repeat)
    jekyll = median_of(lambda: build_with_jekyll(WORK / "jekyll"), args.repeat)
    jekyll_warm = median_of(lambda: build_with_jekyll(WORK / "jekyll", cold=False), args.repeat)
    pages = len(list((WORK / "sitegen" / "_site").rglob("*.html")))
    print(f"posts: {args.posts}  (sitegen wrote {pages} HTML pages)")
    print(f"sitegen full render from cache: {ours:.2f} s (median of {args.repeat})")
    print(f"sitegen, highlight memo off:    {ours_no_memo:.2f} s (median of {args.repeat})")
    print(f"jekyll build, cold:             {jekyll:.2f} s (median of {args.repeat})")
    print(f"jekyll build, warm .jekyll-cache: {jekyll_warm:.2f} s (median of {args.repeat})")
    print(f"ratio jekyll cold / sitegen:    {jekyll / ours:.2f}x")
    if args.builder_cmd:
        run_command(args.builder_cmd)
        print(f"no-op rebuild ({args.builder_cmd}): "
              f"{median_of(lambda: run_command(args.builder_cmd), args.repeat):.2f} s")
    else:
        print("no-op rebuild: not measured (pass --builder-cmd \"python build.py\")")


if __name__ == "__main__":
    main()
