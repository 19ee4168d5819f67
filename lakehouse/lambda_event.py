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


def event_object(event: object, example: str) -> dict[str, Any]:
    """The event itself when it is a JSON object; otherwise a ValueError naming what was expected, e.g. `example`
    ("hourly" alone, or a list of datasets, would otherwise end in an AttributeError that says nothing of the event)."""
    if isinstance(event, dict):
        return event
    kind = "null" if event is None else JSON_KINDS.get(type(event), type(event).__name__)
    raise ValueError(f"the event must be a JSON object, e.g. {example}, not {kind}")
