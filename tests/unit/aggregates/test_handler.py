"""The build Lambda handler, called as Lambda would call it, with its sample events."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from functions.build_aggregates.handler import handler
from functions.deadline import LambdaTimeout
from lakehouse.aggregates import build as build_module
from lakehouse.aggregates import lease
from lakehouse.aggregates.build import BuildError
from lakehouse.aggregates.lease import LEASE_KEY
from lakehouse.aggregates.sqlfiles import SQL_DIR, load_sql_files
from lakehouse.errors import RosettaError
from lakehouse.runlog import RunLog, note_stop
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.lambda_context import LambdaContext
from tests.unit.aggregates.estate import write_estate

EVENTS = Path(__file__).resolve().parents[3] / "functions" / "build_aggregates" / "events"


def as_lambda_sees_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The build function's environment: a lake in a local folder, no tracing."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")


def test_daily_event_builds_the_mart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    as_lambda_sees_it(tmp_path, monkeypatch)
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    event = json.loads((EVENTS / "daily.json").read_text())
    summary = handler(event, LambdaContext())
    # The first build is always full (no earlier build state), whatever the event asks.
    assert summary["mode"] == "full" and summary["as_of"] == "2026-11-20T10:00:00+00:00"
    assert summary["full_because"] == "no build before"
    assert summary["tables"]["mv_dora_app_period"] > 0
    assert lake.list_keys("mart/mv_dora_app_period/") == ["mart/mv_dora_app_period/data.parquet"]
    # The five slowest steps, slowest first, each a step the build names: a SQL file of the build, a mart table's
    # write, or its own work around them (reading the inputs, the days the events reach, the settled parts). On so
    # small an estate which five are slowest varies from run to run.
    steps = summary["slowest_steps"]
    files = {p.name for p in SQL_DIR.glob("[0-9]*.sql")}
    marts = {f"write {name[3:-4]}" for name in files if name[3:].startswith("mv_")}
    own = {"read inputs", "days the events reach", "read back application hours", "remove days held twice"}
    settled = {"settled deployments", "settled changes", "settled lead times", "settled stg_change_deployments"}
    settled |= {"settled links", "settled mv_deployments", "carried mv_deployments"}
    settled |= {"settled mv_changes", "write settled deployments", "write settled changes"}
    settled |= {"read settled deployments", "read settled changes", "write settled requests", "carried requests"}
    assert len(steps) == 5 and set(steps) <= files | marts | own | settled
    assert list(steps.values()) == sorted(steps.values(), reverse=True)
    second = handler(json.loads((EVENTS / "daily.json").read_text()), LambdaContext())
    assert second["mode"] == "daily" and second["day_from"] == "2026-11-20"  # nothing ingested since: today only
    assert second["full_because"] is None
    # An hourly build takes every settled part the daily one kept; the estate's events all come after its cut.
    # An hour on: the period tables are an hour old, which an hourly build leaves to the daily one.
    an_hour_on = json.loads((EVENTS / "hourly.json").read_text()) | {"as_of": "2026-11-20T11:00:00+00:00"}
    hourly = handler(an_hour_on, LambdaContext())
    assert (hourly["mode"], hourly["daily_because"]) == ("hourly", None)
    assert hourly["settled_rows"] == {
        "stg_deployments": 0,
        "stg_merge_requests": 0,
        "stg_change_deployments": 0,
        "mv_lead_times": 0,
        "mv_changes": 0,
        "mv_incident_links": 0,
        "mv_deployments": 0,
    }


def test_unknown_mode_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    with pytest.raises(ValueError, match="mode must be one of hourly, daily, full"):
        handler({"mode": "weekly"}, LambdaContext())


@pytest.mark.parametrize(
    ("event", "kind"), [(["hourly"], "an array"), ("hourly", "a string"), (None, "null"), (3, "a number")]
)
def test_an_event_that_is_no_json_object_is_refused_before_anything_is_read(
    monkeypatch: pytest.MonkeyPatch, event: object, kind: str
) -> None:
    """ "hourly" sent as the whole event, or a list of modes, ended in an AttributeError ('str' object has no attribute
    'get'). It is refused naming the object expected, before the settings are read: these settings cannot be read,
    and the error is still the event's."""
    monkeypatch.setenv("ROSETTA_DUCKDB_THREADS", "many")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    expected = f'the event must be a JSON object, e.g. {{"mode": "hourly"}}, not {kind}'
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        handler(event, LambdaContext())  # type: ignore[arg-type]


