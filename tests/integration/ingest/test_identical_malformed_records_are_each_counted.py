"""Two malformed records that came the same (two nulls in one GitLab listing) are two rejects. The run kept one reject
per reason, text and page context, so that a listing read again would not count its rejects twice; the pages of one
project's listing share their context, and the second null vanished: the run log said 5 read, 4 kept, 1 rejected
for a listing of 6, and only one of them was kept aside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunRecord
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .test_gitlab_record_updated_while_paged_within_the_window import PER_PAGE, PROJECT, FakeGitLab, record
from .truth import rows

PIPELINES = "gitlab/pipelines"
# A window ending tomorrow: a record updated while paged stays in it, and the listing is read again.
SINCE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)


class NullingGitLab(FakeGitLab):
    """GitLab sending the records of the ids in `nulled` as null, in their places (counted in x-total as before)."""

    def __init__(self, records: list[Any], nulled: set[int]) -> None:
        super().__init__(records)
        self.nulled = nulled

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, headers = super().page(query)
        return [None if r["id"] in self.nulled else r for r in body], headers


def six_pipelines() -> list[dict[str, Any]]:
    """Pipelines 1 to 6, updated one minute apart from the window's start: three pages of two."""
    return [record(n, SINCE + timedelta(minutes=n)) for n in range(1, 7)]


def run_pipelines(tmp_path: Path, gitlab: FakeGitLab) -> tuple[Lake, RunRecord]:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    with serving(gitlab.handler()) as url:
        settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE)
        window = Window(SINCE, SINCE + timedelta(days=1))
        run = ingest("gitlab", lake, settings, window=window, datasets=[PIPELINES])
    (outcome,) = run.outcomes
    return lake, outcome.record


def kept_aside(lake: Lake) -> list[tuple[str, str]]:
    return sorted((r["location"], r["raw_text"]) for r in rows(lake, "gitlab/rejects"))


def test_two_nulls_on_pages_one_and_two_of_a_listing_are_two_rejects(tmp_path: Path) -> None:
    """By hand: pipelines 1 and 3 come as null, the first record of pages 1 and 2 (null 2, null 4, 5 6). 6 read:
    4 kept (2, 4, 5, 6), 2 rejected, both kept aside, where each was met."""
    gitlab = NullingGitLab(six_pipelines(), nulled={1, 3})
    lake, run = run_pipelines(tmp_path, gitlab)
    assert (run.status, run.rows_in, run.rows_out, run.rows_rejected) == ("partial", 6, 4, 2)
    assert run.rows_in == run.rows_out + run.rows_rejected
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [2, 4, 5, 6]
    assert kept_aside(lake) == [("page 1 record 0", "null"), ("page 2 record 0", "null")]
    assert gitlab.served == 3


def test_a_listing_read_again_because_a_record_moved_counts_its_nulls_once_each(tmp_path: Path) -> None:
    """Pipelines 2 and 4 come as null; pipeline 1 is updated (within the window) once page 1 is served. By hand: the
    first read brings 1 null, null 5, 6 1 (3 skipped, 1 back at its new place); the listing is read again: null 3,
    null 5, 6 1. Each read meets the two nulls, the first at another place in the listing in each read: 6 read, 4
    kept (1, 3, 5, 6), 2 rejected (not 4, not 3, not 1), kept aside where the first read met them."""
    gitlab = NullingGitLab(six_pipelines(), nulled={2, 4})

    def update(served: int) -> None:
        if served == 1:
            gitlab.records[0] = record(1, SINCE + timedelta(hours=3), SINCE + timedelta(minutes=1))

    gitlab.after_page = update
    lake, run = run_pipelines(tmp_path, gitlab)
    assert gitlab.served == 3 + 3  # read twice
    assert (run.status, run.rows_in, run.rows_out, run.rows_rejected) == ("partial", 6, 4, 2)
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [1, 3, 5, 6]
    assert kept_aside(lake) == [("page 1 record 1", "null"), ("page 2 record 0", "null")]
