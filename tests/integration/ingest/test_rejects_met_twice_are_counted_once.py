"""A malformed record met twice while its listing is read is one reject, as it is one row (README, bad input: one
row per record and run), and meeting it twice hides no other record.

GitLab pages by offset: a record updated while paged moves to the end of the order and comes back in the same read
(the listing is then read again), and records updated in the same instant may come in another order from page to
page, one repeated in place of another. Each such record was rejected every time it was met. ServiceNow pages by
offset too: a record inserted before the read position shifts the rest forward, and the record at the page boundary
comes again at the start of the next page. Met twice, a record ServiceNow sent without a readable sys_id or update
time counted twice towards the records read, standing in for the inserted record that was never read. A page of the
CMDB's full read holding no object at all was passed over, its entries neither kept nor rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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

from .test_a_malformed_servicenow_record_is_a_reject_not_a_failed_run import (
    WATERMARK,
    GarblingTableApi,
    change,
    ci,
    run,
    with_cell,
    without,
)
from .test_gitlab_record_updated_while_paged_within_the_window import PER_PAGE, PROJECT, FakeGitLab, record
from .truth import rows

PIPELINES = "gitlab/pipelines"
DEPLOYMENT_MRS = "gitlab/deployment_merge_requests"
CHANGES = "servicenow/changes"
CIS = "servicenow/cmdb_ci"
# A window ending tomorrow: a GitLab record updated while paged stays in it, and comes back in the same read.
SINCE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=8)
UPDATED = SINCE + timedelta(hours=3)
# GitLab's answer to a pipeline or deployment whose creation time cannot be read: the parsers reject it.
UNREADABLE = {"created_at": "yesterday"}


def malformed(number: int, updated: datetime) -> dict[str, Any]:
    return {**record(number, updated, SINCE + timedelta(minutes=number)), **UNREADABLE}


def six_with_the_first_malformed(answering: type[FakeGitLab] = FakeGitLab) -> FakeGitLab:
    """Records 1 to 6, one minute apart from the window's start, 1 unreadable; 1 is updated (still unreadable) once
    page 1 is served: it moves to the end and the one after its old place slides back over the page boundary."""
    gitlab = answering(
        [malformed(1, SINCE + timedelta(minutes=1))] + [record(n, SINCE + timedelta(minutes=n)) for n in range(2, 7)]
    )

    def update(served: int) -> None:
        if served == 1:
            gitlab.records[0] = malformed(1, UPDATED)

    gitlab.after_page = update
    return gitlab


def gitlab_run(tmp_path: Path, gitlab: FakeGitLab, dataset: str) -> tuple[Lake, RunRecord]:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": PROJECT}], actor="test")
    with serving(gitlab.handler()) as url:
        settings = IngestSettings(gitlab_url=url, gitlab_token=SecretStr("glpat-reader"), gitlab_per_page=PER_PAGE)
        outcome = ingest("gitlab", lake, settings, window=Window(SINCE, SINCE + timedelta(days=1)), datasets=[dataset])
    (result,) = outcome.outcomes
    return lake, result.record


def test_a_malformed_pipeline_that_moved_while_paged_and_came_back_is_one_reject(tmp_path: Path) -> None:
    """By hand: the first read brings 1 2, 4 5, 6 1 (3 skipped, 1 back at its new place), the read again 2 3, 4 5,
    6 1. Pipelines 2 to 6 are kept, 1 is rejected once, where the first read met it: 6 pipelines read, 5 kept,
    1 rejected."""
    gitlab = six_with_the_first_malformed()
    lake, run_record = gitlab_run(tmp_path, gitlab, PIPELINES)
    assert gitlab.served == 3 + 3
    assert (run_record.status, run_record.rows_in, run_record.rows_out, run_record.rows_rejected) == (
        "partial",
        6,
        5,
        1,
    )
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [2, 3, 4, 5, 6]
    (reject,) = rows(lake, "gitlab/rejects")
    assert reject["location"] == "page 1 record 0"
    assert '"id": 1,' in reject["raw_text"] and "yesterday" in reject["raw_text"]


class TiedGitLab(FakeGitLab):
    """Pipelines 2, 3 and 4 updated in the same instant, after 1; 2 unreadable. The first read's page 2 repeats 2, as
    it was, in place of 3 (GitLab may order records updated in one instant either way from one page to the next)."""

    def __init__(self) -> None:
        same = SINCE + timedelta(minutes=2)
        super().__init__(
            [record(1, SINCE + timedelta(minutes=1)), malformed(2, same), record(3, same), record(4, same)]
        )

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, headers = super().page(query)
        if query.get("page") == "2" and self.served < 2:
            body = [malformed(2, SINCE + timedelta(minutes=2)), *body[1:]]
        return body, headers


def test_a_malformed_pipeline_repeated_in_place_of_another_is_one_reject(tmp_path: Path) -> None:
    """By hand: the first read brings 1 2, 2 4: three of the four records GitLab counts, so the listing is read
    again: 1 2, 3 4. Pipelines 1, 3 and 4 are kept, 2 is rejected once: 4 read, 3 kept, 1 rejected."""
    gitlab = TiedGitLab()
    lake, run_record = gitlab_run(tmp_path, gitlab, PIPELINES)
    assert gitlab.served == 2 + 2
    assert (run_record.rows_in, run_record.rows_out, run_record.rows_rejected) == (4, 3, 1)
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [1, 3, 4]
    assert [r["location"] for r in rows(lake, "gitlab/rejects")] == ["page 1 record 1"]


class GitLabWithoutMergeRequests(FakeGitLab):
    """The listings as FakeGitLab answers them; each deployment's merge requests, asked without a window, are none."""

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        if "updated_after" not in query:
            return [], {"x-total": "0", "x-next-page": ""}
        return super().page(query)


