"""Is a post's cache entry still its result? The key, and everything it is made from.

The key covers what decides a post's outputs: its code cells, kernel and parameters, and the
`catdog` package the kernel imports (the installed one, wherever the site lives: the kernel
never imports `<root>/catdog` unless that is what its Python finds); the data a run read and
the environment it ran in are checked again on every build from what the run recorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE = "catdog"  # the package whose source is part of every post's key
FIND_TIMEOUT_S = 60
# Run by the kernel's Python in an empty folder, as a kernel runs: where would `import NAME` go?
FIND_PACKAGE = ("import importlib.util, json, sys\n"
                "spec = importlib.util.find_spec(sys.argv[1])\n"
                "places = list(spec.submodule_search_locations or []) if spec else []\n"
                "print(json.dumps(places[:1] or [spec.origin] if spec else []))\n")


def kernel_python(kernel: str) -> tuple[str, dict[str, str]] | None:
    """The Python a kernel runs and its environment, as jupyter_client starts it; None when
    the kernel is not installed (its run will say so)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        return None
    program = spec.argv[0]
    # jupyter_client's KernelManager.format_kernel_cmd: `python` means this very Python.
    if program in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        program = sys.executable
    return program, {**os.environ, **(spec.env or {})}


def kernel_package(kernel: str, name: str = PACKAGE) -> Path | None:
    """The folder of package `name` as `kernel` would import it, or None when it cannot."""
    found = kernel_python(kernel)
    if found is None:
        return None
    program, env = found
    with tempfile.TemporaryDirectory() as neutral:
        try:
            done = subprocess.run([program, "-c", FIND_PACKAGE, name], cwd=neutral, env=env,
                                  capture_output=True, text=True, timeout=FIND_TIMEOUT_S)
            places = json.loads(done.stdout or "[]")
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            log.warning("Cannot ask kernel %s where %s is: %s", kernel, name, error)
            return None
    return Path(places[0]) if places else None


def package_hashes(package_dir: Path | None) -> dict[str, str]:
    """A hash of every source file of a package, by path relative to its parent folder
    (`catdog/train.py`); {} for no package."""
    if package_dir is None:
        return {}
    root = package_dir.parent
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(package_dir.rglob("*.py")) if "__pycache__" not in path.parts}
