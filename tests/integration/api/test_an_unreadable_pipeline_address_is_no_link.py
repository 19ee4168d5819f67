"""A deployment event written before ingestion checked its pipeline's address may hold one that cannot be read at
all (`http://[gitlab`: an unclosed bracket in its host). The deployments are listed, that one without a link, where
reading it stopped the whole list with a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates import estate as hand_made
from tests.unit.aggregates.estate import AS_OF, t

EVENTS = "deploys/deployment_events"
PIPELINE = "https://gitlab.example.org/shop/shop-db/-/pipelines/900"


def test_an_unreadable_pipeline_address_is_listed_without_a_link(tmp_path: Path) -> None:
    lake, settings = hand_made.estate_lake(tmp_path)
    lake.write_days(
        get_dataset(EVENTS),
        hand_made.rows(
            EVENTS,
            hand_made.deployment("gitlab:101", "gitlab", "12", t(18, 7), "failed", "s1")
            | {"web_url": "http://[gitlab"},
            hand_made.deployment("gitlab:102", "gitlab", "12", t(18, 8, 30), "succeeded", "s1") | {"web_url": PIPELINE},
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        r = client.get("/monitoring/components/shop-db/deployments", headers=READER)
    assert r.status_code == 200, r.text[:300]
    assert {item["deploymentKey"]: item["url"] for item in r.json()["items"]} == {
        "gitlab:101": None,
        "gitlab:102": PIPELINE,
    }
