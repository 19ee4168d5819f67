"""What analysts read about the lake matches the lake as written: the data dictionary, the Glue tables Athena reads and
the DuckDB views, as their generators write them, compared column by column with the Parquet objects of a built lake
(not with the build over an empty lake the generators read), so a column added to a SQL file or a dataset without
them fails here."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from infra.glue_tables import generate
from lakehouse.aggregates.build import build
from lakehouse.dictionary import _type_name, render_markdown
from lakehouse.duckdb_session import open_duckdb
from lakehouse.runlog import FirstReads
from lakehouse.schemas import REGISTRY, get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views
from tests.unit.aggregates.estate import AS_OF, estate_lake, rows, t, write_estate

# The type Athena reads a Parquet column as, by the type DuckDB describes it with (written out here, not taken from
# infra/glue_tables.py, so a wrong mapping there fails too).
ATHENA_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "VARCHAR[]": "array<string>",
}
# The tables of signals, SLOs and DORA figures, where no data is a null (the record tables, mv_incidents and the
# like, carry the sources' own empty fields).
KPI_TABLES = (
    "mv_golden_signals_hourly",
    "mv_incidents_app_day",
    "mv_changes_app_day",
    "mv_monitoring_app_day_summary",
    "mv_monitoring_domain_day_summary",
    "mv_slo_burn_rates",
    "mv_slo_group_burn_rates",
    "mv_slo_app_period",
    "mv_slo_group_period",
    "mv_dora_app_period",
    "mv_dora_group_period",
    "mv_monitoring_top_risks",
    "mv_health",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    """The hand-made estate, built: every mart table and the raw datasets it fills, written as a build writes them.
    Its deployments were first read on 10 November, 10:00, so the previous quarter ended before the lake read any."""
    lake, settings = estate_lake(tmp_path_factory.mktemp("estate"))
    FirstReads(lake).record("deploys", "deployment_events", t(10, 10), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake


def written(lake: Lake, prefix: str) -> pa.Schema:
    """The columns of the objects under a prefix, which all hold the same ones (the views read them so)."""
    schemas = [pq.read_schema(lake.url_of(k)) for k in lake.list_keys(prefix) if k.endswith(".parquet")]
    assert schemas, prefix
    assert all(s.remove_metadata().equals(schemas[0].remove_metadata()) for s in schemas), prefix
    return schemas[0].remove_metadata()


def described(lake: Lake, prefix: str) -> list[tuple[str, str]]:
    """DuckDB's description of an object under a prefix: (column, type)."""
    key = next(k for k in lake.list_keys(prefix) if k.endswith(".parquet"))
    query = "describe select * from read_parquet($url, hive_partitioning = false)"
    return [(r[0], r[1]) for r in duckdb.connect().execute(query, {"url": lake.url_of(key)}).fetchall()]


def dictionary_rows(title: str) -> list[list[str]]:
    """A section's column table in the dictionary: each row's cells, the column's name unquoted."""
    section = render_markdown().split(f"\n## `{title}`\n", 1)[1].split("\n## ", 1)[0]
    found = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| `")]
    return [[cells[0].strip(" `"), *(c.strip() for c in cells[1:])] for cells in found]


def glue_tables(kind: str) -> dict[str, dict[str, object]]:
    return json.loads(generate())["locals"][f"generated_{kind}_tables"]


def mart_tables_written(lake: Lake) -> list[str]:
    return sorted({k.split("/")[1] for k in lake.list_keys("mart/")})


def test_the_dictionary_and_the_views_give_each_mart_table_s_columns_as_written(built: Lake) -> None:
    """Every mart table the build wrote has a dictionary section listing its stored columns in the order and with the
    types of its objects, then the columns its view derives; the view has the same columns. E.g. mv_golden_signals_
    hourly stores requests and errors as int64, and its view adds error_rate."""
    con = duckdb.connect()
    con.execute(render_views(built))
    for table in mart_tables_written(built):
        stored = written(built, f"mart/{table}/")
        rows_ = dictionary_rows(f"mart/{table}")
        assert [(r[0], r[1]) for r in rows_[: len(stored)]] == [(f.name, _type_name(f.type)) for f in stored], table
        viewed = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        assert [r[0] for r in rows_] == viewed, table
    assert dictionary_rows("mart/mv_golden_signals_hourly")[-1][:2] == ["error_rate", "double"]


