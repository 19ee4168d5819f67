"""A malformed record its source sent without its id (a ServiceNow record without a sys_id, a GitLab record without
an integer id), met twice in one read because the listing drifted while it was paged, is one reject, as a record
with an id already was: its fields are what tells it from another. Two such records that differ in a field stay two
rejects. Each was counted once per page it came on: the run log said one record more than the source holds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake

from .test_a_malformed_servicenow_record_is_a_reject_not_a_failed_run import (
    WATERMARK,
    GarblingTableApi,
    change,
    run,
    without,
)
from .test_gitlab_record_updated_while_paged_within_the_window import FakeGitLab, record
from .test_rejects_met_twice_are_counted_once import (
    ALL_BUT_5,
    CHANGES,
    DEPLOYMENT_MRS,
    INSERTED,
    PIPELINES,
    SINCE,
    GitLabWithoutMergeRequests,
    gitlab_run,
    kept_changes,
    read_changes,
)
from .truth import rows

# --- GitLab -------------------------------------------------------------------------------------------------------
FIRST, TIED = SINCE + timedelta(minutes=1), SINCE + timedelta(minutes=2)


def without_an_integer_id(number: int) -> dict[str, Any]:
    """Record `number` as GitLab would never send it: its id a string. The parsers reject it, and nothing names it."""
    return {**record(number, TIED), "id": str(number)}


class TiedGitLab(FakeGitLab):
    """Records 1 to 6, 2 to 6 updated in the same instant, 2 without an integer id. While the listing is first read
    GitLab orders the tied records differently from page to page: page 2 repeats 2 in place of 3, page 3 repeats 4 in
    place of 5. The read holds five of the six records GitLab counts, so the listing is read again, as stored."""

    def __init__(self) -> None:
        super().__init__([record(1, FIRST), without_an_integer_id(2), *(record(n, TIED) for n in range(3, 7))])
        self.listed = 0  # listing pages served (the merge requests of a deployment are no listing page)

    def page(self, query: dict[str, str]) -> tuple[list[Any], dict[str, str]]:
        body, headers = super().page(query)
        if "updated_after" not in query:
            return body, headers
        self.listed += 1
        if self.listed == 2:
            body = [without_an_integer_id(2), *body[1:]]
        if self.listed == 3:
            body = [record(4, TIED), *body[1:]]
        return body, headers


class TiedGitLabWithoutMergeRequests(TiedGitLab, GitLabWithoutMergeRequests):
    """The listings as TiedGitLab answers them; each deployment's merge requests are none."""


def test_a_pipeline_without_an_integer_id_met_on_two_pages_of_one_read_is_one_reject(tmp_path: Path) -> None:
    """By hand: the first read brings 1 2, 2 4, 4 6; the read again 1 2, 3 4, 5 6. Pipelines 1, 3, 4, 5 and 6 are
    kept and 2 is rejected once, where the first read met it first: 6 read, as GitLab counts, 5 kept, 1 rejected."""
    gitlab = TiedGitLab()
    lake, run_record = gitlab_run(tmp_path, gitlab, PIPELINES)
    assert gitlab.served == 3 + 3
    assert (run_record.status, run_record.rows_in, run_record.rows_out, run_record.rows_rejected) == (
        "partial",
        6,
        5,
        1,
    )
    assert sorted(r["pipeline_id"] for r in rows(lake, PIPELINES)) == [1, 3, 4, 5, 6]
    (reject,) = rows(lake, "gitlab/rejects")
    assert reject["location"] == "page 1 record 1"
    assert reject["reason"] == "ValueError: id should be an integer, got str"


def test_a_deployment_without_an_integer_id_met_on_two_pages_is_one_reject_of_its_merge_requests(
    tmp_path: Path,
) -> None:
    """Only the deployments' merge requests are asked for: deployment 2, unreadable, is their reject. The reads meet
    it three times (twice in the first, once in the read again). By hand: one reject, not three."""
    gitlab = TiedGitLabWithoutMergeRequests()
    lake, run_record = gitlab_run(tmp_path, gitlab, DEPLOYMENT_MRS)
    assert gitlab.listed == 3 + 3
    assert run_record.rows_rejected == 1
    (reject,) = rows(lake, "gitlab/rejects")
    assert reject["location"] == "GitLab project 7 deployments, record 1"
    assert reject["reason"].endswith("its merge requests were not read")


