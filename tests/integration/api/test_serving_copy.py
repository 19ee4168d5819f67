"""The serving copy loads the summary's tables first: the summary answers while the rest is still coming."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from functions.api import mart as serving
from functions.api.main import create_app
from lakehouse.aggregates import mart_writes
from lakehouse.aggregates.build import build
from lakehouse.aggregates.sqlfiles import load_sql_files
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import ADMIN, READER, api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import (
    AS_OF,
    CI_API,
    build_stopped_before_its_deletes,
    change,
    deployment,
    metrics,
    rows,
    t,
    write_estate,
)


def test_the_summary_answers_before_the_rest_of_the_copy_is_loaded(
    estate_lake: tuple[Settings, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = estate_lake
    release = threading.Event()
    define_rest = serving.ServingMart._define_rest

    def held_back(self: serving.ServingMart, *args: object) -> None:
        release.wait(30)
        define_rest(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(serving.ServingMart, "_define_rest", held_back)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            summary = client.get("/monitoring/applications/shop/summary", headers=READER)
            assert summary.status_code == 200, summary.text
            body = summary.json()
            # The same figures as with the whole copy (test_endpoints.test_summary_of_shop).
            assert body["goldenSignals"]["requests"] == 14 * 1000 + 14 * 500
            assert body["incidents"]["openP1P2"] == 1 and body["risk"]["riskScore"] == 40
            assert body["lastDeployments"][0]["deploymentKey"] == "argocd:shop-api-prod:3"
            component = client.get("/monitoring/components/shop-db/summary", headers=READER)
            assert component.status_code == 200 and component.json()["incidents"]["open"] == 1
            # shop-db served 500 requests an hour for 14 of the 24 hours before as_of.
            assert component.json()["goldenSignals"]["requests"] == 14 * 500
            # Other routes wait for the rest; past the wait (cut short here) they say so rather than answer from half
            # a copy.
            monkeypatch.setattr(serving, "LOAD_WAIT_S", 0.2)
            waiting = client.get("/monitoring/applications/shop/changes", headers=READER)
            assert waiting.status_code == 503
            assert waiting.headers["content-type"] == "application/problem+json"
            # The client is told when to ask again: the copy is loading, in seconds.
            assert waiting.headers["retry-after"] == str(serving.RETRY_WHILE_LOADING_S)
            # A mapping change lands while the copy is still loading: the copy keeps what the loader adds next.
            onboarding = {"entries": [{"entity_id": "newapp", "kind": "application", "team": "t9"}]}
            assert client.post("/monitoring/admin/mappings", headers=ADMIN, json=onboarding).status_code == 201
            release.set()
            monkeypatch.setattr(serving, "LOAD_WAIT_S", 30.0)
            changes = client.get("/monitoring/applications/shop/changes", headers=READER)
            assert changes.status_code == 200, changes.text
            # Loaded: the last day's signals now come from the copy's precomputed table, and agree.
            for route, first in (
                ("/monitoring/applications/shop/summary", summary),
                ("/monitoring/components/shop-db/summary", component),
            ):
                again = client.get(route, headers=READER).json()["goldenSignals"]
                assert again == first.json()["goldenSignals"]
            served = app.state.context.mart.snapshot()
            assert served.directory.version == 3 and served.recent is not None and served.summary.signals is not None
    finally:
        release.set()


def test_before_any_build_every_route_says_so_at_once(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        for route in ("/monitoring/applications/shop/summary", "/monitoring/kpis/dora"):
            answer = client.get(route, headers=READER)
            assert answer.status_code == 503 and answer.json()["title"] == "No data yet"


def test_a_new_build_is_served_once_loaded_and_a_failed_load_keeps_the_old_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    first_run = build(lake, settings, mode="full", as_of=AS_OF).run_id
    app = create_app(api_settings(tmp_path), settings, down_sources())
    serving_mart = app.state.context.mart
    with TestClient(app, raise_server_exceptions=False) as client:

        def served_build() -> str:
            answer = client.get("/monitoring/applications/shop/incidents", headers=READER)
            assert answer.status_code == 200, answer.text
            return str(answer.json()["freshness"]["buildRunId"])

        assert served_build() == first_run
        old_folders = set((tmp_path / "api").iterdir())
        # A build lands whose copy cannot be loaded: the old copy keeps serving and the failed one is dropped.
        second_run = build(lake, settings, mode="full", as_of=AS_OF).run_id

        def broken(self: serving.ServingMart, *args: object) -> None:
            raise OSError("disk full")

        # In the first stage (the summary's tables) and in the background one (the rest).
        for step in ("_define_tables", "_hold_recent_hours"):
            with monkeypatch.context() as patch:
                patch.setattr(serving.ServingMart, step, broken)
                assert serving_mart.refresh(force=True) is False
            assert served_build() == first_run
            assert set((tmp_path / "api").iterdir()) == old_folders
        # Loaded for real, the new build is served. A request that took the old copy just before the swap can
        # still read it; the old copy is retired a while later (RETIRE_AFTER_S).
        old = serving_mart.snapshot()
        assert serving_mart.refresh(force=True) is True
        assert served_build() == second_run
        cursor = old.cursor()
        assert cursor.execute("select count(*) from mv_changes").fetchone() is not None
        cursor.close()
        assert old_folders <= set((tmp_path / "api").iterdir())
        serving._retire(old)
        assert not old_folders & set((tmp_path / "api").iterdir())


def test_a_copy_whose_load_failed_half_way_is_loaded_again(tmp_path: Path) -> None:
    """The summary's tables load, then an object of the rest cannot be read (a fetch that failed, a damaged object):
    routes needing it say the copy could not be loaded, not that nothing was built, and the next check loads the copy
    again rather than serving half of it until the next build."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    changes = next((tmp_path / "lake" / "mart" / "mv_changes").rglob("*.parquet"))
    good = changes.read_bytes()
    changes.write_bytes(b"PAR1 damaged PAR1")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/monitoring/applications/shop/summary", headers=READER).status_code == 200
        failed = client.get("/monitoring/applications/shop/changes", headers=READER)
        assert failed.status_code == 503, failed.text
        assert failed.json()["title"] == "Data unavailable" and "could not be loaded" in failed.json()["detail"]
        # Loaded again at the next check for a new build: api_settings checks once an hour.
        assert failed.headers["retry-after"] == "3600"
        changes.write_bytes(good)
        assert app.state.context.mart.refresh() is True
        answer = client.get("/monitoring/applications/shop/changes?status=all", headers=READER)
        assert answer.status_code == 200, answer.text


