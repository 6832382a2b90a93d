"""Benchmark: the real `python build.py` on 200 cached posts against Jekyll on the same markdown.

One run does everything (issues #3 and #8):

1. Makes 200 posts from seed 001's markdown (`../shared/seeds/001*.txt`), each different
   from every other: its own intro paragraph, and every code block carries a per-post comment
   line and a per-post batch size, so no highlighting memo can reuse one post's work for
   another (and Jekyll's content cache cannot either).
2. Makes a real site root in `bench/scratch/site/`: `posts/`, the repository's `templates/` and
   `_config.yml`, a copy of `catdog/`, and a FRESH `_freeze/<stem>/real/` entry per post: the
   post's own cells (read with sitegen.posts.read_post) with a plausible stream output in every
   code cell, a PNG and a results record, keyed by the build's own sitegen.freshness.assess
   (the catdog the kernel imports, the parameters, the environment) and stored with
   sitegen.cache.Cache.store as a run stores it (with the memos a run keeps: the post's cells,
   highlighted code, plain prose). So
   `python build.py --root bench/scratch/site` executes nothing (checked: "0 executed").
3. Times, as subprocesses of the real command line, alternating, median of `--repeat` (3)
   after one untimed warm-up round:
     sitegen full   `python build.py --root R` with no `_site/` and no `_freeze/.local/`
                    (render everything from the committed cache, as on a fresh clone)
     ... one CPU    the same under `taskset -c 0`: one process, as on a one-core runner
                    (the builder forks render workers only when it has two CPUs or more)
     ... kept       the same, keeping `_freeze/.local/` (the local parse memo)
     sitegen no-op  the same command again, nothing changed
     sitegen status `python build.py --status --root R` (every line must say "fresh")
     jekyll cold    `jekyll build` with `_site/` and `.jekyll-cache` removed
     jekyll no-op   `jekyll build` again, nothing changed
   and checks that the no-op rebuild leaves `_site/` byte-identical to the full render.

Each arm's CPU seconds (user + system, workers included) are reported beside its wall time,
and per HTML page it wrote (CPU is what a shared or one-core runner pays; wall time also holds
the other jobs on the machine).

Targets (issue #26): full render in one process at most half Jekyll's CPU seconds; full render
with the default settings at least twice as fast as Jekyll cold; no-op rebuild < 2 s;
--status < 1 s.

    python bench/site_vs_jekyll.py [--posts 200] [--repeat 3] [--output bench/results/site.txt]

Work files go to bench/scratch/ (ignored by git). Jekyll is Debian's `jekyll` (4.3) with the minima
theme and the jekyll-feed and jekyll-sitemap plugins.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import io
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat.v4 as v4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catdog import results as catdog_results  # noqa: E402
from sitegen import cache as cache_module  # noqa: E402
from sitegen.config import load_config  # noqa: E402
from sitegen.execute import Execution  # noqa: E402
from sitegen.freshness import assess  # noqa: E402
from sitegen.posts import read_post  # noqa: E402
from sitegen.state import DEFAULT_KERNEL as KERNEL, BuildOptions  # noqa: E402

SEED_GLOB = "001*.txt"
SEEDS = ROOT.parent / "shared" / "seeds"
WORK = ROOT / "bench" / "scratch"
SITE = WORK / "site"
JEKYLL = WORK / "jekyll"
FIT_LOG = "".join(f"Epoch {e}/3\n" + "".join(f"\r{s}/63 [{'=' * (s * 30 // 63)}>] - loss: 0.6"
                                               for s in range(1, 64, 8)) + "\n" for e in (1, 2, 3))


# ---------------------------------------------------------------- the posts

def read_seed() -> tuple[str, str]:
    """(title, body) of seed 001: Jekyll front matter stripped."""
    text = next(SEEDS.glob(SEED_GLOB)).read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    title = next(line.split(":", 1)[1].strip() for line in front.splitlines()
                 if line.startswith("title:"))
    return title, body


def post_body(body: str, number: int) -> str:
    """Each post different, down to every code block: an intro paragraph, a per-post comment
    line opening each block and a per-post batch size."""
    intro = f"This is bench post number {number}, about run {number * 7 % 101} of the series.\n\n"
    blocks = iter(range(1, 1000))
    body = re.sub(r"^```python\n",
                  lambda m: f"```python\n# bench post {number}, block {next(blocks)}: "
                            f"run_{number:03d}\n", body, flags=re.MULTILINE)
    return intro + body.replace("BATCH_SIZE = 32", f"BATCH_SIZE = {32 + number}")


def post_date(number: int) -> str:
    return f"2023-{1 + number % 12:02d}-{1 + number % 28:02d}"


def post_name(number: int) -> str:
    return f"{post_date(number)}-bench-{number:03d}.md"


def tiny_png(number: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, number % 256, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# ---------------------------------------------------------------- the sitegen site and its cache

def make_site(root: Path, count: int) -> None:
    """A site root like the repository's: posts/, templates/, _config.yml and catdog/."""
    title, body = read_seed()
    (root / "posts").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "_config.yml", root / "_config.yml")
    shutil.copytree(ROOT / "catdog", root / "catdog", ignore=shutil.ignore_patterns("__pycache__"))
    for n in range(count):
        front = (f"---\ntitle: \"{title} ({n})\"\ntags: [keras, bench-{n % 5}]\n"
                 f"description: Bench post {n}.\n---\n")
        (root / "posts" / post_name(n)).write_text(front + post_body(body, n), encoding="utf-8")


