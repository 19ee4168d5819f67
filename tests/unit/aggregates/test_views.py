"""The analysts' views: the committed views.sql is current, and the views answer on a built lake."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from lakehouse.aggregates.build import build
from lakehouse.duckdb_session import httpfs_extension_path
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views
from tests.unit.aggregates.estate import (
    AS_OF,
    CHG1,
    CI_API,
    CI_DB,
    build_stopped_before_its_deletes,
    estate_lake,
    incident,
    rows,
    t,
)

ROOT = Path(__file__).resolve().parents[3]
VIEWS_SQL = ROOT / "lakehouse" / "sql" / "views.sql"


def test_committed_views_sql_is_generated() -> None:
    assert VIEWS_SQL.read_text(encoding="utf-8") == render_views(), (
        "lakehouse/sql/views.sql is stale: regenerate it with lakehouse.views.render_views()"
    )


def load_static_views(con: duckdb.DuckDBPyConnection, lake: Lake, url: str | None = None) -> None:
    """views.sql as an analyst runs it, the lake's URL (or `url`, as they wrote it) in its variable. Datasets the
    estate does not fill cannot get a static view; the per-lake script covers them."""
    con.execute("set variable lake = $url", {"url": url or lake.url})
    missing: list[str] = []
    for statement in VIEWS_SQL.read_text(encoding="utf-8").split(";\n"):
        try:
            con.execute(statement)
        except duckdb.IOException as exc:
            assert "No files found" in str(exc)
            missing.append(statement.split(" view ", 1)[1].split()[0])
        except duckdb.CatalogException as exc:
            # A view over one of those (a dataset's latest versions).
            assert any(f"name {view} does not exist" in str(exc) for view in missing), exc


def test_static_views_work_on_a_built_lake_with_a_variable(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    load_static_views(con, lake)
    assert con.execute("select count(*) from servicenow_incidents_latest").fetchone() == (3,)
    assert con.execute("select rank, app_id from mv_monitoring_top_risks order by rank limit 1").fetchone() == (
        1,
        "shop",
    )
    assert con.execute("select max(version) from ref_mappings").fetchone() == (1,)
    # The hourly table stores counts; its view derives the error rate: shop at 10:00 had 101 errors in 1,500
    # requests (shop-api 1,000, shop-db 500), and shop-db had no traffic before 04:00.
    rate = "select error_rate from mv_golden_signals_hourly where app_id = $app and level = $level and hour = $hour"
    shop = {"app": "shop", "level": "application", "hour": datetime(2026, 11, 19, 10, tzinfo=UTC)}
    assert con.execute(rate, shop).fetchone() == (pytest.approx(101 / 1500),)
    rate += " and component_id = 'shop-db'"
    db = {"app": "shop", "level": "component", "hour": datetime(2026, 11, 19, 3, tzinfo=UTC)}
    assert con.execute(rate, db).fetchone() == (None,)


def test_per_lake_script_gives_every_view_even_for_empty_datasets(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    con.execute(render_views(lake))
    assert con.execute("select count(*) from raw_argocd_app_status").fetchone() == (0,)
    assert con.execute("select count(*) from raw_dynatrace_service_metrics_hourly").fetchone() == (72,)
    runs = con.execute("select count(*) from batch_runs where function = 'build_aggregates'").fetchone()
    assert runs == (1,)
    d1 = con.execute(
        "select sum(requests) from mv_monitoring_domain_day_summary where domain = 'd1' and day = date '2026-11-19'"
    ).fetchone()
    assert d1 == (34_000,)


@pytest.mark.parametrize("per_lake", [False, True])
def test_a_day_object_its_month_object_also_holds_is_read_once(tmp_path: Path, per_lake: bool) -> None:
    """The estate with its day of signals also on the 20th, built at the 20th, 10:00: November's month objects hold
    the 1st to the 19th, the 20th is an object of its own. A build stopped before its deletes left the 19th's day
    objects beside the month objects. The views count the 19th once, and still read the 20th:
    - shop's requests on the 19th: 24 h x 1,000 (shop-api) + 20 h x 500 (shop-db) = 34,000, not 68,000; on the
      20th, the hours before the build's as-of (10:00): 10 h x 1,000 + 6 h x 500 (04:00-09:00) = 13,000;
    - shop's incidents opened on the 19th: INC1 alone, 1, not 2;
    - shop-api's hours on the 19th: 24 of 1,000 requests, 24,000, not 48 hours and 48,000."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    build_stopped_before_its_deletes(lake, settings)
    con = duckdb.connect()
    load_views(con, lake, per_lake)
    assert shop_requests_by_day(con) == [("2026-11-19", 34_000), ("2026-11-20", 13_000)]
    opened = "select sum(opened) from mv_incidents_app_day where app_id = 'shop' and day = '2026-11-19'"
    assert con.execute(opened).fetchone() == (1,)
    hours = con.execute(
        "select count(*), sum(requests) from mv_golden_signals_hourly "
        "where component_id = 'shop-api' and day = '2026-11-19'"
    ).fetchone()
    assert hours == (24, 24_000)


