"""A pipeline's link comes from GitLab and reaches a browser through the API: only web addresses are served."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.settings import Settings
from tests.integration.api.test_endpoints import source_on_loopback
from tests.integration.api.test_live_review import shop_api_item

PIPELINE = {"id": 901, "project_id": 11, "status": "success", "ref": "main", "updated_at": "2026-11-20T09:30:00Z"}
PAGE = "https://gitlab.example.org/shop/api/-/pipelines/901"


def last_pipeline_url(estate_lake: tuple[Settings, Path], web_url: str) -> str | None:
    """shop-api's live item when GitLab gives project 11's pipeline 901 with `web_url` (ArgoCD is not asked)."""
    pipeline = PIPELINE | {"web_url": web_url}
    with source_on_loopback(lambda path: (200, [pipeline])) as url:
        sources = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("t"))
        item, _ = shop_api_item(estate_lake, sources)
    assert item["sources"]["gitlab"]["state"] == "live" and item["lastPipelineStatus"] == "success"
    return item["lastPipelineUrl"]


def test_a_pipeline_page_is_served_as_gitlab_gave_it(estate_lake: tuple[Settings, Path]) -> None:
    assert last_pipeline_url(estate_lake, PAGE) == PAGE
    assert last_pipeline_url(estate_lake, PAGE.replace("https:", "http:")) == PAGE.replace("https:", "http:")


@pytest.mark.parametrize(
    "web_url",
    ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>", "/x"],
)
def test_a_link_that_is_not_a_web_address_is_not_served(estate_lake: tuple[Settings, Path], web_url: str) -> None:
    """A GitLab behind a compromised proxy, or a mirror writing its own links, could hand the API a script: the
    API served it as `lastPipelineUrl`, for every client of the API to render. Now null, the pipeline's status
    and time still shown."""
    assert last_pipeline_url(estate_lake, web_url) is None
