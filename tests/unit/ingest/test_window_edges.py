"""Window edges and runs side by side, without a source: a bound's second goes to one window only, and an older
answer written last does not undo a newer one the source no longer shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.ingest_deploys import parse
from functions.ingest_deploys.events import build_events
from functions.ingest_servicenow.client import updated_query
from lakehouse.ingest.run import Page, SourcePlan, Stream, run_plan
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingEntry
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.ingest.truth import rows
from tests.unit.ingest.test_deploys_parse import ENTRY, load


def test_adjacent_servicenow_windows_share_their_bound_as_the_contract_writes_it() -> None:
    """A run's bounds carry microseconds, sys_updated_on whole seconds: both bounds are cut to the second, so the
    second 10:00:00 belongs to the window starting at 10:00:00.7 and not to the one ending there."""
    bound = datetime(2024, 3, 3, 10, 0, 0, 700_000, tzinfo=UTC)
    literal = "javascript:gs.dateGenerate('2024-03-03','10:00:00')"
    earlier = updated_query(bound - timedelta(hours=1), bound)
    later = updated_query(bound, bound + timedelta(hours=1))
    assert earlier == (
        "sys_updated_on>=javascript:gs.dateGenerate('2024-03-03','09:00:00')"
        f"^sys_updated_on<{literal}^ORDERBYsys_updated_on^ORDERBYsys_id"
    )
    assert later.startswith(f"sys_updated_on>={literal}^")


STARTED = datetime(2024, 3, 5, 7, 33, 3, tzinfo=UTC)  # the fixture's last operation


def listing(phase: str, finished: str | None) -> dict[str, Any]:
    """The fixture's application with its last operation in `phase`, finished at `finished` (None: still running)."""
    app = json.loads(json.dumps(load("argocd/application__live_velero-test__converted.json")))
    operation = app["status"]["operationState"]
    operation["phase"] = phase
    operation.pop("finishedAt", None)
    if finished:
        operation["finishedAt"] = finished
    return {"items": [app]}


def one_run(lake: Lake, stream: Stream, observed: datetime) -> None:
    outcome = run_plan(
        SourcePlan("deploys", "ingest_deploys", [stream]), lake, Window(observed - timedelta(hours=2), observed)
    )
    assert not outcome.failed


def argocd_run(lake: Lake, body: dict[str, Any], observed: datetime) -> None:
    def pages() -> Iterator[Page]:
        yield Page(parse.APP_STATUS, body, {"observed_at": observed})

    one_run(
        lake,
        Stream(
            "applications",
            parse.ARGOCD_DATASETS,
            pages,
            {parse.APP_STATUS: parse.parse_applications_page},
            snapshot=True,  # as functions/ingest_deploys/source.py reads it
        ),
        observed,
    )


def gitlab_run(lake: Lake, deployment: dict[str, Any], observed: datetime) -> None:
    def pages() -> Iterator[Page]:
        yield Page(parse.DEPLOYMENTS, [deployment], {"project_id": 3})

    one_run(
        lake, Stream("gitlab", (parse.DEPLOYMENTS,), pages, {parse.DEPLOYMENTS: parse.parse_deployments_page}), observed
    )


def test_a_failed_sync_seen_by_a_later_listing_stays_failed_when_an_earlier_listing_is_written_after_it(
    tmp_path: Path,
) -> None:
    """A scheduled run lists ArgoCD while the sync runs; a run triggered a minute later lists it failed and writes
    first; the scheduled run writes last. ArgoCD keeps the last operation only: once the next sync starts, no later
    listing shows the failure again, so the operation must stay failed, or change failure rate loses it."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    running = listing("Running", None)
    failed = listing("Failed", "2024-03-05T07:33:40Z")
    argocd_run(lake, failed, STARTED + timedelta(minutes=2))
    argocd_run(lake, running, STARTED + timedelta(minutes=1))
    stored = lake.read_partition(get_dataset(parse.SYNC_OPERATIONS), STARTED.date())
    assert stored is not None
    (operation,) = stored.to_pylist()
    assert (operation["phase"], operation["finished_at"]) == ("Failed", datetime(2024, 3, 5, 7, 33, 40, tzinfo=UTC))
    events = build_events(lake, STARTED - timedelta(days=1), [ENTRY]).to_pylist()
    failures = [e for e in events if e["status"] == "failed"]
    assert [e["deployment_key"] for e in failures] == ["argocd:velero-test:op:2024-03-05T07:33:03+00:00"]


def test_a_listing_after_a_gap_moves_its_watermark_as_a_snapshot_leaves_no_gap(tmp_path: Path) -> None:
    """A window starting after a watermark leaves that watermark where it is, but ArgoCD's listing is the source
    as it is now, whatever the window: the day between two listings is no record left unread."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    argocd_run(lake, listing("Succeeded", "2024-03-05T07:33:04Z"), STARTED + timedelta(minutes=1))
    a_day_later = STARTED + timedelta(days=1)
    argocd_run(lake, listing("Succeeded", "2024-03-05T07:33:04Z"), a_day_later)
    mark = Watermarks(lake).get("argocd", "sync_operations")
    assert mark is not None and mark.value == a_day_later


def test_a_deployment_updated_after_it_finished_is_one_row_and_one_event_at_its_jobs_end(tmp_path: Path) -> None:
    """GitLab's deployment 42 (the fixture) finished on 2016-08-11 and is updated 40 days later: the next run reads
    it again (updated_after), the new version replaces the old in its creation day, and the deployment's time stays
    its job's end. A run that read the old version and writes last does not bring it back."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    finished = load("gitlab/deployment__single_docs.json")
    updated = {**finished, "updated_at": "2016-09-20T08:00:00.000Z"}
    gitlab_run(lake, finished, datetime(2016, 8, 11, 12, tzinfo=UTC))
    gitlab_run(lake, updated, datetime(2016, 9, 20, 9, tzinfo=UTC))
    gitlab_run(lake, finished, datetime(2016, 9, 20, 9, 5, tzinfo=UTC))
    dataset = get_dataset(parse.DEPLOYMENTS)
    assert lake.list_partitions(dataset) == [date(2016, 8, 11)]  # its created_at day
    (row,) = rows(lake, parse.DEPLOYMENTS)
    assert row["updated_at"] == datetime(2016, 9, 20, 8, tzinfo=UTC)
    job_end = datetime(2016, 8, 11, 11, 32, 35, 145_000, tzinfo=UTC)  # deployable.finished_at
    assert row["finished_at"] == job_end
    project = MappingEntry(entity_id="gitlab-app", kind="application", gitlab_project_id=3)
    # The events over the deployment's day: one, at the job's end.
    events = build_events(lake, datetime(2016, 8, 11, tzinfo=UTC), [project]).to_pylist()
    assert [(e["deployment_key"], e["finished_at"]) for e in events] == [("gitlab:42", job_end)]