def test_readme_local_lake_query_counts_error_lines(tmp_path: Path) -> None:
    """The README's first DuckDB example sums a service's error log lines per environment and day. The log counts
    keep ERROR, WARN and EXCEPTION lines side by side; errors are the ERROR ones, as the mart's log_errors counts them.

    shop-api in production on 19 November: 09:00 has 5 ERROR, 7 WARN and 2 EXCEPTION lines, 10:00 has 3 ERROR: 5 + 3
    = 8 errors (summing every level would say 17); in staging, 4 ERROR at 09:00 (adding the environments, 12)."""
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    line = {"index_pattern": "logs-shop-*", "service_name": "shop-api", "environment": "production"}
    counts = [("ERROR", 9, 5), ("WARN", 9, 7), ("EXCEPTION", 9, 2), ("ERROR", 10, 3)]
    logs = [line | {"level": level, "hour": t(19, hour), "count": n} for level, hour, n in counts]
    logs.append(line | {"environment": "staging", "level": "ERROR", "hour": t(19, 9), "count": 4})
    lake.write_days(get_dataset("elasticsearch/log_counts_hourly"), rows("elasticsearch/log_counts_hourly", *logs))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("### Query it with DuckDB", 1)[1].split("```sql", 1)[1].split(";", 1)[0]
    assert "-- a local lake" in example
    answer = duckdb.connect().execute(example.replace(".rosetta/lake", lake.url)).fetchall()
    assert [(str(day), env, service, errors) for day, env, service, errors in answer] == [
        ("2026-11-19", "production", "shop-api", 8),
        ("2026-11-19", "staging", "shop-api", 4),
    ]


