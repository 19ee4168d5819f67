"""Every column of every mart table has a description, and the dictionary and the Glue tables show it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pyarrow as pa

from lakehouse.aggregates.catalog import description_problems, mart_tables
from lakehouse.aggregates.columns import DESCRIPTIONS
from lakehouse.dictionary import render_markdown

ROOT = Path(__file__).resolve().parents[3]
GLUE_TABLES = ROOT / "infra" / "terraform" / "modules" / "catalog" / "tables.generated.tf.json"


def test_every_mart_column_is_described_and_every_description_is_a_column() -> None:
    tables = mart_tables()
    problems = [problem for table in tables.values() for problem in description_problems(table)]
    assert problems == []
    assert sorted(DESCRIPTIONS) == sorted(tables)
    # The column readers derive is described too, beside the stored ones.
    assert tables["mv_golden_signals_hourly"].derived.names == ["error_rate"]
    assert "error_rate" not in tables["mv_golden_signals_hourly"].stored.names


def test_a_new_column_without_description_and_a_description_of_a_dropped_column_are_problems() -> None:
    health = mart_tables()["mv_health"]
    stored = health.stored.remove(health.stored.get_field_index("orange")).append(pa.field("amber", pa.int64()))
    changed = dataclasses.replace(health, stored=stored)
    assert description_problems(changed) == [
        "mv_health.amber has no description in lakehouse/aggregates/columns.py",
        "mv_health.orange is described in lakehouse/aggregates/columns.py but is not a column",
    ]


def test_dictionary_describes_each_mart_table() -> None:
    text = render_markdown()
    mart = text.split("# Mart tables", 1)[1]
    for table in mart_tables().values():
        assert f"## `mart/{table.name}`" in mart
        for column in table.column_names():
            assert f"| `{column}` |" in mart
    section = mart.split("## `mart/mv_golden_signals_hourly`", 1)[1].split("\n## ", 1)[0]
    assert "- Grain: one row per level (component or application), entity, environment and hour" in section
    assert "`mart/mv_golden_signals_hourly/month=YYYY-MM/day-YYYY-MM-DD.parquet`" in section
    assert "- Refresh: hourly (every build)" in section
    # The header's definitions, as prose: its lines joined.
    assert "The error rate is not stored: readers (the API, the analysts' views) derive it" in section
    assert (
        "| `error_rate` | double | Error rate: errors / requests, ratio 0-1; null in an hour without traffic. "
        "Not stored: derived on read as `case when requests > 0 then errors / requests end` |"
    ) in section
    assert "| `latency_p95_ms` | double | 95th percentile response time in ms;" in section
    links = mart.split("## `mart/mv_incident_links`", 1)[1].split("\n## ", 1)[0]
    assert "partitioned by month of `opened_at`: `mart/mv_incident_links/month=YYYY-MM/data.parquet`" in links
    # The header's table of rules: one list item per rule, its wrapped lines joined.
    assert "\n- change_ci_window 0.70 a change on the incident's CI, covering a deployment, ended within " in links
    slo = mart.split("## `mart/mv_slo_app_period`", 1)[1].split("\n## ", 1)[0]
    assert "- Stored: one object, `mart/mv_slo_app_period/data.parquet`, replaced whole" in slo
    assert "- Refresh: daily (daily and full builds only" in slo


def test_glue_mart_tables_carry_the_column_descriptions() -> None:
    document = json.loads(GLUE_TABLES.read_text(encoding="utf-8"))
    mart = document["locals"]["generated_mart_tables"]
    assert sorted(mart) == sorted(DESCRIPTIONS)
    for name, table in mart.items():
        for column in table["columns"]:
            assert column["comment"], f"{name}.{column['name']} has no comment"
            assert len(column["comment"]) <= 255
    hourly = {c["name"]: c["comment"] for c in mart["mv_golden_signals_hourly"]["columns"]}
    assert hourly["latency_p95_ms"] == DESCRIPTIONS["mv_golden_signals_hourly"]["latency_p95_ms"]
    # Athena reads the objects as stored: the derived column is no Glue column, the table says how to compute it.
    assert "error_rate" not in hourly
    assert (
        "error_rate = case when requests > 0 then errors / requests end"
        in (mart["mv_golden_signals_hourly"]["description"])
    )
