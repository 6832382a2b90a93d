"""The machine a run ran on: its CPU (model and cores), its GPUs, as a run's record says them.

`--reproduce` records it beside the run it compared with; a cluster worker (sitegen.worker)
reports it with its result, and the page names it.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def hardware(values: Mapping[str, Any]) -> dict[str, Any]:
    """The machine it ran on: the device the post recorded, and the CPU it had."""
    return {"device": values.get("device") if isinstance(values.get("device"), str) else None,
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "machine": platform.machine(), "processor": _processor()}


def _processor() -> str:
    """The CPU's model name (two machines "of the same kind" may differ here, and so may
    their results: see README)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor()


def gpu_names() -> list[str]:
    """NVIDIA GPUs as `nvidia-smi -L` names them; [] on a machine without one."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                 timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.split(" (")[0] for line in listing.splitlines() if line.startswith("GPU")]
