"""A GitLab deployment listed by the API opens its pipeline in GitLab: its `url` is the pipeline's page as GitLab gave
it with the deployment, carried from the deployment event through the mart; a value that is no http(s) address is no
link. A lake or a mart an earlier release wrote without the address still lists the deployments, without links."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates import estate as hand_made
from tests.unit.aggregates.estate import AS_OF, t

EVENTS = "deploys/deployment_events"
# shop-db's deployments to production (GitLab project 12), as the hand-made estate has them.
SHOP_DB = "/monitoring/components/shop-db/deployments"
PIPELINE = "https://gitlab.example.org/shop/shop-db/-/pipelines/900"
CRAFTED = "javascript:alert(1)"
# The digest an earlier release's SQL files gave (the build state's sql_version): not this release's.
EARLIER_SQL_VERSION = "0123456789abcdef"


def with_pipeline_addresses(lake: Lake) -> None:
    """gitlab:102 deployed by a pipeline whose page GitLab gave; gitlab:101's address a crafted script."""
    lake.write_days(
        get_dataset(EVENTS),
        hand_made.rows(
            EVENTS,
            hand_made.deployment("gitlab:101", "gitlab", "12", t(18, 7), "failed", "s1") | {"web_url": CRAFTED},
            hand_made.deployment("gitlab:102", "gitlab", "12", t(18, 8, 30), "succeeded", "s1") | {"web_url": PIPELINE},
        ),
    )


def links(root: Path, settings: Settings, route: str = SHOP_DB) -> dict[str, str | None]:
    """Each deployment the route lists, by key, with its url."""
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        return {item["deploymentKey"]: item["url"] for item in get_json(client, route)["items"]}


def drop_column(folder: Path, column: str) -> None:
    """Every Parquet object under `folder` as an earlier release wrote it: without `column`."""
    paths = list(folder.rglob("*.parquet"))
    assert paths
    for path in paths:
        pq.write_table(pq.read_table(path).drop_columns([column]), path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("pipeline-links")
    lake, settings = hand_made.estate_lake(root)
    with_pipeline_addresses(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, root


def test_a_gitlab_deployment_opens_the_pipeline_page_gitlab_gave(built: tuple[Settings, Path]) -> None:
    settings, root = built
    # The address as given, on the application's list as on its component's; a crafted javascript: one is no link.
    expected = {"gitlab:101": None, "gitlab:102": PIPELINE}
    assert links(root, settings) == expected
    shop = links(root, settings, "/monitoring/applications/shop/deployments")
    assert {key: url for key, url in shop.items() if key.startswith("gitlab:")} == expected


def test_a_lake_whose_events_an_earlier_release_wrote_builds_without_links(tmp_path: Path) -> None:
    """Every day of deploys/deployment_events written before the address was kept (the first build after the
    upgrade): the build reads them, and the deployments are listed as before, without a link."""
    lake, settings = hand_made.estate_lake(tmp_path)
    drop_column(tmp_path / "lake" / "raw" / "deploys" / "deployment_events", "web_url")
    build(lake, settings, mode="full", as_of=AS_OF)

    assert links(tmp_path, settings) == {"gitlab:101": None, "gitlab:102": None}


def test_a_mart_an_earlier_release_built_lists_deployments_without_links(
    built: tuple[Settings, Path], tmp_path: Path
) -> None:
    """The API of this release over the mart of the one before, which has no web_url: the deployments route still
    answers (a link is not worth a 503 until the next build), every GitLab deployment without a link."""
    _, root = built
    copied = tmp_path / "lake"
    shutil.copytree(root / "lake", copied)
    drop_column(copied / "mart" / "mv_deployments", "web_url")
    state = copied / "state" / "build" / "aggregates.json"
    state.write_text(json.dumps(json.loads(state.read_text()) | {"sql_version": EARLIER_SQL_VERSION}))
    earlier = Settings(lake_url=str(copied), duckdb_temp_directory=tmp_path / "duckdb")

    assert links(tmp_path, earlier) == {"gitlab:101": None, "gitlab:102": None}
