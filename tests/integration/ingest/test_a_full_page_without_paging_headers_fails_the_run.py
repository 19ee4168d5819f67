"""A source behind a proxy that drops its paging headers: a full page came with nothing saying whether more follow
(GitLab: no x-next-page, no Link rel="next", no x-total; ServiceNow: no Link, no X-Total-Count). It was taken as the
last page: the run said succeeded with the first page's records alone and moved the watermark past the rest. A full
page without a way to the next is broken paging and fails the run, as a full Elasticsearch page without after_key
does. GitLab's own last page, full or not, says it is the last with an empty x-next-page, and still ends the read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord, Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FakeTableApi
from .test_a_malformed_servicenow_record_is_a_reject_not_a_failed_run import TEN_CHANGES, WATERMARK, run, watermark
from .test_gitlab_record_updated_while_paged_within_the_window import PER_PAGE, PROJECT, SINCE, FakeGitLab, record
from .truth import rows

PIPELINES = "gitlab/pipelines"
CHANGES = "servicenow/changes"


class GitLabBehindAProxy(FakeGitLab):
    """GitLab's pages as it sends them, every header dropped on the way."""

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, _ = super().page(query)
        return body, {}


class ServiceNowBehindAProxy(FakeTableApi):
    """The Table API's pages as it sends them, without X-Total-Count and without Link."""

    def listing(self, params: dict[str, str]) -> tuple[dict[str, Any], dict[str, str], str]:
        body, _, _ = super().listing(params)
        return body, {}, ""


def pipelines(count: int) -> list[dict[str, Any]]:
    """Pipelines 1 to `count`, updated one minute apart from the window's start."""
    return [record(n, SINCE + timedelta(minutes=n)) for n in range(1, count + 1)]


def pipelines_run(tmp_path: Path, gitlab: FakeGitLab) -> tuple[Lake, RunRecord]:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    with serving(gitlab.handler()) as url:
        settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE)
        outcome = ingest(
            "gitlab", lake, settings, window=Window(SINCE, SINCE + timedelta(days=1)), datasets=[PIPELINES]
        )
    (result,) = outcome.outcomes
    return lake, result.record


def test_a_full_gitlab_page_without_paging_headers_fails_the_run_and_keeps_the_watermark(tmp_path: Path) -> None:
    """Six pipelines, two a page, behind the proxy. By hand: page 1 holds 2 of 2 and says nothing of a next page:
    the run fails after that 1 request, naming x-next-page; no pipeline is written and no watermark is set."""
    gitlab = GitLabBehindAProxy(pipelines(6))
    lake, record = pipelines_run(tmp_path, gitlab)
    assert gitlab.served == 1
    assert record.status == "failed"
    assert "a full page of 2 records without x-next-page" in (record.error or "")
    assert rows(lake, PIPELINES) == []
    assert Watermarks(lake).get("gitlab", "pipelines") is None


def test_a_short_gitlab_page_without_paging_headers_is_the_last(tmp_path: Path) -> None:
    """One pipeline behind the proxy: page 1 holds 1 of 2, so nothing can follow it. By hand: 1 request, the
    pipeline written, the run succeeded."""
    gitlab = GitLabBehindAProxy(pipelines(1))
    lake, record = pipelines_run(tmp_path, gitlab)
    assert (gitlab.served, record.status) == (1, "succeeded")
    assert [r["pipeline_id"] for r in rows(lake, PIPELINES)] == [1]


def test_gitlab_s_own_full_last_page_with_an_empty_x_next_page_ends_the_read(tmp_path: Path) -> None:
    """Six pipelines, two a page, straight from GitLab: page 3 is full and its x-next-page empty. By hand: 3 requests,
    pipelines 1 to 6 written, the run succeeded."""
    gitlab = FakeGitLab(pipelines(6))
    lake, record = pipelines_run(tmp_path, gitlab)
    assert (gitlab.served, record.status) == (3, "succeeded")
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [1, 2, 3, 4, 5, 6]


def test_a_full_servicenow_page_without_link_or_count_fails_the_run_and_keeps_the_watermark(tmp_path: Path) -> None:
    """The lake read changes up to 12:00; the run at 12:30 reads 11:45 to 12:30, ten changes, five a page, behind the
    proxy. By hand: page 1 holds 5 of 5 and says nothing of a next page: the run fails after that 1 request, naming
    the missing headers; no change is written and the watermark stays at 12:00."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "changes", WATERMARK, run_id="earlier")
    api = ServiceNowBehindAProxy("change_request", TEN_CHANGES)
    result = run(api, lake, CHANGES)
    assert (result["status"], result["requests"]) == ("failed", 1)
    assert "a full page of 5 records without a Link or X-Total-Count header" in result["error"]
    assert rows(lake, CHANGES) == []
    assert watermark(lake, "changes") == WATERMARK