def test_a_mart_built_before_the_last_status_table_still_serves_summaries_and_live_mode(tmp_path: Path) -> None:
    """A mart written by a release before mv_live_status_latest (its object removed here): the summary answers, and
    live mode with the sources down falls back to shop-api's last deployment (r1, the 19th at 13:00) with no status
    or pipeline, until the next build writes the table."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    shutil.rmtree(tmp_path / "lake" / "mart" / "mv_live_status_latest")
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/monitoring/applications/shop/summary", headers=READER).status_code == 200
        live = get_json(client, "/monitoring/components/shop-api/deployments?mode=live")["live"]
        assert [(c["stale"], c["revision"], c["lastDeployedAt"], c["lastPipelineStatus"]) for c in live] == [
            (True, "r1", "2026-11-19T13:00:00Z", None)
        ]


def test_month_objects_written_under_different_schemas_are_read_by_column_name(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    november = lake.get_table("mart/mv_deployments/month=2026-11/data.parquet")
    assert november is not None
    # A month written before is_rework existed, its columns in another order.
    older = november.drop_columns(["is_rework"]).select(
        list(reversed(november.drop_columns(["is_rework"]).column_names))
    )
    lake.put_table("mart/mv_deployments/month=2026-09/data.parquet", older)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app) as client:
        assert client.get("/monitoring/applications/shop/deployments", headers=READER).status_code == 200
        snap = app.state.context.mart.snapshot()
        snap.complete.wait(10)
        cursor = snap.cursor()
        counted = cursor.execute(
            "select count(*), count(is_rework), count(distinct deployment_key) from mv_deployments"
        ).fetchone()
        cursor.close()
    assert counted == (2 * november.num_rows, november.num_rows, november.num_rows)


def test_a_deployment_range_reads_the_months_it_overlaps(tmp_path: Path) -> None:
    # The route filters on finished_at: the months can be skipped only because the build stores by that column.
    months_of = {f.table: f.month_column for f in load_sql_files()}
    assert {table: months_of[table] for table in serving.READ_BY_MONTH} == {"mv_deployments": "finished_at"}
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    deploys = get_dataset("deploys/deployment_events")
    october = deployment(
        "argocd:shop-api-prod:0", "argocd", "shop-api-prod", t(1) - timedelta(days=20), "succeeded", "r0"
    )
    lake.write_days(deploys, rows(deploys.id, october))
    build(lake, settings, mode="full", as_of=AS_OF)
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app) as client:

        def keys(query: str) -> set[str]:
            answer = client.get(f"/monitoring/applications/shop/deployments?{query}", headers=READER)
            assert answer.status_code == 200, answer.text
            return {d["deploymentKey"] for d in answer.json()["items"]}

        snap = app.state.context.mart.snapshot()
        months = snap.table_months("mv_deployments", t(1) - timedelta(days=31), t(1))
        assert [Path(m).parent.name for m in months] == ["month=2026-10"]
        assert keys("from=2026-10-01&to=2026-10-31") == {"argocd:shop-api-prod:0"}
        both = keys("from=2026-10-01&to=2026-11-20")
        assert "argocd:shop-api-prod:0" in both and "argocd:shop-api-prod:2" in both
        assert keys("from=2026-08-01&to=2026-08-31") == set()  # no month object: nothing read


def test_a_change_created_months_before_its_window_is_in_the_calendar_of_its_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHG9, a change of shop created on 2 October for a window on the 22nd of November (after as_of), is stored in
    October's object (changes are stored by month of creation), yet it is an upcoming change of shop's calendar,
    beside CHG1 and CHG2 of November's object: the copy reads the months merged into one file, sorted by application
    then change start, that holds every change once (as for a calendar too large to be held in memory)."""
    monkeypatch.setattr(serving, "IN_MEMORY_ROWS", 0)
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    created = datetime(2026, 10, 2, 9, tzinfo=UTC)
    scheduled = change(
        "9" * 32, "CHG9", CI_API, (t(22, 9), t(22, 10)), "", created, created, planned=(t(22, 9), t(22, 10))
    )
    scheduled |= {"state": -2, "close_code": None, "work_start": None, "work_end": None}
    lake.write_days(get_dataset("servicenow/changes"), rows("servicenow/changes", scheduled))
    build(lake, settings, mode="full", as_of=AS_OF)
    stored = sorted(k for k in lake.list_keys("mart/mv_changes/"))
    assert stored == ["mart/mv_changes/month=2026-10/data.parquet", "mart/mv_changes/month=2026-11/data.parquet"]
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app) as client:
        upcoming = get_json(client, "/monitoring/applications/shop/changes?status=upcoming")["items"]
        assert [c["number"] for c in upcoming] == ["CHG9"]
        every = get_json(client, "/monitoring/applications/shop/changes?status=all&from=2026-11-01&to=2026-11-30")
        assert [c["number"] for c in every["items"]] == ["CHG9", "CHG1", "CHG2"]
        snap = app.state.context.mart.snapshot()
        snap.complete.wait(10)
        cursor = snap.cursor()
        (definition,) = cursor.execute("select sql from duckdb_views() where view_name = 'mv_changes'").fetchone()
        served = cursor.execute("select number, app_id, epoch_us(change_start) from mv_changes").fetchall()
        cursor.close()
    assert "merged/mv_changes.parquet" in definition and "month=" not in definition
    assert served == sorted(served, key=lambda row: (row[1], row[2] is None, row[2]))
    assert len(served) == sum(pq.ParquetFile(lake.url_of(key)).metadata.num_rows for key in stored)


