"""Run records under runs/ and watermarks under state/."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

import lakehouse.runlog as runlog_module
from lakehouse.errors import LakeAccessError
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.storage import Lake

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))


def finished_run(runs: RunLog, started: datetime) -> str:
    """The id of a run started and finished at `started`."""
    return runs.finish(runs.start("f", "gitlab", now=started), "succeeded", now=started).run_id


def test_a_run_is_recorded_when_it_starts_and_when_it_ends(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run lasts 4 s: started at 03:15:00, finished at 03:15:04, the monotonic clock read 4 s apart."""
    monotonic = [500.0]
    monkeypatch.setattr(runlog_module, "time", SimpleNamespace(monotonic=lambda: monotonic[0]))
    runs = RunLog(lake)
    started = datetime(2026, 11, 2, 3, 15, tzinfo=UTC)
    run = runs.start("ingest_servicenow", "servicenow", "servicenow/incidents", window=WINDOW, now=started)
    monotonic[0] = 504.0
    listed = runs.list(since=started.date())
    assert [(r.run_id, r.status) for r in listed] == [(run.run_id, "running")]
    run.rows_in, run.rows_out, run.rows_rejected, run.retries, run.requests = 120, 118, 2, 3, 7
    runs.finish(run, "partial", error=LakeAccessError("bucket 'x' does not exist"), now=started + timedelta(seconds=4))
    (record,) = runs.list(since=started.date())
    assert record.status == "partial"
    assert (record.rows_in, record.rows_out, record.rows_rejected, record.retries, record.requests) == (
        120,
        118,
        2,
        3,
        7,
    )
    assert (record.window_start, record.window_end) == WINDOW
    assert record.error == "bucket 'x' does not exist"
    assert record.duration_s == 4.0
    assert lake.list_keys("runs/") == [f"runs/day=2026-11-02/{run.run_id}.json", "runs/last/servicenow/run.json"]


def test_runs_are_listed_newest_first_and_limited(lake: Lake) -> None:
    runs = RunLog(lake)
    base = datetime(2026, 11, 1, tzinfo=UTC)
    ids = [runs.finish(runs.start("f", "gitlab", now=base + timedelta(hours=h)), "succeeded").run_id for h in range(5)]
    listed = runs.list(since=base.date(), limit=3)
    assert [r.run_id for r in listed] == ids[::-1][:3]
    assert runs.list(since=(base + timedelta(days=3)).date()) == []


def test_unexpected_errors_are_recorded_with_their_type(lake: Lake) -> None:
    runs = RunLog(lake)
    run = runs.start("f", "dynatrace")
    runs.finish(run, "failed", error=KeyError("result"))
    assert runs.list()[0].error == "KeyError: 'result'"


def test_watermark_moves_forward_only(lake: Lake) -> None:
    marks = Watermarks(lake)
    assert marks.get("servicenow", "incidents") is None
    t1, t2 = WINDOW
    marks.advance("servicenow", "incidents", t2, run_id="r1", cursor={"last_sys_id": "a" * 32})
    marks.advance("servicenow", "incidents", t1, run_id="r2")
    mark = marks.get("servicenow", "incidents")
    assert mark is not None and (mark.value, mark.run_id, mark.cursor) == (t2, "r1", {"last_sys_id": "a" * 32})


def test_naive_watermarks_are_refused(lake: Lake) -> None:
    with pytest.raises(ValueError, match="UTC"):
        Watermarks(lake).advance("gitlab", "deployments", datetime(2026, 1, 1), run_id="r")  # noqa: DTZ001


def test_listing_recent_runs_reads_no_older_part_of_the_run_log(lake: Lake) -> None:
    """Every build lists the runs since the last one; a year of runs is some 400,000 records. 1,500 runs filed in
    2025 and two in November 2026: the runs since 1 November are those two, and on S3 one listing request (a page
    holds 1,000 keys) finds them, not two pages of the older runs before them."""
    runs = RunLog(lake)

    def file_old(i: int) -> None:
        lake.put_json(f"runs/day=2025-03-{1 + i % 28:02d}/old-{i:04d}.json", {"run_id": f"old-{i:04d}"})

    with ThreadPoolExecutor(max_workers=10) as pool:  # one after the other takes some twenty seconds on S3
        list(pool.map(file_old, range(1500)))
    # Finished: a run left open has its sign of life renewed for as long as the test session lasts.
    recent = [finished_run(runs, datetime(2026, 11, d, 9, tzinfo=UTC)) for d in (2, 20)]
    requests: list[str] = []
    client = getattr(lake.store, "client", None)
    if client is not None:
        client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: requests.append("list"))
    listed = runs.list(since=date(2026, 11, 1))
    assert [r.run_id for r in listed] == recent[::-1]
    if client is not None:
        assert requests == ["list"]


def test_the_runs_listed_are_read_side_by_side(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run record is an object of its own: on S3 a GET of some tens of milliseconds, and the sources' state
    reads a thousand of them (`GET /admin/config/sources`), one after another longer than API Gateway waits (29 s).
    Eight runs of 2 November: their reads meet four at a time at a barrier, which reads made one after another
    never reach (it breaks after 10 s). All eight are listed, newest first."""
    runs = RunLog(lake)
    ids = [finished_run(runs, datetime(2026, 11, 2, hour, tzinfo=UTC)) for hour in range(8)]
    meeting = threading.Barrier(4, timeout=10)
    get = lake.store.get

    def get_side_by_side(key: str) -> object:
        if key.startswith("runs/"):
            meeting.wait()
        return get(key)

    monkeypatch.setattr(lake.store, "get", get_side_by_side)
    listed = runs.list(since=date(2026, 11, 2))
    assert [r.run_id for r in listed] == ids[::-1]
