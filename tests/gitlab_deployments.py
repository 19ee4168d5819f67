"""A GitLab deployment as its API lists it, and the lake holding the deployments a run listed: the input of the
deployment events."""

from __future__ import annotations

from typing import Any

from functions.ingest_deploys import parse as deploys_parse
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake


def gitlab_deployment(updated_at: str) -> dict[str, Any]:
    """A successful GitLab deployment (7001) made through the API: no job, so it finished when it was last updated."""
    return {
        "id": 7001,
        "iid": 1,
        "ref": "main",
        "sha": "abc",
        "status": "success",
        "created_at": "2024-03-04T10:00:00.000Z",
        "updated_at": updated_at,
        "user": {"username": "ann"},
        "environment": {"id": 1, "name": "production"},
        "deployable": None,
    }


def write_gitlab_deployments(lake: Lake, deployments: list[dict[str, Any]]) -> None:
    """The deployments in the lake as a run listing those of GitLab project 11 writes them."""
    page = deploys_parse.parse_deployments_page(deployments, {"project_id": 11})
    lake.write_days(get_dataset(deploys_parse.DEPLOYMENTS), page.tables[deploys_parse.DEPLOYMENTS])
