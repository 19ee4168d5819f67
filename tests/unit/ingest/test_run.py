"""The run: rejects kept with reasons, watermarks only after durable writes, failures isolated, backfill resumes."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pydantic import SecretStr

from functions.ingest_dynatrace import parse as dt
from functions.ingest_logs import parse as logs
from functions.ingest_servicenow.client import ServiceNowClient
from lakehouse.ingest.client import SetAside, SourceClient
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.errors import SourceUnavailable
from lakehouse.ingest.records import ParseResult, Reject, rows_table
from lakehouse.ingest.run import Derived, Page, SourcePlan, Stream, backfill, default_window, run_plan
from lakehouse.ingest.sources import resolve_window, run_backfill, source_module
from lakehouse.ingest.window import Window
from lakehouse.runlog import FirstReads, RunLog, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

CIS = "servicenow/cmdb_ci"
LOGS = "elasticsearch/log_counts_hourly"
T0 = datetime(2024, 3, 4, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(days=1))


@pytest.fixture
def local_lake(tmp_path: Path) -> Lake:
    return Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))


def parse_cis(page: Any, context: Any) -> ParseResult:
    rows, rejects = [], []
    for i, r in enumerate(page["result"]):
        if not isinstance(r.get("name"), str):
            rejects.append(Reject(CIS, "name should be a string", r, i))
        else:
            rows.append({"sys_id": r["sys_id"], "name": r["name"], "sys_updated_on": T0 + timedelta(hours=r["h"])})
    return ParseResult({CIS: rows_table(CIS, rows)}, rejects)


def plan_of(pages: list[dict[str, Any]] | Exception) -> SourcePlan:
    def fetch() -> Iterator[Page]:
        if isinstance(pages, Exception):
            raise pages
        for body in pages:
            yield Page(CIS, body)

    return SourcePlan("servicenow", "ingest_servicenow", [Stream("cis", (CIS,), fetch, {CIS: parse_cis})])


def test_rows_written_rejects_kept_and_watermark_advanced(local_lake: Lake) -> None:
    pages = [
        {"result": [{"sys_id": "a", "name": "web", "h": 1}, {"sys_id": "b", "name": 7, "h": 2}]},
        {"result": [{"sys_id": "c", "name": "db", "h": 3}]},
    ]
    outcome = run_plan(plan_of(pages), local_lake, WINDOW)
    record = outcome.outcomes[0].record
    assert (record.status, record.rows_in, record.rows_out, record.rows_rejected) == ("partial", 3, 2, 1)
    table = local_lake.read_partition(get_dataset(CIS), T0.date())
    assert table is not None and table.column("sys_id").to_pylist() == ["a", "c"]
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None
    (reject,) = rejects.to_pylist()
    assert reject["reason"] == "name should be a string" and reject["location"] == "page 1 record 1"
    assert '"name": 7' in reject["raw_text"] and reject["run_id"] == record.run_id
    mark = Watermarks(local_lake).get("servicenow", "cmdb_ci")
    assert mark is not None and mark.value == WINDOW.until and mark.run_id == record.run_id
    assert len(list(local_lake.iter_landing("servicenow", "cmdb_ci", record.run_id))) == 2


def test_half_a_character_neither_fails_the_page_nor_changes_the_reject_kept(local_lake: Lake) -> None:
    """A source that cuts its text in UTF-16 can send half an emoji, the JSON escape of a lone surrogate, which
    Python reads but UTF-8 cannot hold: the page failed, its good rows lost, and its reject with them. Now the
    name is kept with U+FFFD in place of the half character, and the reject beside it is kept as it came, the
    escape included."""
    page = json.loads(
        '{"result": [{"sys_id": "a", "name": "web \\ud83d", "h": 1}, {"sys_id": "b\\ud83d", "name": 7, "h": 2}]}'
    )
    record = run_plan(plan_of([page]), local_lake, WINDOW).outcomes[0].record
    assert (record.status, record.rows_out, record.rows_rejected) == ("partial", 1, 1)
    table = local_lake.read_partition(get_dataset(CIS), T0.date())
    assert table is not None and table.column("name").to_pylist() == ["web \ufffd"]
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None
    (reject,) = rejects.to_pylist()
    assert json.loads(reject["raw_text"]) == page["result"][1]


def test_a_source_that_is_down_fails_its_run_and_keeps_the_last_good_data(local_lake: Lake) -> None:
    run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, WINDOW)
    before = Watermarks(local_lake).get("servicenow", "cmdb_ci")
    outcome = run_plan(
        plan_of(SourceUnavailable("servicenow", "connection failed")),
        local_lake,
        Window(WINDOW.until, WINDOW.until + timedelta(hours=1)),
    )
    (failed,) = outcome.failed
    assert failed.record.status == "failed" and failed.record.error == "servicenow: connection failed"
    table = local_lake.read_partition(get_dataset(CIS), T0.date())
    assert table is not None and table.column("sys_id").to_pylist() == ["a"]
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") == before
    assert RunLog(local_lake).list(since=T0.date())[0].status in ("failed", "succeeded")


def test_a_run_stopped_with_ctrl_c_is_recorded_as_failed_and_moves_no_watermark(local_lake: Lake) -> None:
    """Ctrl-C in the demo or `rosetta-monitoring scheduler` while a page is read: the stop goes through, the run
    record says the run failed (it would otherwise say "running" for ever, in `runs` and admin/batch-runs), the
    partition and the watermark stay as the last good run left them."""
    run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, WINDOW)
    before = Watermarks(local_lake).get("servicenow", "cmdb_ci")

    def stopped() -> Iterator[Page]:
        yield Page(CIS, {"result": [{"sys_id": "a", "name": "web-renamed", "h": 25}]})
        raise KeyboardInterrupt

    plan = SourcePlan("servicenow", "ingest_servicenow", [Stream("cis", (CIS,), stopped, {CIS: parse_cis})])
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, local_lake, Window(WINDOW.until, WINDOW.until + timedelta(hours=1)))
    records = RunLog(local_lake).list(since=T0.date())
    assert [r.status for r in records] == ["failed", "succeeded"]
    assert records[0].error == "stopped (KeyboardInterrupt)"
    table = local_lake.read_partition(get_dataset(CIS), T0.date())
    assert table is not None and table.column("sys_id").to_pylist() == ["a"]
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") == before


def test_a_run_stopped_with_ctrl_c_keeps_and_counts_the_rejects_it_met(local_lake: Lake) -> None:
    """Ctrl-C after a page holding CI a (good) and b (name is a number): b was read once and is kept once, with its
    reason, and the stopped run says 1 rejected; a is not written and no watermark moves."""

    def stopped() -> Iterator[Page]:
        yield Page(CIS, {"result": [{"sys_id": "a", "name": "web", "h": 1}, {"sys_id": "b", "name": 7, "h": 2}]})
        raise KeyboardInterrupt

    plan = SourcePlan("servicenow", "ingest_servicenow", [Stream("cis", (CIS,), stopped, {CIS: parse_cis})])
    with pytest.raises(KeyboardInterrupt):
        run_plan(plan, local_lake, WINDOW)
    (record,) = RunLog(local_lake).list(since=T0.date())
    assert (record.status, record.error, record.rows_rejected) == ("failed", "stopped (KeyboardInterrupt)", 1)
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None
    (reject,) = rejects.to_pylist()
    assert (reject["run_id"], reject["location"], reject["reason"]) == (
        record.run_id,
        "page 1 record 1",
        "name should be a string",
    )
    assert local_lake.list_partitions(get_dataset(CIS)) == []
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") is None


@pytest.mark.parametrize(
    ("refusal", "error"),
    [(OSError("disk full"), "OSError: disk full"), (KeyboardInterrupt(), "stopped (KeyboardInterrupt)")],
)
def test_a_run_whose_rows_cannot_be_written_keeps_and_counts_its_rejects(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch, refusal: BaseException, error: str
) -> None:
    """The CI partition's write fails (disk full, or Ctrl-C while it is written) but the rejects' does not: b (name
    is a number) is kept and the failed run says 1 rejected; no watermark moves."""
    write_days = local_lake.write_days

    def refuse_cis(dataset: Any, rows: pa.Table, **written_by: Any) -> Any:
        if dataset.id == CIS:
            raise refusal
        return write_days(dataset, rows, **written_by)

    monkeypatch.setattr(local_lake, "write_days", refuse_cis)
    page = {"result": [{"sys_id": "a", "name": "web", "h": 1}, {"sys_id": "b", "name": 7, "h": 2}]}
    with contextlib.suppress(KeyboardInterrupt):
        run_plan(plan_of([page]), local_lake, WINDOW)
    (record,) = RunLog(local_lake).list(since=T0.date())
    assert (record.status, record.error, record.rows_rejected) == ("failed", error, 1)
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None
    assert [(r["run_id"], r["location"]) for r in rejects.to_pylist()] == [(record.run_id, "page 1 record 1")]
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") is None


def test_a_run_that_fails_after_writing_some_days_says_which_it_wrote(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CIs a (hour 1, day T0) and c (hour 25, day T0 + 1): the first day is written, the store refuses the second.
    The failed run's record said it wrote no day and no row, though day T0 now holds a: the run log hid what the run
    changed, and the next hourly build, which rebuilds the days the runs since the last build wrote, skipped it.
    Now it says 1 row out, in day T0, and the failure."""
    write_partition = local_lake.write_partition

    def refuse_second_day(dataset: Any, day: Any, rows: pa.Table, **written_by: Any) -> Any:
        if dataset.id == CIS and day == (T0 + timedelta(days=1)).date():
            raise OSError("store unreachable")
        return write_partition(dataset, day, rows, **written_by)

    monkeypatch.setattr(local_lake, "write_partition", refuse_second_day)
    page = {"result": [{"sys_id": "a", "name": "web", "h": 1}, {"sys_id": "c", "name": "db", "h": 25}]}
    (failed,) = run_plan(plan_of([page]), local_lake, WINDOW).failed
    (record,) = RunLog(local_lake).list(since=T0.date())
    assert (record.status, record.error) == ("failed", "OSError: store unreachable")
    assert (record.days_written, record.rows_out) == ([T0.date().isoformat()], 1)
    assert failed.record.days_written == record.days_written
    assert local_lake.list_partitions(get_dataset(CIS)) == [T0.date()]
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") is None


