"""A name that is exactly null, true or false, filled bare into a Kibana query template: Kibana's KQL grammar reads
such a bare value (once trimmed) as that literal, not as the text (UnquotedLiteral: `if (sequence === 'null') return
buildLiteralNode(null)`), so `labels.app:null` asked Elasticsearch for a null and the logs link showed an error or
nothing. Escaping a letter does not help: the grammar compares the value unescaped. Quoted, the value is text.
Inside a longer bare value (a wildcard or other text beside it) the word is text already and stays as it is."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
import rison

from functions.api.kibana import discover_url
from tests.unit.kibana_query import filled  # into labels.app:{name} and service.name:"{component}"


@pytest.mark.parametrize("name", ["null", "true", "false"])
def test_a_name_that_kql_reads_as_a_literal_is_quoted(name: str) -> None:
    assert filled(name) == f'labels.app:"{name}" and service.name:"checkout-api"'


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # The whole query.
        ("{name}", '"null"'),
        # Spaces around it are trimmed by KQL: still the whole value.
        ("labels.app: {name}  and x:y", 'labels.app: "null"  and x:y'),
        # In a list of values, after a keyword and before the list's end.
        ("labels.app:(web or {name})", 'labels.app:(web or "null")'),
        ("labels.app:({name} or web)", 'labels.app:("null" or web)'),
        ("not labels.app:{name}", 'not labels.app:"null"'),
    ],
)
def test_the_name_is_quoted_wherever_it_is_a_whole_value(template: str, expected: str) -> None:
    assert filled("null", template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Already in a quoted string.
        ('labels.app:"{name}"', 'labels.app:"null"'),
        # Part of a longer value: quoting it there would end the value and break the query.
        ("labels.app:{name}*", "labels.app:null*"),
        ("labels.app:{name}-eu", "labels.app:null-eu"),
        ("message:error {name}", "message:error null"),
        ("labels.app:{name}{component}", "labels.app:nullcheckout-api"),
    ],
)
def test_the_name_inside_a_longer_value_or_a_quoted_string_is_left_as_it_is(template: str, expected: str) -> None:
    assert filled("null", template) == expected


@pytest.mark.parametrize("name", ["NULL", "True", "nullable", "falsehood"])
def test_other_words_are_text_to_kql_and_stay_bare(name: str) -> None:
    """The grammar compares the lowercase words exactly: any other case or word is text."""
    assert filled(name) == f'labels.app:{name} and service.name:"checkout-api"'


def test_the_discover_link_carries_the_quoted_name() -> None:
    query = filled("true")
    assert query is not None
    url = discover_url(
        "https://kibana.example.org", data_view_id="logs-*", query=query, time_from="now-1h", time_to="now"
    )
    assert rison.loads(unquote(url.split("&_a=", 1)[1]))["query"]["query"] == (
        'labels.app:"true" and service.name:"checkout-api"'
    )
