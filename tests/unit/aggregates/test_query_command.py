"""`rosetta-monitoring query`: one query over a lake's named views, its rows printed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.cli import main
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake

RANKING = "select app_id, rank, health, reasons from mv_monitoring_top_risks order by rank"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    lake, settings = estate_lake(tmp_path_factory.mktemp("query"))
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake


def query(capsys: pytest.CaptureFixture[str], lake: Lake | str, *words: str) -> tuple[int, str, str]:
    code = main(["--lake-url", lake if isinstance(lake, str) else lake.url, "query", *words])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_ranking_as_csv_has_every_row_and_its_reasons_as_json_lists(
    built: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """The estate at 10:00 on the 20th: shop first (red: INC2, a P1 open; G1 failed and D2 rolled back in 7 days),
    broken second (orange: its two failed syncs), quiet without data."""
    code, out, _ = query(capsys, built, RANKING, "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["app_id", "rank", "health", "reasons"]
    assert [r[:3] for r in rows[1:]] == [["shop", "1", "red"], ["broken", "2", "orange"], ["quiet", "3", "no data"]]
    assert json.loads(rows[1][3]) == ["1 open P1/P2 incident(s)", "2 failed change(s) in 7 days"]


def test_json_gives_one_object_a_line_with_instants_in_utc(built: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """shop's first two application hours on the 19th: shop-api served 1,000 requests an hour; shop-db none before
    04:00."""
    hours = (
        "select hour, requests from mv_golden_signals_hourly where app_id = 'shop' and level = 'application' "
        "order by hour limit 2"
    )
    code, out, _ = query(capsys, built, hours, "--format", "json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"hour": "2026-11-19T00:00:00+00:00", "requests": 1000.0},
        {"hour": "2026-11-19T01:00:00+00:00", "requests": 1000.0},
    ]


def test_a_failing_query_is_an_error_naming_the_problem(built: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = query(capsys, built, "select nope from mv_health")
    assert (code, out) == (2, "")
    assert err.startswith("error: the query failed:") and '"nope"' in err


def test_the_table_shows_the_rows(built: Lake, capfd: pytest.CaptureFixture[str]) -> None:
    code = main(["--lake-url", built.url, "query", RANKING])
    out, _ = capfd.readouterr()
    assert code == 0
    # The box's first column, its header and type rows first; shop's reasons take two lines.
    first_column = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert first_column[2:] == ["shop", "", "broken", "quiet"]


def test_an_empty_lake_warns_that_every_view_is_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A lake nothing was ingested in (the demo's embedded store once the demo stopped, a wrong URL): the raw views
    answer with no row, and the command says why."""
    (tmp_path / "empty").mkdir()
    incidents = "select count(*) as n from raw_servicenow_incidents"
    code, out, err = query(capsys, str(tmp_path / "empty"), incidents, "--format", "csv")
    assert (code, out) == (0, "n\n0\n")
    assert "has no mapping" in err


ROLLBACKS = (
    "select r.deployment_key, b.deployment_key, b.finished_at from mv_deployments as r join mv_deployments as b "
    "on b.component_id = r.component_id and b.revision = r.revision and b.finished_at < r.finished_at "
    "where r.is_rollback"
)


