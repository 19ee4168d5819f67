"""Request bodies read as JSON the way mapping files are read: a key written twice in one object is refused.

Python's reader keeps the last of two values for one key, so `{"replace": false, "replace": true}` would replace
the whole mapping without a word about the first value.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request


class KeyWrittenTwice(ValueError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"key {key!r} written twice in one object")


def _one_value_per_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise KeyWrittenTwice(key)
            seen.add(key)
    return found


class JsonBodyRequest(Request):
    """FastAPI reads a body through `Request.json()`: here, with one value per key."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), object_pairs_hook=_one_value_per_key)
        return self._json
