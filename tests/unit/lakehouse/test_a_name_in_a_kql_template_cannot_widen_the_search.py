"""A display name filled bare into a Kibana query template: KQL reads it back as the name, whole, and the query
goes on with the template's own text. Kibana's KQL grammar reads `or` and `and` between whitespace as keywords
(Or = Space+ 'or' Space+), `not` before whitespace even at the end of a word (Not = 'not' Space+), and \\n as a
line break; a keyword left bare joins another clause, so the logs link opens on other services' lines."""

from __future__ import annotations

import re

import pytest

from lakehouse.mappings import kql_unquoted
from tests.unit.kibana_query import filled

# filled() fills kibana_query.TEMPLATE: the name bare after FIELD, then the rest of the template.
FIELD = "labels.app:"
REST_OF_TEMPLATE = ' and service.name:"checkout-api"'

# KQL's whitespace, special characters and escapes, as its grammar lists them (UnquotedCharacter and what it refuses).
SPACE = "[ \t\r\n\u00a0]"
SPECIAL = '\\():<>"*{}'
KEYWORD_AHEAD = re.compile(rf"{SPACE}+(?:or|and){SPACE}+|not{SPACE}+", re.IGNORECASE)
# In that order: \n is a line break before it can be an escaped `not`; only the keywords ignore case.
ESCAPE = re.compile(r'\\(?:([trn])|([\\():<>"*{}])|u([0-9a-fA-F]{4})|((?i:or|and|not)))')


def read_bare_value(query: str, start: int) -> tuple[str, int]:
    """The value KQL reads bare from `start`, and where it stops: at a special character, a keyword or the end."""
    value, i = [], start
    while i < len(query):
        escape = ESCAPE.match(query, i)
        if escape:
            whitespace, special, code, keyword = escape.groups()
            if whitespace:
                value.append({"t": "\t", "r": "\r", "n": "\n"}[whitespace])
            else:
                value.append(special or keyword or chr(int(code or "0", 16)))
            i = escape.end()
        elif query[i] in SPECIAL or KEYWORD_AHEAD.match(query, i):
            break
        else:
            value.append(query[i])
            i += 1
    return "".join(value), i


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Escaped as it was, the second `or` stayed bare: labels.app was "Pick or", OR any line holding b.
        ("Pick or or b", "Pick \\or \\or b"),
        ("Pick or or b (it's!) , x:y", "Pick \\or \\or b \\(it's!\\) , x\\:y"),
        ("a and and b", "a \\and \\and b"),
        # `not ` ends a bare value even inside a word: "Knot and ..." was a syntax error.
        ("Knot", "K\\u006eot"),
        # At the value's ends the template's spaces complete the keyword: "b or and ..." read as b OR ...
        ("or b", "\\or b"),
        ("b or", "b \\or"),
        # \not is KQL's line break followed by "ot": a lowercase n is written \u006e instead.
        ("not x", "\\u006eot x"),
        ("Not x", "\\Not x"),
        ("x AND y", "x \\AND y"),
    ],
)
def test_a_keyword_in_a_bare_name_is_escaped_wherever_it_stands(name: str, expected: str) -> None:
    assert filled(name) == f"{FIELD}{expected}{REST_OF_TEMPLATE}"


@pytest.mark.parametrize(
    "name",
    ["Pick or or b", "a and and b", "Knot", "or b", "b or", "not x", "cannot fail", "x\u00a0or\u00a0y", "a\tnot\nb"],
)
def test_kql_reads_the_whole_name_back_and_then_the_template(name: str) -> None:
    query = filled(name)
    assert query is not None
    value, end = read_bare_value(query, len(FIELD))
    assert value == name
    assert query[end:] == REST_OF_TEMPLATE


@pytest.mark.parametrize("name", ["checkout-api", "Payments EU", "Orders", "Sandor", "Knotty", "Band of Brothers"])
def test_an_ordinary_name_is_left_as_it_is(name: str) -> None:
    assert filled(name) == f"{FIELD}{name}{REST_OF_TEMPLATE}"


def test_a_keyword_at_the_start_of_a_name_after_template_text() -> None:
    """`labels.team:ops or b` read as labels.team:ops OR any line holding b."""
    assert filled("or b", "labels.team:ops {name}") == "labels.team:ops \\or b"


@pytest.mark.parametrize(("value", "expected"), [("", '""'), ("   ", '"   "')])
def test_a_blank_value_is_quoted_rather_than_left_empty(value: str, expected: str) -> None:
    """Bare, a blank value leaves its field without a value, or a query of spaces alone, which Kibana reads as
    every line. (A mapping never fills one: a blank name falls back to the entity's id.)"""
    assert kql_unquoted(value) == expected
