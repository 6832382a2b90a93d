"""The builder's shape: modules in layers, and no module changing the process's environment."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SITEGEN = REPO / "sitegen"


def package_imports(folder: Path) -> dict[str, set[str]]:
    """Each module of a package and the package's modules it imports, at the top or in a function.

    Imports under `if TYPE_CHECKING:` never run, so they are left out.
    """
    package = folder.name
    modules = {path.stem for path in folder.glob("*.py")}
    graph = {}
    for path in sorted(folder.glob("*.py")):
        imported = set()
        tree = ast.parse(path.read_text())
        for block in ast.walk(tree):
            if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING":
                block.body = []
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == package:
                imported |= {alias.name for alias in node.names}  # from sitegen import cache
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{package}."):
                imported.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[1] for alias in node.names
                             if alias.name.startswith(f"{package}.")}
        graph[path.stem] = (imported & modules) - {path.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle, as the list of modules around it, or [] when there is none."""
    def visit(module: str, path: list[str]) -> list[str]:
        for name in sorted(graph[module]):
            if name in path:
                return path[path.index(name):] + [name]
            if cycle := visit(name, path + [name]):
                return cycle
        return []

    for module in sorted(graph):
        if cycle := visit(module, [module]):
            return cycle
    return []


def test_no_sitegen_module_imports_one_that_imports_it_back():
    assert find_cycle(package_imports(SITEGEN)) == []


def test_no_catdog_module_imports_one_that_imports_it_back():
    # An import inside a function hides a cycle from Python until that function runs.
    assert find_cycle(package_imports(REPO / "catdog")) == []


def test_find_cycle_finds_one():
    assert find_cycle({"checks": {"posts"}, "posts": {"checks"}}) == ["checks", "posts", "checks"]


def test_no_sitegen_module_changes_os_environ():
    # Kernels get their environment passed to them: a change here would leak between posts
    # running side by side.
    changes = re.compile(r"os\.environ\s*\[[^]]*\]\s*=|os\.environ\.(update|pop|setdefault|"
                         r"clear)\(|os\.(putenv|unsetenv)\(|del\s+os\.environ")
    assert [f"{path.name}:{number}" for path in sorted(SITEGEN.glob("*.py"))
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if changes.search(line)] == []


def test_the_readme_names_every_builder_module_and_only_those():
    readme = (SITEGEN.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `sitegen/` |"))
    named = set(re.findall(r"`(\w+)`", row))
    modules = {path.stem for path in SITEGEN.glob("*.py")} - {"__init__"}
    assert named == modules, f"README's layout row: missing {modules - named}, stale {named - modules}"
