"""What the run reports (kpis/incidents, kpis/changes, risk/top by incidents) count over a period, and the period they
say they counted, on the hand-made estate (tests/unit/aggregates/estate.py) built mid-day, as of the 20th at 10:00
UTC, with these records of quiet (CI_Q) added:

    CHG101  normal     planned 20th 08:00-09:00, worked then, closed successful: before as_of
    CHG102  normal     planned 20th 15:00-16:00, scheduled: later on the as-of day, to come
    CHG103  emergency  planned 20th 12:00-13:00, scheduled: later on the as-of day, to come
    CHG104  normal     planned 20th 18:00-19:00, canceled before it
    CHG105  normal     planned 27th 09:00-10:00 (next week), scheduled

    INC101  P3  opened 21 October 05:00, resolved 07:00: on last_30d's first day, before its first hour (10:00)
    INC102  P3  opened 19th 08:00, canceled at 09:00
    INC103  P4  opened 19th 06:00, resolved 08:00
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, estate_lake, incident, rows, t


def scheduled(sys_id: str, number: str, planned: tuple[datetime, datetime], kind: str = "normal") -> dict:
    """A change request on quiet's CI, scheduled (state -2) for `planned`, its work not begun."""
    record = change(sys_id, number, CI_Q, planned, "", t(18), t(19), change_type=kind, planned=planned)
    return record | {"state": -2, "close_code": None, "work_start": None, "work_end": None}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("report-windows")
    lake, settings = estate_lake(root)
    done = change("a1" * 16, "CHG101", CI_Q, (t(20, 8), t(20, 9)), "successful", t(18), t(20, 9, 5))
    done["planned_start"], done["planned_end"] = t(20, 8), t(20, 9)
    later = scheduled("a2" * 16, "CHG102", (t(20, 15), t(20, 16)))
    urgent = scheduled("a3" * 16, "CHG103", (t(20, 12), t(20, 13)), kind="emergency")
    dropped = scheduled("a4" * 16, "CHG104", (t(20, 18), t(20, 19))) | {"state": 4}
    next_week = scheduled("a5" * 16, "CHG105", (t(27, 9), t(27, 10)))
    changes = get_dataset("servicenow/changes")
    lake.write_days(changes, rows(changes.id, done, later, urgent, dropped, next_week))
    first_day = incident("b1" * 16, "INC101", CI_Q, datetime(2026, 10, 21, 5, tzinfo=UTC), 3, 6)
    first_day |= {"resolved_at": datetime(2026, 10, 21, 7, tzinfo=UTC), "sys_updated_on": first_day["opened_at"]}
    first_day["sys_updated_on"] = first_day["resolved_at"]
    canceled = incident("b2" * 16, "INC102", CI_Q, t(19, 8), 3, 8) | {"closed_at": t(19, 9), "sys_updated_on": t(19, 9)}
    resolved = incident("b3" * 16, "INC103", CI_Q, t(19, 6), 4, 6, resolved=t(19, 8))
    incidents = get_dataset("servicenow/incidents")
    lake.write_days(incidents, rows(incidents.id, first_day, canceled, resolved))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield c


CHANGES = "/monitoring/kpis/changes"
INCIDENTS = "/monitoring/kpis/incidents"


def busy_days(row: dict) -> dict[str, tuple]:
    """A calendar's days with anything on them: (planned, implemented, emergency, upcoming)."""
    days = {d["day"]: (d["planned"], d["implemented"], d["emergency"], d["upcoming"]) for d in row["days"]}
    return {day: counts for day, counts in days.items() if any(counts)}


def test_a_count_over_a_past_period_leaves_out_the_changes_still_to_come(client: TestClient) -> None:
    """last_30d ends at as_of, the 20th at 10:00, as the report says. In it quiet planned one change, CHG101 (08:00),
    implemented at 09:00, and canceled none. CHG102 (15:00) and the emergency CHG103 (12:00) are planned after it, and
    CHG104, canceled, was planned for 18:00: none of them falls in the period. The report counted all three, on their
    planned day: 3 planned, 1 canceled and 1 emergency "over the last 30 days"."""
    body = get_json(client, f"{CHANGES}?period=last_30d&app=quiet")
    assert body["period"]["end"] == "2026-11-20T10:00:00Z"
    quiet = by_id(body)["quiet"]
    assert (quiet["planned"], quiet["canceled"], quiet["emergency"], quiet["implemented"]) == (1, 0, 0, 1)
    # The as-of day alone, asked for as a range: the same hours, the same counts. Team t2 (quiet and broken, which
    # has no change) sums the same.
    day = by_id(get_json(client, f"{CHANGES}?from=2026-11-20&to=2026-11-21&app=quiet"))["quiet"]
    assert (day["planned"], day["canceled"], day["emergency"], day["implemented"]) == (1, 0, 0, 1)
    team = by_id(get_json(client, f"{CHANGES}?period=last_30d&groupBy=team&team=t2"))["t2"]
    assert (team["applications"], team["planned"], team["canceled"], team["emergency"]) == (2, 1, 0, 0)


