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
    An EventBridge event's own keys are no other service's: they are taken."""
    if isinstance(event, dict):
        known = set(keys or ()) | EVENTBRIDGE_ENVELOPE
        unknown = sorted(str(key) for key in event if keys is not None and key not in known)
        if unknown:
            named = ", ".join(repr(key) for key in unknown[:5])
            raise ValueError(f"the event has no key {named}: it takes {', '.join(keys or ())}, e.g. {example}")
        return event
    kind = "null" if event is None else JSON_KINDS.get(type(event), type(event).__name__)
    raise ValueError(f"the event must be a JSON object, e.g. {example}, not {kind}")