def test_a_malformed_deployment_that_moved_is_one_reject_of_its_merge_requests(tmp_path: Path) -> None:
    """Only the deployments' merge requests are asked for: a deployment that cannot be read is their reject (its
    merge requests were not read). Deployment 1 is unreadable and moves once page 1 is served, as above: the first
    read meets it twice and the read again once more. By hand: one reject, for deployment 1, not three."""
    gitlab = six_with_the_first_malformed(GitLabWithoutMergeRequests)
    lake, run_record = gitlab_run(tmp_path, gitlab, DEPLOYMENT_MRS)
    assert run_record.rows_rejected == 1
    (reject,) = rows(lake, "gitlab/rejects")
    assert reject["location"] == f"GitLab project {PROJECT} deployments, record 0"
    assert reject["reason"].endswith("its merge requests were not read")


# --- ServiceNow ---------------------------------------------------------------------------------------------------
# The lake read changes up to 12:00 UTC: the run at 12:30 reads 11:45 to 12:30, changes 1 to 10 (12:01 to 12:10)
# in pages of 5. Once page 1 is served, change 11 is written with an update time of 11:50 (an import keeping the
# time it had elsewhere): it sorts first, and every change after it moves one place on.
INSERTED = {**change(11), "sys_updated_on": "2024-03-01 11:50:00"}


def read_changes(tmp_path: Path, garble: Any) -> tuple[Lake, dict[str, Any]]:
    """Changes 1 to 10 with change 5 garbled, change 11 inserted once page 1 is served: page 1 brings 1 to 5, page 2
    brings 5 (again) to 9 and page 3 brings 10. Eleven changes are counted; ten were met, one of them twice."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "changes", WATERMARK, run_id="earlier")
    api = GarblingTableApi("change_request", [change(n) for n in range(1, 11)], {change(5)["sys_id"]}, garble)

    def insert(served: int) -> None:
        if served == 1:
            api.records.append(dict(INSERTED))

    api.after_page = insert
    return lake, run(api, lake, CHANGES)


def kept_changes(lake: Lake) -> list[str]:
    return sorted(r["number"] for r in rows(lake, CHANGES))


ALL_BUT_5 = [f"CHG{n:07d}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11)]


def test_a_change_inserted_before_the_read_position_is_read_beside_a_change_met_twice_without_its_time(
    tmp_path: Path,
) -> None:
    """Change 5 comes with its update time hidden (an empty value), its sys_id shown: one record, met twice. By hand:
    the pass holds 9 changes and 1 set aside of the 11 counted, so the window is read again, in one page, which
    brings change 11. Changes 1 to 4 and 6 to 11 are kept, change 5 is one reject: 11 read. Requests: 3 pages and
    the count, 1 page and the count."""
    lake, result = read_changes(tmp_path, with_cell("sys_updated_on", ""))
    assert result["status"] == "partial", result["error"]
    assert kept_changes(lake) == ALL_BUT_5
    (reject,) = rows(lake, "servicenow/rejects")
    assert reject["reason"] == "sys_updated_on is empty" and "CHG0000005" in reject["raw_text"]
    assert (result["rows_in"], result["rows_out"], result["rows_rejected"]) == (11, 10, 1)
    assert result["requests"] == 3 + 1 + 1 + 1


def test_a_change_inserted_before_the_read_position_is_read_beside_a_change_met_twice_without_its_sys_id(
    tmp_path: Path,
) -> None:
    """Change 5 comes without its sys_id: met on pages 1 and 2, nothing tells one record shifted from two alike, and
    counted twice the pass held the 11 counted. By hand: the pass is not taken, the window is read again in one page,
    which brings change 11 and meets change 5 once. Changes 1 to 4 and 6 to 11 are kept and change 5 is rejected.
    Requests: 3 pages, then 1 page and the count."""
    lake, result = read_changes(tmp_path, without("sys_id"))
    assert result["status"] == "partial", result["error"]
    assert kept_changes(lake) == ALL_BUT_5
    rejects = rows(lake, "servicenow/rejects")
    assert rejects and all(r["reason"] == "sys_id is empty" and "CHG0000005" in r["raw_text"] for r in rejects)
    assert result["requests"] == 3 + 1 + 1


def test_a_cmdb_page_of_entries_that_are_no_objects_is_a_reject_each(tmp_path: Path) -> None:
    """The CMDB's full read, 5 CIs a page: the first five come as 1, "x", null, false and []. By hand: the page is
    passed by offset to CIs 6 and 7, which are kept, and its five entries are five rejects, each kept aside where it
    was met: 7 read, 2 kept, 5 rejected."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    no_objects: list[Any] = [1, "x", None, False, []]
    entries = {ci(n)["sys_id"]: entry for n, entry in zip(range(1, 6), no_objects, strict=True)}
    api = GarblingTableApi(
        "cmdb_ci", [ci(n) for n in range(1, 8)], set(entries), lambda r: entries[r["sys_id"]["value"]]
    )
    result = run(api, lake, CIS)
    assert result["status"] == "partial", result["error"]
    assert sorted(r["name"] for r in rows(lake, CIS)) == ["srv-06", "srv-07"]
    rejects = sorted(rows(lake, "servicenow/rejects"), key=lambda r: r["location"])
    assert [(r["location"], r["reason"], r["raw_text"]) for r in rejects] == [
        ("page 1 record 0", "record is not an object", "1"),
        ("page 1 record 1", "record is not an object", "x"),
        ("page 1 record 2", "record is not an object", "null"),
        ("page 1 record 3", "record is not an object", "false"),
        ("page 1 record 4", "record is not an object", "[]"),
    ]
    assert (result["rows_in"], result["rows_out"], result["rows_rejected"]) == (7, 2, 5)