def test_a_derived_dataset_that_fails_after_replacing_days_says_which_it_wrote(local_lake: Lake) -> None:
    """A derived dataset whose inputs change under every computation (here its own days: each computation gives the
    CI another name, so each replace changes day T0) fails after its attempts, each of which replaced day T0. Its
    record names that day as written."""
    names = (f"web-{n}" for n in itertools.count())

    def build(lake: Lake, window: Window) -> pa.Table:
        return rows_table(CIS, [{"sys_id": "a", "name": next(names), "sys_updated_on": T0 + timedelta(hours=1)}])

    derived = Derived(CIS, build, lambda window: window.first_day, inputs=(CIS,))
    plan = SourcePlan("servicenow", "ingest_servicenow", [], derived=[derived])
    (failed,) = run_plan(plan, local_lake, WINDOW).failed
    (record,) = RunLog(local_lake).list(since=T0.date())
    assert record.status == "failed" and "inputs changed" in (record.error or "")
    assert record.days_written == [T0.date().isoformat()] == failed.record.days_written


def test_a_page_set_aside_before_the_source_failed_is_kept(local_lake: Lake) -> None:
    """The second answer was not JSON (set aside, asked again), then the source stayed down: that answer is the
    failed run's 1 reject, located by its request."""
    client = SourceClient("https://sn.example")

    def fetch() -> Iterator[Page]:
        yield Page(CIS, {"result": [{"sys_id": "a", "name": "web", "h": 1}]})
        client.counters.set_aside.append(SetAside("GET /api/now/table/cmdb_ci", "page was not valid JSON", '{"res'))
        raise SourceUnavailable("servicenow", "HTTP 503 on GET /api/now/table/cmdb_ci, still after 6 attempts")

    stream = Stream("cis", (CIS,), fetch, {CIS: parse_cis}, client)
    (failed,) = run_plan(SourcePlan("servicenow", "ingest_servicenow", [stream]), local_lake, WINDOW).failed
    assert failed.record.rows_rejected == 1
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), failed.record.started_at.date())
    assert rejects is not None
    assert [(r["location"], r["reason"], r["raw_text"]) for r in rejects.to_pylist()] == [
        ("GET /api/now/table/cmdb_ci", "page was not valid JSON", '{"res')
    ]
    assert local_lake.list_partitions(get_dataset(CIS)) == []