def test_csv_keeps_every_column_of_a_join_whose_columns_share_a_name(
    built: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each rollback beside the deployment whose revision it put back: shop-api's D3 (the 19th, 13:00) put back r1,
    which D1 deployed on the 1st at 12:00. Both columns are called deployment_key."""
    code, out, _ = query(capsys, built, ROLLBACKS, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["deployment_key", "deployment_key", "finished_at"],
        ["argocd:shop-api-prod:3", "argocd:shop-api-prod:1", "2026-11-01T12:00:00+00:00"],
    ]


def test_json_gives_a_column_whose_name_was_taken_the_name_duckdb_gives_it(
    built: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """An object cannot hold one key twice: the second deployment_key is deployment_key_1, as DuckDB names it in a
    subquery, rather than lost."""
    code, out, _ = query(capsys, built, ROLLBACKS, "--format", "json")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "deployment_key": "argocd:shop-api-prod:3",
            "deployment_key_1": "argocd:shop-api-prod:1",
            "finished_at": "2026-11-01T12:00:00+00:00",
        }
    ]


def test_json_writes_a_sum_of_counts_as_a_whole_number(built: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """DuckDB sums whole numbers into a 128-bit integer, which reaches Python as a decimal: it was written as a
    float (3.0, and past 2^53 rounded). shop's incidents: INC3 opened on the 10th, INC2 on the 18th, INC1 on the
    19th, none canceled: 3; broken and quiet none."""
    opened = "select app_id, sum(opened) as opened from mv_incidents_app_day group by all order by all"
    code, out, _ = query(capsys, built, opened, "--format", "json")
    assert code == 0
    assert out.splitlines() == [
        '{"app_id": "broken", "opened": 0}',
        '{"app_id": "quiet", "opened": 0}',
        '{"app_id": "shop", "opened": 3}',
    ]
    # 2^53 + 1, the first whole number a float cannot hold.
    big = "select sum(n) as n from (values (9007199254740993)) as t(n)"
    code, out, _ = query(capsys, built, big, "--format", "json")
    assert (code, out) == (0, '{"n": 9007199254740993}\n')


def test_a_duration_is_written_as_duckdb_writes_it(built: Lake, capsys: pytest.CaptureFixture[str]) -> None:
    """An instant minus another is a DuckDB interval, which came out as Arrow's record of it
    (MonthDayNano(months=0, days=0, nanoseconds=7200000000000) in csv, a list of three numbers in json). INC1 opened
    on the 19th at 10:30 and was resolved at 12:30: 2 hours; INC3 opened on the 10th at 09:00, resolved at 10:00."""
    restored = (
        "select number, restored_at - opened_at as restored_after from mv_incidents "
        "where restored_at is not null order by number"
    )
    code, out, _ = query(capsys, built, restored, "--format", "csv")
    assert (code, out.splitlines()) == (0, ["number,restored_after", "INC1,02:00:00", "INC3,01:00:00"])
    code, out, _ = query(capsys, built, restored, "--format", "json")
    assert (code, [json.loads(line) for line in out.splitlines()]) == (
        0,
        [{"number": "INC1", "restored_after": "02:00:00"}, {"number": "INC3", "restored_after": "01:00:00"}],
    )


def test_json_writes_a_rate_without_traffic_as_null_which_any_json_parser_reads(
    built: Lake, capsys: pytest.CaptureFixture[str]
) -> None:
    """quiet-svc served no request on the 19th: errors / requests is 0 / 0, NaN to DuckDB, and JSON has no NaN (nor
    infinities): a strict parser refuses the line. The rate, alone and in a list, is written null."""
    rate = (
        "select app_id, sum(errors) / sum(requests) as error_rate, "
        "[sum(errors) / sum(requests), 'infinity'::double] as rates "
        "from mv_golden_signals_hourly where app_id = 'quiet' and level = 'application' group by app_id"
    )
    code, out, _ = query(capsys, built, rate, "--format", "json")
    assert code == 0

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    assert [json.loads(line, parse_constant=refuse) for line in out.splitlines()] == [
        {"app_id": "quiet", "error_rate": None, "rates": [None, None]}
    ]


@pytest.mark.parametrize("form", ["csv", "json"])
def test_a_nanosecond_instant_is_written_to_the_nanosecond(
    built: Lake, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """An instant to the nanosecond (a Parquet file written by another tool may hold some) has no Python datetime:
    it is written as DuckDB writes it, every digit kept."""
    instant = "select '2026-11-20 10:00:00.123456789'::timestamp_ns as at"
    code, out, _ = query(capsys, built, instant, "--format", form)
    assert code == 0
    assert out.splitlines()[-1] == (
        "2026-11-20 10:00:00.123456789" if form == "csv" else '{"at": "2026-11-20 10:00:00.123456789"}'
    )