def readme_duckdb_examples(block: int = 0) -> list[str]:
    """The statements of the README's DuckDB examples, in order: its DuckDB section's first SQL block (over the raw
    files), or another (1: over the named views)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Query it with DuckDB", 1)[1].split("\n## ", 1)[0]
    sql = section.split("```sql")[block + 1].split("```", 1)[0]
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def test_every_readme_duckdb_example_runs_on_a_built_lake(tmp_path: Path) -> None:
    """Every example of the README's DuckDB section runs against a built lake, its S3 and local URLs pointed at it,
    and gives the rows a reader expects from the estate:
    - log lines: shop-api on 19 November logged 5 ERROR and 7 WARN lines at 09:00, so 5 errors;
    - incidents: the estate's INC1, INC2 and INC3, 3 rows, though INC2, read in progress (state 2) when opened at
      08:00, was read again on hold (state 3) at 09:00: raw keeps both versions, 4 rows; the example gives INC2 once,
      in its latest state, 3;
    - the current mapping: version 1, the estate's 7 entries (shop, shop-api, shop-db, quiet, quiet-svc, broken,
      broken-svc)."""
    lake, settings = estate_lake(tmp_path)
    inc2_new = incident("i2" * 16, "INC2", CI_DB, t(18, 8), 1, 3) | {"sys_updated_on": t(18, 9)}
    lake.write_days(get_dataset("servicenow/incidents"), rows("servicenow/incidents", inc2_new))
    line = {"index_pattern": "logs-shop-*", "service_name": "shop-api", "environment": "production"}
    logs = [line | {"level": level, "hour": t(19, 9), "count": n} for level, n in (("ERROR", 5), ("WARN", 7))]
    lake.write_days(get_dataset("elasticsearch/log_counts_hourly"), rows("elasticsearch/log_counts_hourly", *logs))
    build(lake, settings, mode="full", as_of=AS_OF)
    examples = readme_duckdb_examples()
    assert len(examples) == 4, examples
    con = duckdb.connect()
    con.execute(f"load '{httpfs_extension_path()}'")
    logs_sql, secret_sql, incidents_sql, mapping_sql = (
        example.replace("s3://rosetta-lake/lake", lake.url).replace(".rosetta/lake", lake.url) for example in examples
    )
    logs_answer = con.execute(logs_sql).fetchall()
    assert [(str(day), env, service, errors) for day, env, service, errors in logs_answer] == [
        ("2026-11-19", "production", "shop-api", 5)
    ]
    # The secret names a MinIO endpoint nobody listens on: creating it is all there is to check.
    con.execute(secret_sql)
    assert con.execute(
        f"select count(*) from read_parquet('{lake.url}/raw/servicenow/incidents/*/*.parquet')"
    ).fetchone() == (4,)
    incidents = con.execute(f"select number, state from ({incidents_sql}) order by number").fetchall()
    assert incidents == [("INC1", 6), ("INC2", 3), ("INC3", 7)]
    current = con.execute(f"select count(*), list(distinct version) from ({mapping_sql})").fetchone()
    assert current == (7, [1])


@pytest.mark.parametrize("per_lake", [False, True])
def test_the_mapping_views_show_columns_added_since_the_first_version(tmp_path: Path, per_lake: bool) -> None:
    """DuckDB reads files of one glob with the first one's columns: a lake whose first mapping version predates the
    namespace column showed ref_mappings without it, so the current version's team-a read nowhere. Both versions
    are read by name: version 1 (written without the column) has no namespace, version 2 has team-a."""
    from lakehouse.mappings import MAPPING_SCHEMA, MappingStore

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    store = MappingStore(lake)
    store.apply([{"entity_id": "shop", "kind": "application"}], actor="test")
    first = lake.get_table(lake.mapping_version_key(1))
    assert first is not None
    lake.put_table(lake.mapping_version_key(1), first.select([f.name for f in MAPPING_SCHEMA if f.name != "namespace"]))
    store.apply([{"entity_id": "shop", "kind": "application", "namespace": "team-a"}], actor="test")
    con = mapping_views(lake, per_lake)
    assert con.execute("select version, namespace from ref_mappings_history order by version").fetchall() == [
        (1, None),
        (2, "team-a"),
    ]
    assert con.execute("select entity_id, namespace from ref_mappings").fetchall() == [("shop", "team-a")]


def mapping_views(lake: Lake, per_lake: bool) -> duckdb.DuckDBPyConnection:
    """A connection with the mapping views: the lake's own script, or views.sql's (the lake holds no other data)."""
    con = duckdb.connect()
    if per_lake:
        con.execute(render_views(lake))
        return con
    con.execute("set variable lake = $url", {"url": lake.url})
    for statement in VIEWS_SQL.read_text(encoding="utf-8").split(";\n"):
        if "view ref_mappings" in statement:
            con.execute(statement)
    return con


@pytest.mark.parametrize("per_lake", [False, True])
def test_the_current_mapping_is_empty_after_a_change_removed_every_entry(tmp_path: Path, per_lake: bool) -> None:
    """Version 1 maps shop and shop-api; version 2 removes both, so the current mapping (version 2, as the build and
    `mappings list` read it) has no entry. Version 2's object has no row to carry its number: the highest version
    among the rows is still 1, whose 2 entries the current mapping showed. ref_mappings and the README's example
    give 0 entries; the history keeps version 1's 2."""
    from lakehouse.mappings import MappingStore

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    store = MappingStore(lake)
    store.apply(
        [
            {"entity_id": "shop", "kind": "application"},
            {"entity_id": "shop-api", "kind": "component", "application_id": "shop"},
        ],
        actor="test",
    )
    store.apply([], remove=[("shop", "production"), ("shop-api", "production")], actor="test")
    current = store.current()
    assert current is not None and (current.version, current.entries) == (2, ())
    con = mapping_views(lake, per_lake)
    assert con.execute("select count(*) from ref_mappings").fetchone() == (0,)
    assert con.execute("select version, count(*) from ref_mappings_history group by version").fetchall() == [(1, 2)]
    mapping_sql = readme_duckdb_examples()[3].replace("s3://rosetta-lake/lake", lake.url)
    assert con.execute(f"select count(*) from ({mapping_sql})").fetchone() == (0,)


