"""`build.py --serve`: preview the site on localhost, rebuilding when a source changes.

Polling file times once a second is all a preview needs; it avoids a file-watching
dependency and works the same on every platform. Ctrl-C or SIGTERM stops it as it stops a
build: a rebuild under way is interrupted (nothing published), then the server ends.
"""

from __future__ import annotations

import functools
import http.server
import logging
import sys
import threading
from pathlib import Path

from sitegen.build import build
from sitegen.exceptions import BuildError, Interrupted
from sitegen.interrupt import StopRequest, stop_on_signals
from sitegen.progress import Progress
from sitegen.state import BuildOptions
from sitegen.livereload import LiveReloadMixin, Reloader

log = logging.getLogger(__name__)

WATCHED = ("posts", "templates", "catdog", "assets", "_config.yml")


def source_times(root: Path) -> dict[str, int]:
    """Modification time of every watched file, by path."""
    times = {}
    for name in WATCHED:
        path = root / name
        files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
        times.update({str(f): f.stat().st_mtime_ns for f in files if f.is_file()})
    return times


def rebuild(options: BuildOptions, stop: StopRequest | None = None) -> str:
    """One build, reported exactly as `build.py` reports it; an error never stops the server,
    a stop request (Interrupted) does. Returns what went wrong (empty if nothing did), for
    the open pages to show."""
    try:
        report = build(options, progress_factory=Progress, stop=stop)
    except Interrupted:
        raise
    except BuildError as error:
        error.show()
        return described(error)
    report.show()
    return "\n".join([*map(described, report.errors),
                      *(f"CHECK {problem}" for problem in report.problems)])


def described(error: BuildError) -> str:
    """An error as the terminal shows it: its line, then its traceback if it has one."""
    return "\n".join(filter(None, [f"build.py: {error}", error.detail()]))


def serve(options: BuildOptions, port: int = 8000, poll_seconds: float = 1.0) -> int:
    """Builds once, serves `_site/` on 127.0.0.1:`port`, and rebuilds on change until stopped.

    Open pages reload themselves after each rebuild (sitegen/livereload.py). Returns the
    shell's code for the signal that stopped it (130 for Ctrl-C, 143 for SIGTERM); a stop
    during a rebuild raises Interrupted, as a build does.
    """
    with stop_on_signals() as stop:
        reloader = Reloader()
        reloader.error = rebuild(options, stop)
        handler = functools.partial(_SiteHandler, site_dir=options.site_dir, reloader=reloader)
        server = PreviewServer(("127.0.0.1", port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]  # the one the system chose for --port 0
        print(f"Serving {options.site_dir} on http://127.0.0.1:{port}/ (Ctrl-C to stop)",
              flush=True)
        seen = source_times(options.root)
        try:
            while not stop.wait(poll_seconds):
                now = source_times(options.root)
                if now != seen:
                    seen = now
                    reloader.error = rebuild(options, stop)
                    reloader.bump()
        finally:
            server.shutdown()
    return stop.exit_code


class PreviewServer(http.server.ThreadingHTTPServer):
    """The preview's server: a reader closing a tab mid-answer (the live-reload request is
    always open) is no error worth a traceback."""

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _SiteHandler(LiveReloadMixin, http.server.SimpleHTTPRequestHandler):
    """Serves the current `_site/`, which each rebuild replaces as a whole folder; HTML pages
    get the live-reload script on the way out (never on disk)."""

    def __init__(self, *args, site_dir: Path, reloader: Reloader, **kwargs):
        self.site_dir = site_dir
        self.reloader = reloader
        super().__init__(*args, directory=str(site_dir), **kwargs)

    def translate_path(self, path: str) -> str:
        # The folder is swapped on rebuild, so resolve it per request, not once at start.
        self.directory = str(self.site_dir)
        return super().translate_path(path)

    def log_message(self, format: str, *args) -> None:
        log.info(format, *args)