def test_the_calendar_keeps_the_as_of_days_upcoming_changes_as_planned(client: TestClient) -> None:
    """The calendar's 20th shows the day's plan: CHG101, CHG102 and CHG103 planned (CHG104 canceled is on no day),
    CHG103 an emergency, CHG101 implemented, and 2 of the 3 planned upcoming (CHG102, CHG103). Adding up the days'
    planned less their upcoming gives the row's 1. CHG105, next week, is after the period's last day: on no day of
    the calendar, and among the application's upcoming changes with CHG102 and CHG103."""
    quiet = by_id(get_json(client, f"{CHANGES}?period=last_30d&app=quiet"))["quiet"]
    #                                      planned implemented emergency upcoming
    assert busy_days(quiet) == {"2026-11-20": (3, 1, 1, 2)}
    assert sum(d["planned"] - d["upcoming"] for d in quiet["days"]) == quiet["planned"] == 1
    upcoming = get_json(client, "/monitoring/applications/quiet/changes?status=upcoming")["items"]
    assert [c["number"] for c in upcoming] == ["CHG105", "CHG102", "CHG103"]


def test_a_day_report_says_the_whole_days_it_counted(client: TestClient) -> None:
    """last_30d is 21 October 10:00 to as_of. Summed from day rows, kpis/incidents and risk/top by incidents count the
    whole 21 October, and say they start at its midnight: quiet's INC101, opened there at 05:00, is one of their 2
    opened (with INC103; INC102 was canceled). The closed incidents list holds what they count: INC101 too, over the
    same whole days. DORA, counting the exact window, says that window: its MTTR is over INC103 alone (1 sample,
    2 hours)."""
    whole_days = {"name": "last_30d", "start": "2026-10-21T00:00:00Z", "end": "2026-11-20T10:00:00Z"}
    incidents = get_json(client, f"{INCIDENTS}?period=last_30d&app=quiet")
    assert incidents["period"] == whole_days
    quiet = by_id(incidents)["quiet"]
    assert (quiet["opened"], quiet["restored"]) == (2, 2)
    assert quiet["days"][0] == {"day": "2026-10-21", "opened": 1}
    ranking = get_json(client, "/monitoring/risk/top?metric=incidents&period=last_30d")
    assert ranking["period"] == whole_days
    assert next(r for r in ranking["items"] if r["appId"] == "quiet")["incidents"] == 2
    exact = {"name": "last_30d", "start": "2026-10-21T10:00:00Z", "end": "2026-11-20T10:00:00Z"}
    dora = get_json(client, "/monitoring/kpis/dora?period=last_30d&app=quiet")
    assert dora["period"] == exact
    assert (by_id(dora)["quiet"]["mttrSample"], by_id(dora)["quiet"]["mttrMedianHours"]) == (1, 2.0)
    closed = get_json(client, "/monitoring/applications/quiet/incidents?status=closed&period=last_30d")
    assert closed["period"] == whole_days
    assert [i["number"] for i in closed["items"]] == ["INC102", "INC103", "INC101"]


def test_the_closed_list_says_why_its_canceled_incident_counts_nowhere(client: TestClient) -> None:
    """Over last_7d quiet's closed incidents are INC102, canceled after an hour, and INC103, restored after 2 hours.
    The counts beside them take INC103 alone: 1 restored with a mean and median of 2 hours, and a DORA MTTR sample
    of 1. The list flags INC102, and the API's own description says what each count leaves out: the closed list's
    status and its isCanceled, the report's restored and DORA's MTTR sample."""
    closed = get_json(client, "/monitoring/applications/quiet/incidents?status=closed&period=last_7d")["items"]
    assert [(i["number"], i["isCanceled"]) for i in closed] == [("INC102", True), ("INC103", False)]
    quiet = by_id(get_json(client, f"{INCIDENTS}?period=last_7d&app=quiet"))["quiet"]
    assert (quiet["restored"], quiet["mttrMeanHours"], quiet["mttrMedianHours"]) == (1, 2.0, 2.0)
    assert by_id(get_json(client, "/monitoring/kpis/dora?period=last_7d&app=quiet"))["quiet"]["mttrSample"] == 1
    document = client.get("/openapi.json").json()
    fields = document["components"]["schemas"]
    route = document["paths"]["/monitoring/applications/{app_id}/incidents"]["get"]
    status = next(p for p in route["parameters"] if p["name"] == "status")
    for said in (
        status["description"],
        fields["Incident"]["properties"]["isCanceled"]["description"],
        fields["IncidentsRow"]["properties"]["restored"]["description"],
        fields["DoraRow"]["properties"]["mttrSample"]["description"],
    ):
        assert "canceled" in said.lower()