class TwoAlikeGitLab(FakeGitLab):
    """Pipelines 1 to 4, 2 and 3 without an integer id and alike but for their sha (both with the id "x")."""

    def __init__(self) -> None:
        alike = {**record(2, TIED), "id": "x"}
        super().__init__([record(1, FIRST), alike, {**alike, "sha": "f" * 40}, record(4, TIED)])


def test_two_pipelines_without_an_integer_id_that_differ_in_one_field_are_two_rejects(tmp_path: Path) -> None:
    """By hand: one read, by update time then id: 1 4, 2 3. Pipelines 1 and 4 are kept, 2 and 3 are a reject each:
    4 read, 2 kept."""
    gitlab = TwoAlikeGitLab()
    lake, run_record = gitlab_run(tmp_path, gitlab, PIPELINES)
    assert gitlab.served == 2
    assert (run_record.rows_in, run_record.rows_out, run_record.rows_rejected) == (4, 2, 2)
    assert sorted(r["location"] for r in rows(lake, "gitlab/rejects")) == ["page 2 record 0", "page 2 record 1"]


# --- ServiceNow ---------------------------------------------------------------------------------------------------
# As in test_rejects_met_twice_are_counted_once: changes 1 to 10 in pages of 5, change 11 inserted before the read
# position once page 1 is served, so that the change at the end of page 1 comes again at the start of page 2.


def test_a_change_without_a_sys_id_met_on_two_pages_of_one_pass_is_one_reject(tmp_path: Path) -> None:
    """Change 5 comes without its sys_id, on pages 1 and 2. By hand: the pass is not taken (a text met on two pages
    may be one record shifted), the window is read again in one page, which brings change 11 and meets change 5
    once. Changes 1 to 4 and 6 to 11 are kept, change 5 is one reject: 11 read, as ServiceNow counts."""
    lake, result = read_changes(tmp_path, without("sys_id"))
    assert result["status"] == "partial", result["error"]
    assert kept_changes(lake) == ALL_BUT_5
    (reject,) = rows(lake, "servicenow/rejects")
    assert reject["reason"] == "sys_id is empty" and "CHG0000005" in reject["raw_text"]
    assert reject["location"] == "page 1 record 4"
    assert (result["rows_in"], result["rows_out"], result["rows_rejected"]) == (11, 10, 1)


def test_two_changes_without_a_sys_id_that_differ_in_their_update_time_alone_are_two_rejects(tmp_path: Path) -> None:
    """Changes 5 and 6 come without their sys_id and with the same number: they differ in their update time alone.
    By hand: the first pass meets 5 on pages 1 and 2 and 6 on page 2, the pass again meets each once. Changes 1 to
    4 and 7 to 11 are kept, 5 and 6 are a reject each: 11 read."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    Watermarks(lake).advance("servicenow", "changes", WATERMARK, run_id="earlier")

    def garble(change_record: dict[str, Any]) -> Any:
        return {**without("sys_id")(change_record), "number": "CHG0000005"}

    unread = {change(5)["sys_id"], change(6)["sys_id"]}
    api = GarblingTableApi("change_request", [change(n) for n in range(1, 11)], unread, garble)

    def insert(served: int) -> None:
        if served == 1:
            api.records.append(dict(INSERTED))

    api.after_page = insert
    result = run(api, lake, CHANGES)
    assert result["status"] == "partial", result["error"]
    assert kept_changes(lake) == [f"CHG{n:07d}" for n in (1, 2, 3, 4, 7, 8, 9, 10, 11)]
    rejects = sorted(rows(lake, "servicenow/rejects"), key=lambda r: r["location"])
    assert [r["location"] for r in rejects] == ["page 1 record 4", "page 2 record 1"]
    assert "2024-03-01 12:05:00" in rejects[0]["raw_text"] and "2024-03-01 12:06:00" in rejects[1]["raw_text"]
    assert (result["rows_in"], result["rows_out"], result["rows_rejected"]) == (11, 9, 2)