@pytest.mark.parametrize("per_lake", [False, True])
def test_the_run_log_view_gives_its_instants_in_utc_to_an_analyst_away_from_it(tmp_path: Path, per_lake: bool) -> None:
    """A build over the window 2026-11-20 00:00 to 10:00 UTC, started at 10:05 UTC and finished at 10:06 UTC. JSON holds
    the instants as text; DuckDB read them as timestamps without a time zone, which a session in Tokyo (UTC+9) then
    took for Tokyo time, 9 hours early. The view gives them with their time zone: window_end equals the build's as_of,
    10:00 UTC (19:00 in Tokyo); the run started at 10:05 UTC and lasted 1 minute."""
    from lakehouse.runlog import RunLog

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    log = RunLog(lake)
    started = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)
    window = (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 20, 10, tzinfo=UTC))
    record = log.start("build_aggregates", "mart", window=window, now=started)
    log.finish(record, "succeeded", now=datetime(2026, 11, 20, 10, 6, tzinfo=UTC))
    con = duckdb.connect()
    con.execute("set TimeZone = 'Asia/Tokyo'")
    if per_lake:
        con.execute(render_views(lake))
    else:  # views.sql's run log view (the lake holds no other data)
        con.execute("set variable lake = $url", {"url": lake.url})
        for statement in VIEWS_SQL.read_text(encoding="utf-8").split(";\n"):
            if "view batch_runs" in statement:
                con.execute(statement)
    as_of = "timestamptz '2026-11-20 10:00:00+00'"
    instants = con.execute(
        f"select window_end = {as_of}, strftime(started_at, '%H:%M'), strftime(window_end, '%H:%M'), "
        "finished_at - started_at from batch_runs"
    ).fetchone()
    assert instants is not None
    matches, started_tokyo, window_end_tokyo, took = instants
    assert (matches, started_tokyo, window_end_tokyo) == (True, "19:05", "19:00")
    assert took.total_seconds() == 60


