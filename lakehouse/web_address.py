"""Which addresses a source gives may be served as links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def web_address(value: Any) -> str | None:
    """A record's page as the source gave it, when it is an http(s) address with a host; else None. It reaches a
    reader's browser as a link, where a javascript: or data: value would run."""
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:  # an address that cannot be read (an unclosed [ in its host)
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value
