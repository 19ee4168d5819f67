"""A GitLab deployment keeps the web address of its deploying pipeline (deployable.pipeline.web_url), in
gitlab/deployments and in its deployment event: the link the API gives it. GitLab's own examples, read by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from functions.ingest_deploys import parse
from functions.ingest_deploys.events import build_events
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES
from tests.gitlab_deployments import write_gitlab_deployments

# Deployment 42 of GitLab's single-deployment example: a success in production, its job finished on 2016-08-11.
SINGLE_PIPELINE = "http://gitlab.dev/root/project/pipelines/5"
AFTER_IT = datetime(2016, 8, 12, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((FIXTURES / "gitlab" / name).read_text())


def shop_on_project_11(lake: Lake) -> list[Any]:
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    mapping = MappingStore(lake).current()
    assert mapping is not None
    return list(mapping.entries)


def test_each_listed_deployment_keeps_its_pipelines_page() -> None:
    listed = parse.parse_deployments_page(load("deployments__list_docs.json"), {"project_id": 11})
    single = parse.parse_deployments_page([load("deployment__single_docs.json")], {"project_id": 11})

    assert listed.rejects == [] and single.rejects == []
    assert {r["deployment_id"]: r["pipeline_web_url"] for r in listed.tables[parse.DEPLOYMENTS].to_pylist()} == {
        41: "http://gitlab.dev/root/project/pipelines/12",
        42: "http://gitlab.dev/root/project/pipelines/13",
    }
    assert single.tables[parse.DEPLOYMENTS].column("pipeline_web_url").to_pylist() == [SINGLE_PIPELINE]


def test_a_deployment_without_a_pipeline_address_is_kept_without_one() -> None:
    """Made through the API (no job), or its pipeline giving no address, or one that is no text: the deployment
    counts as before, without a link."""
    example = load("deployment__single_docs.json")
    job = example["deployable"]
    deployments = [
        example | {"id": 1, "deployable": None},
        example | {"id": 2, "deployable": job | {"pipeline": {"id": 7}}},
        example | {"id": 3, "deployable": job | {"pipeline": job["pipeline"] | {"web_url": 5}}},
    ]

    result = parse.parse_deployments_page(deployments, {"project_id": 11})

    assert result.rejects == []
    rows = result.tables[parse.DEPLOYMENTS].to_pylist()
    assert {r["deployment_id"]: r["pipeline_web_url"] for r in rows} == {1: None, 2: None, 3: None}


def test_the_deployment_event_carries_the_pipelines_page(tmp_path: Path) -> None:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = shop_on_project_11(lake)
    write_gitlab_deployments(lake, [load("deployment__single_docs.json")])

    events = build_events(lake, AFTER_IT, entries).to_pylist()

    assert [(e["deployment_key"], e["web_url"]) for e in events] == [("gitlab:42", SINGLE_PIPELINE)]


def test_a_deployment_stored_before_the_address_was_kept_is_still_an_event(tmp_path: Path) -> None:
    """A day of gitlab/deployments an earlier release wrote has no pipeline_web_url column: its deployments are read
    as before, their events without a link."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = shop_on_project_11(lake)
    write_gitlab_deployments(lake, [load("deployment__single_docs.json")])
    (day,) = (tmp_path / "raw" / "gitlab" / "deployments").rglob("*.parquet")
    pq.write_table(pq.read_table(day).drop_columns(["pipeline_web_url"]), day)

    events = build_events(lake, AFTER_IT, entries).to_pylist()

    assert [(e["deployment_key"], e["status"], e["web_url"]) for e in events] == [("gitlab:42", "succeeded", None)]
