"""A from/to DORA range reads the month objects its deployments and lead times can be in, and gives the figures of
the whole history: the hand-made estate, with a few October events beside its November ones.

Added to the estate (tests/unit/aggregates/estate.py):
  D0    shop-api deployed r0 on 31 October at 22:00 (succeeded);
  INC4  on shop-api, opened 28 October 08:00, restored 17 November 08:00: 20 days, 480 h;
  INC5  on shop-api, opened 1 November 06:00, restored 09:00 (3 h): 8 h after D0, so light mode links it to D0,
        a change failure recovered 11 h after it (full mode counts no link under 0.70: D0 is none there);
  MR4   project 11 (shop-api), merged 30 October 08:00, shipped by D0: 38 h;
  MR5   project 12 (shop-db), merged 25 October 06:00, shipped by G2 on 18 November at 08:30: 578.5 h.
Of the estate's own: D1 (1 November 12:00) ships MR2 (merged 10:00, 2 h); on the 18th G1 failed at 07:00 and G2
succeeded at 08:30, shipping MR3 (merged 06:00, 2.5 h).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api import mart as serving
from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_API, deployment, estate_lake, incident, write


def october(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def november(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture(scope="module")
def lake_with_october(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    lake, settings = estate_lake(tmp_path_factory.mktemp("october"))
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:shop-api-prod:0", "argocd", "shop-api-prod", october(31, 22), "succeeded", "r0"),
    )
    write(
        lake,
        "servicenow/incidents",
        incident("i4" * 16, "INC4", CI_API, october(28, 8), 3, 6, november(17, 8)),
        incident("i5" * 16, "INC5", CI_API, november(1, 6), 3, 6, november(1, 9)),
    )
    merged = {"state": "merged"}
    write(
        lake,
        "gitlab/merge_requests",
        merged | {"mr_id": 4, "project_id": 11, "merged_at": october(30, 8), "updated_at": october(30, 8)},
        merged | {"mr_id": 5, "project_id": 12, "merged_at": october(25, 6), "updated_at": october(25, 6)},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings


def shop(client: TestClient, query: str) -> dict:
    return by_id(get_json(client, f"/monitoring/kpis/dora?groupBy=app&{query}"))["shop"]


def test_a_dora_range_across_the_month_boundary_counts_both_months(lake_with_october: Settings, tmp_path: Path) -> None:
    """From 31 October to 2 November: D0 and D1 (2 in 2 days), MR4 (38 h) and MR2 (2 h), INC5 restored (3 h)."""
    with TestClient(create_app(api_settings(tmp_path), lake_with_october, down_sources())) as client:
        full = shop(client, "from=2026-10-31&to=2026-11-02&mode=full")
        light = shop(client, "from=2026-10-31&to=2026-11-02&mode=light")
        slo = by_id(get_json(client, "/monitoring/kpis/slo?groupBy=app&from=2026-10-31&to=2026-11-20"))["shop"]
    assert (full["deploymentFrequencyNumerator"], full["changeFailureDenominator"]) == (2, 2)
    assert full["deploymentFrequencyPerDay"] == pytest.approx(1.0)
    assert (full["leadTimeSample"], full["leadTimeMedianHours"]) == (2, pytest.approx(20.0))
    assert full["leadTimeP90Hours"] == pytest.approx(2 + 0.9 * 36)
    assert (full["mttrSample"], full["mttrMedianHours"]) == (1, pytest.approx(3.0))
    assert (full["changeFailureNumerator"], full["recoveryState"]) == (0, "no change failures")
    assert (light["changeFailureNumerator"], light["recoverySample"]) == (1, 1)
    assert light["recoveryMedianHours"] == pytest.approx(11.0)
    # The SLO over the whole days from 31 October: the 19th's traffic (the estate's only day of signals).
    assert (slo["availabilityDenominator"], slo["badRequests"]) == (34_000, 124)


def test_a_dora_range_counts_an_incident_and_a_merge_of_the_month_before(
    lake_with_october: Settings, tmp_path: Path
) -> None:
    """From 15 to 19 November: INC4, opened in October, restored on the 17th (480 h); MR5, merged in October, and MR3
    shipped by G2 (578.5 h and 2.5 h); G1 failed and G2 succeeded."""
    with TestClient(create_app(api_settings(tmp_path), lake_with_october, down_sources())) as client:
        found = shop(client, "from=2026-11-15&to=2026-11-19")
    assert (found["mttrSample"], found["mttrMedianHours"]) == (1, pytest.approx(480.0))
    assert (found["leadTimeSample"], found["leadTimeMedianHours"]) == (2, pytest.approx((2.5 + 578.5) / 2))
    assert found["leadTimeP90Hours"] == pytest.approx(2.5 + 0.9 * 576)
    assert (found["deploymentFrequencyNumerator"], found["changeFailureDenominator"]) == (1, 2)


def test_a_dora_range_answers_without_the_month_objects_it_cannot_need(
    lake_with_october: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read from Parquet, as a large estate's tables are, the copy's month objects the range cannot need are removed
    before the request: the figures are the same, and those objects are not fetched again. Up to 1 November: D0
    (October's deployments), MR4 (October's merges), D0 a change failure in light mode by INC5, opened after the range
    ended (recovered 11 h after D0); no incident restored. From 15 to 19 November: the same without October's
    deployments (lead times merged in October still count)."""
    monkeypatch.setattr(serving, "IN_MEMORY_ROWS", 0)
    early, late = "from=2026-10-25&to=2026-11-01&mode=light", "from=2026-11-15&to=2026-11-19"
    with TestClient(create_app(api_settings(tmp_path), lake_with_october, down_sources())) as client:
        before = {query: shop(client, query) for query in (early, late)}
        folder = client.app.state.context.mart.snapshot().folder  # type: ignore[attr-defined]
        unneeded = {
            early: [
                folder / "mart/mv_deployments/month=2026-11/data.parquet",
                folder / "mart/mv_lead_times/month=2026-11/data.parquet",
            ],
            late: [folder / "mart/mv_deployments/month=2026-10/data.parquet"],
        }
        for query, paths in unneeded.items():
            for path in paths:
                path.unlink()
            assert shop(client, query) == before[query]
            assert not any(path.exists() for path in paths)
    found = before[early]
    assert (found["deploymentFrequencyNumerator"], found["changeFailureNumerator"]) == (1, 1)
    assert (found["leadTimeSample"], found["leadTimeMedianHours"]) == (1, pytest.approx(38.0))
    assert (found["recoverySample"], found["recoveryMedianHours"]) == (1, pytest.approx(11.0))
    assert (found["mttrSample"], found["mttrState"]) == (0, "no incidents restored")
    assert (before[late]["leadTimeSample"], before[late]["mttrSample"]) == (2, 1)
