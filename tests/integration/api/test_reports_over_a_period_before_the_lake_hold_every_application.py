"""A report summed from the day tables over a period before them (the hand-made estate's build holds days from the 1st
of November on) answered no row at all, as though the estate had had no application then, where kpis/slo and
kpis/dora answer one per application: kpis/incidents, kpis/changes and risk/top?metric=incidents now have a row for
each application in scope, its counts unknown (null) and each day of it too. Over a period half before them, the days
the tables hold count and the others are unknown, not 0.

The lake: the hand-made estate in production (shop of team t1, group g1, domain d1; quiet of t2, g1, d1; broken of
t2, domain d2; each tied to a ServiceNow CI), and in staging shop, whose CI is production's (its incidents and
changes cannot be found there), and quiet with a CI of its own. The build never recorded when ServiceNow was first
read: every day it holds counts as read.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.integration.api.test_staging_sharing_production_cis import STAGING
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping

# Wholly before the 1st of November, with their days: July to September (the quarter before the as-of's), and the 1st
# to the 5th of October.
BEFORE = {"period=previous_quarter": 92, "from=2026-10-01&to=2026-10-06": 5}
INCIDENT_FIGURES = (
    "opened",
    "openedP1P2",
    "restored",
    "slaBreaches",
    "openEndOfPeriod",
    "openP1P2EndOfPeriod",
    "mttrMeanHours",
    "mttrMedianHours",
)
CHANGE_FIGURES = (
    "planned",
    "canceled",
    "emergency",
    "implemented",
    "successful",
    "successfulWithIssues",
    "unsuccessful",
    "closedWithCode",
    "changeFailureRate",
)
CALENDAR_FIGURES = ("planned", "implemented", "unsuccessful", "emergency", "upcoming")
# Each filter and the production applications under it.
FILTERS = {"team=t2": ["broken", "quiet"], "group=g1": ["quiet", "shop"], "domain=d2": ["broken"]}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("reports-before-the-lake")
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *STAGING], actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def ids(body: dict, key: str = "id") -> list[str]:
    return [r[key] for r in body["items"]]


@pytest.mark.parametrize("period", BEFORE)
def test_the_incidents_report_before_the_lake_has_each_application_with_unknown_counts(
    client: TestClient, period: str
) -> None:
    body = get_json(client, f"/monitoring/kpis/incidents?{period}")
    assert body["page"]["total"] == 3
    rows = by_id(body)
    assert {i: (r["team"], r["applications"]) for i, r in rows.items()} == {
        "broken": ("t2", 1),
        "quiet": ("t2", 1),
        "shop": ("t1", 1),
    }
    for row in rows.values():
        assert [row[f] for f in INCIDENT_FIGURES] == [None] * len(INCIDENT_FIGURES)
        assert [d["opened"] for d in row["days"]] == [None] * BEFORE[period]


@pytest.mark.parametrize("period", BEFORE)
def test_the_changes_report_before_the_lake_has_each_application_with_unknown_counts(
    client: TestClient, period: str
) -> None:
    body = get_json(client, f"/monitoring/kpis/changes?{period}")
    assert body["page"]["total"] == 3
    rows = by_id(body)
    assert sorted(rows) == ["broken", "quiet", "shop"]
    for row in rows.values():
        assert [row[f] for f in CHANGE_FIGURES] == [None] * len(CHANGE_FIGURES)
        assert len(row["days"]) == BEFORE[period]
        assert {d[f] for d in row["days"] for f in CALENDAR_FIGURES} == {None}


@pytest.mark.parametrize("period", BEFORE)
def test_a_ranking_by_incidents_before_the_lake_ranks_every_application_unknown(
    client: TestClient, period: str
) -> None:
    """Unknown everywhere: ranked by id, each with its rank in the estate's risk ranking."""
    body = get_json(client, f"/monitoring/risk/top?metric=incidents&{period}")
    assert [(r["appId"], r["incidents"]) for r in body["items"]] == [("broken", None), ("quiet", None), ("shop", None)]
    assert all(r["rank"] is not None for r in body["items"])
    assert body["page"]["total"] == 3


@pytest.mark.parametrize("period", BEFORE)
@pytest.mark.parametrize("report", ["incidents", "changes"])
def test_a_report_before_the_lake_keeps_the_applications_under_a_filter(
    client: TestClient, report: str, period: str
) -> None:
    for under, apps in FILTERS.items():
        assert ids(get_json(client, f"/monitoring/kpis/{report}?{period}&{under}")) == apps, under
    (team,) = get_json(client, f"/monitoring/kpis/{report}?{period}&groupBy=team&team=t2")["items"]
    assert (team["id"], team["applications"]) == ("t2", 2)
    assert team["opened" if report == "incidents" else "planned"] is None
    (domain,) = get_json(client, f"/monitoring/kpis/{report}?{period}&groupBy=domain&domain=d1")["items"]
    assert (domain["id"], domain["applications"]) == ("d1", 2)