def executed_notebook(post, number: int):
    """The post's cells as a kernel would leave them: a stream output in every code cell (a fit
    log in the first), a PNG in the second, a results record in the last."""
    notebook = copy.deepcopy(post.notebook)
    notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3",
                                       "language": "python"}
    notebook.metadata["language_info"] = {"name": "python", "version": platform.python_version()}
    codes = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for count, cell in enumerate(codes, start=1):
        text = FIT_LOG if count == 1 else (f"post {number} cell {count}: "
                                           f"{(number * 31 + count) % 997} items in "
                                           f"{(count * 7 % 50) / 10:.1f} s\n")
        cell.execution_count = count
        cell.outputs = [v4.new_output("stream", name="stdout", text=text)]
    png = base64.b64encode(tiny_png(number)).decode()
    codes[1].outputs.append(v4.new_output("display_data", data={"image/png": png,
                                                                "text/plain": "<Figure>"}))
    codes[-1].outputs.append(v4.new_output("display_data", data={
        catdog_results.MIME_TYPE: {
            "version": 1, "values": {"test_accuracy": 0.9 + number / 10000, "test_loss": 0.25,
                                     "epochs": 3, "train_seconds": 312.4, "device": "CPU"},
            "data": [], "environment": catdog_results.environment()},
        "text/plain": "recorded"}))
    return notebook


def make_cache(root: Path) -> None:
    """A fresh `_freeze/` entry per post, keyed and stored exactly as a build does."""
    config = load_config(root)
    options = BuildOptions(root=root)
    cache = cache_module.Cache(options.freeze_dir, root)
    posts = [read_post(path, config) for path in sorted((root / "posts").glob("*.md"))]
    with tempfile.TemporaryDirectory() as workdir:
        for number, state in enumerate(assess(posts, cache, config, options)):
            cache.store(state, Execution(executed_notebook(state.post, number), 320.0, state,
                                         Path(workdir), "2024-01-05T10:00:00+00:00"))


# ---------------------------------------------------------------- the Jekyll site

