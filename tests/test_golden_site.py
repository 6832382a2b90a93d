"""The golden site: what is published, file by file, as Pelican's functional test does.

`tests/golden/site/` holds three posts with their committed cache entries (no kernel starts);
it is built with this repository's templates through `build.main`, exactly as `python build.py
--frozen --check` builds, and every file of its `_site/` is compared with `tests/golden/expected/`.
Any change to what is published shows up here as a diff. When the change is meant, regenerate:

    GOLDEN_UPDATE=1 python -m pytest tests/test_golden_site.py

and read the diff of tests/golden/expected/ before committing it. The same command re-keys the
golden entries to the catdog the kernel imports (their key covers it, as every post's does), so
after a change to catdog the golden site is fresh again without running anything.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest

import build

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests/golden"
LOCAL_ONLY = {".buildinfo.json"}  # stamps of this machine's build, not published content


def rekey_to_installed_catdog(freeze: Path) -> None:
    """The golden entries' `catdog` key part made the catdog the kernel imports now."""
    from sitegen.freshness import kernel_package
    from sitegen.stamps import package_hashes

    catdog = package_hashes(kernel_package("python3"))
    for manifest_file in sorted(freeze.glob("*/real/manifest.json")):
        manifest = json.loads(manifest_file.read_text())
        manifest["key"]["catdog"] = catdog
        manifest_file.write_text(json.dumps(manifest, indent=1, sort_keys=True))


@pytest.fixture
def built_site(tmp_path) -> Path:
    if os.environ.get("GOLDEN_UPDATE"):
        rekey_to_installed_catdog(GOLDEN / "site/_freeze")
    root = tmp_path / "golden"
    shutil.copytree(GOLDEN / "site", root)
    shutil.copytree(REPO / "templates", root / "templates")
    assert build.main(["--root", str(root), "--frozen", "--check"]) == 0
    return root / "_site"


def published_files(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes()
            for path in sorted(site.rglob("*")) if path.is_file() and path.name not in LOCAL_ONLY}


def test_the_golden_site_is_published_exactly(built_site):
    expected_dir = GOLDEN / "expected"
    got = published_files(built_site)
    if os.environ.get("GOLDEN_UPDATE"):
        shutil.rmtree(expected_dir, ignore_errors=True)
        for name, data in got.items():
            (expected_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / name).write_bytes(data)
    expected = published_files(expected_dir)
    assert sorted(got) == sorted(expected), "files published differ from tests/golden/expected/"
    for name in expected:
        if got[name] != expected[name]:
            diff = difflib.unified_diff(expected[name].decode(errors="replace").splitlines(),
                                        got[name].decode(errors="replace").splitlines(),
                                        f"expected/{name}", f"built/{name}", lineterm="", n=2)
            pytest.fail(f"{name} differs (GOLDEN_UPDATE=1 to accept):\n"
                        + "\n".join(list(diff)[:60]))


def test_a_rebuild_from_the_same_cache_publishes_the_same_bytes(built_site):
    first = published_files(built_site)
    shutil.rmtree(built_site)
    assert build.main(["--root", str(built_site.parent), "--frozen"]) == 0
    assert published_files(built_site) == first
