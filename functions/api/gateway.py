"""The API Gateway request a Lambda event carries, checked and made ready for Mangum.

Mangum reads an event's fields as API Gateway writes them and fails on anything else with an error that says
nothing of the event (a KeyError, an AttributeError on None); it also decodes the path once more. Events come from
API Gateway, or from a person invoking the function by hand: the second gets a ValueError naming what is missing,
before the app is built."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from lakehouse.lambda_event import event_object
from lakehouse.text import valid_text

EXAMPLE = "an API Gateway request (HTTP API or REST API)"
# The admin routes' path: the admin router's prefix, and the gateway's admin route keys (infra/terraform/modules/api).
ADMIN_PATH = "/monitoring/admin"


def request_event(event: object) -> dict[str, Any]:
    """The event as Mangum should read it, or a ValueError saying why it is no API Gateway request."""
    request = event_object(event, EXAMPLE)
    if request.get("version") == "2.0":
        request = _http_api(request)
    elif "httpMethod" in request:
        request = _rest_api(request)
    else:
        raise ValueError(
            "the event is no API Gateway request: an HTTP API's has version 2.0 and requestContext.http, a REST "
            f"API's httpMethod and path; got the keys {sorted(request)[:20]}"
        )
    _check_body(request)
    # Half a character (a lone surrogate) in a header, the query or the body cannot be encoded to the bytes the app
    # reads: it becomes U+FFFD, as a UTF-8 decoder shows a broken character, and the request is answered.
    return dict(valid_text(request))


def _http_api(event: dict[str, Any]) -> dict[str, Any]:
    context = _object(event, "requestContext")
    http = _object(context, "http", "requestContext.")
    for name in ("method", "path", "sourceIp"):
        _text(http, name, "requestContext.http.")
    headers = _texts(event, "headers")
    query = event.get("rawQueryString")
    if query is not None and not isinstance(query, str):
        raise ValueError(f"rawQueryString is {_kind(query)}, not a text")
    cookies = event.get("cookies")
    if cookies is not None and not (isinstance(cookies, list) and all(isinstance(c, str) for c in cookies)):
        raise ValueError("cookies is not a list of texts")
    # The paths as the app's routes know them, a named stage's name taken off: the admin routes are told by those.
    decoded, raw = _without_stage(http["path"], context), event.get("rawPath")
    raw = _without_stage(raw, context) if isinstance(raw, str) else None
    # An HTTP API hands over its path decoded once (a client's %2561dmin arrives as %61dmin), and Mangum decodes
    # it again: escaped here, its % stay the characters the client meant, so %61dmin names no admin route.
    path = decoded.replace("%", "%25")
    if raw is not None and _admin(decoded) and not _admin(unquote(re.sub("%2[fF]", "%252F", raw))):
        # An encoded slash (/monitoring/admin%2Fbatch-runs) reaches the admin routes once decoded, where the gateway
        # matched a reader route (GET /monitoring/{proxy+}) and checked no admin scope: the path stays as sent,
        # which no route has.
        path = raw.replace("%", "%25")
    return {
        **event,
        "headers": headers,
        "rawQueryString": query or "",
        "rawPath": path,
        "requestContext": {**context, "http": {**http, "path": path}},
    }


def _without_stage(path: str, context: Mapping[str, Any]) -> str:
    """`path` without the stage's name in front: an HTTP API stage other than $default puts it there
    (/prod/monitoring/...), in the raw path and the decoded one; the $default stage has none."""
    stage = context.get("stage")
    prefix = f"/{stage}/"
    if not isinstance(stage, str) or not stage or stage == "$default" or not path.startswith(prefix):
        return path
    return path[len(prefix) - 1 :]


def _admin(path: str) -> bool:
    return path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/")


def _rest_api(event: dict[str, Any]) -> dict[str, Any]:
    _text(event, "httpMethod")
    _text(event, "path")
    context = _object(event, "requestContext")
    identity = context.get("identity")
    if identity is not None and not isinstance(identity, Mapping):
        raise ValueError(f"requestContext.identity is {_kind(identity)}, not an object")
    single = {name: _texts(event, name) for name in ("headers", "queryStringParameters")}
    multi = {name: _lists(event, name) for name in ("multiValueHeaders", "multiValueQueryStringParameters")}
    return {
        **event,
        **single,
        **multi,
        "requestContext": {**context, "identity": identity or {}},
    }


def _check_body(event: dict[str, Any]) -> None:
    body, encoded = event.get("body"), event.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        # "false" is a text, which Mangum would take as true and decode the body as base64.
        raise ValueError(f"isBase64Encoded is {_kind(encoded)}, not true or false")
    if body is None:
        return
    if not isinstance(body, str):
        raise ValueError(f"body is {_kind(body)}, not a text")
    if encoded:
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("body is not base64, though isBase64Encoded says it is") from None


def _object(parent: Mapping[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"{where}{name} is {_kind(value)}, not an object")
    return value


def _text(parent: Mapping[str, Any], name: str, where: str = "") -> str:
    value = parent.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{where}{name} is {_kind(value)}, not a text")
    return value


def _texts(event: Mapping[str, Any], name: str) -> dict[str, str]:
    """A map of texts (headers, query parameters); null is an empty one, as API Gateway sends for none."""
    value = event.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError(f"{name} is not an object of texts")
    return value


def _lists(event: Mapping[str, Any], name: str) -> dict[str, list[str]] | None:
    value = event.get(name)
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v) for k, v in value.items()
    ):
        raise ValueError(f"{name} is not an object of lists of texts")
    return value


def _kind(value: object) -> str:
    if value is None:
        return "missing or null"
    return {dict: "an object", list: "an array", str: "a text", bool: "true or false"}.get(type(value), "a number")
