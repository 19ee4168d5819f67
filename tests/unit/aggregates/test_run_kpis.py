"""The run view's KPIs (incident backlog, time to restore, SLA breaches, the change calendar) on edge cases of the
hand-made lake in estate.py, each worked out by hand in the docstrings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_API, CI_Q, change, estate_lake, incident, rows, t
from tests.unit.aggregates.test_kpis import mart, reading


@pytest.fixture(scope="module")
def read_late(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The hand-made estate, whose ServiceNow incidents were first read from the 17th at 06:00 and change requests
    from the 19th at midnight, with what those reads brought of the days before: quiet's INC9 (P2), opened on the
    14th at 09:00 and resolved on the 15th at 09:00, and CHG9, planned and worked on the 14th from 09:00 to 10:00,
    closed unsuccessful."""
    root = tmp_path_factory.mktemp("read-late")
    lake, settings = estate_lake(root)
    incidents, changes = get_dataset("servicenow/incidents"), get_dataset("servicenow/changes")
    lake.write_days(incidents, rows(incidents.id, incident("i9" * 16, "INC9", CI_Q, t(14, 9), 2, 6, t(15, 9))))
    window = (t(14, 9), t(14, 10))
    chg9 = change("9" * 32, "CHG9", CI_Q, window, "unsuccessful", t(13), t(14, 11), planned=window)
    lake.write_days(changes, rows(changes.id, chg9))
    FirstReads(lake).record("servicenow", "incidents", t(17, 6), run_id="first-run")
    FirstReads(lake).record("servicenow", "changes", t(19), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


INCIDENT_TOTALS = ("opened", "openedP1P2", "restored", "slaBreaches", "openEndOfPeriod", "mttrMeanHours")
CHANGE_TOTALS = ("planned", "implemented", "unsuccessful", "closedWithCode", "changeFailureRate")


def test_the_incidents_reports_totals_are_the_sum_of_its_days_read(read_late: TestClient) -> None:
    """Over last_7d (the 13th to the 20th) quiet's heatmap is unknown (null) from the 13th to the 16th and 0 from the
    17th: INC9, opened on the 14th and restored on the 15th, is on days the report calls unknown. Its totals are the
    sum of those days: 0 opened, 0 restored, no time to restore, and nothing open at the end of the 20th; its SLA
    breaches are unknown (null), as this lake never read task SLAs (the as-of's own day, not read either, counted them
    0). They
    counted INC9 all the same: 1 opened (a P2), 1 restored after 24 hours (15th 09:00 - 14th 09:00), beside days
    summing to 0. Over the 1st to the 9th, wholly before the first read, every figure is unknown (null), where it
    said 0 incidents opened and none open."""
    quiet = by_id(get_json(read_late, "/monitoring/kpis/incidents?period=last_7d"))["quiet"]
    assert [d["opened"] for d in quiet["days"]] == [None] * 4 + [0] * 4
    assert tuple(quiet[k] for k in INCIDENT_TOTALS) == (0, 0, 0, None, 0, None)
    early = by_id(get_json(read_late, "/monitoring/kpis/incidents?from=2026-11-01&to=2026-11-10"))["quiet"]
    assert [d["opened"] for d in early["days"]] == [None] * 9
    assert tuple(early[k] for k in INCIDENT_TOTALS) == (None,) * 6


def test_the_change_calendars_totals_are_the_sum_of_its_days_read(read_late: TestClient) -> None:
    """Change requests were first read from the 19th. Over last_7d quiet's calendar is unknown from the 13th to the
    18th and 0 on the 19th and 20th: CHG9 (planned, implemented and unsuccessful on the 14th) is on an unknown day,
    so quiet's totals are 0 planned, 0 implemented and no change failure rate, where they said 1 planned, 1
    implemented, 1 unsuccessful of 1 closed with a code: a rate of 100 % beside a calendar of zeros and unknowns.
    The 1st to the 9th, wholly unread, has null figures, not 0."""
    quiet = by_id(get_json(read_late, "/monitoring/kpis/changes?period=last_7d"))["quiet"]
    assert [d["planned"] for d in quiet["days"]] == [None] * 6 + [0, 0]
    assert tuple(quiet[k] for k in CHANGE_TOTALS) == (0, 0, 0, 0, None)
    early = by_id(get_json(read_late, "/monitoring/kpis/changes?from=2026-11-01&to=2026-11-10"))["quiet"]
    assert tuple(early[k] for k in CHANGE_TOTALS) == (None,) * 5


@pytest.fixture(scope="module")
def run_estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Settings]:
    """The hand-made estate, built as of the 20th at 10:00, with these incidents and changes on quiet (whose CI had
    none), each on days of its own:

        INC20  P3  opened 3rd 09:00, resolved 3rd 09:40 (the same hour)
        INC21  P3  opened 5th 10:00, resolved 6th 00:00 (midnight)
        INC22  P3  opened 7th 09:00, raised to P1 on the 8th, still open
        INC23  P2  opened 12th 09:00 on shop's CI, moved to quiet's on the 13th, still open
        CHG20  normal, planned and worked 8th 22:00 to 9th 02:00, closed successful
        CHG21  normal, planned 20th 09:00 to 12:00, closed unsuccessful at 09:45 without its work times
    """
    root = tmp_path_factory.mktemp("run-estate")
    lake, settings = estate_lake(root)
    incidents, changes = get_dataset("servicenow/incidents"), get_dataset("servicenow/changes")
    raised = incident("j2" * 16, "INC22", CI_Q, t(7, 9), 3, 2)
    moved = incident("j3" * 16, "INC23", CI_API, t(12, 9), 2, 2)
    lake.write_days(
        incidents,
        rows(
            incidents.id,
            incident("j0" * 16, "INC20", CI_Q, t(3, 9), 3, 6, t(3, 9, 40)),
            incident("j1" * 16, "INC21", CI_Q, t(5, 10), 3, 6, t(6)),
            raised,
            raised | {"priority": 1, "sys_updated_on": t(8, 9)},
            moved,
            moved | {"cmdb_ci_sys_id": CI_Q, "sys_updated_on": t(13, 9)},
        ),
    )
    window = (t(8, 22), t(9, 2))
    over_midnight = change("c2" * 16, "CHG20", CI_Q, window, "successful", t(7), t(9, 3), planned=window)
    plan = (t(20, 9), t(20, 12))
    closed_early = change("c3" * 16, "CHG21", CI_Q, plan, "unsuccessful", t(19), t(20, 9, 45), planned=plan)
    closed_early |= {"work_start": None, "work_end": None, "state_label": "Closed"}
    lake.write_days(changes, rows(changes.id, over_midnight, closed_early))
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def app_days(built: tuple[Lake, Settings], table: str, app: str, first: int, last: int) -> dict[int, dict]:
    """An application's production rows of a day table from the `first` to the `last` of November, by day."""
    where = "app_id = $app and environment = 'production' and day between $a and $b"
    with reading(*built) as read:
        found = mart(read, table, where, app=app, a=t(first).date(), b=t(last).date())
    return {r["day"].day: r for r in found}