def test_the_dictionary_names_every_state_a_mart_table_holds(built: Lake) -> None:
    """A state column's description names each value it can hold, so an analyst filtering on them misses no row.
    The previous quarter (July to September) ended before the lake read any deployment (10 November): its deployment
    frequency and rework rate are 'insufficient data', with no value, which the dictionary did not name (it gave ok,
    'no deployments' and 'not mapped', and said the frequency was null only with 'not mapped')."""
    con = duckdb.connect()
    con.execute(render_views(built))
    quarter = "select distinct {} from mv_dora_app_period where period = 'previous_quarter'"
    assert con.execute(quarter.format("deployment_frequency_state, rework_state")).fetchall() == [
        ("insufficient data", "insufficient data")
    ]
    assert con.execute(quarter.format("deployment_frequency_per_day")).fetchall() == [(None,)]
    for table in mart_tables_written(built):
        for name, description in ((r[0], r[-1]) for r in dictionary_rows(f"mart/{table}")):
            if name.endswith("_state"):
                held = [
                    v for (v,) in con.execute(f"select distinct {name} from {table} where {name} != 'ok'").fetchall()
                ]
                assert [v for v in held if f"'{v}'" not in description] == [], f"{table}.{name}"
    frequency = dict((r[0], r[-1]) for r in dictionary_rows("mart/mv_dora_app_period"))["deployment_frequency_per_day"]
    assert "null with 'insufficient data'" in frequency


def test_the_dictionary_says_when_a_kpi_column_is_null(built: Lake) -> None:
    """No data is null in the KPI tables, never 0, so a column of them that holds a null on the built estate says
    when. E.g. quiet has no traffic in the previous quarter: its availability_denominator there is null, not 0, and
    the dictionary gave only "Valid requests over the period's hours"."""
    con = duckdb.connect()
    con.execute(render_views(built))
    quiet = (
        "select availability_denominator from mv_slo_app_period where app_id = 'quiet' and period = 'previous_quarter'"
    )
    assert con.execute(quiet).fetchall() == [(None,)]
    unexplained = []
    for table in KPI_TABLES:
        for name, description in ((r[0], r[-1]) for r in dictionary_rows(f"mart/{table}")):
            nulls = con.execute(f"select count(*) from {table} where {name} is null").fetchone()
            if nulls != (0,) and "null" not in description:
                unexplained.append(f"{table}.{name}")
    assert unexplained == []


def test_the_glue_tables_read_each_mart_table_s_objects_as_written(built: Lake) -> None:
    """Athena reads a Parquet column by name with the table's type: each Glue mart table lists its objects' columns,
    in order, with the Athena type of each, leaves out the columns only the views derive, and is partitioned by month
    exactly where the objects sit in month=YYYY-MM/ folders (mv_deployments, mv_golden_signals_hourly...)."""
    glue = glue_tables("mart")
    assert sorted(glue) == mart_tables_written(built)
    for table in mart_tables_written(built):
        columns = [(c["name"], c["type"]) for c in glue[table]["columns"]]  # type: ignore[attr-defined]
        assert columns == [(name, ATHENA_TYPES[t]) for name, t in described(built, f"mart/{table}/")], table
        by_month = any("/month=" in k for k in built.list_keys(f"mart/{table}/"))
        assert glue[table]["partition_key"] == ("month" if by_month else None), table
        assert glue[table]["prefix"] == f"mart/{table}/", table
    assert glue["mv_golden_signals_hourly"]["partition_key"] == "month"
    assert glue["mv_health"]["partition_key"] is None


