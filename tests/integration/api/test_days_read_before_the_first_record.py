"""Days the lake read a source over but holds no record of, and days before the mart's first day, on the hand-made
estate (tests/unit/aggregates/estate.py), built as of the 20th at 10:00 UTC. Its earliest record is a deployment of
shop-api on 1 November at 12:00; its incidents were opened on the 10th, 18th and 19th, its changes done on the 18th
and 19th.

A backfill started on 25 October read ServiceNow from then: 29 to 31 October were read, and hold nothing. The day
tables began at the earliest record (1 November), so the reports by day said those days unknown (null), the ranking
by incidents null for every application ("none of the days was read"), while the overview's trend said 0 and DORA
"no incidents restored". Every report now says 0 for them. A lake that never recorded its first reads (an older
release's) holds no day before its earliest record: the trend says those days unknown, as the reports by day do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, estate_lake

BACKFILL_FROM = datetime(2026, 10, 25, tzinfo=UTC)
OCTOBER_END = "from=2026-10-29&to=2026-11-01"  # 29, 30 and 31 October
APPS = ["broken", "quiet", "shop"]


def read_from(lake: Lake, since: datetime, *datasets: tuple[str, str]) -> None:
    for source, dataset in datasets:
        FirstReads(lake).record(source, dataset, since, run_id="backfill")


def api(root: Path, settings: object) -> Iterator[TestClient]:
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:  # type: ignore[arg-type]
        yield client


SERVICENOW = (("servicenow", "incidents"), ("servicenow", "changes"))


def assert_october_end_counts_zero(client: TestClient, *, deployments: bool) -> None:
    trend = get_json(client, f"/monitoring/overview?{OCTOBER_END}")["trend"]
    assert [(d["day"], d["incidentsOpened"], d["changesImplemented"]) for d in trend] == [
        ("2026-10-29", 0, 0),
        ("2026-10-30", 0, 0),
        ("2026-10-31", 0, 0),
    ]
    if deployments:
        assert [d["deployments"] for d in trend] == [0, 0, 0]
    incidents = get_json(client, f"/monitoring/kpis/incidents?{OCTOBER_END}&groupBy=app")["items"]
    assert [(r["id"], r["opened"], [d["opened"] for d in r["days"]]) for r in incidents] == [
        (app, 0, [0, 0, 0]) for app in APPS
    ]
    changes = get_json(client, f"/monitoring/kpis/changes?{OCTOBER_END}&groupBy=app")["items"]
    assert [(r["id"], r["implemented"]) for r in changes] == [(app, 0) for app in APPS]
    ranked = get_json(client, f"/monitoring/risk/top?metric=incidents&{OCTOBER_END}")["items"]
    assert sorted((r["appId"], r["incidents"]) for r in ranked) == [(app, 0) for app in APPS]


def test_days_a_backfill_read_with_nothing_on_them_count_zero_in_every_report(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    read_from(lake, BACKFILL_FROM, *SERVICENOW, ("deploys", "deployment_events"))
    build(lake, settings, mode="full", as_of=AS_OF)
    for client in api(tmp_path, settings):
        assert_october_end_counts_zero(client, deployments=True)


def test_an_hourly_build_after_a_backfill_reading_servicenow_further_back_counts_those_days_zero(
    tmp_path: Path,
) -> None:
    """Built with ServiceNow read from 1 November, then a backfill read it from 25 October (writing nothing: no
    record is that old). The next hourly build counts 29 to 31 October as read, with none."""
    lake, settings = estate_lake(tmp_path)
    read_from(lake, datetime(2026, 11, 1, tzinfo=UTC), *SERVICENOW)
    build(lake, settings, mode="full", as_of=AS_OF)
    read_from(lake, BACKFILL_FROM, *SERVICENOW)
    assert build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1)).mode == "hourly"
    for client in api(tmp_path, settings):
        assert_october_end_counts_zero(client, deployments=False)


def test_days_before_the_mart_of_a_lake_without_first_reads_are_unknown_in_the_trend_too(tmp_path: Path) -> None:
    """No first read recorded: every period is counted whole, from the earliest record on. 30 and 31 October are
    before it, in no day table: unknown in the trend as in the incidents report. 1 November has no incident and
    shop-api's deployment at 12:00."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    for client in api(tmp_path, settings):
        period = "from=2026-10-30&to=2026-11-02"
        trend = get_json(client, f"/monitoring/overview?{period}")["trend"]
        assert [(d["day"], d["incidentsOpened"], d["deployments"]) for d in trend] == [
            ("2026-10-30", None, None),
            ("2026-10-31", None, None),
            ("2026-11-01", 0, 1),
        ]
        incidents = get_json(client, f"/monitoring/kpis/incidents?{period}&groupBy=app")["items"]
        assert [[d["opened"] for d in r["days"]] for r in incidents] == [[None, None, 0]] * 3
