"""Ingestion run again over the same window, backfills failing halfway, runs killed before their record, records
updated months later: against the simulators over HTTP, on a local lake and on S3 on loopback."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.records import rows_table
from lakehouse.ingest.run import Derived, SourcePlan, run_plan
from lakehouse.ingest.sources import run_backfill
from lakehouse.ingest.window import Window
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.serve import RunningSimulators, start_simulators
from tests.unit.ingest.test_run import CIS, T0, WINDOW

from .conftest import END, import_catalog, invoke
from .test_ingest_handlers import partition_bytes, run_all
from .test_window_edges import INCIDENTS, at, incident_versions, incidents_event, stored_versions

pytestmark = pytest.mark.simulators
Point = Callable[[RunningSimulators, Settings], None]


@pytest.fixture
def sixty_days() -> Iterator[RunningSimulators]:
    """An estate of 60 days (2024-01-06 to 2024-03-06) whose incidents were last updated on 33 of them."""
    with start_simulators(generate_estate(seed=16, apps=2, days=60, end=END)) as running:
        yield running


def test_a_second_run_over_the_same_window_changes_no_byte_and_names_no_day_written(
    settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """Every source and dataset read twice over the same windows: the second run rewrites no day object and its run
    records name no day written (the next hourly build rebuilds nothing), but for ArgoCD's status, a snapshot
    stamped with the time it is polled: one new snapshot a run, in today's day."""
    point(sims, settings)
    lake = Lake.from_settings(settings)
    import_catalog(lake, sims.estate)
    run_all(sims.estate)
    before = partition_bytes(lake)
    polled = datetime.now(UTC).date()
    second = run_all(sims.estate)
    written = {d: s["days_written"] for summary in second.values() for d, s in summary["runs"][0]["datasets"].items()}
    assert len(written) == 15  # 2 Dynatrace, 5 ServiceNow, 3 ArgoCD, 3 GitLab, 1 deployment events, 1 log counts
    assert written.pop("argocd/app_status") == [polled.isoformat()]
    assert {d: days for d, days in written.items() if days} == {}
    after = partition_bytes(lake)
    snapshots = f"raw/argocd/app_status/day={polled.isoformat()}/data.parquet"
    assert {k: v for k, v in after.items() if k != snapshots} == {k: v for k, v in before.items() if k != snapshots}


class Killed(BaseException):
    """The process killed (OOM, Lambda's hard timeout, SIGKILL): nothing after the point it dies at runs."""


