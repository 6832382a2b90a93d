"""What a notebook cell says about itself: its tags (`parameters`, `raises-exception`,
`remove-input`, ...), read one way by the reader, the key, the runner, the cache and the
renderer alike."""

from __future__ import annotations

from typing import Any

INJECTED = "injected-parameters"  # the cell the build adds after a post's `parameters` cell


def tags(cell: Any) -> set[str]:
    """The cell's tags (`metadata.tags`); none when it has no metadata."""
    return set(cell.get("metadata", {}).get("tags", []))


def is_injected(cell: Any) -> bool:
    """A cell the build added (parameters), not one of the post's."""
    return INJECTED in tags(cell)