def test_the_hourly_months_the_build_writes_need_no_sort_in_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build sorts each month by application, so the copy mirrors it as it is: every row group starts at or
    after the application the one before ends with. Small row groups stand in for a year's months."""
    monkeypatch.setattr(mart_writes, "MONTH_ROW_GROUP", 1000)
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    # The estate's day of metrics (the 19th) again on every other day of November: enough hours for two groups.
    signals = get_dataset("dynatrace/service_metrics_hourly")
    day = metrics().to_pylist()
    others = [row | {"hour": row["hour"] + timedelta(days=shift)} for shift in range(-18, 12) if shift for row in day]
    lake.write_days(signals, rows(signals.id, *others))
    end = AS_OF + timedelta(days=10)
    build(lake, settings, mode="full", as_of=end)
    # An hourly build writes the 30th again as an object of its own; a late 29th makes it rewrite November's object
    # too, its kept days and its rebuilt ones in one order.
    assert build(lake, settings, mode="hourly", as_of=end + timedelta(hours=1)).mode == "hourly"
    runs = RunLog(lake)
    run = runs.start("ingest_dynatrace", "dynatrace", signals.id)
    run.days_written = ["2026-11-29"]
    runs.finish(run, "succeeded")
    assert build(lake, settings, mode="hourly", as_of=end + timedelta(hours=2)).day_from == t(29).date()
    objects = lake.list_keys("mart/mv_golden_signals_hourly/")
    assert objects == [
        "mart/mv_golden_signals_hourly/month=2026-11/data.parquet",
        "mart/mv_golden_signals_hourly/month=2026-11/day-2026-11-30.parquet",
    ]
    for key in objects:
        path = Path(lake.url_of(key))
        apps = pq.read_table(path, columns=["app_id"])["app_id"].to_pylist()
        assert set(apps) == {"shop", "quiet"}
        assert serving._sorted_by_app(path), key
    assert pq.ParquetFile(lake.url_of(objects[0])).metadata.num_row_groups >= 2

    # The API reads the month from both objects: SERVICE-A's requests (1000 an hour) on the 29th from the month
    # object and on the 30th from the day object, each hour once: the 29th's 24 and the 30th's 12 before as_of
    # (12:00).
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app) as client:
        answer = client.get(
            "/monitoring/components/shop-api/timeseries?metric=requests&from=2026-11-29T00:00:00Z"
            "&to=2026-12-01T00:00:00Z",
            headers=READER,
        )
    assert answer.status_code == 200, answer.text
    points = answer.json()["points"]
    assert len(points) == 24 + 12 and {p["v"] for p in points} == {1000.0}


