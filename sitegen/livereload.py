"""Live reload for `build.py --serve`: an open page reloads itself after each rebuild.

Only the preview server adds the script, to the HTML it sends; the files in `_site/` never
contain it. The script long-polls `/__livereload?after=N`: the server answers when the build
generation is no longer N (or after 25 s, and the script asks again), so a rebuild shows in the
browser at once (a failed one as a box with its errors, over the last good page), with no WebSocket server and no dependency (mkdocs serve does the same:
https://github.com/mkdocs/mkdocs/blob/master/mkdocs/livereload/__init__.py). A server that
restarts starts again at generation 0, which also reloads the page. The scroll position is
kept across the reload.
"""

from __future__ import annotations

import http.server
import os
import threading
from html import escape
from urllib.parse import parse_qs, urlsplit

ENDPOINT = "/__livereload"
WAIT_SECONDS = 25.0

SCRIPT = """<script>/* live reload: added by `build.py --serve`, not in the published site */
(() => {
  const seen = %(generation)d, key = "livereload-scroll:" + location.pathname;
  const saved = sessionStorage.getItem(key);
  if (saved !== null) {
    sessionStorage.removeItem(key);
    addEventListener("load", () => scrollTo(0, Number(saved)));
  }
  async function poll() {
    try {
      const answer = await fetch("%(endpoint)s?after=" + seen, {cache: "no-store"});
      if (answer.ok && Number(await answer.text()) !== seen) {
        sessionStorage.setItem(key, String(scrollY));
        location.reload();
        return;
      }
    } catch (error) {  // the server is restarting: ask again soon
      await new Promise(resolve => setTimeout(resolve, 1000));
    }
    poll();
  }
  poll();
})();
</script>
"""


ERROR_BOX = """<pre id="build-error" role="alert" style="position: fixed; left: 0; right: 0;
bottom: 0; max-height: 50vh; overflow: auto; margin: 0; padding: 1rem; z-index: 2147483647;
background: #fff0f0; color: #600; border-top: 3px solid #c00; white-space: pre-wrap;
font: 13px/1.4 ui-monospace, monospace">The last rebuild failed; this page is from the last good
build. Fix the source and save: the page reloads by itself.

%(error)s</pre>
"""


class Reloader:
    """The build generation, what went wrong in the last build (shown in every open page),
    and a way to wait until the generation changes."""

    def __init__(self) -> None:
        self.generation = 0
        self.error = ""  # the last build's errors as the terminal showed them; empty if none
        self._changed = threading.Condition()

    def bump(self) -> None:
        """Called after each rebuild: every waiting page reloads."""
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait(self, after: int, timeout: float = WAIT_SECONDS) -> int:
        """The generation once it is not `after`, or the same one after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self.generation != after, timeout)
            return self.generation


def inject(html: bytes, generation: int, error: str = "") -> bytes:
    """The page with the reload script (and the last build's error, if any) before its last
    `</body>` (at the end if none)."""
    script = (SCRIPT % {"generation": generation, "endpoint": ENDPOINT}
              + (ERROR_BOX % {"error": escape(error)} if error else "")).encode("utf-8")
    at = html.lower().rfind(b"</body>")
    return html + script if at < 0 else html[:at] + script + html[at:]


class LiveReloadMixin(http.server.SimpleHTTPRequestHandler):
    """GET handling for the preview: the generation endpoint, and HTML pages with the script.

    The class using it sets `reloader`; everything else is SimpleHTTPRequestHandler's.
    """

    reloader: Reloader

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == ENDPOINT:
            return self.send_generation(url.query)
        path = self.translate_path(self.path)
        if os.path.isdir(path) and url.path.endswith("/"):
            path = os.path.join(path, "index.html")
        if not (path.endswith(".html") and os.path.isfile(path)):
            return super().do_GET()
        with open(path, "rb") as page:
            self.send_bytes(inject(page.read(), self.reloader.generation, self.reloader.error),
                            "text/html; charset=utf-8")

    def send_generation(self, query: str) -> None:
        try:
            after = int(parse_qs(query).get("after", ["-1"])[0])
        except ValueError:
            after = -1
        self.send_bytes(str(self.reloader.wait(after)).encode(), "text/plain")

    def send_bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)
