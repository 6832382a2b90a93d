#!/usr/bin/env python
"""Publish posts/ into _site/: execute what changed, reuse the cache for the rest.

    python build.py                 build the site (executes only stale posts)
    python build.py --status        say, per post, whether it is fresh and why not
    python build.py --smoke         quick runs: tiny synthetic data, one epoch, no downloads
    python build.py --frozen --check  never execute; check the committed results (CI)
    python build.py --serve         preview on http://localhost:8000, rebuilding on change
    python build.py new "Title"     write posts/<today>-<slug>.md from a template that runs as is
    python build.py --reproduce POST  run POST again in a scratch folder; compare every value

Everything else lives in sitegen/; this file parses arguments, sets up logging and turns the
builder's errors into one clear line and an exit code.
"""

from __future__ import annotations

import argparse
import ast
import logging
import os
import sys
from pathlib import Path

from sitegen.exceptions import UsageError  # light: the standard library only

ROOT = Path(__file__).resolve().parent


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more. Received: {text}")
    return value


def whole_number(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more. Received: {text}")
    return value


class Parser(argparse.ArgumentParser):
    """argparse, its mistakes shown as every other command-line mistake (UsageError)."""

    def error(self, message: str):
        raise UsageError(None, message)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    from sitegen.state import DEFAULT_CELL_TIMEOUT

    parser = Parser(description=__doc__.split("\n\n")[0],
                                     epilog='A new post: python build.py new "Title" (see '
                                            'python build.py new --help)',
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--status", action="store_true",
                        help="print one line per post (fresh, never run, failed, stale: why) "
                             "without executing anything")
    parser.add_argument("--smoke", nargs="?", const=True, default=False, metavar="POST",
                        help="quick runs: inject each post's quick-run parameters (front matter "
                             "`smoke:`, else _config.yml's), cached apart from real runs; with "
                             "POST, run only that post quickly and show the others' real runs")
    parser.add_argument("--force", nargs="?", const=True, default=False, metavar="POST",
                        help="re-execute every post, or only POST (a file name, stem or slug)")
    parser.add_argument("--reproduce", nargs="?", const=True, default=None, metavar="POST",
                        help="run POST again in a scratch folder (its entry untouched), compare "
                             "every value with the committed run, write reproduced.json beside "
                             "it; exit 1 on a difference beyond tolerance (README); with "
                             "--smoke, its quick run")
    parser.add_argument("--frozen", action="store_true",
                        help="never execute: fail naming each stale or missing post and why")
    parser.add_argument("--strict", action="store_true",
                        help="treat a different environment (Python, Keras, backend, numpy "
                             "versions), or recorded data missing here, as stale")
    parser.add_argument("--check", action="store_true",
                        help="after building, check every post's `expect:`, internal links "
                             "and images; exit non-zero listing each problem")
    parser.add_argument("--jobs", "-j", type=positive_int, default=1, metavar="N",
                        help="execute up to N posts side by side (default 1)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run stale posts on a Dask cluster, e.g. tcp://host:8786 (else "
                             "_config.yml's `cluster:`); each result is checked, then stored "
                             "here (README: Running posts on a cluster)")
    parser.add_argument("--retries", type=whole_number, metavar="N",
                        help="with --cluster: a post whose worker dies may start again on "
                             "another worker, N times at most (default: _config.yml's "
                             "`cluster_retries:`, else 0: never)")
    parser.add_argument("--timeout", type=positive_int, default=DEFAULT_CELL_TIMEOUT,
                        metavar="SECONDS", help=f"per-cell timeout (default {DEFAULT_CELL_TIMEOUT})")
    parser.add_argument("-p", "--parameter", action="append", default=[],
                        metavar="[POST:]NAME=VALUE",
                        help="override a parameter (a Python literal, e.g. -p epochs=5) in "
                             "every post whose `parameters` cell assigns it, or only in POST "
                             "(-p POST:epochs=5); may repeat")
    parser.add_argument("--baseurl", metavar="PATH",
                        help="override _config.yml's baseurl, e.g. /catdog-blog for a GitHub "
                             "project page")
    parser.add_argument("--url", metavar="URL",
                        help="override _config.yml's url, e.g. https://you.github.io")
    parser.add_argument("--drafts", action="store_true", help="also build posts with draft: true")
    parser.add_argument("--serve", action="store_true",
                        help="serve _site/ on localhost and rebuild when posts or templates "
                             "change")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser.parse_args(argv)


def parse_parameters(pairs: list[str]) -> tuple[dict, dict[str, dict]]:
    """`-p name=value` (for every post that has `name`) and `-p POST:name=value` (that post)."""
    everywhere: dict = {}
    per_post: dict[str, dict] = {}
    for pair in pairs:
        target, name, value = split_parameter(pair)
        values = per_post.setdefault(target, {}) if target else everywhere
        try:
            values[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise UsageError(None, f"-p {name}=... must be a Python literal: a number, "
                                   f"True/False/None, or a quoted string such as "
                                   f"-p data='\"x\"'. Received: {pair!r}") from None
    return everywhere, per_post


def split_parameter(pair: str) -> tuple[str | None, str, str]:
    """`POST:name=value` -> (POST as a file stem or slug, name, value); POST may be absent."""
    left, sep, value = pair.partition("=")
    target, colon, name = left.rpartition(":")
    if not sep or not name.isidentifier() or (colon and not target):
        raise UsageError(None, "-p expects NAME=VALUE or POST:NAME=VALUE, e.g. -p epochs=5. "
                               f"Received: {pair!r}")
    return (Path(target).stem if colon else None), name, value


def make_options(args: argparse.Namespace):
    from sitegen.state import BuildOptions

    force, smoke = (frozenset({Path(value).stem}) if isinstance(value, str) else value
                    for value in (args.force, args.smoke))
    everywhere, per_post = parse_parameters(args.parameter)
    return BuildOptions(root=args.root, smoke=smoke, force=force, frozen=args.frozen,
                        strict=args.strict, check=args.check, jobs=args.jobs,
                        cell_timeout=args.timeout, parameters=everywhere,
                        post_parameters=per_post, drafts=args.drafts,
                        settings=config_overrides(args))


def config_overrides(args: argparse.Namespace) -> dict[str, str | int]:
    """`--baseurl`, `--url`, `--cluster` and `--retries`, when given, win over `_config.yml`."""
    return {name: value for name, value in (("baseurl", args.baseurl), ("url", args.url),
                                            ("cluster", args.cluster),
                                            ("cluster_retries", args.retries))
            if value is not None}


def new_post(argv: list[str]) -> int:
    """`build.py new "Title" [--date YYYY-MM-DD]`: a new post that runs as it is."""
    import datetime

    from sitegen.exceptions import BuildError
    from sitegen.newpost import new_post as write_post

    parser = Parser(
        prog="build.py new", description="Write posts/<date>-<slug>.md from a small template "
                                         "that runs as it is (try it with --smoke SLUG).")
    parser.add_argument("title", help="the post's title, e.g. \"Cats: a first look\"")
    parser.add_argument("--date", type=datetime.date.fromisoformat, default=None,
                        help="YYYY-MM-DD for the file name (default: today)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        path = write_post(args.root / "posts", args.title, args.date)
    except BuildError as error:
        error.show()
        return error.exit_code
    slug = path.stem[len("YYYY-MM-DD-"):]
    print(f"Wrote {os.path.relpath(path)}\nTry it (a quick run, about a minute): "
          f"python build.py --smoke {slug}\nThen point `photos` at your own and run it for "
          f"real: python build.py --force {slug}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The build's exit status; a command-line mistake is one line and status 2."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return new_post(argv[1:]) if argv[:1] == ["new"] else run(argv)
    except UsageError as error:
        error.show()
        return error.exit_code


def run(argv: list[str]) -> int:
    args = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    from sitegen import build as builder
    from sitegen.exceptions import BuildError
    from sitegen.progress import Progress

    options = make_options(args)
    try:
        if args.status:
            for path, state in builder.status(options):
                print(f"{path}: {state}")
            return 0
        if args.reproduce:
            return reproduce(options, reproduce_name(args))
        if args.serve:
            from sitegen.serve import serve
            return serve(options, port=args.port)
        report = builder.build(options, progress_factory=Progress)
    except BuildError as error:  # the build stopped: a bad setting, --frozen, Ctrl-C...
        error.show()
        return error.exit_code
    except KeyboardInterrupt:  # Ctrl-C outside a build (--status): nothing was being written
        print("interrupted", file=sys.stderr)
        return 130
    report.show()
    return report.exit_code


def reproduce_name(args: argparse.Namespace) -> str:
    """The post of `--reproduce POST`, or of `--reproduce --smoke POST`."""
    for value in (args.reproduce, args.smoke):
        if isinstance(value, str):
            return Path(value).stem
    raise UsageError(None, "--reproduce needs a post, e.g. --reproduce 2026-11-28-cats-and-"
                           "dogs-four-models (a file name, stem or slug)")


def reproduce(options, name: str) -> int:
    """`--reproduce POST`: the table on stdout, then what was found and where it is kept."""
    from sitegen.reproduce import reproduce as run_and_compare

    found = run_and_compare(options, name)
    print(found.table())
    print(f"{found.post}: {found.record['summary']} (ran in {found.record['duration_s']} s); "
          f"recorded in {found.record_file}, shown on the page from the next build")
    return found.exit_code


if __name__ == "__main__":
    sys.exit(main())