@pytest.mark.parametrize("period", BEFORE)
def test_a_ranking_by_incidents_before_the_lake_keeps_the_applications_under_a_filter(
    client: TestClient, period: str
) -> None:
    for under, apps in FILTERS.items():
        body = get_json(client, f"/monitoring/risk/top?metric=incidents&{period}&{under}")
        assert [(r["appId"], r["incidents"]) for r in body["items"]] == [(a, None) for a in apps], under


@pytest.mark.parametrize("route", ["kpis/incidents?", "kpis/changes?", "risk/top?metric=incidents&"])
def test_a_report_before_the_lake_pages_through_every_application(client: TestClient, route: str) -> None:
    key = "appId" if route.startswith("risk") else "id"
    first = get_json(client, f"/monitoring/{route}period=previous_quarter&limit=2")
    assert (ids(first, key), first["page"]["total"]) == (["broken", "quiet"], 3)
    cursor = first["page"]["nextCursor"]
    second = get_json(client, f"/monitoring/{route}period=previous_quarter&limit=2&cursor={cursor}")
    assert (ids(second, key), second["page"]["total"], second["page"]["nextCursor"]) == (["shop"], 3, None)


def test_a_report_before_the_lake_holds_the_environment_s_applications(client: TestClient) -> None:
    """In staging the reports hold quiet alone (shop's CI is production's: none of its records can be found there),
    the ranking both, with no risk rank (production's alone)."""
    staging = "period=previous_quarter&environment=staging"
    for report in ("incidents", "changes"):
        (quiet,) = get_json(client, f"/monitoring/kpis/{report}?{staging}")["items"]
        assert (quiet["id"], quiet["team"]) == ("quiet", "t2")
    ranked = get_json(client, f"/monitoring/risk/top?metric=incidents&{staging}")["items"]
    assert [(r["appId"], r["incidents"], r["rank"]) for r in ranked] == [("quiet", None, None), ("shop", None, None)]


def test_over_a_period_half_before_the_lake_only_its_days_count(client: TestClient) -> None:
    """The 28th of October to the 10th of November: the 28th to the 31st unknown, the 1st to the 10th counted. shop
    opened INC3 (P3) on the 10th at 09:00 and restored it an hour later; quiet and broken opened none. Task SLAs were
    never read: their breaches are unknown whatever the day."""
    rows = by_id(get_json(client, "/monitoring/kpis/incidents?from=2026-10-28&to=2026-11-11"))
    shop = rows["shop"]
    assert (shop["opened"], shop["openedP1P2"], shop["restored"], shop["openEndOfPeriod"]) == (1, 0, 1, 0)
    assert (shop["mttrMeanHours"], shop["slaBreaches"]) == (1.0, None)
    assert [d["opened"] for d in shop["days"]] == [None] * 4 + [0] * 9 + [1]
    for quiet_or_broken in (rows["quiet"], rows["broken"]):
        assert (quiet_or_broken["opened"], quiet_or_broken["restored"]) == (0, 0)
        assert [d["opened"] for d in quiet_or_broken["days"]] == [None] * 4 + [0] * 10


def test_the_change_calendar_half_before_the_lake_counts_only_its_days(client: TestClient) -> None:
    """The 28th of October to the 18th of November: CHG2, shop's database change planned and closed unsuccessful on
    the 18th, counts; the 28th to the 31st are unknown."""
    shop = by_id(get_json(client, "/monitoring/kpis/changes?from=2026-10-28&to=2026-11-19"))["shop"]
    assert (shop["planned"], shop["implemented"], shop["unsuccessful"], shop["changeFailureRate"]) == (1, 1, 1, 1.0)
    assert [d["planned"] for d in shop["days"]] == [None] * 4 + [0] * 17 + [1]


def test_a_ranking_by_incidents_half_before_the_lake_counts_only_its_days(client: TestClient) -> None:
    """shop's INC3 on the 10th ranks it first; quiet and broken opened none on the days held: 0, not unknown."""
    body = get_json(client, "/monitoring/risk/top?metric=incidents&from=2026-10-28&to=2026-11-11")
    ranked = [(r["appId"], r["incidents"]) for r in body["items"]]
    assert ranked == [("shop", 1), ("broken", 0), ("quiet", 0)]