def test_an_as_of_without_a_time_zone_is_refused_before_anything_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "2026-11-20T10:00:00" names no instant: read as the machine's local time it is 10:00 UTC on Lambda and
    another hour on a laptop in Paris, so two runs of one event would build two different hours. It is refused, as
    the command line refuses it, and no build runs."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    with pytest.raises(BuildError, match="as_of needs a time zone"):
        handler({"mode": "full", "as_of": "2026-11-20T10:00:00"}, LambdaContext())
    naive = datetime(2026, 11, 20, 10, tzinfo=UTC).replace(tzinfo=None)
    with pytest.raises(BuildError, match="as_of needs a time zone"):
        build_module.build(lake, Settings(), mode="full", as_of=naive)
    assert lake.list_keys("mart/") == []


ROOM = "leaves no room for the build's periods around it: give an instant from the year 2 to 9998"


@pytest.mark.parametrize(
    ("as_of", "refusal"),
    [
        # Its month ends in the year 10000, which no date holds.
        ("9999-12-31T23:00:00+00:00", f"as_of 9999-12-31T23:00:00+00:00 {ROOM}"),
        # Its hourly lookback reaches before the year 1.
        ("0001-01-10T00:00:00+00:00", f"as_of 0001-01-10T00:00:00+00:00 {ROOM}"),
        ("yesterday", "as_of 'yesterday' is not an ISO 8601 instant"),
        (1764583200, "as_of 1764583200 is not an ISO 8601 instant"),
        # Empty, nothing or zero is no instant either: they built as of now, as if as_of were left out.
        ("", "as_of '' is not an ISO 8601 instant"),
        (0, "as_of 0 is not an ISO 8601 instant"),
        (False, "as_of False is not an ISO 8601 instant"),
    ],
)
def test_an_as_of_the_build_cannot_hold_is_refused_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_of: object, refusal: str
) -> None:
    """An event's as_of is read as the command line's --as-of is: one outside the years 2 to 9998, or no instant at
    all, is refused before the build starts, the field named, rather than failing deep in the build."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    with pytest.raises(BuildError, match=f"^{re.escape(refusal)}"):
        handler({"mode": "full", "as_of": as_of}, LambdaContext())
    assert lake.list_keys("mart/") == []
    assert RunLog(lake).list() == []


def test_the_build_itself_refuses_an_as_of_whose_periods_no_calendar_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever calls it (the scheduler, the API's local trigger), the build refuses before taking the lake."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path / "lake"))
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    with pytest.raises(BuildError, match=f"^as_of 9999-12-31T23:00:00\\+00:00 {re.escape(ROOM)}"):
        build_module.build(lake, Settings(), mode="full", as_of=datetime(9999, 12, 31, 23, tzinfo=UTC))
    assert lake.list_keys("mart/") == [] and lake.get_json(LEASE_KEY) is None


def test_a_timed_out_build_leaves_the_lake_free_for_lambdas_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda stops a build at its 15-minute timeout, where it cannot let go of the lake's lease, and retries the
    event a minute or two later. The invocation started at 10:00 with 900 s left, so its lease ends at 10:15: the
    retry at 10:16 builds. A build asked for at 10:14, while the first could still be running, is refused."""
    as_lambda_sees_it(tmp_path, monkeypatch)
    write_estate(Lake.from_settings(Settings()))
    event = json.loads((EVENTS / "daily.json").read_text())
    started = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    monkeypatch.setattr(lease, "release", lambda lake, held: None)  # stopped by the timeout
    monkeypatch.setattr(lease, "now", lambda: started)
    handler(event, LambdaContext(remaining_ms=900_000))
    monkeypatch.setattr(lease, "now", lambda: started + timedelta(minutes=14))
    with pytest.raises(BuildError, match="another build"):
        handler(event, LambdaContext(remaining_ms=900_000))
    monkeypatch.setattr(lease, "now", lambda: started + timedelta(minutes=16))
    assert handler(event, LambdaContext(remaining_ms=900_000))["mode"] == "daily"