@pytest.mark.parametrize("per_lake", [False, True])
def test_every_dataset_keeping_each_version_has_a_latest_view(tmp_path: Path, per_lake: bool) -> None:
    """ServiceNow problems, task SLAs and CIs keep every version they were read in, as incidents and changes do; each
    has a *_latest view with one row per record, its newest version:
    - PRB1 read open (state 1) on the 18th at 09:00, resolved (state 6) at 15:00: 2 raw rows, 1 latest, state 6;
    - INC1's SLA read in progress on the 19th at 11:00, breached and completed at 13:00: 2 raw rows, 1 latest, breached;
    - shop-api's CI renamed: 'shop-api-old' on the 17th, 'shop-api' on the 19th (two day partitions): 2 raw rows,
      1 latest, 'shop-api'."""
    lake, settings = estate_lake(tmp_path)
    problem = {"sys_id": "p1" * 16, "number": "PRB1", "opened_at": t(18, 8)}
    lake.write_days(
        get_dataset("servicenow/problems"),
        rows(
            "servicenow/problems",
            problem | {"state": 1, "sys_updated_on": t(18, 9)},
            problem | {"state": 6, "resolved_at": t(18, 15), "sys_updated_on": t(18, 15)},
        ),
    )
    sla = {"sys_id": "s1" * 16, "task_sys_id": "i1" * 16, "task_number": "INC1", "start_time": t(19, 10, 30)}
    lake.write_days(
        get_dataset("servicenow/task_slas"),
        rows(
            "servicenow/task_slas",
            sla | {"stage": "in_progress", "has_breached": False, "sys_updated_on": t(19, 11)},
            sla | {"stage": "completed", "has_breached": True, "sys_updated_on": t(19, 13)},
        ),
    )
    ci = {"sys_id": CI_API, "sys_class_name": "cmdb_ci_appl", "operational_status": 1}
    lake.write_days(
        get_dataset("servicenow/cmdb_ci"),
        rows(
            "servicenow/cmdb_ci",
            ci | {"name": "shop-api-old", "sys_updated_on": t(17, 9)},
            ci | {"name": "shop-api", "sys_updated_on": t(19, 9)},
        ),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    load_views(con, lake, per_lake)
    assert con.execute("select count(*) from raw_servicenow_problems").fetchone() == (2,)
    assert con.execute("select number, state from servicenow_problems_latest").fetchall() == [("PRB1", 6)]
    assert con.execute("select count(*) from raw_servicenow_task_slas").fetchone() == (2,)
    assert con.execute("select stage, has_breached from servicenow_task_slas_latest").fetchall() == [
        ("completed", True)
    ]
    assert con.execute("select count(*) from raw_servicenow_cmdb_ci").fetchone() == (2,)
    assert con.execute("select name from servicenow_cmdb_ci_latest").fetchall() == [("shop-api",)]


@pytest.mark.parametrize("per_lake", [False, True])
def test_a_raw_day_an_older_release_wrote_without_a_column_added_since_reads_it_as_null(
    tmp_path: Path, per_lake: bool
) -> None:
    """The estate's incidents: INC3 on the 10th, INC2 on the 18th, INC1 on the 19th, caused by CHG1. The 10th is
    rewritten as an older release wrote it, without caused_by_change_sys_id: the raw view still gives the three
    incidents, INC3's cause null and INC1's CHG1 (DuckDB took the first file's columns for every file and dropped
    the column, or failed on the next file, depending on the order)."""
    lake, _ = estate_lake(tmp_path)
    incidents = get_dataset("servicenow/incidents")
    day = t(10).date()
    written = lake.read_partition(incidents, day)
    assert written is not None
    lake.put_table(lake.partition_key(incidents, day), written.drop_columns(["caused_by_change_sys_id"]))
    con = duckdb.connect()
    load_views(con, lake, per_lake)
    causes = con.execute(
        "select number, caused_by_change_sys_id from servicenow_incidents_latest order by number"
    ).fetchall()
    assert causes == [("INC1", CHG1), ("INC2", None), ("INC3", None)]


@pytest.mark.parametrize("per_lake", [False, True])
def test_mart_views_have_the_tables_columns_and_no_month_from_the_objects_paths(tmp_path: Path, per_lake: bool) -> None:
    """Objects stored by month sit under month=YYYY-MM/: DuckDB read that as a column of its own, so the views of
    mv_deployments, mv_lead_times, mv_incident_links and every day table had a `month` text column no table has.
    Each view now has the columns of the objects themselves (and the derived ones its header names)."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    load_views(con, lake, per_lake)
    for table in ("mv_deployments", "mv_incident_links", "mv_incidents_app_day", "mv_monitoring_app_day_summary"):
        viewed = [row[0] for row in con.execute(f"describe {table}").fetchall()]
        key = next(k for k in lake.list_keys(f"mart/{table}/") if k.endswith(".parquet"))
        stored = [
            row[0]
            for row in con.execute(
                "describe select * from read_parquet($u, hive_partitioning = false)", {"u": lake.url_of(key)}
            ).fetchall()
        ]
        assert "month" not in viewed, table
        assert viewed == stored, table


def test_readme_and_dictionary_reads_keep_the_columns_a_release_added(tmp_path: Path) -> None:
    """The README's raw reads and the data dictionary's read over a lake whose first objects an older release wrote,
    without a column added since. DuckDB takes the first file's columns for the whole glob, so without
    union_by_name the column vanished:
    - INC3's day (the 10th, the first incident day) written without caused_by_change_sys_id: INC1 (the 19th) still
      reads caused by CHG1, INC3 reads null;
    - mapping version 1 written without namespace, version 2 putting shop in team-a: the current mapping reads
      shop in team-a."""
    from lakehouse.mappings import MAPPING_SCHEMA, MappingStore

    lake, _ = estate_lake(tmp_path)
    incidents = get_dataset("servicenow/incidents")
    tenth = lake.read_partition(incidents, t(10).date())
    assert tenth is not None
    lake.put_table(lake.partition_key(incidents, t(10).date()), tenth.drop_columns(["caused_by_change_sys_id"]))
    store = MappingStore(lake)
    first = lake.get_table(lake.mapping_version_key(1))
    assert first is not None
    lake.put_table(lake.mapping_version_key(1), first.select([f.name for f in MAPPING_SCHEMA if f.name != "namespace"]))
    current = store.current()
    assert current is not None
    shop = next(e for e in current.entries if e.entity_id == "shop")
    store.apply([shop.model_dump() | {"namespace": "team-a"}], actor="test")

    _, _, incidents_sql, mapping_sql = (
        example.replace("s3://rosetta-lake/lake", lake.url) for example in readme_duckdb_examples()
    )
    con = duckdb.connect()
    causes = con.execute(f"select number, caused_by_change_sys_id from ({incidents_sql}) order by number").fetchall()
    assert causes == [("INC1", CHG1), ("INC2", None), ("INC3", None)]
    assert con.execute(f"select namespace from ({mapping_sql}) where entity_id = 'shop'").fetchall() == [("team-a",)]

    dictionary = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    read = dictionary.split("Read a dataset with DuckDB:\n`", 1)[1].split("`", 1)[0]
    read = read.replace("<lake>", lake.url).replace("<source>/<dataset>", "servicenow/incidents")
    dictionary_causes = con.execute(
        f"select distinct number, caused_by_change_sys_id from ({read}) order by number"
    ).fetchall()
    assert dictionary_causes == [("INC1", CHG1), ("INC2", None), ("INC3", None)]


def test_every_readme_example_over_the_views_runs_on_a_built_lake(tmp_path: Path) -> None:
    """The README's examples over the named views, on the estate built at 10:00 on 20 November (shop for the
    README's application):
    - DORA by team: t1 is shop's team alone; shop made 5 production deployment attempts in 30 days (D1, G1, G2, D2,
      D3), of which 2 were change failures: G1 failed, D2 was rolled back by D3 and caused INC1 (D3, the rollback,
      fails nothing): 2 / 5;
    - links: INC1 alone, to D2 through CHG1, the change it names, at 0.95, which counts;
    - error budgets this quarter (1 October to 20 November 10:00, 1,210 hours): shop served 34,000 requests with 124
      errors on the 19th, its only measured day: 124 of the 170 its 99.5 % allows, 0.2706 left, over 24 hours of
      1,210, under the 50 % coverage that judges it;
    - shop's hours on the 19th: 24, 10:00 with 101 errors in 1,500 requests;
    - incidents opened over the days read: shop's three, no day being unread;
    - what the mapping leaves out: gitlab:103 alone, project 12's deployment to staging, where it is not mapped."""
    lake, settings = estate_lake(tmp_path)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    # An analyst away from UTC: the day the example asks for is still a UTC day.
    con.execute("set TimeZone = 'Asia/Tokyo'")
    load_static_views(con, lake)
    dora_sql, links_sql, budgets_sql, hours_sql, read_sql, unmapped_sql = readme_duckdb_examples(block=1)
    dora = {row[0]: row for row in con.execute(dora_sql).fetchall()}
    assert dora["t1"][4:7] == (2, 5, 0.4)
    # Instants are read as text: DuckDB's Python types for them need a time zone library the project does not use.
    links = con.execute(
        f"select incident_number, deployment_key, rule, confidence, counts_as_change_failure from ({links_sql})"
    ).fetchall()
    assert links == [("INC1", "argocd:shop-api-prod:2", "change_caused_by", 0.95, True)]
    shop = next(r for r in con.execute(budgets_sql).fetchall() if r[0] == "shop")
    assert shop[3:] == (pytest.approx(1 - 124 / 170), pytest.approx(24 / 1210), "insufficient data")
    shop_hours = hours_sql.replace("'profiles'", "'shop'")
    utc_hour = "strftime(timezone('UTC', hour), '%H')"
    hours = con.execute(f"select {utc_hour}, requests, errors, error_rate from ({shop_hours})").fetchall()
    assert len(hours) == 24 and hours[10] == ("10", 1500, 101, pytest.approx(101 / 1500))
    # No watermark recorded (the estate is written by hand): every day counts, shop's three incidents (INC1 to INC3).
    assert con.execute(read_sql).fetchall()[0] == ("shop", 3)
    unmapped = con.execute(unmapped_sql).fetchall()
    assert unmapped == [("deployment", "gitlab_project", "12", None, "staging", 1, "gitlab:103")]


