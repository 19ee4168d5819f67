"""The admin's view of the connectors (config/sources), worked out by hand from a run log and watermarks written
here: how fresh each source is, when it last worked and how its last run ended; and what a batch trigger reads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from functions.api.auth import key_digest
from functions.api.batch import Trigger
from functions.api.main import create_app
from functions.api.routers import admin
from functions.api.settings import ApiKey, ApiSettings
from lakehouse.aggregates import lease
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.mappings import MappingStore
from lakehouse.runlog import RunLog, RunStatus, Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import run_record_reads
from tests.unit.aggregates.estate import write_estate

ADMIN = {"X-API-Key": "admin-key-0123456789"}
# The route's clock, stopped on the hour: the run log is read over the last 7 days, so it is today's.
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class StoppedClock(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> StoppedClock:
        return cls.fromtimestamp(NOW.timestamp(), tz)


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))


def admin_app(tmp_path: Path, sources: IngestSettings, trigger_wait_s: float = 5.0) -> TestClient:
    api = ApiSettings(
        api_keys=[ApiKey(name="ops", sha256=key_digest(ADMIN["X-API-Key"]), roles=["admin"])],
        local_dir=tmp_path / "api",
        trigger_wait_s=trigger_wait_s,
    )
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    return TestClient(create_app(api, settings, sources), raise_server_exceptions=False)


def sources_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sources: IngestSettings) -> dict[str, Any]:
    """config/sources by source name, at NOW. URLs without credentials are configured and never probed."""
    monkeypatch.setattr(admin, "datetime", StoppedClock)
    with admin_app(tmp_path, sources) as c:
        r = c.get("/monitoring/admin/config/sources", headers=ADMIN)
    assert r.status_code == 200, r.text
    return {s["name"]: s for s in r.json()["items"]}


def ran(
    lake: Lake,
    function: str,
    source: str,
    datasets: dict[str | None, str],
    started: datetime,
    *,
    until: datetime | None = None,
    trigger: str = "schedule",
) -> list[datetime]:
    """One run of `function` over the hour up to `until` (its start unless given): a record per dataset, one after the
    other, each a minute long. The instants each dataset's record ended."""
    runs = RunLog(lake)
    window = ((until or started) - timedelta(hours=1), until or started)
    ended = []
    for i, (dataset, status) in enumerate(datasets.items()):
        at = started + timedelta(minutes=i)
        record = runs.start(function, source, dataset, window=window, trigger=trigger, now=at)
        record = runs.finish(record, cast(RunStatus, status), now=at + timedelta(minutes=1))
        ended.append(cast(datetime, record.finished_at))
    return ended


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_freshness_is_the_oldest_watermark_of_the_datasets_every_run_reads(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab's deployments, pipelines and merge requests are read up to 1 h, 2 h and 1 h 30 ago. An admin once asked
    for the merge requests of each deployment (30 days ago) and the mapping once named a project by its path (10
    days ago): nobody reads those two since. GitLab is 2 h behind (7,200 s), not 30 days (2,592,000 s). ServiceNow
    has read incidents up to 15 minutes ago and changes up to 45, its other datasets never: 45 minutes (2,700 s).
    Dynatrace was never run: nothing to say."""
    marks = Watermarks(lake)
    gitlab = {
        "deployments": NOW - timedelta(hours=1),
        "pipelines": NOW - timedelta(hours=2),
        "merge_requests": NOW - timedelta(minutes=90),
        "deployment_merge_requests": NOW - timedelta(days=30),
        "project_paths": NOW - timedelta(days=10),
    }
    for dataset, value in gitlab.items():
        marks.advance("gitlab", dataset, value, run_id="r", now=value)
    marks.advance("servicenow", "incidents", NOW - timedelta(minutes=15), run_id="r")
    marks.advance("servicenow", "changes", NOW - timedelta(minutes=45), run_id="r")

    state = sources_state(tmp_path, monkeypatch, IngestSettings())

    assert (state["gitlab"]["freshness"], state["gitlab"]["lagSeconds"]) == (iso(NOW - timedelta(hours=2)), 7200.0)
    assert state["gitlab"]["datasets"]["deployment_merge_requests"] == iso(NOW - timedelta(days=30))
    assert (state["servicenow"]["freshness"], state["servicenow"]["lagSeconds"]) == (
        iso(NOW - timedelta(minutes=45)),
        2700.0,
    )
    dynatrace = state["dynatrace"]
    assert [dynatrace[k] for k in ("freshness", "lagSeconds", "lastSuccess", "lastRunStatus")] == [None] * 4


def test_a_source_whose_first_dataset_failed_in_its_last_run_says_failed(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ServiceNow's run two hours ago read its five tables. Its run an hour ago failed on incidents (the first table
    read), then read the four others: its newest record, the CIs', says succeeded, and so did the source's last run.
    That run failed. Its last success is the end of the CIs' record, the fifth minute-long one from an hour ago: 55
    minutes ago. Elasticsearch's last run set records aside: partial."""
    tables = ("incidents", "changes", "problems", "task_slas", "cmdb_ci")
    ran(lake, "ingest_servicenow", "servicenow", dict.fromkeys(tables, "succeeded"), NOW - timedelta(hours=2))
    last = dict.fromkeys(tables, "succeeded") | {"incidents": "failed"}
    ran(lake, "ingest_servicenow", "servicenow", last, NOW - timedelta(hours=1))
    ran(lake, "ingest_logs", "elasticsearch", {"log_counts_hourly": "partial"}, NOW - timedelta(hours=1))

    state = sources_state(tmp_path, monkeypatch, IngestSettings())

    servicenow = state["servicenow"]
    assert (servicenow["lastRunStatus"], servicenow["lastSuccess"]) == ("failed", iso(NOW - timedelta(minutes=55)))
    assert state["elasticsearch"]["lastRunStatus"] == "partial"


def test_a_window_read_again_counts_each_dataset_s_newest_record(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backfill of ServiceNow's day failed on changes; forced again over the same window, it read both tables: the
    last run succeeded, the first attempt's failure is not its."""
    day = NOW - timedelta(days=2)
    tables = ("incidents", "changes")
    ran(
        lake,
        "ingest_servicenow",
        "servicenow",
        {"incidents": "succeeded", "changes": "failed"},
        day,
        trigger="backfill",
    )
    ran(lake, "ingest_servicenow", "servicenow", dict.fromkeys(tables, "succeeded"), NOW, until=day, trigger="backfill")

    assert sources_state(tmp_path, monkeypatch, IngestSettings())["servicenow"]["lastRunStatus"] == "succeeded"


def test_a_deploys_run_that_could_not_start_is_the_last_run_of_the_tools_in_use(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab alone deploys here (its URL configured, ArgoCD's not). GitLab's deployments were read half an hour
    ago; a quarter of an hour ago ingest_deploys could not start (its token unreadable): one failed record under
    `deploys`, without a dataset. GitLab's last run failed, and its last success stays the run before (29 minutes
    ago). ArgoCD, neither configured nor ever read, has no run."""
    (ended,) = ran(lake, "ingest_deploys", "gitlab", {"gitlab/deployments": "succeeded"}, NOW - timedelta(minutes=30))
    Watermarks(lake).advance("gitlab", "deployments", NOW - timedelta(minutes=30), run_id="r", now=ended)
    ran(lake, "ingest_deploys", "deploys", {None: "failed"}, NOW - timedelta(minutes=15))

    state = sources_state(tmp_path, monkeypatch, IngestSettings(gitlab_url="https://gitlab.example.org"))

    gitlab = state["gitlab"]
    assert (gitlab["lastRunStatus"], gitlab["lastSuccess"]) == ("failed", iso(NOW - timedelta(minutes=29)))
    assert (state["argocd"]["configured"], state["argocd"]["lastRunStatus"]) == (False, None)


def test_a_trigger_reads_no_record_of_the_runs_started_before_it(
    tmp_path: Path, lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sixty runs started earlier today. A build triggered on a lake without a mapping fails at once, writing only its
    own failed record: looking for its run ids read every record of the day, sixty GETs (some 1,300 by the evening,
    seconds on S3 before the answer). The records of runs started before the trigger are not its: none is read."""
    now = datetime.now(UTC)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = [max(today, now - timedelta(seconds=90 - i)) for i in range(60)]
    log = RunLog(lake)
    earlier_keys = {
        lake.run_key(log.start("ingest_deploys", "gitlab", "gitlab/deployments", now=at).run_id, at) for at in earlier
    }
    with admin_app(tmp_path, IngestSettings()) as c:
        reads = run_record_reads(monkeypatch, c)
        r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build"})
    (run_id,) = r.json()["runIds"]
    failed = log.get(run_id)
    assert (r.status_code, r.json()["errorKind"]) == (409, "BuildError")
    assert failed is not None and (failed.function, failed.status) == ("build_aggregates", "failed")
    assert set(reads).isdisjoint(earlier_keys)


def test_a_build_running_elsewhere_is_a_conflict_naming_it(tmp_path: Path, lake: Lake) -> None:
    """The scheduled build holds the lake's lease: a build triggered meanwhile stops before reading anything, and
    the admin gets a 409 naming the running one, with no run of its own in the log."""
    held = lease.take(lake, "schedule", timedelta(minutes=30))
    try:
        with admin_app(tmp_path, IngestSettings()) as c:
            r = c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json={"kind": "build", "mode": "full"})
            runs = c.get("/monitoring/admin/batch-runs", headers=ADMIN).json()["items"]
    finally:
        lease.release(lake, held)
    assert (r.status_code, r.headers["content-type"]) == (409, "application/problem+json")
    assert (r.json()["errorKind"], r.json()["runIds"], runs) == ("BuildError", [], [])
    assert "another build (schedule," in r.json()["detail"]


def test_an_admin_read_while_a_build_lands_names_the_mapping_version_it_read(tmp_path: Path, lake: Lake) -> None:
    """An API started while a build holds the lease loads no copy (the build may have put some of its objects): an
    admin's read of the runs answers all the same, without an as-of, and with the mapping version there is, not 0,
    which says there is no mapping."""
    write_estate(lake)
    build(lake, Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"), mode="full")
    (version,) = MappingStore(lake).versions()
    held = lease.take(lake, "schedule", timedelta(minutes=30))
    try:
        with admin_app(tmp_path, IngestSettings()) as c:
            r = c.get("/monitoring/admin/batch-runs", headers=ADMIN)
    finally:
        lease.release(lake, held)
    assert r.status_code == 200, r.text
    freshness = r.json()["freshness"]
    assert (freshness["asOf"], freshness["mappingVersion"]) == (None, version)
    assert [run["function"] for run in r.json()["items"]] == ["build_aggregates"]


def test_a_run_started_here_and_still_running_is_not_started_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build and a GitLab ingestion started here are still running. A second build is a 409; so is ArgoCD's
    ingestion, which is the same function as GitLab's (ingest_deploys). A ServiceNow ingestion starts."""
    release = threading.Event()
    monkeypatch.setattr(Trigger, "_run", lambda *args: release.wait(timeout=30))
    # No wait for run ids: the runs here write none.
    with admin_app(tmp_path, IngestSettings(), trigger_wait_s=0) as c:
        try:
            answers = [
                c.post("/monitoring/admin/batch/trigger", headers=ADMIN, json=body)
                for body in (
                    {"kind": "build"},
                    {"kind": "ingest", "source": "gitlab"},
                    {"kind": "build", "mode": "full"},
                    {"kind": "ingest", "source": "argocd"},
                    {"kind": "ingest", "source": "servicenow"},
                )
            ]
        finally:
            release.set()
    assert [a.status_code for a in answers] == [202, 202, 409, 409, 202]
    assert [a.json().get("target") for a in answers] == ["build", "ingest:deploys", None, None, "ingest:servicenow"]
    assert "ingest:deploys run started here is still running" in answers[3].json()["detail"]