def test_a_trigger_that_is_no_plain_tag_is_recorded_as_the_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An EventBridge scheduled event, as a rule delivers it, carrying the daily build's input and a trigger of 5,000
    characters with a forged log line in it. Like an ingestion run, the build records it as "schedule" in the run log
    and in the lease it holds; "api:3f2a9c", the API's batch trigger, is kept as it is."""
    as_lambda_sees_it(tmp_path, monkeypatch)
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    monkeypatch.setattr(lease, "release", lambda lake, held: None)  # the lease kept, to be read
    forged = 'api:x\n{"level": "INFO", "message": "forged"}'
    hostile = forged + "a" * (5000 - len(forged))
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-20T10:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/rosetta-build-daily"],
        "detail": {},
        **json.loads((EVENTS / "daily.json").read_text()),
        "trigger": hostile,
    }
    summary = handler(event, LambdaContext())
    [run] = RunLog(lake).list()
    assert (run.run_id, run.trigger) == (summary["run_id"], "schedule")
    assert lake.get_json(LEASE_KEY)[0]["trigger"] == "schedule"  # type: ignore[index]
    lake.store.delete(LEASE_KEY)  # as the build lets go of it
    again = handler({**event, "trigger": "api:3f2a9c"}, LambdaContext())
    assert {r.run_id: r.trigger for r in RunLog(lake).list()}[again["run_id"]] == "api:3f2a9c"
    assert lake.get_json(LEASE_KEY)[0]["trigger"] == "api:3f2a9c"  # type: ignore[index]


def test_a_stop_met_while_duckdb_runs_a_sql_file_is_recorded_as_a_stop(tmp_path: Path) -> None:
    """Lambda's coming timeout can land while DuckDB is inside a SQL file: DuckDB then fails the query with an error of
    its own ("LambdaTimeout: ..."), raised while the stop is handled, and the build names the file it failed in. The
    run record says the build was stopped, as for a stop between two files, not that 13_stg_problems.sql failed."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    runs = RunLog(lake)
    run = runs.start("build_aggregates", "mart", "hourly", trigger="schedule")
    problems = next(f for f in load_sql_files() if f.path.name == "13_stg_problems.sql")
    con = duckdb.connect()
    try:
        try:
            raise LambdaTimeout("Lambda's timeout is 30 s away")
        except LambdaTimeout:
            build_module._execute(con, problems, "select error('LambdaTimeout: Lambda''s timeout is 30 s away')")
    except BuildError as failed:
        assert str(failed).startswith("13_stg_problems.sql")
        runs.finish(run, "failed", error=failed)
    [record] = RunLog(lake).list()
    assert (record.status, record.error) == ("failed", "stopped (LambdaTimeout)")


def test_a_stop_duckdb_keeps_no_link_to_is_recorded_as_a_stop_while_it_is_noted(tmp_path: Path) -> None:
    """From DuckDB 2.0, a stop raised by the deadline's signal handler during a query comes back as a bare
    RuntimeError("Query interrupted"), linked to no stop. The handler notes the stop as it raises it: while noted, the
    build's failure is recorded as a stop; once the deadline has handled it, a failure is recorded as what it is."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    runs = RunLog(lake)
    problems = next(f for f in load_sql_files() if f.path.name == "13_stg_problems.sql")

    def failed_build() -> BuildError:
        try:
            try:
                raise RuntimeError("Query interrupted")  # as DuckDB 2.0 raises it: no cause, no context
            except RuntimeError as interrupted:
                raise BuildError(f"{problems.path.name}: {interrupted}") from None
        except BuildError as failed:
            return failed

    stopped = runs.start("build_aggregates", "mart", "hourly", trigger="schedule")
    note_stop(LambdaTimeout("Lambda's timeout is 30 s away"))
    try:
        runs.finish(stopped, "failed", error=failed_build())
    finally:
        note_stop(None)
    failed = runs.start("build_aggregates", "mart", "hourly", trigger="schedule")
    runs.finish(failed, "failed", error=failed_build())
    errors = {r.run_id: r.error for r in RunLog(lake).list()}
    assert errors[stopped.run_id] == "stopped (LambdaTimeout)"
    assert errors[failed.run_id] == "13_stg_problems.sql: Query interrupted"