def make_jekyll_site(directory: Path, count: int) -> None:
    title, body = read_seed()
    (directory / "_posts").mkdir(parents=True)
    (directory / "_config.yml").write_text(
        "title: bench\ntheme: minima\nplugins: [jekyll-feed, jekyll-sitemap]\n"
        "permalink: date\nmarkdown: kramdown\n")
    (directory / "index.md").write_text("---\nlayout: home\n---\n")
    for n in range(count):
        front = f"---\nlayout: post\ntitle: \"{title} ({n})\"\ntags: [keras, bench-{n % 5}]\n---\n"
        (directory / "_posts" / post_name(n)).write_text(front + post_body(body, n),
                                                        encoding="utf-8")


# ---------------------------------------------------------------- timing

CPU_SECONDS: list[float] = []  # user + system time of the last command, workers included


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, str]:
    """Wall seconds and stdout; the command's CPU seconds go to CPU_SECONDS (the machine is
    shared, so wall time also holds other jobs' load; CPU time does not)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def site_digest(site_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in site_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(site_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def sitegen_full(root: Path, count: int, keep_local: bool = False,
                 one_cpu: bool = False) -> float:
    """As on a fresh clone: no `_site/`, and (unless `keep_local`) no `_freeze/.local/`, the
    uncommitted memos (parsed posts, data fingerprints): like Jekyll cold without its cache.
    `one_cpu`: pinned to one CPU, so the build runs in one process."""
    shutil.rmtree(root / "_site", ignore_errors=True)
    if not keep_local:
        shutil.rmtree(root / "_freeze" / ".local", ignore_errors=True)
    pin = ["taskset", "-c", str(min(os.sched_getaffinity(0)))] if one_cpu else []
    seconds, out = timed([*pin, sys.executable, "build.py", "--root", str(root)])
    expected = f"Processed {count} posts (0 executed, {count} from cache, 0 failed)"
    if expected not in out:
        raise SystemExit(f"sitegen executed or failed something: {out!r}")
    return seconds


def sitegen_noop(root: Path, count: int) -> float:
    before = site_digest(root / "_site")
    seconds, out = timed([sys.executable, "build.py", "--root", str(root)])
    if f"0 executed, {count} from cache" not in out:
        raise SystemExit(f"sitegen no-op rebuild executed something: {out!r}")
    if site_digest(root / "_site") != before:
        raise SystemExit("the no-op rebuild changed _site/: it must equal the full render")
    return seconds


def sitegen_status(root: Path, count: int) -> float:
    seconds, out = timed([sys.executable, "build.py", "--status", "--root", str(root)])
    lines = out.splitlines()
    if len(lines) != count or not all(line.endswith(": fresh") for line in lines):
        raise SystemExit(f"--status does not say every post is fresh:\n{out[:2000]}")
    return seconds


def jekyll_build(directory: Path, cold: bool) -> float:
    """Cold: no destination and no `.jekyll-cache` (Jekyll 4 keeps converted markdown there).
    No-op: the same command again, everything left in place."""
    if cold:
        shutil.rmtree(directory / "_site", ignore_errors=True)
        shutil.rmtree(directory / ".jekyll-cache", ignore_errors=True)
    return timed(["jekyll", "build", "--quiet", "--source", str(directory), "--destination",
                  str(directory / "_site")])[0]


ARMS = [  # (label, measure), run in this order in every round
    ("sitegen full render from cache", lambda n: sitegen_full(SITE, n)),
    ("sitegen full, one CPU (1 process)", lambda n: sitegen_full(SITE, n, one_cpu=True)),
    ("sitegen full, _freeze/.local kept", lambda n: sitegen_full(SITE, n, keep_local=True)),
    ("sitegen no-op rebuild", lambda n: sitegen_noop(SITE, n)),
    ("sitegen --status", lambda n: sitegen_status(SITE, n)),
    ("jekyll build, cold", lambda n: jekyll_build(JEKYLL, cold=True)),
    ("jekyll build, no-op rebuild", lambda n: jekyll_build(JEKYLL, cold=False)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "site.txt",
                        help="where the table is written (besides stdout)")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    start = time.perf_counter()
    make_site(SITE, args.posts)
    make_cache(SITE)
    arms = [arm for arm in ARMS if shutil.which("jekyll") or "jekyll" not in arm[0]]
    if not shutil.which("taskset"):  # not Linux: no way to pin the build to one CPU
        arms = [arm for arm in arms if "one CPU" not in arm[0]]
    if shutil.which("jekyll"):
        make_jekyll_site(JEKYLL, args.posts)
    print(f"set-up (posts, cache entries, jekyll site): {time.perf_counter() - start:.1f} s",
          flush=True)

    times: dict[str, list[float]] = {label: [] for label, _ in arms}
    cpu: dict[str, list[float]] = {label: [] for label, _ in arms}
    loads = []
    for round_number in range(args.repeat + 1):  # round 0: warm-up, not counted
        for label, measure in arms:
            seconds = measure(args.posts)
            if round_number:
                times[label].append(seconds)
                cpu[label].append(CPU_SECONDS[-1])
        loads.append(os.getloadavg()[0])
        print(f"round {round_number}{' (warm-up)' if not round_number else ''}: done", flush=True)

    medians = {label: statistics.median(values) for label, values in times.items()}
    cpu_medians = {label: statistics.median(values) for label, values in cpu.items()}
    pages = len(list((SITE / "_site").rglob("*.html")))
    jekyll_pages = len(list((JEKYLL / "_site").rglob("*.html"))) if JEKYLL.is_dir() else 0
    per_page = {label: cpu_medians[label] / (jekyll_pages if "jekyll" in label else pages) * 1000
                for label in cpu_medians}
    full, noop, status = (medians["sitegen full render from cache"],
                          medians["sitegen no-op rebuild"], medians["sitegen --status"])
    nan = float("nan")
    one_cpu = cpu_medians.get("sitegen full, one CPU (1 process)", nan)
    cold = medians.get("jekyll build, cold", nan)
    cold_cpu = cpu_medians.get("jekyll build, cold", nan)
    jekyll_noop = medians.get("jekyll build, no-op rebuild", nan)
    lines = [
        f"# python bench/site_vs_jekyll.py --posts {args.posts} --repeat {args.repeat}",
        f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs (shared), "
        f"Python {platform.python_version()}; sitegen wrote {pages} HTML pages, "
        f"Jekyll {jekyll_pages}",
        f"# median of {args.repeat} runs, alternating in the order below, after a warm-up round;",
        f"# CPU s = user + system time of the command and its workers (load-independent);",
        f"# CPU ms/page = CPU s per HTML page the tool wrote;",
        f"# 1-min load average after each round: {' '.join(f'{v:.1f}' for v in loads)}",
        "",
        f"{'arm':<34} {'median s':>9} {'CPU s':>6} {'CPU ms/page':>11}  wall runs | CPU runs",
        *(f"{label:<34} {medians[label]:>9.2f} {cpu_medians[label]:>6.2f} "
          f"{per_page[label]:>11.1f}  " + " ".join(f"{v:.2f}" for v in times[label])
          + " | " + " ".join(f"{v:.2f}" for v in cpu[label]) for label, _ in arms),
        "",
        f"jekyll cold / sitegen full:        {cold / full:.2f}x wall  (target >= 2; nan: no Jekyll)",
        f"sitegen one CPU / jekyll cold:     {one_cpu / cold_cpu:.2f}x CPU  (target <= 0.5: "
        f"{'met' if one_cpu <= 0.5 * cold_cpu else 'MISSED'})",
        f"jekyll no-op / sitegen no-op:      {jekyll_noop / noop:.2f}x",
        f"sitegen no-op rebuild:             {noop:.2f} s  (target < 2 s: "
        f"{'met' if noop < 2 else 'MISSED'})",
        f"sitegen full vs jekyll cold:       "
        f"{'n/a (no Jekyll)' if cold != cold else 'met' if 2 * full <= cold else 'MISSED'}"
        " (at least twice as fast)",
        f"sitegen --status:                  {status:.2f} s  (target < 1 s: "
        f"{'met' if status < 1 else 'MISSED'})",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
