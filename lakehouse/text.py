"""Text as UTF-8 can hold it."""

from __future__ import annotations

import re
from typing import Any

# A lone UTF-16 surrogate: half of a character outside the Basic Multilingual Plane (an emoji, say), left by a
# source that cut its text in UTF-16 and sent the half as a JSON escape ("\ud83d"). Python's JSON decoder keeps
# it; UTF-8, and so Arrow, Parquet and every answer of the API, cannot hold it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: Any) -> Any:
    """`value` with each lone surrogate in its text (in lists and objects too) replaced by U+FFFD, the replacement
    character, as a UTF-8 decoder shows a broken character: the rest of the text is kept."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list | tuple):
        return [valid_text(v) for v in value]
    if isinstance(value, dict):
        return {k: valid_text(v) for k, v in value.items()}
    return value