def test_a_build_near_its_timeout_stops_itself_and_lets_go_of_the_lake(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda kills a function at its timeout without a word: the run record would say "running" for ever. The
    handler stops the build 30 s before the timeout instead. Invoked with 31 s left, the build is stopped 1 s in, while
    it reads its inputs (made to take a minute here: the small estate's whole build can end within a second): the
    invocation fails (Lambda counts the error and retries), no run record is left running, the lease is given back
    and no build state is written."""
    as_lambda_sees_it(tmp_path, monkeypatch)
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    event = json.loads((EVENTS / "daily.json").read_text())
    read_inputs = build_module.register_inputs

    def slow_read(*args: Any, **kwargs: Any) -> Any:
        read = read_inputs(*args, **kwargs)
        time.sleep(60)
        return read

    monkeypatch.setattr(build_module, "register_inputs", slow_read)
    with pytest.raises(RosettaError, match="stopped 30 s before the Lambda timeout"):
        handler(event, LambdaContext(remaining_ms=31_000))
    monkeypatch.setattr(build_module, "register_inputs", read_inputs)
    records = [lake.get_json(key) for key in lake.list_keys("runs/") if key.startswith("runs/day=")]
    assert [r[0]["status"] for r in records if r] == ["failed"]
    assert records[0] and records[0][0]["error"] == "stopped (LambdaTimeout)"
    lease = lake.get_json("state/build/lease.json")
    assert lease is not None and lease[0]["holder"] is None
    assert lake.get_json("state/build/aggregates.json") is None
    # The retry that follows builds at once.
    assert handler(event, LambdaContext(remaining_ms=900_000))["mode"] == "full"


def test_a_stop_landing_while_a_failed_build_records_its_end_waits_for_that_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build failing of its own just before its stop writes its failure as the stop comes (a store read held until
    its tries ran out, say): the stop waits for that record and is raised after it. Raised in its write, the record
    said "running" until the deadline and the build's own error was lost. Invoked with 35 s left: the build fails 4 s
    in, its record takes 3 s to write, the stop comes 5 s in."""
    as_lambda_sees_it(tmp_path, monkeypatch)
    lake = Lake.from_settings(Settings())
    write_estate(lake)
    event = json.loads((EVENTS / "daily.json").read_text())
    invoked = time.monotonic()

    def failing_read(*args: Any, **kwargs: Any) -> Any:
        time.sleep(max(0.0, invoked + 4 - time.monotonic()))
        raise OSError("the store went away")

    write = RunLog._write

    def slow_write(runs: RunLog, record: Any) -> None:
        if record.status == "failed":
            time.sleep(3)
        write(runs, record)

    monkeypatch.setattr(build_module, "register_inputs", failing_read)
    monkeypatch.setattr(RunLog, "_write", slow_write)
    with pytest.raises(RosettaError, match="stopped 30 s before the Lambda timeout"):
        handler(event, LambdaContext(remaining_ms=35_000))
    (record,) = [r[0] for key in lake.list_keys("runs/") if key.startswith("runs/day=") and (r := lake.get_json(key))]
    assert (record["status"], record["error"]) == ("failed", "OSError: the store went away")
    lease = lake.get_json("state/build/lease.json")
    assert lease is not None and lease[0]["holder"] is None


def test_a_build_given_less_than_the_stop_margin_runs_unguarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A function configured with a timeout under the 30 s margin (20 s here) would be stopped before it starts: it
    runs as Lambda gives it instead, and the small estate's build (a few seconds) ends."""
    as_lambda_sees_it(tmp_path, monkeypatch)
    write_estate(Lake.from_settings(Settings()))
    event = json.loads((EVENTS / "daily.json").read_text())
    assert handler(event, LambdaContext(remaining_ms=20_000))["mode"] == "full"
