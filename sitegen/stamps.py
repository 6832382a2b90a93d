"""Stamps: a hash of everything a memo's contents were made from, so a memo made by other
code, libraries or settings is never used."""

from __future__ import annotations

import hashlib
from pathlib import Path

from catdog import results as catdog_results

MEMO_VERSION = 1


def builder_context(parts: list[str | bytes], libraries: tuple[str, ...]) -> str:
    """What a memo of the builder's work depends on besides its input: `parts`, the versions
    of `libraries`, and the builder's own source."""
    return hash_parts([str(MEMO_VERSION), *parts, *versions(libraries), *builder_sources()])


def builder_sources() -> list[str]:
    """The hash of every source file of the builder and of the results record it reads: a
    changed renderer, parser or record reader must parse and render everything again.

    Derived from the packages themselves (not a hand-kept list, which drifts)."""
    root = Path(__file__).resolve().parents[1]
    hashes = {**package_hashes(root / "sitegen"), **package_hashes(root / "catdog")}
    return [f"{name}:{digest}" for name, digest in sorted(hashes.items())
            if name.startswith("sitegen/") or name == "catdog/results.py"]


def versions(distributions: tuple[str, ...]) -> list[str]:
    import importlib.metadata

    found = []
    for name in distributions:
        try:
            found.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{name}=none")
    return found


def hash_parts(parts: list[str | bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def package_hashes(package_dir: Path | None) -> dict[str, str]:
    """`catdog.results.package_hashes` (the hashing a run record uses for its own catdog, so
    the two compare), or {} for no package."""
    return {} if package_dir is None else catdog_results.package_hashes(package_dir)
