"""GitLab's regions deploy each in its own time: production/eu and production/us are two sequences of production's
deployments. A region catching up with a release the other moved past puts back nothing it ran, so it is no
rollback, and the release the other region runs is not rolled back; going back inside one region is a rollback.

The hand-made estate of estate.py, with pay (team t3), whose component pay-api is GitLab project 21, mapped in
production and staging (as in the folder test). Its pipeline deploys b to production/eu on the 17th at 12:00 and c
on the 18th at 12:00; production/us, lagging, deploys b on the 18th at 14:00 and c on the 19th at 12:00. Every
deployment succeeds, and pay has no incident nor change request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.ingest_deploys.events import build_events
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping, t
from tests.unit.aggregates.test_build import assert_same_mart, mart_snapshot
from tests.unit.aggregates.test_gitlab_environment_folders_count_in_their_mapping_environment import (
    PAY,
    deploy,
    gitlab_deployment,
)
from tests.unit.aggregates.test_kpis import mart, one, reading

EU_B = gitlab_deployment(9101, "production/eu", "b", t(17, 12))
EU_C = gitlab_deployment(9102, "production/eu", "c", t(18, 12))
US_B = gitlab_deployment(9103, "production/us", "b", t(18, 14))
US_C = gitlab_deployment(9104, "production/us", "c", t(19, 12))


def pay_lake(root: Path, since: datetime, *deployments: dict[str, Any]) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *PAY], actor="test", replace=True)
    deploy(lake, since, *deployments)
    return lake, settings


def event_flags(lake: Lake) -> dict[str, tuple[str | None, bool]]:
    """Each deployment event of project 21 as ingestion makes it: its GitLab environment and rollback flag."""
    current = MappingStore(lake).current()
    assert current is not None
    events = build_events(lake, AS_OF, current.entries).to_pylist()
    return {e["deployment_key"]: (e["source_environment"], e["is_rollback"]) for e in events if e["source_ref"] == "21"}


def built_pay(lake: Lake, settings: Settings) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """pay's production deployments in time order, and its DORA row for the last 30 days (full correlation)."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        deployments = mart(
            built, "mv_deployments", "app_id = 'pay' and environment = 'production' order by finished_at"
        )
        dora = one(
            mart(
                built,
                "mv_dora_app_period",
                "app_id = 'pay' and environment = 'production' and period = 'last_30d' "
                "and correlation_mode = 'full' and band_set = '2023'",
            )
        )
    return deployments, dora


def flags(deployments: list[dict[str, Any]]) -> list[tuple[str, str | None, bool, bool, bool]]:
    return [
        (
            d["deployment_key"],
            d["previous_revision"],
            d["is_rollback"],
            d["rolled_back"],
            d["is_change_failure_full"],
        )
        for d in deployments
    ]


def test_a_region_catching_up_with_the_other_is_no_rollback(tmp_path: Path) -> None:
    lake, settings = pay_lake(tmp_path, AS_OF, EU_B, EU_C, US_B, US_C)

    # Ingestion keeps each deployment's GitLab environment as GitLab wrote it, and flags no rollback: us runs b,
    # then c, as eu did before it.
    assert event_flags(lake) == {
        "gitlab:9101": ("production/eu", False),
        "gitlab:9102": ("production/eu", False),
        "gitlab:9103": ("production/us", False),
        "gitlab:9104": ("production/us", False),
    }

    deployments, dora = built_pay(lake, settings)
    # Each region follows its own previous deployment: us's first has none, though eu ran c before it.
    assert flags(deployments) == [
        ("gitlab:9101", None, False, False, False),
        ("gitlab:9102", "b", False, False, False),
        ("gitlab:9103", None, False, False, False),
        ("gitlab:9104", "b", False, False, False),
    ]
    # Four production attempts, none a change failure: 0 / 4.
    assert (dora["change_failure_numerator"], dora["change_failure_denominator"]) == (0, 4)
    assert dora["change_failure_rate"] == 0


