"""How errors and the build report show themselves: one way, in `build.py` and `--serve` alike."""

from __future__ import annotations

import http.server
import io
import signal
from pathlib import Path

import pytest

from sitegen.exceptions import BuildError, ExecutionError, Interrupted, PostError
from sitegen.livereload import inject
from sitegen.serve import PreviewServer, rebuild
from sitegen.state import BuildOptions, BuildReport
from conftest import run_build, write_site


def shown(error: BuildError) -> str:
    stream = io.StringIO()
    error.show(stream)
    return stream.getvalue()


def test_a_failed_cell_shows_its_line_then_its_traceback():
    error = ExecutionError(Path("posts/x.md"), "ValueError: bad data", cell=2,
                           cell_source="fit(model)", traceback="Traceback...\nValueError: bad data")
    assert shown(error) == ("build.py: posts/x.md: cell 2 `fit(model)`: ValueError: bad data\n"
                            "Traceback...\nValueError: bad data\n")
    assert error.exit_code == 1


def test_an_interrupt_shows_one_line_and_exits_as_the_shell_expects():
    error = Interrupted(signal.SIGTERM, "posts/x.md at cell 7 of 16")
    assert shown(error) == "interrupted: posts/x.md at cell 7 of 16; nothing published\n"
    assert error.exit_code == 143
    assert Interrupted(signal.SIGINT, "while writing the site").exit_code == 130


def test_a_report_shows_errors_and_problems_on_stderr_and_the_summary_on_stdout():
    report = BuildReport(posts=2, executed=["a"],
                         errors=[PostError("posts/b.md", "missing title", line=2)],
                         problems=["posts/a.md: expected test_accuracy >= 0.9, got 0.5"])
    out, err = io.StringIO(), io.StringIO()
    report.show(out, err)
    assert err.getvalue() == ("build.py: posts/b.md:2: missing title\n"
                              "CHECK posts/a.md: expected test_accuracy >= 0.9, got 0.5\n")
    assert out.getvalue().startswith("Processed 2 posts (1 executed, 0 from cache, 1 failed) in ")
    assert report.exit_code == 1


@pytest.mark.slow
def test_serve_reports_a_rebuild_exactly_as_build_py_reports_a_build(tmp_path, capsys):
    site = write_site(tmp_path, {
        "2026-01-02-links.md": "---\ntitle: Links\n---\n\nSee [the missing page](/nowhere.html).\n",
        "2026-01-03-untitled.md": "---\ndate: 2026-01-03\n---\n\nNo title.\n"})
    run_build(site)  # runs the post (progress lines): the two reports compared run nothing
    capsys.readouterr()
    run_build(site, "--check")
    from_build = capsys.readouterr().err

    for_the_page = rebuild(BuildOptions(root=site, check=True))

    assert capsys.readouterr().err == from_build
    assert "CHECK " in from_build and "broken link /nowhere.html" in from_build
    assert "2026-01-03-untitled.md:1: missing title" in from_build
    assert for_the_page.splitlines() == from_build.splitlines()  # the open page shows the same


def test_an_open_page_shows_the_failed_rebuild_over_the_last_good_page():
    page = inject(b"<html><body><p>Old page</p></body></html>", 3,
                  error="build.py: posts/x.md:10: `results.f1` is not recorded <by the run>")
    assert page.index(b"Old page") < page.index(b'id="build-error"') < page.index(b"</body>")
    assert b"posts/x.md:10: `results.f1` is not recorded &lt;by the run&gt;" in page
    assert b'id="build-error"' not in inject(b"<body></body>", 3)


def test_a_closed_tab_is_no_traceback(capsys):
    server = PreviewServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    try:
        for error in (BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")):
            try:
                raise error
            except OSError:
                server.handle_error(None, ("127.0.0.1", 1234))
    finally:
        server.server_close()
    assert capsys.readouterr().err == ""
