"""GitLab groups environments named with a / into folders: production/eu and production/us are GitLab's production
folder. A deployment to one counts in the mapping environment named like its folder (compared without case), so a
project deploying region by region is deployed to production twice, not lost. review/x, where the mapping has no
review environment, stays unmapped and is listed with the keys no entry claims.

The hand-made estate of estate.py, with pay (team t3), whose component pay-api is GitLab project 21, mapped in
production and staging. Merge request 2101 is merged into main on the 17th at 09:00 (commit p1); the pipeline
deploys p1 to staging at 10:00, to production/eu at 12:00 and to Production/us at 13:00, and a review app of
feature-x (commit f1) to review/x on the 18th at 08:00. An older pipeline's job for production/eu (commit p0), dropped
as outdated before it started, failed at 12:01: it deployed nothing, so it is no attempt, and its environment is
mapped, so it is no unmapped key either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from functions.ingest_deploys import parse
from functions.ingest_deploys.events import EVENTS, build_events
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping, t
from tests.unit.aggregates.test_build import assert_same_mart, ingest, mart_snapshot
from tests.unit.aggregates.test_kpis import mart, one, reading

PAY: list[dict[str, Any]] = [
    {"entity_id": "pay", "kind": "application", "team": "t3", "group": "g2", "domain": "d2"},
    {"entity_id": "pay-api", "kind": "component", "application_id": "pay", "gitlab_project_id": 21},
    {
        "entity_id": "pay-api",
        "kind": "component",
        "application_id": "pay",
        "environment": "staging",
        "gitlab_project_id": 21,
    },
]


def gitlab_deployment(deployment_id: int, environment: str, sha: str, finished: datetime) -> dict[str, Any]:
    """A successful deployment of project 21 from main, as GitLab's API lists it (made through the API: no job, so
    it finished when it was last updated)."""
    return {
        "id": deployment_id,
        "iid": deployment_id,
        "ref": "main",
        "sha": sha,
        "status": "success",
        "created_at": (finished - timedelta(minutes=2)).isoformat(),
        "updated_at": finished.isoformat(),
        "user": {"username": "ann"},
        "environment": {"id": deployment_id, "name": environment},
        "deployable": None,
    }


def dropped(deployment_id: int, environment: str, sha: str, failed: datetime) -> dict[str, Any]:
    """A deployment GitLab failed by dropping its job, outdated, before the job started."""
    job = {
        "id": deployment_id,
        "status": "failed",
        "failure_reason": "failed_outdated_deployment_job",
        "started_at": None,
        "finished_at": failed.isoformat(),
    }
    return gitlab_deployment(deployment_id, environment, sha, failed) | {"status": "failed", "deployable": job}


DEPLOYED = [
    gitlab_deployment(9001, "staging", "p1", t(17, 10)),
    gitlab_deployment(9002, "production/eu", "p1", t(17, 12)),
    dropped(9006, "production/eu", "p0", t(17, 12, 1)),
    gitlab_deployment(9003, "Production/us", "p1", t(17, 13)),
    gitlab_deployment(9004, "review/x", "f1", t(18, 8)),
]
MERGED = {
    "mr_id": 2101,
    "project_id": 21,
    "merged_at": t(17, 9),
    "updated_at": t(17, 9),
    "state": "merged",
    "merge_commit_sha": "p1",
    "target_branch": "main",
}


def deploy(lake: Lake, since: datetime, *deployments: dict[str, Any]) -> None:
    """An ingest run listing project 21's `deployments`, then the deployment events made from the lake's GitLab
    deployments, each recorded in the run log as the deploys ingest records them."""
    listed = parse.parse_deployments_page(list(deployments), {"project_id": 21})
    assert listed.rejects == []
    ingest(lake, parse.DEPLOYMENTS, *listed.tables[parse.DEPLOYMENTS].to_pylist())
    current = MappingStore(lake).current()
    assert current is not None
    ingest(lake, EVENTS, *build_events(lake, since, current.entries).to_pylist())


def pay_lake(root: Path) -> tuple[Lake, Settings]:
    lake, settings = estate_lake(root)
    MappingStore(lake).apply([*mapping(), *PAY], actor="test", replace=True)
    ingest(lake, "gitlab/merge_requests", MERGED)
    deploy(lake, AS_OF, *DEPLOYED)
    return lake, settings


def pay_dora(built: Any, environment: str) -> dict[str, Any]:
    where = (
        "app_id = 'pay' and environment = $environment and period = 'last_30d' and correlation_mode = 'full' "
        "and band_set = '2023'"
    )
    return one(mart(built, "mv_dora_app_period", where, environment=environment))


def test_deployments_to_production_eu_and_us_are_two_production_deployments(tmp_path: Path) -> None:
    lake, settings = pay_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        deployments = mart(built, "mv_deployments", "app_id = 'pay' order by finished_at")
        production, staging = pay_dora(built, "production"), pay_dora(built, "staging")
        lead_times = mart(built, "mv_lead_times", "mr_id = 2101 order by environment")

    assert [(d["deployment_key"], d["environment"], d["status"]) for d in deployments] == [
        ("gitlab:9001", "staging", "succeeded"),
        ("gitlab:9002", "production", "succeeded"),
        ("gitlab:9003", "production", "succeeded"),
    ]
    # Production: eu and us, the same release, on one day; staging: one. Neither region's is a rollback.
    assert (production["deployment_frequency_numerator"], production["days_with_deployments"]) == (2, 1)
    assert staging["deployment_frequency_numerator"] == 1
    assert not any(d["is_rollback"] or d["is_change_failure_full"] for d in deployments)
    # Merged at 09:00: in staging at 10:00 (1 h), in production first in eu at 12:00 (3 h).
    assert [(r["environment"], r["deployment_key"], r["lead_time_hours"]) for r in lead_times] == [
        ("production", "gitlab:9002", 3.0),
        ("staging", "gitlab:9001", 1.0),
    ]
    assert (production["lead_time_sample"], production["lead_time_median_hours"]) == (1, 3.0)
    assert (staging["lead_time_sample"], staging["lead_time_median_hours"]) == (1, 1.0)


def test_a_review_app_without_a_review_environment_stays_unmapped(tmp_path: Path) -> None:
    """review/x's folder is review, which the mapping does not have: the deployment is listed under project 21 and
    GitLab's own name for its environment. production/eu and Production/us are claimed, so not listed, nor is the
    dropped job's deployment to production/eu."""
    lake, settings = pay_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        unmapped = mart(built, "mv_unmapped_keys", "key = '21'")
        deployments = mart(built, "mv_deployments", "app_id = 'pay'")

    assert [(u["record_kind"], u["key_kind"], u["environment"], u["records"]) for u in unmapped] == [
        ("deployment", "gitlab_project", "review/x", 1)
    ]
    assert unmapped[0]["latest_record"] == "gitlab:9004"
    assert "gitlab:9004" not in {d["deployment_key"] for d in deployments}


def test_an_hourly_build_counts_a_new_region_deployment_as_a_full_build_does(tmp_path: Path) -> None:
    """After the full build at 10:00, the pipeline deploys p2 to production/us at 10:30: the hourly build at 11:00
    has three production deployments of pay, and the same rows as a full build at 11:00."""
    later = gitlab_deployment(9005, "production/us", "p2", AS_OF + timedelta(minutes=30))
    lake, settings = pay_lake(tmp_path / "hourly")
    build(lake, settings, mode="full", as_of=AS_OF)
    deploy(lake, AS_OF + timedelta(hours=1), later)
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert result.mode == "hourly"

    found = [r for r in mart_snapshot(lake)["mv_deployments"] if r["app_id"] == "pay"]
    production = sorted(r["deployment_key"] for r in found if r["environment"] == "production")
    assert production == ["gitlab:9002", "gitlab:9003", "gitlab:9005"]

    full_lake, full_settings = pay_lake(tmp_path / "full")
    deploy(full_lake, AS_OF + timedelta(hours=1), later)
    build(full_lake, full_settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert_same_mart(lake, full_lake, "hourly")
