"""ServiceNow encoded queries (sysparm_query): parsing and matching, with the real API's leniency."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Longest first: "ISNOTEMPTY" must win over "ISEMPTY", ">=" over ">".
_OPERATORS = (
    "ISNOTEMPTY",
    "ISEMPTY",
    "NOT IN",
    "NOTIN",
    "IN",
    "NOT LIKE",
    "NOTLIKE",
    "LIKE",
    "STARTSWITH",
    "ENDSWITH",
    "BETWEEN",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)
_TERM_RE = re.compile(
    r"^(?P<field>[a-z0-9_.]+)(?P<op>" + "|".join(re.escape(o) for o in _OPERATORS) + r")(?P<value>.*)$", re.S
)
_DATE_GENERATE_RE = re.compile(r"^javascript:\s*gs\.dateGenerate\(\s*'([^']*)'\s*,\s*'([^']*)'\s*\)$")
_RELATIVE_RE = re.compile(
    r"^javascript:\s*gs\.(daysAgoStart|daysAgo|daysAgoEnd|hoursAgoStart|hoursAgo|"
    r"minutesAgoStart|minutesAgo|beginningOfToday|endOfToday|nowDateTime)\(\s*(-?\d*)\s*\)$"
)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(slots=True)
class Condition:
    field: str
    op: str
    value: str


@dataclass
class EncodedQuery:
    """OR of groups (^NQ); a group is an AND of clauses; a clause is an OR of conditions (^OR)."""

    groups: list[list[list[Condition]]] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def fields(self) -> set[str]:
        return {c.field for group in self.groups for clause in group for c in clause}


def resolve_literal(value: str, now: datetime) -> str:
    """Turn date helpers into the stored 'yyyy-MM-dd HH:mm:ss' form; strip quotes from plain literals."""
    text = value.strip()
    match = _DATE_GENERATE_RE.match(text)
    if match:
        return f"{match.group(1)} {match.group(2) or '00:00:00'}"
    relative = _RELATIVE_RE.match(text)
    if relative:
        name, amount_text = relative.groups()
        amount = int(amount_text) if amount_text else 0
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        moment = {
            "daysAgoStart": lambda: today - timedelta(days=amount),
            "daysAgo": lambda: now - timedelta(days=amount),
            "daysAgoEnd": lambda: today - timedelta(days=amount) + timedelta(days=1, seconds=-1),
            "hoursAgoStart": lambda: now.replace(minute=0, second=0) - timedelta(hours=amount),
            "hoursAgo": lambda: now - timedelta(hours=amount),
            "minutesAgoStart": lambda: now.replace(second=0) - timedelta(minutes=amount),
            "minutesAgo": lambda: now - timedelta(minutes=amount),
            "beginningOfToday": lambda: today,
            "endOfToday": lambda: today + timedelta(days=1, seconds=-1),
            "nowDateTime": lambda: now,
        }[name]()
        return moment.astimezone(UTC).strftime(DATE_FORMAT)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return value


def parse_encoded_query(text: str, now: datetime | None = None) -> EncodedQuery:
    """Parse an encoded query. Terms that are not conditions are kept in `ignored` (the real API drops them)."""
    now = now or datetime.now(UTC)
    query = EncodedQuery()
    for group_text in text.split("^NQ"):
        group: list[list[Condition]] = []
        for raw in group_text.split("^"):
            term = raw.strip()
            if not term or term == "EQ":
                continue
            if term.startswith("ORDERBYDESC"):
                query.order.append((term[len("ORDERBYDESC") :], True))
                continue
            if term.startswith("ORDERBY"):
                query.order.append((term[len("ORDERBY") :], False))
                continue
            is_or = term.startswith("OR") and bool(group)
            condition = _parse_condition(term[2:] if is_or else term, now)
            if condition is None:
                query.ignored.append(term)
                continue
            if is_or:
                group[-1].append(condition)
            else:
                group.append([condition])
        if group:
            query.groups.append(group)
    return query


def _parse_condition(term: str, now: datetime) -> Condition | None:
    match = _TERM_RE.match(term)
    if not match:
        return None
    op = match.group("op").replace("NOTIN", "NOT IN").replace("NOTLIKE", "NOT LIKE")
    value = match.group("value")
    if op == "BETWEEN":
        low, _, high = value.partition("@")
        value = f"{resolve_literal(low, now)}@{resolve_literal(high, now)}"
    elif op not in ("IN", "NOT IN"):
        value = resolve_literal(value, now)
    return Condition(match.group("field"), op, value)


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def compare(actual: str, op: str, expected: str, as_text: bool = False) -> bool:
    """One condition on a stored (string) value; numbers compare as numbers (unless `as_text`), dates as their text."""
    if op == "ISEMPTY":
        return actual == ""
    if op == "ISNOTEMPTY":
        return actual != ""
    if op in ("IN", "NOT IN"):
        inside = actual in {v.strip() for v in expected.split(",")}
        return inside if op == "IN" else not inside
    if op == "LIKE":
        return expected.lower() in actual.lower()
    if op == "NOT LIKE":
        return expected.lower() not in actual.lower()
    if op == "STARTSWITH":
        return actual.lower().startswith(expected.lower())
    if op == "ENDSWITH":
        return actual.lower().endswith(expected.lower())
    if op == "BETWEEN":
        low, _, high = expected.partition("@")
        return actual != "" and _ordered(low, actual) <= 0 and _ordered(actual, high) <= 0
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    if actual == "":
        # Empty values never satisfy an ordering comparison.
        return False
    order = _ordered(actual, expected, as_text)
    return {">": order > 0, ">=": order >= 0, "<": order < 0, "<=": order <= 0}[op]


def _ordered(a: str, b: str, as_text: bool = False) -> int:
    na, nb = (None, None) if as_text else (_as_number(a), _as_number(b))
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    return (a > b) - (a < b)


def matcher(query: EncodedQuery, known: Callable[[str], bool]) -> Callable[[Callable[[str], str]], bool]:
    """A predicate over records (given as field -> stored value). Unknown fields are silently ignored,
    as ServiceNow does by default (glide.invalid_query.returns_no_rows=false): a typo widens the result."""
    groups = []
    for group in query.groups:
        clauses = []
        for clause in group:
            conditions = [c for c in clause if known(c.field)]
            if conditions:
                clauses.append(conditions)
        groups.append(clauses)

    def accept(value_of: Callable[[str], str]) -> bool:
        if not groups:
            return True
        return any(
            all(any(compare(value_of(c.field), c.op, c.value, _is_sys_id(c.field)) for c in clause) for clause in group)
            for group in groups
        )

    return accept


def _is_sys_id(name: str) -> bool:
    """A sys_id is a GUID, compared as text like any string field, even when its hex digits read as a number."""
    return name.rpartition(".")[2] == "sys_id"
