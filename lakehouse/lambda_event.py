"""What every function's Lambda event is: a JSON object. Anything else is refused before a setting is read."""

from __future__ import annotations

from typing import Any

# The JSON names of what an event may be instead: a person reading the error wrote JSON, not Python.
JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    bool: "true or false",
    int: "a number",
    float: "a number",
}
# The keys of an EventBridge event as a rule delivers it without an input of its own: a schedule's run.
EVENTBRIDGE_ENVELOPE = frozenset(
    ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
)


def event_object(event: object, example: str, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The event itself when it is a JSON object with no other keys than `keys` (when given); otherwise a ValueError
    naming what was expected, e.g. `example` ("hourly" alone, or a list of datasets, would otherwise end in an
    AttributeError that says nothing of the event). A key misspelt ("Mode", "backfill_day") or another service's event
    (the console's test event, an SQS batch) is refused: read as the schedule's run, it would do what nobody asked.
    An EventBridge event's own keys are no other service's: they are taken, and what its `detail` holds is read as
    the function's own keys, checked as these are (a rule's detail of {"mode": "full"} asks for a full build)."""
    if not isinstance(event, dict):
        kind = "null" if event is None else JSON_KINDS.get(type(event), type(event).__name__)
        raise ValueError(f"the event must be a JSON object, e.g. {example}, not {kind}")
    if keys is None:
        return event
    _refuse_unknown(event, set(keys) | EVENTBRIDGE_ENVELOPE, "the event", keys, example)
    detail = _detail(event.get("detail"), example)
    if not detail:
        return event
    _refuse_unknown(detail, set(keys), "the event's detail", keys, example)
    twice = sorted(str(key) for key in detail if key in event)
    if twice:
        named = ", ".join(repr(key) for key in twice[:5])
        raise ValueError(f"the event gives {named} both at its top level and in its detail: give each once")
    return {**{key: value for key, value in event.items() if key != "detail"}, **detail}


def _refuse_unknown(given: dict[Any, Any], known: set[str], where: str, keys: tuple[str, ...], example: str) -> None:
    unknown = sorted(str(key) for key in given if key not in known)
    if unknown:
        named = ", ".join(repr(key) for key in unknown[:5])
        raise ValueError(f"{where} has no key {named}: it takes {', '.join(keys)}, e.g. {example}")


def _detail(detail: object, example: str) -> dict[str, Any]:
    """An EventBridge event's detail: an object, empty for a schedule's run (none for an event of another kind)."""
    if detail is None or isinstance(detail, dict):
        return detail or {}
    kind = JSON_KINDS.get(type(detail), type(detail).__name__)
    raise ValueError(f"the event's detail must be a JSON object, e.g. {example}, not {kind}")
