"""JSON input as the contract reads it: a key given twice is an error, never a silent overwrite.

One hook serves every front end (``query``, ``audit``, the CDS Hooks service), each of which
words the error for its own users.
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateKeyError(ValueError):
    """A JSON object gives ``key`` more than once."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} given more than once")
        self.key = key


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for json: the object, or DuplicateKeyError."""
    result = dict(pairs)
    if len(result) != len(pairs):  # rare: find which key came twice
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return result


STRICT_DECODER = json.JSONDecoder(object_pairs_hook=reject_duplicates)
"""A decoder to reuse (``json.loads`` with a hook builds a new one per call)."""
