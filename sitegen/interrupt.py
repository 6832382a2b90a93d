"""Ctrl-C and SIGTERM as a request to stop, which the build honours where stopping is safe.

Python turns SIGINT into a KeyboardInterrupt raised wherever the main thread happens to be
(half-way through swapping a cache entry, say) and SIGTERM kills the process outright, leaving
the kernels it started behind. Here both only set a `StopRequest`: the main thread checks it
between steps and while it waits for posts to run, and each worker watches it to interrupt and
shut down its kernel. A second Ctrl-C is not needed.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from sitegen.exceptions import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest(threading.Event):
    """Set once a stop is asked for; remembers which signal asked."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None

    def request(self, signum: int = signal.SIGINT) -> None:
        if self.signum is None:
            self.signum = signum
        self.set()

    @property
    def exit_code(self) -> int:
        """The shell's code for this signal: 130 for Ctrl-C, 143 for SIGTERM."""
        return 128 + (self.signum or signal.SIGINT)

    def check(self, where: str) -> None:
        """Raises Interrupted (saying `where` the build was) if a stop has been asked for."""
        if self.is_set():
            raise Interrupted(self.signum or signal.SIGINT, where)


@contextlib.contextmanager
def stop_on_signals(stop: StopRequest | None = None) -> Iterator[StopRequest]:
    """Within the block, SIGINT and SIGTERM set the returned request instead of acting at once.

    Given a request already (`--serve` keeps one across rebuilds), it is used as it is. Signal
    handlers can only be installed from the main thread; elsewhere the request only ever
    stops the build when someone sets it.
    """
    if stop is not None:
        yield stop
        return
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = {signum: signal.signal(signum, lambda signum, frame: stop.request(signum))
                for signum in SIGNALS}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