@pytest.mark.parametrize("resorted", [False, True])
def test_a_day_object_its_month_object_also_holds_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, resorted: bool
) -> None:
    """The hand-made estate with its day of signals also on the 20th, built at the 20th, 10:00: November's month
    objects hold the 1st to the 19th, the 20th is an object of its own. A build stopped before its deletes left the
    19th's day objects of the day summary, the incidents per day and the hourly signals beside them. A freshly
    loaded copy counts the 19th once:
    - shop's SLO over the 19th sums 24 h x 1,000 requests (shop-api) + 20 h x 500 (shop-db) = 34,000, not 68,000;
    - shop's incidents opened on the 19th: INC1 alone, 1, not 2 (INC2 was opened on the 18th);
    - shop-api's requests per hour on the 19th and 20th: the 19th's 24 and the 20th's 10 before as_of, 34 points of
      1,000, not the 19th's hours twice (58).
    Re-sorted in the copy (as a month object in one large row group is), the month object still says its last day:
    the 20th's object is read."""
    if resorted:
        monkeypatch.setattr(serving, "ROW_GROUP", 10)
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    build_stopped_before_its_deletes(lake, settings)
    the_19th = "from=2026-11-19T00:00:00Z&to=2026-11-20T00:00:00Z"
    two_days = "from=2026-11-19T00:00:00Z&to=2026-11-21T00:00:00Z"
    app = create_app(api_settings(tmp_path), settings, down_sources())
    with TestClient(app) as client:
        slo = get_json(client, f"/monitoring/kpis/slo?groupBy=app&{the_19th}")
        incidents = get_json(client, f"/monitoring/kpis/incidents?{the_19th}")
        series = get_json(client, f"/monitoring/components/shop-api/timeseries?metric=requests&{two_days}")
        hourly = app.state.context.mart.snapshot().hourly_files(t(19).date(), t(20).date())
    assert by_id(slo)["shop"]["availabilityDenominator"] == 34_000
    shop = by_id(incidents)["shop"]
    assert shop["opened"] == 1 and [d["opened"] for d in shop["days"]] == [1]
    assert [p["v"] for p in series["points"]] == [1000.0] * (24 + 10)
    assert [Path(f).name for f in hourly] == ["data.parquet", "day-2026-11-20.parquet"]
    # Mirrored as the build wrote it (a link to the lake's object), or re-sorted into the copy's own file.
    month = lake.url_of("mart/mv_golden_signals_hourly/month=2026-11/data.parquet")
    assert str(tmp_path / "api") in hourly[0] and os.path.samefile(hourly[0], month) is not resorted