def test_an_incident_restored_in_the_hour_it_opened_leaves_no_backlog(run_estate: tuple[Lake, Settings]) -> None:
    """INC20 opened on the 3rd at 09:00 and was resolved at 09:40: opened and restored on the 3rd, none open at its
    end, restored after 40 minutes (2/3 of an hour)."""
    third = app_days(run_estate, "mv_incidents_app_day", "quiet", 3, 3)[3]
    assert (third["opened"], third["restored"], third["open_end_of_day"]) == (1, 1, 0)
    assert third["mttr_mean_hours"] == pytest.approx(2 / 3)


def test_an_incident_restored_at_midnight_is_in_the_backlog_of_the_day_it_leaves(
    run_estate: tuple[Lake, Settings],
) -> None:
    """INC21 opened on the 5th at 10:00 and was resolved at midnight ending it. The backlog at that midnight holds
    what was opened before it and not restored before it: INC21, restored at it and not before. So the 5th ends
    with 1 open and the 6th counts the restoration, after 14 hours (10:00 to 24:00), and ends with none."""
    days = app_days(run_estate, "mv_incidents_app_day", "quiet", 5, 6)
    assert (days[5]["opened"], days[5]["restored"], days[5]["open_end_of_day"]) == (1, 0, 1)
    assert (days[6]["restored"], days[6]["open_end_of_day"], days[6]["mttr_mean_hours"]) == (1, 0, 14.0)


