"""The demo started again on the lake folder of an earlier one, in a later hour or with another --days.

The estate's events are drawn from its window, and raw/ keeps them on their event time: the estate of a later hour
moved every event, and the lake kept both copies (134 deployment events where a fresh lake holds 83, and twice the
deployments in the DORA figures). The first demo on a lake now records its estate there, and a later one makes
that same estate again, to the same hour; another --days is refused, as another --seed is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import duckdb
import pytest

import lakehouse.demo
from tests.integration.lakehouse.test_errors_and_cli import run_cli

DEMO = ["demo", "--no-serve", "--seed", "3", "--apps", "2"]


class AnHourLater(datetime):
    """The clock of a demo started an hour after the first one."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        return datetime.now(tz) + timedelta(hours=1)


def deployment_events(lake: Path) -> list[tuple]:
    """Every deployment event the lake holds in raw/, read with DuckDB, one row per copy."""
    files = str(lake / "raw" / "deploys" / "deployment_events" / "*" / "*.parquet")
    return duckdb.sql(
        "select deployment_key, environment, finished_at, status from read_parquet($files) order by all",
        params={"files": files},
    ).fetchall()


def dora_deployments(lake: Path) -> list[tuple]:
    """The deployments each application's DORA figures count over the last 30 days, in production."""
    files = str(lake / "mart" / "mv_dora_app_period" / "*.parquet")
    return duckdb.sql(
        "select app_id, deployment_frequency_numerator from read_parquet($files) where period = 'last_30d' "
        "and environment = 'production' and correlation_mode = 'full' and band_set = '2023' order by app_id",
        params={"files": files},
    ).fetchall()


def lake_files(lake: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in lake.rglob("*") if path.is_file()}


def test_the_demo_started_again_an_hour_later_refreshes_the_same_events(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    code, first_out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 0, err
    first = deployment_events(lake)
    assert first, "the estate has deployments to count"
    assert len({row[0] for row in first}) == len(first)  # one row a deployment
    counted = dora_deployments(lake)
    assert len(counted) == 2 and sum(n for _, n in counted) > 0
    built_as_of = next(line for line in first_out.splitlines() if line.startswith("[5/6]"))

    monkeypatch.setattr(lakehouse.demo, "datetime", AnHourLater)
    code, out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 0, err
    assert deployment_events(lake) == first
    assert dora_deployments(lake) == counted
    # The build is as of the first demo's hour, as its events are.
    assert built_as_of.split(" (")[0] in out


def test_the_demo_started_again_with_other_days_is_refused_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    assert run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")[0] == 0
    first = deployment_events(lake)
    before = lake_files(lake)
    code, out, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "3")
    assert code == 2
    assert err.startswith(f"error: {lake} already holds the demo estate of seed 3 with 2 applications over 2 days to ")
    assert "give --days 2 (with --seed 3 --apps 2)" in err and err.endswith("Nothing was written\n")
    assert "[4/6]" not in out
    assert lake_files(lake) == before
    assert deployment_events(lake) == first


def test_a_lake_of_an_earlier_demo_that_recorded_no_estate_goes_on_with_its_estate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The first demo records its estate in the lake. A lake written before that goes on: the demo run again records
    the estate the earlier demo made (found in its run log), and a demo an hour after that one refreshes the same
    events again."""
    lake = tmp_path / "lake"
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")[0] == 0
    record = lake / "state" / "demo" / "estate.json"
    ends = [h.isoformat() for h in (hour, hour + timedelta(hours=1))]  # the hour may have turned during the run
    assert json.loads(record.read_text(encoding="utf-8")) in [{"seed": 3, "apps": 2, "days": 2, "end": e} for e in ends]
    record.unlink()  # as an earlier demo left its lake

    code, _, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 0, err
    assert record.is_file()
    again = deployment_events(lake)

    monkeypatch.setattr(lakehouse.demo, "datetime", AnHourLater)
    code, _, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 0, err
    assert deployment_events(lake) == again


def test_an_estate_record_edited_by_hand_is_said_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A record the demo cannot read (a key removed, a date mistyped) stops it with one line naming the record and
    what it should hold, and nothing is written; a traceback told neither."""
    lake = tmp_path / "lake"
    assert run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")[0] == 0
    record = next(lake.rglob("estate.json"))
    record.write_text(json.dumps({"seed": 3, "apps": 2, "days": 2, "end": "yesterday"}), encoding="utf-8")
    before = lake_files(lake)
    code, _, err = run_cli(capsys, "--lake-url", str(lake), *DEMO, "--days", "2")
    assert code == 2
    assert err.startswith(f"error: {lake}: state/demo/estate.json cannot be read (ValueError: ")
    assert err.rstrip("\n").endswith(
        'it should hold {"seed", "apps", "days", "end"} as the first demo on this lake wrote them'
    )
    assert err.count("\n") == 1
    assert lake_files(lake) == before
