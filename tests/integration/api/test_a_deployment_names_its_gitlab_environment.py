"""A deployment listed by the API names the GitLab environment it went to (`sourceEnvironment`), as GitLab wrote it:
pay's deployments to production/eu and Production/us both count in production, and the list tells the eu one from
the us one. An ArgoCD deployment has none (its application deploys one environment), and over a mart an earlier
release built, without the column, the deployments are still listed, without it. An application's summary gives the
latest deployment of each region, not only the one that finished last.

The estate of tests/unit/aggregates/test_gitlab_environment_folders_count_in_their_mapping_environment.py: pay-api
(GitLab project 21) deployed p1 to production/eu at 12:00 and to Production/us at 13:00 on the 17th (and to staging
at 10:00); shop-api's production deployments are ArgoCD's (shop-api-prod).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.integration.api.test_a_gitlab_deployment_links_to_its_pipeline import EARLIER_SQL_VERSION, drop_column
from tests.unit.aggregates.estate import AS_OF
from tests.unit.aggregates.test_gitlab_environment_folders_count_in_their_mapping_environment import pay_lake

PAY = "/monitoring/applications/pay/deployments"


def gitlab_environments(root: Path, settings: Settings, route: str = PAY) -> dict[str, str | None]:
    """Each deployment the route lists, by key, with the GitLab environment it names."""
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        return {item["deploymentKey"]: item["sourceEnvironment"] for item in get_json(client, route)["items"]}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("gitlab-environments")
    lake, settings = pay_lake(root)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, root


def test_the_eu_and_us_deployments_name_their_region(built: tuple[Settings, Path]) -> None:
    settings, root = built
    # Both in production's list, each with GitLab's name as written (Production/us with its capital).
    assert gitlab_environments(root, settings) == {"gitlab:9002": "production/eu", "gitlab:9003": "Production/us"}
    assert gitlab_environments(root, settings, PAY + "?environment=staging") == {"gitlab:9001": "staging"}


def test_the_summary_gives_the_latest_deployment_of_each_region(built: tuple[Settings, Path]) -> None:
    """p1 reached eu at 12:00 and us at 13:00: the summary's last deployments are both, each naming its region; the
    us one alone would say nothing of what runs in eu."""
    settings, root = built
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        last = get_json(client, "/monitoring/applications/pay/summary")["lastDeployments"]
    assert [(d["componentId"], d["deploymentKey"], d["sourceEnvironment"], d["finishedAt"][:16]) for d in last] == [
        ("pay-api", "gitlab:9002", "production/eu", "2026-11-17T12:00"),
        ("pay-api", "gitlab:9003", "Production/us", "2026-11-17T13:00"),
    ]


def test_an_argocd_deployment_names_no_gitlab_environment(built: tuple[Settings, Path]) -> None:
    settings, root = built
    argocd = gitlab_environments(root, settings, "/monitoring/components/shop-api/deployments")
    assert argocd
    assert all(key.startswith("argocd:") for key in argocd)
    assert set(argocd.values()) == {None}


def test_a_mart_an_earlier_release_built_lists_deployments_without_it(
    built: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The API of this release over the mart of the one before, which has no source_environment: the route answers,
    the deployments listed as before, none naming a GitLab environment."""
    _, root = built
    copied = tmp_path / "lake"
    shutil.copytree(root / "lake", copied)
    drop_column(copied / "mart" / "mv_deployments", "source_environment")
    state = copied / "state" / "build" / "aggregates.json"
    state.write_text(json.dumps(json.loads(state.read_text()) | {"sql_version": EARLIER_SQL_VERSION}))
    earlier = Settings(lake_url=str(copied), duckdb_temp_directory=tmp_path / "duckdb")

    assert gitlab_environments(tmp_path, earlier) == {"gitlab:9002": None, "gitlab:9003": None}