def test_the_readme_names_every_dataset_a_default_run_leaves_without_objects() -> None:
    """views.sql fails on a dataset with no object yet, and the README says which those are besides the rejects.
    With the default settings, the scheduled runs fetch every dataset but three: Dynatrace's entities (off unless
    enabled), GitLab's per-deployment merge request links (only when a run names the dataset) and GitLab's answers
    for the project paths the mapping names (only when it names a project by its path)."""
    from functions.ingest_deploys.source import default_datasets as deploys
    from functions.ingest_dynatrace.source import default_datasets as dynatrace
    from functions.ingest_logs.source import default_datasets as logs
    from functions.ingest_servicenow.source import default_datasets as servicenow
    from lakehouse.ingest.config import IngestSettings
    from lakehouse.schemas import REGISTRY

    settings = IngestSettings()
    fetched = {d for source in (deploys, dynatrace, logs, servicenow) for d in source(settings)}
    never = sorted(d for d in REGISTRY if d not in fetched and not d.endswith("/rejects"))
    assert never == ["dynatrace/entities", "gitlab/deployment_merge_requests", "gitlab/project_paths"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = readme.split("DuckDB refuses a view over a dataset that", 1)[1].split(" so there such views fail", 1)[0]
    assert [d for d in never if f"`{d}`" not in sentence] == []


@pytest.mark.s3
@pytest.mark.parametrize("per_lake", [False, True])
def test_the_views_read_an_s3_lake_with_the_readme_s_secret(s3_settings: Settings, per_lake: bool) -> None:
    """The estate on S3 (the embedded server), built with its day of signals also on the 20th and left as a build
    stopped before its deletes leaves it: the 19th's day objects beside November's month objects. An analyst loads
    httpfs, creates the README's secret (its key, secret and endpoint this server's) and the views; they read the
    lake as a local one:
    - shop's requests: 34,000 on the 19th (24 h x 1,000 + 20 h x 500, once though held twice), 13,000 on the 20th
      (10 h x 1,000 + 6 h x 500 before 10:00);
    - INC1, INC2 and INC3 in their latest versions, 3; the current mapping, version 1, 7 entries; 1 build run."""
    lake = Lake.from_settings(s3_settings)
    build_stopped_before_its_deletes(lake, s3_settings)
    con = readme_s3_session(s3_settings)
    load_views(con, lake, per_lake)
    assert shop_requests_by_day(con) == [("2026-11-19", 34_000), ("2026-11-20", 13_000)]
    assert con.execute("select count(*) from servicenow_incidents_latest").fetchone() == (3,)
    assert con.execute("select count(*), max(version) from ref_mappings").fetchone() == (7, 1)
    assert con.execute("select count(*) from batch_runs where function = 'build_aggregates'").fetchone() == (1,)


def test_the_views_read_an_s3_lake_given_with_a_trailing_slash(s3_settings: Settings) -> None:
    """`set variable lake = 's3://bucket/lake/'`: every raw view read empty (its glob, `lake//raw/…`, names nothing
    S3 holds) and the views after them failed. They read it as the lake without the slash. An instant comes to
    Python as a datetime in UTC (DuckDB's Python needs pytz for it): INC1, the last incident opened, on the 19th at
    10:30."""
    lake = Lake.from_settings(s3_settings)
    build_stopped_before_its_deletes(lake, s3_settings)
    con = readme_s3_session(s3_settings)
    load_static_views(con, lake, url=lake.url + "/")
    assert shop_requests_by_day(con) == [("2026-11-19", 34_000), ("2026-11-20", 13_000)]
    assert con.execute("select count(*) from servicenow_incidents_latest").fetchone() == (3,)
    latest = con.execute("select number, opened_at from servicenow_incidents_latest order by opened_at desc limit 1")
    assert latest.fetchone() == ("INC1", t(19, 10, 30))


def readme_s3_session(s3_settings: Settings) -> duckdb.DuckDBPyConnection:
    """A DuckDB session as the README sets one up for an S3 lake: httpfs loaded, its secret made with this server's
    key, secret and endpoint."""
    endpoint = (s3_settings.s3_endpoint_url or "").split("://", 1)[1]
    assert s3_settings.s3_secret_access_key is not None
    secret_sql = readme_duckdb_examples()[1]
    for example, actual in (
        ("'rosetta-secret'", s3_settings.s3_secret_access_key.get_secret_value()),
        ("'rosetta'", s3_settings.s3_access_key_id),
        ("'localhost:9000'", endpoint),
    ):
        assert example in secret_sql
        secret_sql = secret_sql.replace(example, f"'{actual}'")
    con = duckdb.connect()
    con.execute(f"load '{httpfs_extension_path()}'")
    con.execute(secret_sql)
    return con


def load_views(con: duckdb.DuckDBPyConnection, lake: Lake, per_lake: bool) -> None:
    """The views as an analyst loads them: the script written for this lake, or views.sql with the lake's URL set."""
    if per_lake:
        con.execute(render_views(lake))
    else:
        load_static_views(con, lake)


def shop_requests_by_day(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """shop's requests per day from the 19th on, as the day summary's view holds them."""
    found = con.execute(
        "select day, sum(requests) from mv_monitoring_app_day_summary where app_id = 'shop' and day >= '2026-11-19' "
        "group by day order by day"
    ).fetchall()
    return [(str(day), total) for day, total in found]
