"""Small HTTP helpers shared by the simulators: JSON answers, credentials, time formats."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = "application/json"
) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, headers=headers, media_type=media_type)


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def scheme_token(request: Request, scheme: str) -> str | None:
    """The token after `<scheme> ` in the Authorization header (case-insensitive scheme)."""
    header = request.headers.get("authorization", "")
    found, _, value = header.partition(" ")
    return value.strip() if found.lower() == scheme.lower() and value.strip() else None


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def iso_seconds(epoch_s: int) -> str:
    """RFC 3339 UTC with second precision (Argo CD)."""
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_millis(epoch_ms: int) -> str:
    """ISO 8601 UTC with milliseconds and Z (GitLab, Elasticsearch)."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_RELATIVE_RE = re.compile(r"^now(?:-(\d+)([smhdwMy]))?(?:/([smhdwMy]))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}


def parse_iso_ms(text: str) -> int | None:
    """Epoch milliseconds of an ISO-8601 string; no zone means UTC; None when it is no instant."""
    match = _ISO_RE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC
        )
    except ValueError:
        return None  # shaped like a date, yet none (month 13, February 30): unreadable, as the APIs say
    millis = int((fraction or "0").ljust(3, "0")[:3])
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return int(moment.timestamp()) * 1000 + millis


def parse_instant_ms(text: str, now_ms: int) -> int | None:
    """Epoch ms from epoch-millis digits, ISO-8601, or a relative `now-2h` / `now-1d/d` expression."""
    value = text.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    relative = _RELATIVE_RE.match(value)
    if relative:
        amount, unit, rounding = relative.groups()
        moment = now_ms - (int(amount) * _UNIT_SECONDS[unit] * 1000 if amount else 0)
        if rounding:
            step = _UNIT_SECONDS[rounding] * 1000
            moment -= moment % step
        return moment
    return parse_iso_ms(value)