def test_a_day_a_killed_run_wrote_before_its_record_is_named_by_the_next_run_over_the_window(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after putting its days and before finishing its run record leaves a record that says "running"
    and names no day. The next run over the window found the days as it would write them and named none either, so
    the builds, which rebuild the days finished runs name, never rebuilt them. Now it names them."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    window = incidents_event(at("2024-03-03 00:00:00"), at("2024-03-04 00:00:00"))
    table = sims.apis["servicenow"].tables["incident"]
    # The incidents updated on 2024-03-03 (4 of them), each stored in the day it was opened on.
    opened = sorted({table.value(r, "opened_at")[:10] for r in table.rows if _on(table, r, "2024-03-03")})

    def killed(*args: Any, **kwargs: Any) -> None:
        raise Killed

    with monkeypatch.context() as dying:
        dying.setattr(RunLog, "finish", killed)
        dying.setattr(RunLog, "stopped", lambda self, reason: None)
        with pytest.raises(Killed):
            invoke(servicenow_handler, window)
    (crashed,) = RunLog(lake).list(since=datetime.now(UTC).date())
    assert (crashed.status, crashed.days_written) == ("running", [])
    assert [d.isoformat() for d in lake.list_partitions(get_dataset(INCIDENTS))] == opened
    (run,) = invoke(servicenow_handler, window)["runs"]
    assert run["datasets"][INCIDENTS]["days_written"] == opened


def _on(table: Any, record: Any, day: str) -> bool:
    """Whether the simulator's record was last updated on `day` (YYYY-MM-DD)."""
    return str(table.value(record, "sys_updated_on")).startswith(day)


class FailingDay:
    """A proxy in front of the ServiceNow simulator that answers 500 to every read of the UTC day `day` (its encoded
    query starts there), for good, until `healed`."""

    def __init__(self, target: str, day: date) -> None:
        self.target, self.marker, self.healed = target, f"gs.dateGenerate('{day.isoformat()}','00:00:00')", False
        proxy = self

        class Forward(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not proxy.healed and f"sys_updated_on>=javascript:{proxy.marker}" in unquote(self.path):
                    self._answer(500, {}, b'{"error": {"message": "Internal Server Error"}}')
                    return
                request = urllib.request.Request(proxy.target + self.path, headers=dict(self.headers))
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        self._answer(answer.status, dict(answer.headers), answer.read())
                except urllib.error.HTTPError as refused:
                    self._answer(refused.code, dict(refused.headers), refused.read())

            def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Type", headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_backfill_failing_on_day_37_of_60_writes_the_others_and_run_again_reads_day_37_alone(
    settings: Settings, sixty_days: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """60 days from 2024-01-06, two at a time; ServiceNow answers 500 for good to day 37, 2024-02-11 (2024-01-06 +
    36 days), the day one incident was last updated on. The 59 other days are written and leave a marker, day 37
    is a failed run record naming no day and leaves none, no watermark moves; the backfill run again reads day 37
    alone (one page and one count: 2 requests) and the lake then holds every incident."""
    point(sixty_days, settings)
    failing = FailingDay(sixty_days.urls["servicenow"], date(2024, 2, 11))
    monkeypatch.setenv("ROSETTA_SERVICENOW_URL", failing.url)
    lake = Lake.from_settings(settings)
    versions = incident_versions(sixty_days)
    on_day_37 = {v for v in versions if v[1].startswith("2024-02-11")}
    assert len(versions) == 53 and len(on_day_37) == 1
    window = Window(at("2024-01-06 00:00:00"), END)

    def backfill() -> list[Any]:
        return run_backfill(
            "servicenow", lake, IngestSettings().resolved(), window=window, datasets=[INCIDENTS], concurrency=2, now=END
        )

    try:
        first = backfill()
        assert len(first) == 60
        (failed,) = [o for o in first if o.failed]
        assert failed.window.first_day == date(2024, 2, 11)
        record = failed.failed[0].record
        assert (record.status, record.days_written) == ("failed", [])
        assert "500" in (record.error or "")
        assert sorted(stored_versions(lake)) == sorted(versions - on_day_37)
        markers = lake.list_keys("state/servicenow/backfill/incidents/")
        assert len(markers) == 59 and not [k for k in markers if "2024-02-11" in k]
        assert Watermarks(lake).get("servicenow", "incidents") is None
        failing.healed = True
        (again,) = backfill()
    finally:
        failing.close()
    assert again.window.first_day == date(2024, 2, 11) and not again.failed
    (record,) = [o.record for o in again.outcomes]
    assert record.requests == 2 and record.rows_out == 1
    assert sorted(stored_versions(lake)) == sorted(versions)
    assert Watermarks(lake).get("servicenow", "incidents") is None


def test_an_incident_updated_months_later_joins_its_opening_day_which_loses_nothing(
    settings: Settings, sixty_days: RunningSimulators, point: Point
) -> None:
    """Incidents are stored in the day they were opened on, every version kept. One updated on 2024-06-01, months
    after the day it was opened on, is read by that day's run and merged into its opening day's object: the day
    holds what it held, plus the new version (one row more), in key order; no other day is written."""
    point(sixty_days, settings)
    lake = Lake.from_settings(settings)
    dataset = get_dataset(INCIDENTS)
    table = sixty_days.apis["servicenow"].tables["incident"]
    invoke(servicenow_handler, incidents_event(at("2024-01-06 00:00:00"), END))
    by_day: dict[str, list[Any]] = {}
    for r in table.rows:
        by_day.setdefault(table.value(r, "opened_at")[:10], []).append(r)
    opened_on, incidents = next((d, rs) for d, rs in sorted(by_day.items()) if len(rs) >= 2)
    held = lake.read_partition(dataset, date.fromisoformat(opened_on))
    assert held is not None and held.num_rows == len(incidents)
    updated = incidents[0]
    table.drift[table.sys_id(updated)] = ("2024-06-01 09:30:00", int(table.value(updated, "sys_mod_count")) + 1)
    table.version += 1
    (run,) = invoke(servicenow_handler, incidents_event(at("2024-06-01 00:00:00"), at("2024-06-02 00:00:00")))["runs"]
    assert run["datasets"][INCIDENTS]["rows_out"] == 1
    assert run["datasets"][INCIDENTS]["days_written"] == [opened_on]
    after = lake.read_partition(dataset, date.fromisoformat(opened_on))
    assert after is not None
    keys = [(r["sys_id"], r["sys_updated_on"]) for r in after.to_pylist()]
    new_version = (table.sys_id(updated), datetime(2024, 6, 1, 9, 30, tzinfo=UTC))
    assert keys == sorted([(r["sys_id"], r["sys_updated_on"]) for r in held.to_pylist()] + [new_version])


def test_a_backfill_writing_an_older_read_after_a_scheduled_run_wrote_a_newer_one_loses_neither(
    settings: Settings, sixty_days: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes over the same day object: a backfill of 2024-02-11 reads the incident last updated that day,
    the incident is updated again (2024-03-05 23:30), a scheduled run reads and writes that newer version, and only
    then does the backfill write its older read. Each write merges into the object it reads at that moment, replacing
    it only if nobody replaced it meanwhile (a compare-and-swap): the day keeps both versions, the newer one the
    latest, and every other incident of the day."""
    point(sixty_days, settings)
    dataset = get_dataset(INCIDENTS)
    table = sixty_days.apis["servicenow"].tables["incident"]
    (incident,) = [r for r in table.rows if _on(table, r, "2024-02-11")]
    opened_on = date.fromisoformat(table.value(incident, "opened_at")[:10])
    # The day it was opened on, with its other incidents, as a first run leaves it.
    scheduled = Lake.from_settings(settings)
    invoke(servicenow_handler, incidents_event(at("2024-01-06 00:00:00"), END))
    held = scheduled.read_partition(dataset, opened_on)
    assert held is not None
    backfilling = Lake.from_settings(settings)
    read, newer_written = threading.Event(), threading.Event()
    write_days = backfilling.write_days

    def held_back(ds: Any, rows: Any, **written_by: Any) -> Any:
        if ds.id == INCIDENTS:
            read.set()
            assert newer_written.wait(30)
        return write_days(ds, rows, **written_by)

    monkeypatch.setattr(backfilling, "write_days", held_back)
    settings_now = IngestSettings().resolved()
    day = Window(at("2024-02-11 00:00:00"), at("2024-02-12 00:00:00"))
    outcomes: list[Any] = []
    backfill = threading.Thread(
        target=lambda: outcomes.extend(
            run_backfill("servicenow", backfilling, settings_now, window=day, datasets=[INCIDENTS], now=END)
        )
    )
    backfill.start()
    try:
        assert read.wait(30)
        older = (table.sys_id(incident), datetime.fromisoformat(table.value(incident, "sys_updated_on")))
        table.drift[table.sys_id(incident)] = ("2024-03-05 23:30:00", int(table.value(incident, "sys_mod_count")) + 1)
        table.version += 1
        invoke(servicenow_handler, incidents_event(at("2024-03-05 00:00:00"), END))
    finally:
        newer_written.set()
        backfill.join(60)
    (outcome,) = outcomes
    assert not outcome.failed
    after = scheduled.read_partition(dataset, opened_on)
    assert after is not None
    keys = [(r["sys_id"], r["sys_updated_on"]) for r in after.to_pylist()]
    newer = (table.sys_id(incident), datetime(2024, 3, 5, 23, 30, tzinfo=UTC))
    older = (older[0], older[1].replace(tzinfo=UTC))
    assert older in keys and newer in keys
    assert sorted(keys) == sorted({*((r["sys_id"], r["sys_updated_on"]) for r in held.to_pylist()), newer})
    assert max(k[1] for k in keys if k[0] == newer[0]) == newer[1]


def test_a_derived_dataset_computed_again_names_the_day_its_first_computation_replaced(
    local_settings: Settings,
) -> None:
    """The deployment events are computed again when another run writes one of their inputs meanwhile. The first
    computation replaced day T0; the second gave the same rows, found the day as it would write it, and its
    "unchanged" took the place of the first's "written": the run's record named no day, and the builds never rebuilt
    T0. Here the input (the CIs) gets a row of the day before, left to it, while the first computation runs."""
    lake = Lake.from_settings(local_settings)
    computations = []

    def build(lake: Lake, window: Window) -> Any:
        computations.append(window)
        if len(computations) == 1:
            lake.write_days(get_dataset(CIS), rows_table(CIS, [ci("b", T0 - timedelta(days=1))]))
        return rows_table(CIS, [ci("a", T0 + timedelta(hours=1))])

    derived = Derived(CIS, build, lambda window: window.first_day, inputs=(CIS,))
    outcome = run_plan(SourcePlan("servicenow", "ingest_servicenow", [], derived=[derived]), lake, WINDOW)
    assert len(computations) == 2 and not outcome.failed
    (record,) = RunLog(lake).list(since=T0.date())
    assert record.days_written == [T0.date().isoformat()]


def ci(sys_id: str, updated: datetime) -> dict[str, Any]:
    return {"sys_id": sys_id, "name": "web", "sys_updated_on": updated}
