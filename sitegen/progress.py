"""What the author sees while posts run: post k of N, cell k of M, elapsed time.

A terminal gets one line redrawn in place (a bar), its clock ticking every second; anything
else (CI, a log file) gets plain lines, one per cell and one a minute while a long cell runs,
so the log reads in order and never goes quiet for the length of a training cell.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

BAR_WIDTH = 24
TICK_SECONDS = {True: 1.0, False: 60.0}  # terminal, plain


class Progress:
    """Receives the builder's execution events and shows them; safe to call from threads."""

    def __init__(self, total_posts: int, stream: TextIO | None = None,
                 is_terminal: bool | None = None):
        self.stream = stream or sys.stderr
        self.is_terminal = self.stream.isatty() if is_terminal is None else is_terminal
        self.total_posts = total_posts
        self.started: dict[str, tuple[int, float]] = {}
        self.running: dict[str, str] = {}  # post -> what it is doing now
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        threading.Thread(target=self._tick, daemon=True).start()

    def close(self) -> None:
        """Stops the clock; call once every post has finished."""
        self.stopped.set()

    def post_started(self, name: str) -> None:
        with self.lock:
            self.started[name] = (len(self.started) + 1, time.monotonic())
            self.running[name] = "starting a kernel"
            self._line(name, self.running[name])

    def cell_started(self, name: str, cell: int, cells: int) -> None:
        with self.lock:
            bar = _bar(cell - 1, cells) + " " if self.is_terminal else ""
            self.running[name] = f"{bar}cell {cell}/{cells}"
            self._line(name, self.running[name])

    def post_finished(self, name: str, ok: bool, label: str | None = None) -> None:
        """`label` replaces "done"/"FAILED", e.g. "interrupted"."""
        with self.lock:
            self.running.pop(name, None)
            self._line(name, label or ("done" if ok else "FAILED"), final=True)

    def _tick(self) -> None:
        interval = TICK_SECONDS[self.is_terminal]
        while not self.stopped.wait(interval):
            with self.lock:
                for name, what in list(self.running.items())[-1:] if self.is_terminal \
                        else self.running.items():
                    self._line(name, what if self.is_terminal else f"{what}, still running")

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