def test_the_dictionary_and_the_glue_tables_give_each_raw_dataset_s_columns_as_written(built: Lake) -> None:
    """For each raw dataset the estate filled: the dictionary's rows name its objects' columns, their types, and
    `no` under null exactly for the columns written as required; the Glue table has the same columns with their
    Athena types, partitioned by the day of the objects' day=YYYY-MM-DD/ folders."""
    glue = glue_tables("raw")
    filled = [d for d in REGISTRY.values() if built.list_partitions(d)]
    assert "servicenow/incidents" in [d.id for d in filled]
    for dataset in filled:
        prefix = f"raw/{dataset.source}/{dataset.name}/"
        stored = written(built, prefix)
        expected = [(f.name, _type_name(f.type), "yes" if f.nullable else "no") for f in stored]
        assert [(r[0], r[1], r[3]) for r in dictionary_rows(dataset.id)] == expected, dataset.id
        table = glue[dataset.id.replace("/", "__")]
        columns = [(c["name"], c["type"]) for c in table["columns"]]  # type: ignore[attr-defined]
        assert columns == [(name, ATHENA_TYPES[t]) for name, t in described(built, prefix)], dataset.id
        assert all(k.split("/")[3].startswith("day=") for k in built.list_keys(prefix)), dataset.id
        assert (table["prefix"], table["partition_key"], table["partition_format"]) == (prefix, "day", "yyyy-MM-dd")


def test_views_sql_gives_a_dataset_without_objects_the_columns_its_objects_will_have(
    built: Lake, tmp_path: Path
) -> None:
    """views.sql views a dataset the lake has no object of (the estate has no log counts, task SLAs, rejects...) as
    an empty select of its columns: each raw view has the columns and DuckDB types a written object of the dataset
    gives (read here from an object of its schema without rows), then the day of its folder."""
    con = duckdb.connect()
    con.execute("set variable lake = $url", {"url": built.url})
    con.execute(render_views())
    for dataset in REGISTRY.values():
        sample = tmp_path / f"{dataset.source}-{dataset.name}.parquet"
        pq.write_table(dataset.schema.empty_table(), sample)
        as_written = con.execute("describe select * from read_parquet($p)", {"p": str(sample)}).fetchall()
        viewed = con.execute(f"describe raw_{dataset.source}_{dataset.name}").fetchall()
        assert [(r[0], r[1]) for r in viewed] == [*((r[0], r[1]) for r in as_written), ("day", "DATE")], dataset.id


@pytest.mark.parametrize("settings", ["local", pytest.param("s3", marks=pytest.mark.s3)], indirect=True)
def test_views_sql_runs_whole_on_a_lake_without_log_counts_or_task_slas(settings: Settings) -> None:
    """The estate has no Elasticsearch log counts and no task SLAs (nor ArgoCD data). views.sql, run as one script,
    stopped at the first dataset without objects (argocd's app status), so no view after it existed. Now every view
    exists: the log counts and task SLAs are empty, the mart's views answer (shop is the riskiest application), and
    once a day of log counts is written, running the script again reads it: shop-api's ERROR lines, 5 at 09:00 + 3 at
    10:00 = 8."""
    lake = Lake.from_settings(settings)
    write_estate(lake)
    build(lake, settings, mode="full", as_of=AS_OF)
    con = open_duckdb(settings, lake)
    con.execute("set variable lake = $url", {"url": lake.url})
    con.execute(render_views())
    assert con.execute("select count(*) from raw_elasticsearch_log_counts_hourly").fetchone() == (0,)
    assert con.execute("select count(*) from servicenow_task_slas_latest").fetchone() == (0,)
    assert con.execute("select rank, app_id from mv_monitoring_top_risks order by rank limit 1").fetchone() == (
        1,
        "shop",
    )
    line = {"index_pattern": "logs-shop-*", "service_name": "shop-api", "environment": "production"}
    logs = [line | {"level": "ERROR", "hour": t(19, hour), "count": n} for hour, n in ((9, 5), (10, 3))]
    lake.write_days(get_dataset("elasticsearch/log_counts_hourly"), rows("elasticsearch/log_counts_hourly", *logs))
    con.execute(render_views())
    errors = "select sum(count) from raw_elasticsearch_log_counts_hourly where level = 'ERROR' and day = '2026-11-19'"
    assert con.execute(errors).fetchone() == (8,)
