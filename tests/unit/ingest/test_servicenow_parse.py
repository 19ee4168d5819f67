"""ServiceNow parsers on real payloads: strings typed, "" as null, UTC dates, references and choices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from functions.ingest_servicenow import parse
from tests.conftest import FIXTURES

SN = FIXTURES / "servicenow"


def load(name: str) -> Any:
    return json.loads((SN / name).read_text())


def test_incident_in_the_default_shape() -> None:
    result = parse.parse_table_page("servicenow/incidents", load("table_incident__get_by_sys_id_docs.json"))
    assert result.rejects == []
    (row,) = result.tables["servicenow/incidents"].to_pylist()
    assert row["number"] == "INC0000046"
    assert row["state"] == 1 and row["state_label"] == "New"  # no display value in this shape: OOB label
    assert row["priority"] == 3 and row["priority_label"] == "3 - Moderate"
    assert row["impact"] == 1 and row["urgency"] == 3 and row["reassignment_count"] == 1
    # Stored dates are UTC without a zone marker.
    assert row["opened_at"] == datetime(2015, 11, 2, 22, 4, 15, tzinfo=UTC)
    assert row["sys_updated_on"] == datetime(2015, 11, 1, 22, 37, 27, tzinfo=UTC)
    # "" is never a value.
    assert row["resolved_at"] is None and row["closed_at"] is None
    assert row["business_service_sys_id"] is None and row["caused_by_change_sys_id"] is None
    # {"link", "value"}: the value is the sys_id; no display value was asked for.
    assert row["cmdb_ci_sys_id"] == "a9c0c8d2c6112276018f7705562f9cb0" and row["cmdb_ci_name"] is None
    assert row["problem_sys_id"] == "a9e4890bc6112276003d7a5a5c774a74"


def test_value_and_display_pairs_keep_utc_values_and_labels() -> None:
    result = parse.parse_table_page(
        "servicenow/changes", load("sn_chg_rest_change__get_by_sys_id_display_value_pairs_docs.json")
    )
    (row,) = result.tables["servicenow/changes"].to_pylist()
    # value "2015-07-06 18:55:46" (UTC) vs display_value "2015-07-06 11:55:46" (user's zone): the value wins.
    assert row["sys_created_on"] == datetime(2015, 7, 6, 18, 55, 46, tzinfo=UTC)
    assert row["work_start"] == datetime(2015, 7, 6, 18, 56, 4, tzinfo=UTC)
    assert row["assignment_group_sys_id"] == "287ebd7da9fe198100f92cc8d1d2154e"
    assert row["assignment_group_name"] == "Network"
    assert row["state"] == 3 and row["state_label"] == "Closed"  # "value": 3.0 in this API
    assert row["risk"] == "Moderate" and row["type"] == "standard" and row["close_code"] == "successful"
    assert row["planned_start"] is None and row["cmdb_ci_sys_id"] is None
    # Its business service is empty ("value": ""): no service, as for an incident.
    assert row["business_service_sys_id"] is None and row["business_service_name"] is None


def test_a_changes_business_service_is_read_as_an_incidents_is() -> None:
    """The same change with a business service: its sys_id and its display value, for attribution when no CI is."""
    page = load("sn_chg_rest_change__get_by_sys_id_display_value_pairs_docs.json")
    service = {"display_value": "Payments", "value": "d" * 32}
    page["result"] = page["result"] | {"business_service": service}
    (row,) = parse.parse_table_page("servicenow/changes", page).tables["servicenow/changes"].to_pylist()
    assert (row["business_service_sys_id"], row["business_service_name"]) == ("d" * 32, "Payments")


def test_problem_list_page() -> None:
    result = parse.parse_table_page("servicenow/problems", load("table_problem__list_limit1_docs.json"))
    (row,) = result.tables["servicenow/problems"].to_pylist()
    assert row["number"] == "PRB0000050" and row["state"] == 4 and row["state_label"] == "Closed/Resolved"
    assert row["opened_at"] == datetime(2016, 1, 19, 4, 49, 47, tzinfo=UTC)
    assert row["closed_at"] == datetime(2016, 1, 19, 4, 52, 4, tzinfo=UTC)
    assert row["known_error"] is None  # field absent from this payload


def test_display_value_true_reference_gives_the_sys_id_from_its_link() -> None:
    page = load("table_sys_user_has_role__display_value_true_dotwalk_docs.json")
    cell = page["result"][0]["user"]
    assert parse.value_of(cell) == "f5a3716d0f6002003a2d47bce1050ed4"
    assert parse.display_of(cell) == "Fred Johnson"


def test_malformed_records_are_rejected_with_their_reason() -> None:
    good = load("table_problem__list_limit1_docs.json")["result"][0]
    bad_date = {**good, "sys_id": "1" * 32, "sys_updated_on": "yesterday"}
    bad_type = {**good, "sys_id": "2" * 32, "priority": "high"}
    no_opened = {**good, "sys_id": "3" * 32, "opened_at": ""}
    result = parse.parse_table_page("servicenow/problems", {"result": [good, bad_date, bad_type, no_opened]})
    assert result.tables["servicenow/problems"].column("sys_id").to_pylist() == [good["sys_id"]]
    reasons = {r.raw["sys_id"]: r.reason for r in result.rejects}
    assert "sys_updated_on" in reasons["1" * 32] and "'yesterday'" in reasons["1" * 32]
    assert "priority" in reasons["2" * 32]
    assert reasons["3" * 32] == "opened_at is empty"
    assert sorted(r.index for r in result.rejects if r.index is not None) == [1, 2, 3]


def test_a_date_no_calendar_has_is_rejected_not_moved_to_another_day() -> None:
    """30 February, 29 February of a year without one and a 60th second were stored as 1 March and the next minute:
    the record kept, on a day it never had. Each is now a reject naming the field and the value as sent; a
    29 February of a leap year is a date."""
    good = load("table_problem__list_limit1_docs.json")["result"][0]
    sent = {"1" * 32: "2024-02-30 10:00:00", "2" * 32: "2023-02-29 10:00:00", "3" * 32: "2024-03-04 10:00:60"}
    leap = {**good, "sys_id": "4" * 32, "sys_updated_on": "2024-02-29 10:00:00"}
    page = {"result": [*({**good, "sys_id": i, "sys_updated_on": v} for i, v in sent.items()), leap]}
    result = parse.parse_table_page("servicenow/problems", page)
    rows = result.tables["servicenow/problems"].to_pylist()
    assert [(r["sys_id"], r["sys_updated_on"]) for r in rows] == [("4" * 32, datetime(2024, 2, 29, 10, tzinfo=UTC))]
    assert {r.raw["sys_id"]: r.reason for r in result.rejects} == {
        i: f"sys_updated_on: not a 'yyyy-MM-dd HH:mm:ss' date: {v!r}" for i, v in sent.items()
    }


def test_a_number_where_a_string_belongs_is_rejected() -> None:
    good = load("table_problem__list_limit1_docs.json")["result"][0]
    result = parse.parse_table_page("servicenow/problems", {"result": [{**good, "number": 12345}]})
    assert result.rows == 0 and "number: expected a string" in result.rejects[0].reason


def test_requested_fields_are_the_ones_read() -> None:
    assert "caused_by" in parse.requested_fields("servicenow/incidents")
    assert "sys_updated_on" in parse.requested_fields("servicenow/task_slas")


def test_an_empty_page_is_an_empty_table() -> None:
    for dataset in parse.TABLES:
        result = parse.parse_table_page(dataset, {"result": []})
        assert result.rows == 0 and result.rejects == []


def test_task_sla_breach_times_say_which_one_pauses_move() -> None:
    """ServiceNow's task_sla has two breach times: planned_end_time, labelled "Breach time", moved by every pause,
    and original_breach_time, the breach time first computed. The breach_time column is read from the latter, so
    the dictionary must not call it the time the SLA breached or will (that is planned_end_time)."""
    from lakehouse.schemas import get_dataset

    read_from = {f.column: f.source for f in parse.TABLES["servicenow/task_slas"][1]}
    assert read_from["breach_time"] == "original_breach_time"
    assert read_from["planned_end_time"] == "planned_end_time"
    described = {c.name: c.description for c in get_dataset("servicenow/task_slas").columns}
    assert "original_breach_time" in described["breach_time"] and "before" in described["breach_time"]
    assert "Breach time" in described["planned_end_time"] and "pause" in described["planned_end_time"]


def test_a_record_whose_display_value_or_number_does_not_fit_is_rejected_alone() -> None:
    """A display value that is not text (a number, where an API types its values) or a number past a 64-bit
    integer is that record's fault: it is a reject naming the field, and the page's other records are kept."""
    good = load("sn_chg_rest_change__get_by_sys_id_display_value_pairs_docs.json")["result"]
    numeric_label = {**good, "sys_id": {"display_value": "a1", "value": "a1"}, "risk": {"display_value": 3, "value": 3}}
    huge_state = {**good, "sys_id": {"display_value": "b2", "value": "b2"}, "state": {"value": "99999999999999999999"}}
    result = parse.parse_table_page("servicenow/changes", {"result": [numeric_label, good, huge_state]})
    rows = result.tables["servicenow/changes"].to_pylist()
    assert [r["number"] for r in rows] == ["CHG0000024"]
    assert rows[0]["risk"] == "Moderate" and rows[0]["state"] == 3
    assert [(r.index, r.reason) for r in result.rejects] == [
        (0, "risk: display value should be a string, got int 3"),
        (2, "state: '99999999999999999999' is out of range"),
    ]


def test_a_percentage_that_is_no_finite_number_is_rejected_alone() -> None:
    """A task SLA's business_percentage of 10**400 failed the page (OverflowError); "NaN" and "1e400" were stored
    as NaN and infinity, percentages no SLA has. Each is a reject naming the field; the SLA beside them stays, its
    82.5 % read."""

    def sla(sys_id: str, percentage: object) -> dict[str, object]:
        times = {"start_time": "2024-03-04 08:00:00", "sys_updated_on": "2024-03-04 10:00:00"}
        return {"sys_id": sys_id, **times, "business_percentage": percentage}

    for bad in (10**400, "NaN", "1e400"):
        page = {"result": [sla("a" * 32, "82.5"), sla("b" * 32, bad)]}
        result = parse.parse_table_page("servicenow/task_slas", page)
        rows = result.tables["servicenow/task_slas"].to_pylist()
        assert [(r["sys_id"], r["business_percentage"]) for r in rows] == [("a" * 32, 82.5)]
        (reject,) = result.rejects
        assert reject.index == 1 and reject.reason.startswith("business_percentage: expected a")


def test_half_a_character_in_a_date_rejects_its_record_and_in_a_text_is_replaced() -> None:
    """A lone surrogate (half an emoji, as the JSON escape a source that cuts text in UTF-16 sends) failed the page
    wherever it stood. In a date it is no date: that problem is a reject naming the field. In a text the record
    stays, the half character stored as U+FFFD."""
    good = load("table_problem__list_limit1_docs.json")["result"][0]
    spoiled = json.loads('{"sys_updated_on": "2016-02-\\ud83d", "short_description": "disk full \\ud83d"}')
    page = {
        "result": [{**good, "short_description": spoiled["short_description"]}, {**good, "sys_id": "1" * 32, **spoiled}]
    }
    result = parse.parse_table_page("servicenow/problems", page)
    rows = result.tables["servicenow/problems"].to_pylist()
    assert [(r["sys_id"], r["short_description"]) for r in rows] == [(good["sys_id"], "disk full \ufffd")]
    (reject,) = result.rejects
    assert reject.index == 1 and reject.reason.startswith("sys_updated_on: not a 'yyyy-MM-dd HH:mm:ss' date")
