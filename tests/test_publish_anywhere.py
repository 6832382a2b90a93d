"""The committed results publish on a machine that has none of the data: a reader's clone, a
hosted CI runner, a GitHub Pages build. This repository's own posts and `_freeze/` are copied
to a folder with no `../shared` beside it and an empty home, and built there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github/workflows/pages.yml"
COPIED = ("posts", "catdog", "sitegen", "templates", "_config.yml", "build.py", "pyproject.toml")
NOT_COMMITTED = shutil.ignore_patterns("__pycache__", ".local", "smoke", "*.failed.json", ".*")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """What `git clone` gives a reader: the tracked tree, and nothing of this machine's."""
    where = tmp_path_factory.mktemp("elsewhere")
    clone = where / "blog"
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, clone / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, clone / name)
    shutil.copytree(REPO / "_freeze", clone / "_freeze", ignore=NOT_COMMITTED)
    assert not (where / "shared").exists()
    (where / "home").mkdir()
    return clone


def bare_environment(clone: Path) -> dict[str, str]:
    """No data variables, an empty HOME and Keras cache: nothing of this machine's to find."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CATDOG_", "KERAS_"))}
    home = clone.parent / "home"
    return {**env, "HOME": str(home), "KERAS_HOME": str(home / ".keras")}


def run(command: list[str] | str, clone: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=clone, env=bare_environment(clone), capture_output=True,
                          text=True, timeout=300, shell=isinstance(command, str))


def test_the_committed_results_publish_without_their_data(clone):
    status = run([sys.executable, "build.py", "--status"], clone)
    posts = sorted(path.name for path in (clone / "posts").glob("*.md"))
    assert len(status.stdout.splitlines()) == len(posts), status.stdout + status.stderr
    for line in status.stdout.splitlines():
        assert ": fresh (data not on this machine: " in line, line

    built = run([sys.executable, "build.py", "--frozen", "--check"], clone)
    assert built.returncode == 0, built.stdout + built.stderr
    assert re.search(rf"Processed {len(posts)} posts \(0 executed, {len(posts)} from cache, "
                     r"0 failed\)", built.stdout), built.stdout
    pages = list((clone / "_site").rglob("*.html"))
    for post in posts:
        slug = post[len("YYYY-MM-DD-"):-len(".md")]
        assert any(page.name == f"{slug}.html" for page in pages), (post, pages)


def test_the_github_pages_workflow_builds_the_site_here(clone):
    """The workflow's own commands, run in the same bare clone (the install is the README's)."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    commands = [step["run"] for step in steps if "run" in step]
    assert commands[0] == "python -m pip install -r requirements.lock -e ."  # done for this run
    outputs = {"steps.pages.outputs.base_path": "/catdog-blog",
               "steps.pages.outputs.origin": "https://example.github.io"}
    for command in commands[1:]:
        command = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: outputs[m[1]], command)
        done = run(command.replace("python ", f"{sys.executable} ", 1), clone)
        assert done.returncode == 0, command + "\n" + done.stdout + done.stderr
    for listing in ("sitemap.xml", "feed.xml"):  # pages link relatively; these absolutely
        assert "https://example.github.io/catdog-blog/2026/" in (clone / "_site" / listing).read_text()
    assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") for step in steps)
