"""One kind of memo: what a build worked out, kept in a file so the next build need not again.

Pelican's FileStampDataCacher is the model: a memo belongs to a `context` (the versions and
code it was made by); a missing, unreadable or other-context file is an empty memo, never an
error, and a memo that cannot be saved is a warning. JSON for facts a person may read
(fingerprints, the pages a build wrote), pickle for Python objects (read posts).
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any

from sitegen.files import write_atomically

log = logging.getLogger(__name__)


class Memo:
    """A dict kept between builds in `path`, valid only for the same `context`."""

    def __init__(self, path: Path, context: str = "1"):
        self.path = path
        self.context = context
        self.data: dict[str, Any] = self.load()
        self.changed = False

    @property
    def is_pickle(self) -> bool:
        return self.path.suffix == ".pickle"

    def load(self) -> dict[str, Any]:
        """The memo's data; {} when missing, truncated, or made in another context."""
        try:
            raw = self.path.read_bytes()
            memo = pickle.loads(raw) if self.is_pickle else json.loads(raw)
            return memo["data"] if memo.get("context") == self.context else {}
        except Exception:  # missing, damaged, from another version: work it out again
            return {}

    def dumps(self) -> bytes:
        memo = {"context": self.context, "data": self.data}
        if self.is_pickle:
            return pickle.dumps(memo, protocol=pickle.HIGHEST_PROTOCOL)
        return json.dumps(memo, indent=1, sort_keys=True).encode()

    def save(self) -> None:
        """Writes the memo if it changed; a failure is a warning (the next build recomputes)."""
        if not self.changed:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, self.dumps())
        except (OSError, pickle.PicklingError) as error:
            log.warning("Cannot save the memo %s: %s", self.path, error)
