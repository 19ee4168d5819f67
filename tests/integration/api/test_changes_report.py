"""The changes report (/monitoring/kpis/changes): the change calendar summed by application, team, group or domain,
with the changes implemented by close code and the change failure rate (unsuccessful over closed with a close code).

The hand-made estate (tests/unit/aggregates/estate.py, as_of the 20th at 10:00 UTC) and four more changes:

    CHG1  shop    standard   planned 19th 09:30, work ended 19th 10:00, closed successful_issues
    CHG2  shop    normal     planned 18th 06:30, work ended 18th 07:00, closed unsuccessful
    CHG7  shop    normal     planned 18th 04:00, work ended 18th 05:00, closed successful
    CHG3  quiet   emergency  no plan, work 20th 01:00-02:00 (recorded afterwards), closed successful
    CHG4  quiet   normal     planned 19th 12:00, canceled
    CHG5  broken  normal     planned 5th 10:00, work ended 5th 10:30, closed unsuccessful
    CHG6  quiet   normal     planned 25th, after as_of: in no period yet
    CHG8  quiet   normal     planned 26th, after as_of, canceled before it started

shop is team t1, group g1, domain d1; quiet is t2, g1, d1; broken is t2, no group, d2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_built_as_of, assert_parameter_refused, by_id, get_json
from tests.unit.aggregates.estate import CI_BROKEN, CI_DB, CI_Q, change, rows, t
from tests.unit.aggregates.estate import estate_lake as hand_made_lake

ROUTE = "/monitoring/kpis/changes"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("changes-report")
    lake, settings = hand_made_lake(root)
    emergency = change("3" * 32, "CHG3", CI_Q, (t(20, 1), t(20, 2)), "successful", t(20, 3), t(20, 3), "emergency")
    canceled = change("4" * 32, "CHG4", CI_Q, (t(19, 12), t(19, 13)), "", t(17), t(18), planned=(t(19, 12), t(19, 13)))
    canceled |= {"state": 4, "close_code": None, "work_start": None, "work_end": None}
    failed = change(
        "5" * 32,
        "CHG5",
        CI_BROKEN,
        (t(5, 10), t(5, 10, 30)),
        "unsuccessful",
        t(4),
        t(5, 11),
        planned=(t(5, 10), t(5, 11)),
    )
    future = change("6" * 32, "CHG6", CI_Q, (t(25, 9), t(25, 10)), "", t(19), t(19), planned=(t(25, 9), t(25, 10)))
    future |= {"state": -2, "close_code": None, "work_start": None, "work_end": None}
    done = change(
        "7" * 32, "CHG7", CI_DB, (t(18, 4), t(18, 5)), "successful", t(17), t(18, 6), planned=(t(18, 4), t(18, 5))
    )
    dropped = change("8" * 32, "CHG8", CI_Q, (t(26, 9), t(26, 10)), "", t(19), t(19, 8), planned=(t(26, 9), t(26, 10)))
    dropped |= {"state": 4, "close_code": None, "work_start": None, "work_end": None}
    changes = rows("servicenow/changes", emergency, canceled, failed, future, done, dropped)
    lake.write_days(get_dataset("servicenow/changes"), changes)
    with api_built_as_of(root, lake, settings) as c:
        yield c


def get(client: TestClient, query: str) -> dict:
    return get_json(client, f"{ROUTE}?{query}")


def figures(row: dict) -> tuple:
    return (
        row["planned"],
        row["canceled"],
        row["emergency"],
        row["implemented"],
        row["successful"],
        row["successfulWithIssues"],
        row["unsuccessful"],
        row["closedWithCode"],
        row["changeFailureRate"],
    )


def calendar(row: dict) -> dict[str, tuple[int, int, int, int]]:
    """The days with anything on them: (planned, implemented, unsuccessful, emergency)."""
    days = {d["day"]: (d["planned"], d["implemented"], d["unsuccessful"], d["emergency"]) for d in row["days"]}
    return {day: counts for day, counts in days.items() if any(counts)}


def test_an_application_over_a_named_period(client: TestClient) -> None:
    """last_7d is summed over the whole days 13th to 20th. shop: CHG7, CHG2 and CHG1 planned and implemented, closed
    successful, unsuccessful and successful_issues: a failure rate of 1/3, not the mean of its days' rates (1/2 on
    the 18th, 0 on the 19th: 1/4). quiet: CHG4 canceled (not planned), CHG3 an
    emergency implemented successfully: 0/1. broken: CHG5 is on the 5th, before the period: a row of zeros and no
    rate, not 0 %."""
    body = get(client, "period=last_7d")
    assert body["groupBy"] == "app" and body["environment"] == "production"
    assert body["period"] == {"name": "last_7d", "start": "2026-11-13T00:00:00Z", "end": "2026-11-20T10:00:00Z"}
    rows_ = by_id(body)
    assert list(rows_) == ["broken", "quiet", "shop"]
    #                        planned canceled emergency implemented ok  issues failed closed  rate
    assert figures(rows_["shop"])[:8] == (3, 0, 0, 3, 1, 1, 1, 3)
    assert rows_["shop"]["changeFailureRate"] == pytest.approx(1 / 3)
    assert figures(rows_["quiet"]) == (0, 1, 1, 1, 1, 0, 0, 1, 0.0)
    assert figures(rows_["broken"]) == (0, 0, 0, 0, 0, 0, 0, 0, None)
    assert (rows_["shop"]["team"], rows_["shop"]["applications"], rows_["quiet"]["team"]) == ("t1", 1, "t2")


def test_the_calendar_has_every_day_and_each_change_on_its_day(client: TestClient) -> None:
    """Eight days, the 13th to the 20th, zero-filled. shop: CHG7 and CHG2 planned and ended on the 18th (CHG2
    unsuccessful), CHG1 on the 19th. quiet: CHG3, an emergency started and ended on the 20th; canceled CHG4 is on
    no day; CHG6, planned for the 25th, is after the period."""
    rows_ = by_id(get(client, "period=last_7d"))
    assert [d["day"] for d in rows_["shop"]["days"]] == [f"2026-11-{d}" for d in range(13, 21)]
    assert calendar(rows_["shop"]) == {"2026-11-18": (2, 2, 1, 0), "2026-11-19": (1, 1, 0, 0)}
    assert calendar(rows_["quiet"]) == {"2026-11-20": (0, 1, 0, 1)}


def test_a_rollup_weights_the_failure_rate_by_changes(client: TestClient) -> None:
    """d1 is shop and quiet: 1 unsuccessful of 4 closed with a code over last_7d, 1/4, neither the mean of their
    rates (1/3 and 0: 1/6) nor of its days' (1/2, 0 and 0: 1/6). Over last_30d (21 October to the 20th) t2 is
    quiet and broken: CHG5 (broken, the 5th) comes in, planned, implemented and unsuccessful, so 1 of 2."""
    d1 = by_id(get(client, "period=last_7d&groupBy=domain"))["d1"]
    assert (d1["applications"], d1["team"]) == (2, None)
    assert figures(d1) == (3, 1, 1, 4, 2, 1, 1, 4, 0.25)
    t2 = by_id(get(client, "period=last_30d&groupBy=team"))["t2"]
    assert figures(t2) == (1, 1, 1, 2, 1, 0, 1, 2, 0.5)
    assert calendar(t2) == {"2026-11-05": (1, 1, 1, 0), "2026-11-20": (0, 1, 0, 1)}
    groups = by_id(get(client, "period=last_30d&groupBy=group"))
    assert list(groups) == ["g1"]  # broken has no group


def test_a_from_to_range_sums_the_whole_days_it_touches(client: TestClient) -> None:
    """12:00 to 13:00 on the 19th is summed as the whole 19th: shop's CHG1, successful with issues (0 %); quiet's
    CHG4, canceled."""
    body = get(client, "from=2026-11-19T12:00:00Z&to=2026-11-19T13:00:00Z")
    assert body["period"] == {"name": None, "start": "2026-11-19T00:00:00Z", "end": "2026-11-20T00:00:00Z"}
    rows_ = by_id(body)
    assert figures(rows_["shop"]) == (1, 0, 0, 1, 0, 1, 0, 1, 0.0)
    assert figures(rows_["quiet"]) == (0, 1, 0, 0, 0, 0, 0, 0, None)


def test_pages_follow_the_ids(client: TestClient) -> None:
    first = get(client, "period=last_7d&limit=2")
    assert [r["id"] for r in first["items"]] == ["broken", "quiet"]
    second = get(client, f"period=last_7d&limit=2&cursor={first['page']['nextCursor']}")
    assert [r["id"] for r in second["items"]] == ["shop"]
    assert second["page"]["nextCursor"] is None
    assert figures(second["items"][0])[:8] == (3, 0, 0, 3, 1, 1, 1, 3)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("groupBy=product", "groupBy"),
        ("period=last_24h", "period"),
        ("from=2026-11-19&to=2026-11-18", "to"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor"),
        ("environment=", "environment"),
    ],
)
def test_bad_parameters_are_422_problems(client: TestClient, query: str, parameter: str) -> None:
    assert_parameter_refused(client.get(f"{ROUTE}?{query}", headers=READER), parameter)


def test_the_report_needs_a_credential(client: TestClient) -> None:
    response = client.get(f"{ROUTE}?period=last_7d")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_canceled_change_is_not_among_the_upcoming_ones(client: TestClient) -> None:
    """quiet has two changes planned after as_of: CHG6 (the 25th), scheduled, and CHG8 (the 26th), canceled before it
    started. CHG8 will not happen, and the change calendar counts it as canceled, not planned; the application's
    upcoming changes listed it all the same, under the tab's "Upcoming". They are CHG6 alone, on the application and
    its component, and so are status=all's to come. CHG4, canceled in the period, is still among the recent ones,
    with its state; the list is latest first: CHG6 (25th), CHG3 (20th 01:00), CHG4 (19th 12:00)."""
    for entity in ("applications/quiet", "components/quiet-svc"):
        upcoming = get_json(client, f"/monitoring/{entity}/changes?status=upcoming")["items"]
        assert [c["number"] for c in upcoming] == ["CHG6"], entity
        every = get_json(client, f"/monitoring/{entity}/changes?status=all&period=last_7d")["items"]
        assert [c["number"] for c in every] == ["CHG6", "CHG3", "CHG4"], entity
    recent = get_json(client, "/monitoring/applications/quiet/changes?status=recent&period=last_7d")["items"]
    assert [(c["number"], c["state"]) for c in recent] == [("CHG3", 3), ("CHG4", 4)]  # 4: Canceled


def test_days_before_the_lake_first_read_changes_are_unknown_not_none(tmp_path: Path) -> None:
    """ServiceNow's change requests were first read from the 19th at midnight. Over last_7d (the 13th to the 20th)
    shop's calendar from the 13th to the 18th is unknown (null): CHG2 on the 18th is not counted as a day without
    changes either way. The 19th holds CHG1, planned at 09:30 and implemented at 10:00; the 20th none."""
    lake, settings = hand_made_lake(tmp_path)
    FirstReads(lake).record("servicenow", "changes", t(19), run_id="first-run")
    with api_built_as_of(tmp_path, lake, settings) as c:
        shop = by_id(get_json(c, f"{ROUTE}?period=last_7d"))["shop"]
    unknown = dict.fromkeys(("planned", "implemented", "unsuccessful", "failed", "emergency", "upcoming"))
    assert [{k: v for k, v in d.items() if k != "day"} for d in shop["days"]] == [unknown] * 6 + [
        {"planned": 1, "implemented": 1, "unsuccessful": 0, "failed": 0, "emergency": 0, "upcoming": 0},
        {"planned": 0, "implemented": 0, "unsuccessful": 0, "failed": 0, "emergency": 0, "upcoming": 0},
    ]
