"""What the author sees while posts run: post k of N, cell k of M, elapsed time.

A terminal gets one line redrawn in place (a bar); anything else (CI, a log file) gets plain
lines, one per cell, so the log reads in order.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

BAR_WIDTH = 24


class Progress:
    """Receives the builder's execution events and shows them; safe to call from threads."""

    def __init__(self, total_posts: int, stream: TextIO | None = None,
                 is_terminal: bool | None = None):
        self.stream = stream or sys.stderr
        self.is_terminal = self.stream.isatty() if is_terminal is None else is_terminal
        self.total_posts = total_posts
        self.started: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()

    def post_started(self, name: str) -> None:
        with self.lock:
            self.started[name] = (len(self.started) + 1, time.monotonic())
            self._line(name, f"starting a kernel")

    def cell_started(self, name: str, cell: int, cells: int) -> None:
        with self.lock:
            bar = _bar(cell - 1, cells) + " " if self.is_terminal else ""
            self._line(name, f"{bar}cell {cell}/{cells}")

    def post_finished(self, name: str, ok: bool) -> None:
        with self.lock:
            self._line(name, "done" if ok else "FAILED", final=True)

    def _line(self, name: str, what: str, final: bool = False) -> None:
        number, start = self.started.get(name, (0, time.monotonic()))
        elapsed = _clock(time.monotonic() - start)
        text = f"post {number}/{self.total_posts} {name}: {what} [{elapsed}]"
        if self.is_terminal:
            end = "\n" if final else ""
            self.stream.write(f"\r\033[K{text}{end}")
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def _bar(done: int, total: int) -> str:
    filled = round(BAR_WIDTH * done / total) if total else BAR_WIDTH
    return "[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]"


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes:d}:{seconds:02d}"
