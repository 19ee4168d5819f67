"""ServiceNow encoded queries as the connector writes them."""

from datetime import UTC, datetime

import pytest

from simulators.encoded_query import compare, matcher, parse_encoded_query

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _match(query: str, record: dict[str, str], known: set[str] | None = None) -> bool:
    parsed = parse_encoded_query(query, now=NOW)
    fields = known if known is not None else set(record)
    return matcher(parsed, lambda f: f in fields)(lambda f: record.get(f, ""))


def test_watermark_query_with_date_generate_and_two_orderings() -> None:
    parsed = parse_encoded_query(
        "sys_updated_on>=javascript:gs.dateGenerate('2024-01-01','00:00:00')^ORDERBYsys_updated_on^ORDERBYsys_id",
        now=NOW,
    )
    assert parsed.order == [("sys_updated_on", False), ("sys_id", False)]
    condition = parsed.groups[0][0][0]
    assert (condition.field, condition.op, condition.value) == ("sys_updated_on", ">=", "2024-01-01 00:00:00")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("priority=1^ORpriority=2", True),
        ("priority=3^ORpriority=4", False),
        ("priority<=2^state!=7", True),
        ("priorityIN1,2,3", True),
        ("priorityNOT IN1,2,3", False),
        ("resolved_atISEMPTY", True),
        ("opened_atISNOTEMPTY^resolved_atISNOTEMPTY", False),
        ("opened_at>'2024-04-30 23:59:59'", True),
        ("opened_at<javascript:gs.daysAgoStart(0)", False),
        ("short_descriptionLIKEtimeout", True),
        ("short_descriptionSTARTSWITHpay", True),
        (
            "opened_atBETWEENjavascript:gs.dateGenerate('2024-05-01','00:00:00')@"
            "javascript:gs.dateGenerate('2024-05-01','23:59:59')",
            True,
        ),
        ("priority=4^NQstate=2", True),
        ("priority=4^NQstate=7", False),
        ("priority>10", False),
    ],
)
def test_operators(query: str, expected: bool) -> None:
    record = {
        "priority": "2",
        "state": "2",
        "opened_at": "2024-05-01 08:00:00",
        "resolved_at": "",
        "short_description": "payments-api timeout",
    }
    assert _match(query, record) is expected


def test_numbers_compare_as_numbers_not_text() -> None:
    assert compare("10", ">", "9")
    assert not compare("10", "<", "9")
    assert compare("-2", "<", "0")


def test_unknown_fields_are_silently_ignored_so_a_typo_widens_the_result() -> None:
    record = {"priority": "5"}
    assert _match("prioirty=1", record, known={"priority"})
    assert not _match("priority=1^ORprioirty=1", record, known={"priority"})


def test_empty_values_never_satisfy_ordering_comparisons() -> None:
    assert not compare("", ">", "2024-01-01 00:00:00")
    assert not compare("", "<", "2024-01-01 00:00:00")


def test_order_by_desc_and_relative_dates() -> None:
    parsed = parse_encoded_query("opened_at>=javascript:gs.hoursAgo(2)^ORDERBYDESCopened_at", now=NOW)
    assert parsed.order == [("opened_at", True)]
    assert parsed.groups[0][0][0].value == "2024-05-01 10:00:00"
