"""The lock (`requirements.lock`): the versions a fresh install gets, to compare with a run's.

A run records the versions it ran under (`catdog.results.environment()`); a reader who installs
from the lock and runs the post again gets the lock's. When the two differ, the post's numbers
may not come back on a fresh machine, so `--status` says so in one note. The lock is uv's
universal resolution: a pin may hold for some Python versions only (`; python_version >= ...`),
so each post's pins are read for the Python it recorded, on Linux x86-64.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sitegen.exceptions import BuildError

LOCK_FILE = "requirements.lock"
LOCKED_KEYS = ("keras", "tensorflow", "jax", "jaxlib", "numpy")  # results.environment's names
PLATFORM = {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
            "os_name": "posix", "implementation_name": "cpython",
            "platform_python_implementation": "CPython"}


@dataclass
class Lock:
    """The pinned requirements of a lock file, read once per build."""

    path: Path
    requirements: list  # packaging.requirements.Requirement, each `name==version[; marker]`

    @classmethod
    def read(cls, root: Path) -> Lock | None:
        """The site's lock, or None when it has none (a test site, an old clone)."""
        from packaging.requirements import InvalidRequirement, Requirement

        path = root / LOCK_FILE
        if not path.is_file():
            return None
        requirements = []
        for number, line in enumerate(path.read_text().splitlines(), 1):
            text = line.split(" #")[0].strip()
            if not text or text.startswith(("#", "-")):
                continue
            try:
                requirements.append(Requirement(text))
            except InvalidRequirement as error:
                raise BuildError(path, f"not a pinned requirement ({error}); make the lock "
                                       "again with `bash tools/lock.sh`", line=number) from None
        return cls(path, requirements)

    def versions(self, python: str) -> dict[str, str]:
        """Each package's pinned version under `python` (e.g. "3.11.7") on Linux x86-64."""
        from packaging.utils import canonicalize_name

        environment = {**PLATFORM, "python_full_version": python,
                       "python_version": ".".join(python.split(".")[:2])}
        return {canonicalize_name(requirement.name): str(requirement.specifier).lstrip("=")
                for requirement in self.requirements
                if requirement.marker is None or requirement.marker.evaluate(environment)}

    def note(self, recorded: Mapping[str, str | None]) -> str | None:
        """One note when the run recorded other versions than the lock pins, else None.

        Only what the run had counts (a run without JAX does not differ by JAX).
        """
        if not recorded.get("python"):
            return None
        locked = self.versions(str(recorded["python"]))
        differences = [f"{name} {recorded[name]} (locked {locked[name]})" for name in LOCKED_KEYS
                       if recorded.get(name) and name in locked and recorded[name] != locked[name]]
        if not differences:
            return None
        return (f"ran under other versions than {LOCK_FILE}: {', '.join(differences)}; a fresh "
                "install may not get its numbers back (--force POST runs it under the lock)")