# A process whose copy is still loading when it exits: the loader is held back half a second, then finds Python
# refusing new work to thread pools.
EXITING_WHILE_LOADING = """
import sys, time
from pathlib import Path
from functions.api import mart as serving
from functions.api.settings import ApiSettings
from lakehouse.settings import Settings
from lakehouse.storage import Lake

root = Path(sys.argv[1])
settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
hold = serving.ServingMart._hold_recent_hours

def held(self, *args):
    time.sleep(0.5)
    hold(self, *args)

serving.ServingMart._hold_recent_hours = held
serving.ServingMart(Lake.from_settings(settings), settings, ApiSettings(local_dir=root / "api")).snapshot()
print("summary tables loaded")
"""


def test_a_process_exiting_while_its_copy_loads_reports_no_failure(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", EXITING_WHILE_LOADING, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
    )
    assert done.returncode == 0 and done.stdout.strip() == "summary tables loaded"
    assert "loading the mart failed" not in done.stderr and "Traceback" not in done.stderr, done.stderr


# A process killed while it serves, as Lambda kills its runtime at a request's timeout: no cleanup runs.
KILLED_WHILE_SERVING = """
import os, signal, sys
from pathlib import Path
from functions.api import mart as serving
from functions.api.settings import ApiSettings
from lakehouse.settings import Settings
from lakehouse.storage import Lake

root = Path(sys.argv[1])
settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
serving.ServingMart(Lake.from_settings(settings), settings, ApiSettings(local_dir=root / "api")).snapshot()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_copies_of_killed_processes_are_removed_when_a_process_starts(tmp_path: Path) -> None:
    """Lambda kills the runtime of a request that reaches the timeout and starts a new one in the same environment,
    whose /tmp keeps the old copy: one more copy left for each timeout, until the function's storage is full. A new
    process removes the copies of processes that no longer run, including one of a dead process that had its own pid
    (a new runtime often does), and keeps a running process's copy. Three copies before: the killed process's, the
    same one under this process's pid, and one of the running test runner's parent; after: that last one and the
    new process's own."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    root = Path(__file__).resolve().parents[3]
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WHILE_SERVING, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
    )
    assert killed.returncode == -9, killed.stderr
    copies = tmp_path / "api"
    (left,) = copies.iterdir()
    pid, tag = left.name.split("-")[1:]
    assert pid not in (str(os.getpid()), str(os.getppid()))
    shutil.copytree(left, copies / f"mart-{os.getpid()}-{tag}")
    shutil.copytree(left, copies / f"mart-{os.getppid()}-{tag}")
    serving.ServingMart(lake, settings, api_settings(tmp_path)).snapshot()
    kept = sorted(p.name for p in copies.iterdir())
    assert len(kept) == 2 and f"mart-{os.getppid()}-{tag}" in kept
    (own,) = [name for name in kept if name.startswith(f"mart-{os.getpid()}-")]
    assert own != f"mart-{os.getpid()}-{tag}"
