"""Where a cold render's CPU seconds go (issue #26): `build.py` on the bench site, in one
process under cProfile, summed by what the work is.

    python bench/site_vs_jekyll.py --posts 200       # makes (and leaves) bench/scratch/site
    python bench/profile_render.py [--root bench/scratch/site] [--output FILE]

Renders from the cache as on a fresh clone (no `_site/`, no `_freeze/.local/`), pinned to one
CPU so that no worker process escapes the profiler. cProfile slows Python-heavy code more than
C (Pygments' lexer loop most), so read the shares, not the seconds; the seconds without the
profiler are `bench/results/site.txt`'s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# (what, file suffix, function): each one's cumulative time; they do not overlap
PARTS = [
    ("reading posts (front matter, jupytext, validation)", "sitegen/posts.py", "read_post"),
    ("reading cache entries (manifest, digests)", "sitegen/cache.py", "load"),
    ("reading entry notebooks", "sitegen/cache.py", "notebook"),
    ("merging today's cells with the run's outputs", "sitegen/assembly.py", "merge_outputs"),
    ("highlighting code (Pygments)", "pygments/__init__.py", "highlight"),
    ("Markdown of prose (markdown-it, MathML)", "sitegen/markup.py", "render"),
    ("Jinja of prose quoting results", "sitegen/render.py", "render_prose_template"),
    ("page layouts (Jinja)", "sitegen/render.py", "render_layout"),
    ("outputs: text, PNG sizes and re-encoding", "sitegen/render.py", "render_output"),
    ("figure alt text (parsing code)", "sitegen/render.py", "figure_alt"),
    ("writing page files", "sitegen/render.py", "write_file"),
    ("index, tags, feed, sitemap", "sitegen/feeds.py", "render_listings"),
    ("page stamps (hashing inputs)", "sitegen/incremental.py", "_page_stamp"),
    ("saving the local parse memo", "sitegen/incremental.py", "_save_memo"),
]


def cold_site(root: Path) -> None:
    shutil.rmtree(root / "_site", ignore_errors=True)
    shutil.rmtree(root / "_freeze" / ".local", ignore_errors=True)


def profile(root: Path) -> tuple[pstats.Stats, float]:
    """One cold render in this process, profiled; and its CPU seconds."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: no render workers
    cold_site(root)
    profiler = cProfile.Profile()
    start = time.process_time()
    profiler.enable()
    import build  # imports count: a fresh clone's build pays them

    build.main(["--root", str(root)])
    profiler.disable()
    return pstats.Stats(profiler, stream=io.StringIO()), time.process_time() - start


def cumulative(stats: pstats.Stats, suffix: str, function: str) -> float:
    return sum(values[3] for (path, _, name), values in stats.stats.items()
               if path.endswith(suffix) and name == function)


def report(stats: pstats.Stats, cpu: float) -> str:
    total = stats.total_tt
    lines = [f"CPU seconds of the profiled process: {cpu:.2f} (profiler included); "
             f"profiled total {total:.2f} s", "", f"{'share':>6}  {'s':>6}  what"]
    rest = total
    for what, suffix, function in PARTS:
        seconds = cumulative(stats, suffix, function)
        rest -= seconds
        lines.append(f"{100 * seconds / total:5.1f}%  {seconds:6.2f}  {what}")
    lines.append(f"{100 * rest / total:5.1f}%  {rest:6.2f}  the rest: start-up, imports, "
                 "gathering, summary boxes, ...")
    stats.stream = top = io.StringIO()
    stats.sort_stats("tottime").print_stats(25)
    return "\n".join(lines) + "\n\nTop functions by own time:\n" + top.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT / "bench" / "scratch" / "site")
    parser.add_argument("--output", type=Path, help="also write the summary here")
    args = parser.parse_args()
    stats, cpu = profile(args.root.resolve())
    text = (f"# python bench/profile_render.py --root {args.root}  "
            f"({time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f})\n" +
            report(stats, cpu))
    print(text)
    if args.output:
        args.output.write_text(text)


if __name__ == "__main__":
    main()