def test_an_incident_raised_to_p1_counts_as_a_p1_from_the_day_it_opened(run_estate: tuple[Lake, Settings]) -> None:
    """INC22 opened on the 7th as a P3 and was raised to P1 on the 8th: it counts as its version at as_of has it, a
    P1, opened on the 7th and open P1 at the end of every day since (with INC21 and INC20 restored, quiet's only
    open P1/P2 until INC23 comes on the 12th)."""
    days = app_days(run_estate, "mv_incidents_app_day", "quiet", 7, 11)
    assert (days[7]["opened"], days[7]["opened_p1_p2"]) == (1, 1)
    assert [days[d]["open_p1_p2_end_of_day"] for d in (7, 8, 11)] == [1, 1, 1]


def test_an_incident_moved_to_another_application_counts_there_from_the_day_it_opened(
    run_estate: tuple[Lake, Settings],
) -> None:
    """INC23, a P2, opened on shop's API on the 12th and was moved to quiet's CI on the 13th: it is quiet's, opened on
    the 12th, so quiet's backlog is INC22 and INC23 (2, both P1/P2) from the end of the 12th; shop counts it on no
    day (its backlog is INC2 from the 18th alone)."""
    quiet = app_days(run_estate, "mv_incidents_app_day", "quiet", 12, 13)
    shop = app_days(run_estate, "mv_incidents_app_day", "shop", 12, 13)
    assert [(quiet[d]["open_end_of_day"], quiet[d]["open_p1_p2_end_of_day"]) for d in (12, 13)] == [(2, 2), (2, 2)]
    assert quiet[12]["opened"] == 1
    assert [(shop[d]["opened"], shop[d]["open_end_of_day"]) for d in (12, 13)] == [(0, 0), (0, 0)]


def test_a_change_over_midnight_is_planned_on_its_first_day_and_implemented_on_its_last(
    run_estate: tuple[Lake, Settings],
) -> None:
    """CHG20 ran from the 8th at 22:00 to the 9th at 02:00, as planned, and closed successful: planned on the 8th,
    implemented (successful, a failure rate of 0 of 1) on the 9th."""
    days = app_days(run_estate, "mv_changes_app_day", "quiet", 8, 9)
    assert [(days[d]["planned"], days[d]["implemented"]) for d in (8, 9)] == [(1, 0), (0, 1)]
    assert (days[9]["successful"], days[9]["change_failure_rate"]) == (1, 0.0)


def test_a_change_closed_before_as_of_keeps_its_state_while_its_planned_window_runs(
    run_estate: tuple[Lake, Settings],
) -> None:
    """CHG21 was planned for the 20th from 09:00 to 12:00 and closed unsuccessful at 09:45, its version read then,
    before as_of (10:00), without work times. Without a work end it counts as ended at its planned end, 12:00, so at
    as_of it is neither closed nor failed yet; but its state at as_of was read: Closed, close code unsuccessful. The
    build left both blank (unknown), as for a change first read after as_of, whose state at as_of nobody read."""
    with reading(*run_estate) as built:
        found = mart(built, "mv_changes", "number = 'CHG21'")
    columns = ("state", "state_label", "close_code", "is_closed", "is_failed")
    assert [{c: r[c] for c in columns} for r in found] == [
        {"state": 3, "state_label": "Closed", "close_code": "unsuccessful", "is_closed": False, "is_failed": False}
    ]