def test_no_watermark_when_the_write_fails(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **written_by: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(local_lake, "write_days", refuse)
    outcome = run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, WINDOW)
    assert outcome.failed and "disk full" in (outcome.failed[0].record.error or "")
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") is None


def test_backfill_skips_days_already_done(local_lake: Lake) -> None:
    built: list[Window] = []

    def make(day: Window) -> SourcePlan:
        built.append(day)
        hours = int((day.since - T0).total_seconds() // 3600) + 1
        return plan_of([{"result": [{"sys_id": f"d{hours}", "name": "x", "h": hours}]}])

    days = Window(T0, T0 + timedelta(days=3)).days()
    now = T0 + timedelta(days=5)
    first = backfill(
        "servicenow",
        "cmdb_ci",
        lambda d: make(d) if d != days[1] else plan_of(OSError("down")),
        local_lake,
        days,
        concurrency=2,
        now=now,
    )
    assert sum(bool(o.failed) for o in first) == 1
    built.clear()
    backfill("servicenow", "cmdb_ci", make, local_lake, days, concurrency=2, now=now)
    assert built == [days[1]]  # only the day that failed is fetched again
    assert Watermarks(local_lake).get("servicenow", "cmdb_ci") is None  # backfills leave watermarks alone


def test_a_servicenow_backfill_reads_every_ci_whole_once(local_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3-day backfill of the CIs read the whole CMDB three times, once per day, instead of once."""
    reads: list[Window | None] = []

    def updated_records(self: Any, table: str, fields: Any, since: datetime, until: datetime, size: int) -> Any:
        reads.append(Window(since, until))
        return iter(())

    def every_record(self: Any, table: str, fields: Any, size: int) -> Any:
        reads.append(None)
        return iter(())

    monkeypatch.setattr(ServiceNowClient, "updated_records", updated_records)
    monkeypatch.setattr(ServiceNowClient, "every_record", every_record)
    settings = IngestSettings(servicenow_url="https://sn.example", servicenow_user="u", servicenow_password="p")
    days = Window(T0, T0 + timedelta(days=3))
    run_backfill("servicenow", local_lake, settings, window=days, datasets=[CIS], concurrency=2, now=days.until)
    # One day reads every CI, the other two their own day only.
    assert reads.count(None) == 1
    assert sorted((w for w in reads if w is not None), key=lambda w: w.since) == [
        Window(T0 + timedelta(days=1), T0 + timedelta(days=2)),
        Window(T0 + timedelta(days=2), T0 + timedelta(days=3)),
    ]


def test_rejected_rows_of_several_pages_do_not_collide(local_lake: Lake) -> None:
    pages = [{"result": [{"sys_id": "a", "name": 1, "h": 1}]}, {"result": [{"sys_id": "b", "name": 2, "h": 1}]}]
    outcome = run_plan(plan_of(pages), local_lake, WINDOW)
    record = outcome.outcomes[0].record
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None and sorted(rejects.column("location").to_pylist()) == [
        "page 1 record 0",
        "page 2 record 0",
    ]
    assert isinstance(rejects, pa.Table)


def test_every_reject_of_a_page_is_kept_even_at_one_location(local_lake: Lake) -> None:
    """Two unknown metrics on one Dynatrace page: the run said 2 rejected, but the rejects kept only one."""
    page = {
        "resolution": "1h",
        "result": [{"metricId": "builtin:unknown.one", "data": []}, {"metricId": "builtin:unknown.two", "data": []}],
    }

    def fetch() -> Iterator[Page]:
        yield Page(dt.METRICS_DATASET, page)

    stream = Stream("metrics", (dt.METRICS_DATASET,), fetch, {dt.METRICS_DATASET: dt.parse_metrics_page})
    outcome = run_plan(SourcePlan("dynatrace", "ingest_dynatrace", [stream]), local_lake, WINDOW)
    record = outcome.outcomes[0].record
    assert record.rows_rejected == 2
    rejects = local_lake.read_partition(get_dataset("dynatrace/rejects"), record.started_at.date())
    assert rejects is not None
    # Neither metric has a record index: both are met at "page 1".
    kept = sorted((r["location"], r["reason"]) for r in rejects.to_pylist())
    assert kept == [
        ("page 1", "unknown metric 'builtin:unknown.one'"),
        ("page 1 #2", "unknown metric 'builtin:unknown.two'"),
    ]


def test_far_behind_a_run_catches_up_one_bounded_step_at_a_time(local_lake: Lake) -> None:
    marks = Watermarks(local_lake)
    marks.advance("servicenow", "cmdb_ci", T0, run_id="r0")
    now = T0 + timedelta(days=5)
    step = timedelta(hours=48)
    overlap = timedelta(minutes=15)
    first = default_window(
        local_lake, [CIS], now=now, overlap=overlap, initial_lookback=timedelta(hours=24), catch_up=step
    )
    assert (first.since, first.until) == (T0 - overlap, T0 - overlap + step)
    run_plan(plan_of([{"result": []}]), local_lake, first)
    second = default_window(
        local_lake, [CIS], now=now, overlap=overlap, initial_lookback=timedelta(hours=24), catch_up=step
    )
    assert second.since == first.until - overlap  # the next run starts where the step ended
    # Close to now, the window simply ends now.
    marks.advance("servicenow", "cmdb_ci", now - timedelta(hours=3), run_id="r1")
    recent = default_window(
        local_lake, [CIS], now=now, overlap=overlap, initial_lookback=timedelta(hours=24), catch_up=step
    )
    assert (recent.since, recent.until) == (now - timedelta(hours=3) - overlap, now)


def test_a_dataset_without_a_watermark_does_not_skip_what_the_others_have_not_read(local_lake: Lake) -> None:
    """Dynatrace three days behind (its metrics watermark at T0), then its entities enabled: the entities have no
    watermark, and the window became the last 24 hours for every dataset. The run moved the metrics' watermark to
    now over three days it never read. The window now starts at the oldest watermark there is (T0 minus the
    overlap), the new dataset's first read included, and catches up one bounded step from there."""
    metrics, entities = "dynatrace/service_metrics_hourly", "dynatrace/entities"
    Watermarks(local_lake).advance("dynatrace", "service_metrics_hourly", T0, run_id="r0")
    now = T0 + timedelta(days=3)
    overlap, lookback, step = timedelta(hours=2), timedelta(hours=24), timedelta(hours=48)
    window = default_window(
        local_lake, [metrics, entities], now=now, overlap=overlap, initial_lookback=lookback, catch_up=step
    )
    assert (window.since, window.until) == (T0 - overlap, T0 - overlap + step)
    # Watermarks recent, the new dataset still gets its first day.
    Watermarks(local_lake).advance("dynatrace", "service_metrics_hourly", now - timedelta(hours=1), run_id="r1")
    window = default_window(
        local_lake, [metrics, entities], now=now, overlap=overlap, initial_lookback=lookback, catch_up=step
    )
    assert (window.since, window.until) == (now - lookback, now)


def test_a_window_ending_in_the_future_moves_the_watermark_only_to_when_the_run_read(local_lake: Lake) -> None:
    """`ingest --since today --until tomorrow` at 15:00 moved the watermark to tomorrow 00:00: records updated
    between 15:00 and tomorrow 00:00 minus the overlap were never read by a scheduled run, and every scheduled run
    before then failed on an empty window (since after now)."""
    before = datetime.now(UTC)
    window = Window(before - timedelta(hours=15), before + timedelta(hours=9))
    outcome = run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, window)
    after = datetime.now(UTC)
    assert not outcome.failed
    mark = Watermarks(local_lake).get("servicenow", "cmdb_ci")
    # Up to when the run started reading, not 9 hours ahead of it.
    assert mark is not None and before <= mark.value <= after
    # Fifteen minutes later the scheduled run starts at the watermark minus its overlap, before now. (With the
    # watermark 9 hours ahead, its window would have started 8h45 after now.)
    later = default_window(
        local_lake,
        [CIS],
        now=after + timedelta(minutes=15),
        overlap=timedelta(minutes=15),
        initial_lookback=timedelta(hours=24),
    )
    assert (later.since, later.until) == (mark.value - timedelta(minutes=15), after + timedelta(minutes=15))


def test_a_page_read_twice_counts_its_records_once(local_lake: Lake) -> None:
    """A ServiceNow re-scan (records moved while paged) hands the run the same page again: CI a (good) and b (name
    is a number). The lake kept a once, but the run log said 2 rows out and 2 rejected, and the rejects held b twice.
    Read twice, the page still holds 1 row and 1 reject: rows in 2, out 1, rejected 1. The client counts the re-scan
    before it hands the page again, as ServiceNowClient.updated_records does."""
    page = {"result": [{"sys_id": "a", "name": "web", "h": 1}, {"sys_id": "b", "name": 7, "h": 2}]}
    client = ServiceNowClient("https://example.service-now.com", "svc", SecretStr("password-1234"))

    def fetch() -> Iterator[Page]:
        yield Page(CIS, page)
        client.counters.reads_again += 1
        yield Page(CIS, page)

    stream = Stream("cis", (CIS,), fetch, {CIS: parse_cis}, client=client)
    outcome = run_plan(SourcePlan("servicenow", "ingest_servicenow", [stream]), local_lake, WINDOW)
    record = outcome.outcomes[0].record
    assert (record.status, record.rows_in, record.rows_out, record.rows_rejected) == ("partial", 2, 1, 1)
    table = local_lake.read_partition(get_dataset(CIS), T0.date())
    assert table is not None and table.column("sys_id").to_pylist() == ["a"]
    rejects = local_lake.read_partition(get_dataset("servicenow/rejects"), record.started_at.date())
    assert rejects is not None and [r["location"] for r in rejects.to_pylist()] == ["page 1 record 1"]


def test_the_same_rejected_text_met_in_two_places_is_kept_twice(local_lake: Lake) -> None:
    """Log lines without a service in two index patterns, the same hour and count: two rejects, not one read twice."""
    bucket = {"key": {"service": None, "environment": "prod", "level": "ERROR", "hour": 0}, "doc_count": 3}
    body = {"aggregations": {"logs": {"buckets": [bucket]}}}

    def fetch() -> Iterator[Page]:
        for pattern in ("logs-pay-*", "logs-shop-*"):
            yield Page(LOGS, body, {"index_pattern": pattern})

    stream = Stream("log_counts", (LOGS,), fetch, {LOGS: logs.parse_log_counts_page})
    outcome = run_plan(SourcePlan("elasticsearch", "ingest_logs", [stream]), local_lake, WINDOW)
    assert outcome.outcomes[0].record.rows_rejected == 2


def test_a_watermark_that_cannot_be_saved_fails_the_run_in_the_run_log(
    local_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refusing the watermark's write escaped the run: its record said succeeded for a window the next run
    reads again, and the stream's other datasets were neither written nor finished (left running)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("store unreachable")

    monkeypatch.setattr(Watermarks, "advance", refuse)
    outcome = run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, WINDOW)
    (failed,) = outcome.failed
    assert failed.record.status == "failed" and "store unreachable" in (failed.record.error or "")
    (logged,) = RunLog(local_lake).list(since=failed.record.started_at.date())
    assert logged.status == "failed"


def test_a_dataset_is_read_from_the_earliest_window_a_run_or_backfill_completed(local_lake: Lake) -> None:
    """A first scheduled run reads the day from 4 March; a later run the hour after it; a backfill then the 2nd and
    3rd, one day failing. The dataset has been read from the 2nd (the backfill's first day, which it completed),
    never moved forward by a later window, and not from a day whose run failed."""
    cis = [{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]
    first_reads = FirstReads(local_lake)
    assert first_reads.get("servicenow", "cmdb_ci") is None
    run_plan(plan_of(cis), local_lake, WINDOW)
    assert first_reads.get("servicenow", "cmdb_ci") == T0
    run_plan(plan_of(cis), local_lake, Window(WINDOW.until, WINDOW.until + timedelta(hours=1)))
    assert first_reads.get("servicenow", "cmdb_ci") == T0
    days = Window(T0 - timedelta(days=2), T0).days()
    failing = {days[0].since: OSError("down")}
    backfill(
        "servicenow",
        "cmdb_ci",
        lambda d: plan_of(failing.get(d.since, cis)),
        local_lake,
        days,
        concurrency=1,
        now=T0 + timedelta(days=5),
    )
    assert first_reads.get("servicenow", "cmdb_ci") == T0 - timedelta(days=1)
    failing.clear()
    backfill("servicenow", "cmdb_ci", lambda d: plan_of(cis), local_lake, days, concurrency=1, now=T0)
    assert first_reads.get("servicenow", "cmdb_ci") == T0 - timedelta(days=2)


def test_a_lake_that_held_a_dataset_before_first_reads_were_recorded_leaves_its_first_read_unknown(
    local_lake: Lake,
) -> None:
    """A lake an older release fed: the CIs of 3 March are in it, with no record of when they were first read. A run
    over 4 March completes: the first read is unknown (what the lake read before reaches back who knows how far), not
    4 March, which would make a year-old lake look a day old; a backfill of 1 and 2 March leaves it unknown."""
    cis = get_dataset(CIS)
    older = {"sys_id": "old", "name": "legacy", "sys_updated_on": T0 - timedelta(hours=12)}
    local_lake.write_partition(cis, (T0 - timedelta(days=1)).date(), rows_table(CIS, [older]))
    run_plan(plan_of([{"result": [{"sys_id": "a", "name": "web", "h": 1}]}]), local_lake, WINDOW)
    first_reads = FirstReads(local_lake)
    assert first_reads.get("servicenow", "cmdb_ci") is None
    days = Window(T0 - timedelta(days=3), T0 - timedelta(days=1)).days()
    cis_page = [{"result": [{"sys_id": "b", "name": "db", "h": -60}]}]
    backfill("servicenow", "cmdb_ci", lambda d: plan_of(cis_page), local_lake, days, concurrency=1, now=T0)
    assert first_reads.get("servicenow", "cmdb_ci") is None


def test_a_run_within_the_hour_under_way_reads_the_last_whole_hour_again_not_the_hour_in_part(
    local_lake: Lake,
) -> None:
    """Without an overlap, Dynatrace's metrics read to 12:00 and a run at 12:20: its window [12:00, 12:20) was made
    the whole hour 12:00-13:00, which Dynatrace had for 20 minutes only, its requests stored as the hour's (a drop
    in traffic) until a later run read it again. By hand: the run reads 11:00-12:00 again, as an overlap would; at
    13:05 it reads 12:00-13:00. A window asked within an hour that has ended is that hour whole."""
    noon = T0.replace(hour=12)
    Watermarks(local_lake).advance("dynatrace", "service_metrics_hourly", noon, run_id="r0")
    module, settings = source_module("dynatrace"), IngestSettings(overlap_hours=0)
    datasets = ("dynatrace/service_metrics_hourly",)

    def window(now: datetime, asked: Window | None = None) -> tuple[datetime, datetime]:
        found = resolve_window(module, settings, local_lake, datasets, asked, now)
        return found.since, found.until

    hour = timedelta(hours=1)
    assert window(noon + timedelta(minutes=20)) == (noon - hour, noon)
    assert window(noon + timedelta(minutes=65)) == (noon, noon + hour)
    asked = Window(noon, noon + timedelta(minutes=20))
    assert window(noon + timedelta(hours=3), asked) == (noon, noon + hour)
