"""What the author sees while posts run."""

import io
import time

from sitegen import progress as progress_module
from sitegen.progress import Progress


def test_plain_lines_name_post_cell_and_elapsed_time():
    stream = io.StringIO()
    progress = Progress(2, stream=stream, is_terminal=False)
    progress.post_started("four-models")
    progress.cell_started("four-models", 3, 16)
    progress.post_finished("four-models", ok=True)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "post 1/2 four-models: starting a kernel [0:00]",
        "post 1/2 four-models: cell 3/16 [0:00]",
        "post 1/2 four-models: done [0:00]",
    ]


def test_a_long_cell_keeps_reporting(monkeypatch):
    monkeypatch.setitem(progress_module.TICK_SECONDS, False, 0.05)
    stream = io.StringIO()
    progress = Progress(1, stream=stream, is_terminal=False)
    progress.post_started("slow")
    progress.cell_started("slow", 1, 2)
    time.sleep(0.3)
    progress.close()
    assert "post 1/1 slow: cell 1/2, still running" in stream.getvalue()


def test_a_terminal_gets_one_line_redrawn_with_a_bar():
    stream = io.StringIO()
    progress = Progress(1, stream=stream, is_terminal=True)
    progress.post_started("p")
    progress.cell_started("p", 2, 4)
    progress.close()
    assert "\r\033[Kpost 1/1 p: [######------------------] cell 2/4 [0:00]" in stream.getvalue()
