"""A Kibana query template filled with a display name that holds KQL syntax: the name matches itself, in the query
and in the Discover link that carries it, and never ends its string to widen the query."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import rison

from functions.api.kibana import discover_url
from tests.unit.kibana_query import filled


def test_a_quote_in_a_name_stays_inside_its_kql_string() -> None:
    """Filled as it was, `x" or service.name:*` closed the string after x and joined every service's lines of
    production to the link: Discover opened on all of them."""
    template = 'labels.team:"{name}" and deployment.environment:"{environment}"'
    query = filled('x" or service.name:*', template)
    assert query == 'labels.team:"x\\" or service.name:*" and deployment.environment:"production"'


def test_a_backslash_and_a_line_break_in_a_quoted_name_are_escaped() -> None:
    query = filled('C:\\ops "core"\nteam', 'labels.team:"{name}"')
    assert query == 'labels.team:"C:\\\\ops \\"core\\"\\nteam"'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # A bare `a OR *` read as: labels.team is a, or any line at all.
        ("a OR *", "labels.team:a \\OR \\*"),
        # \not would read as a line break then "ot": the n of a lowercase not is written \u006e.
        ("not mine", "labels.team:\\u006eot mine"),
        ("Payments (EU): core", "labels.team:Payments \\(EU\\)\\: core"),
        ("<ops>{1}", "labels.team:\\<ops\\>\\{1\\}"),
    ],
)
def test_a_bare_placeholder_escapes_kql_syntax_in_the_name(name: str, expected: str) -> None:
    assert filled(name, "labels.team:{name}") == expected


def test_characters_kql_reads_as_text_are_left_as_they_are() -> None:
    """Inside quotes only a quote and a backslash mean something to KQL; a non-ASCII name, #, &, ' and ! are text."""
    name = "Zahlungs-Dienst (Zürich) #1 & 'beta'!"
    assert filled(name, 'labels.team:"{name}"') == f'labels.team:"{name}"'


def test_the_discover_link_carries_the_escaped_query_whole() -> None:
    """Decoded from the link's rison, the query is the escaped one, character for character."""
    query = filled("Zürich 'ops' #1 & \"a\" (!)", 'labels.team:"{name}" and deployment.environment:"{environment}"')
    assert query == 'labels.team:"Zürich \'ops\' #1 & \\"a\\" (!)" and deployment.environment:"production"'
    url = discover_url(
        "https://kibana.example.org/kibana",
        data_view_id="logs-checkout-*",
        query=query,
        time_from="now-1h",
        time_to="now",
    )
    app_state = unquote(url.split("&_a=", 1)[1])
    assert rison.loads(app_state)["query"] == {"language": "kuery", "query": query}
