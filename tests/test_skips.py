"""Every skip says why and the one command that removes it, so `pytest -rs` is a to-do list."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
COMMAND = re.compile(r"`[^`]+`")  # the command, in backticks: `apt-get install chromium ...`


def skip_reasons(source: str) -> list[tuple[int, str | None]]:
    """(line, reason) of every pytest.skip, pytest.importorskip and pytest.mark.skipif call; the
    reason is its text (an f-string's literal parts) or None when it gives none."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = ast.unparse(node.func)
        if name not in {"pytest.skip", "pytest.importorskip", "pytest.mark.skipif"}:
            continue
        reasons = [keyword.value for keyword in node.keywords if keyword.arg == "reason"]
        if name == "pytest.skip" and node.args:
            reasons.append(node.args[0])
        found.append((node.lineno, _text(reasons[0]) if reasons else None))
    return found


def _text(node: ast.expr) -> str:
    return "".join(part.value for part in ast.walk(node)
                   if isinstance(part, ast.Constant) and isinstance(part.value, str))


def test_a_skip_without_a_command_is_found():
    reasons = skip_reasons('pytest.skip("needs root")\n'
                           'pytest.importorskip("keras")\n'
                           'pytest.mark.skipif(x, reason=f"needs {x}: `apt-get install x`")\n')
    assert reasons == [(1, "needs root"), (2, None), (3, "needs : `apt-get install x`")]


def test_every_skip_in_the_suite_names_its_reason_and_the_command_that_removes_it():
    missing = [f"{path.name}:{line}: {reason!r}"
               for path in sorted(TESTS.glob("test_*.py"))
               for line, reason in skip_reasons(path.read_text())
               if reason is None or not COMMAND.search(reason)]
    assert not missing, "skips without a `command` in their reason:\n" + "\n".join(missing)