def test_a_region_deploying_a_release_the_other_skipped_is_no_rollback(tmp_path: Path) -> None:
    """us goes straight to c on the 17th at 12:00; eu, lagging, deploys b at 14:00, first run then, and c on the
    18th: c ran (in us) before b ever did, yet eu's c replaces b, which eu ran before it, so it is a roll forward."""
    us_c = gitlab_deployment(9201, "production/us", "c", t(17, 12))
    eu_b = gitlab_deployment(9202, "production/eu", "b", t(17, 14))
    eu_c = gitlab_deployment(9203, "production/eu", "c", t(18, 12))
    lake, settings = pay_lake(tmp_path, AS_OF, us_c, eu_b, eu_c)

    assert {key: rollback for key, (_, rollback) in event_flags(lake).items()} == {
        "gitlab:9201": False,
        "gitlab:9202": False,
        "gitlab:9203": False,
    }
    deployments, dora = built_pay(lake, settings)
    assert flags(deployments) == [
        ("gitlab:9201", None, False, False, False),
        ("gitlab:9202", None, False, False, False),
        ("gitlab:9203", "b", False, False, False),
    ]
    assert (dora["change_failure_numerator"], dora["change_failure_denominator"]) == (0, 3)


def test_going_back_inside_one_region_is_a_rollback(tmp_path: Path) -> None:
    """us puts b back on the 19th at 15:00, after its own c: a rollback, and us's c was rolled back, recovered when
    b ran again. eu's c, still running, is not."""
    us_back = gitlab_deployment(9105, "production/us", "b", t(19, 15))
    lake, settings = pay_lake(tmp_path, AS_OF, EU_B, EU_C, US_B, US_C, us_back)

    assert [key for key, (_, rollback) in event_flags(lake).items() if rollback] == ["gitlab:9105"]

    deployments, dora = built_pay(lake, settings)
    assert flags(deployments) == [
        ("gitlab:9101", None, False, False, False),
        ("gitlab:9102", "b", False, False, False),
        ("gitlab:9103", None, False, False, False),
        ("gitlab:9104", "b", False, True, True),
        ("gitlab:9105", "c", True, False, False),
    ]
    rolled_back = deployments[3]
    assert rolled_back["recovered_at_full"] == t(19, 15)
    # Five production attempts, us's c the one change failure: 1 / 5.
    assert (dora["change_failure_numerator"], dora["change_failure_denominator"]) == (1, 5)
    assert dora["change_failure_rate"] == 1 / 5


def test_an_hourly_build_reads_each_region_as_a_full_build_does(tmp_path: Path) -> None:
    """A longer history, most of it settled before the full build at 10:00 kept it: us deploys a on 30 September,
    eu b on 1 October and c on the 2nd, us b on the 3rd; us's c comes at 10:30. The hourly build at 11:00 finds
    us's c following us's b, and every row a full build at 11:00 does."""
    older = [
        gitlab_deployment(9301, "production/us", "a", datetime(2026, 9, 30, 12, tzinfo=UTC)),
        gitlab_deployment(9302, "production/eu", "b", datetime(2026, 10, 1, 12, tzinfo=UTC)),
        gitlab_deployment(9303, "production/eu", "c", datetime(2026, 10, 2, 12, tzinfo=UTC)),
        gitlab_deployment(9304, "production/us", "b", datetime(2026, 10, 3, 12, tzinfo=UTC)),
    ]
    us_c = gitlab_deployment(9305, "production/us", "c", AS_OF + timedelta(minutes=30))
    # Events read whole from a month before the oldest deployment.
    since = datetime(2026, 10, 25, tzinfo=UTC)
    later = AS_OF + timedelta(hours=1)

    lake, settings = pay_lake(tmp_path / "hourly", since, *older)
    build(lake, settings, mode="full", as_of=AS_OF)
    deploy(lake, later, us_c)
    result = build(lake, settings, mode="hourly", as_of=later)
    assert result.mode == "hourly"
    # It took the settled attempts (us's a, eu's b) as the full build kept them.
    assert result.settled_rows["stg_deployments"] == 2

    found = {r["deployment_key"]: r for r in mart_snapshot(lake)["mv_deployments"] if r["app_id"] == "pay"}
    assert (found["gitlab:9304"]["previous_revision"], found["gitlab:9305"]["previous_revision"]) == ("a", "b")
    assert not any(r["is_rollback"] or r["is_change_failure_full"] for r in found.values())

    full_lake, full_settings = pay_lake(tmp_path / "full", since, *older)
    deploy(full_lake, later, us_c)
    build(full_lake, full_settings, mode="full", as_of=later)
    assert_same_mart(lake, full_lake, "hourly")
