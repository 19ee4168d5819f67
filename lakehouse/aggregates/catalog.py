"""The mart tables as their readers see them: each one's columns, with their types and descriptions.

The types are those the build writes: a full build over an empty lake holding the example mapping, whose
objects' Parquet schemas are read back (the types do not depend on the data). The descriptions are in
columns.py. The data dictionary and the Glue tables (infra/glue_tables.py) both read them here.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from lakehouse.aggregates.build import build
from lakehouse.aggregates.columns import DESCRIPTIONS
from lakehouse.aggregates.sqlfiles import SqlFile, load_sql_files
from lakehouse.duckdb_session import open_duckdb
from lakehouse.mappings import MappingStore, load_file
from lakehouse.settings import Settings
from lakehouse.storage import Lake

EXAMPLE_MAPPING = Path(__file__).resolve().parent.parent / "examples" / "mappings.yaml"
# The build's output types do not depend on the instant; a fixed one keeps the output reproducible.
BUILD_AS_OF = datetime(2026, 1, 15, 12, tzinfo=UTC)


@dataclass(frozen=True)
class MartColumn:
    name: str
    type: pa.DataType
    description: str
    # For a column not stored: the expression readers compute it by (see `derived on read` in sqlfiles.py).
    derived_by: str | None = None


@dataclass(frozen=True)
class MartTable:
    sql_file: SqlFile
    stored: pa.Schema  # the columns of its Parquet objects
    derived: pa.Schema  # the columns readers derive from the stored ones

    @property
    def name(self) -> str:
        return self.sql_file.table

    def column_names(self) -> list[str]:
        return [*self.stored.names, *self.derived.names]

    def columns(self) -> list[MartColumn]:
        """Every column, stored ones first, with its description; fails on a column without one."""
        problems = description_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        described = DESCRIPTIONS[self.name]
        expressions = dict(self.sql_file.derived)
        return [MartColumn(f.name, f.type, described[f.name]) for f in self.stored] + [
            MartColumn(f.name, f.type, described[f.name], expressions[f.name]) for f in self.derived
        ]


def description_problems(table: MartTable) -> list[str]:
    """A column without a description, or a description of a column the table no longer has."""
    described = DESCRIPTIONS.get(table.name, {})
    names = table.column_names()
    where = "lakehouse/aggregates/columns.py"
    undescribed = [f"{table.name}.{n} has no description in {where}" for n in names if n not in described]
    stale = [f"{table.name}.{n} is described in {where} but is not a column" for n in described if n not in names]
    return undescribed + stale


@functools.cache
def mart_tables() -> dict[str, MartTable]:
    """Run a full build over an empty local lake and read back each mart table's columns, in file order."""
    with tempfile.TemporaryDirectory(prefix="rosetta-catalog-") as tmp:
        settings = Settings(
            lake_url=str(Path(tmp) / "lake"),
            s3_endpoint_url=None,
            duckdb_threads=1,
            duckdb_temp_directory=Path(tmp) / "duckdb",
        )
        lake = Lake.from_settings(settings)
        entries, problems = load_file(EXAMPLE_MAPPING)
        if problems:
            raise ValueError(f"{EXAMPLE_MAPPING}: {problems[0]}")
        MappingStore(lake).apply(entries, actor="catalog", now=BUILD_AS_OF)
        build(lake, settings, mode="full", as_of=BUILD_AS_OF, trigger="catalog")
        tables: dict[str, MartTable] = {}
        mart = Path(tmp) / "lake" / "mart"
        with open_duckdb(settings) as con:
            for sql_file in load_sql_files():
                if not sql_file.is_mart:
                    continue
                files = sorted((mart / sql_file.table).rglob("*.parquet"))
                if not files:
                    raise ValueError(f"the build wrote no object for {sql_file.table}")
                derived = pa.schema([])
                if sql_file.derived:
                    # The expressions come from our own headers; the object's path is bound.
                    expressions = ", ".join(f"{expression} as {name}" for name, expression in sql_file.derived)
                    query = f"select {expressions} from read_parquet($path) limit 0"  # noqa: S608
                    derived = con.sql(query, params={"path": str(files[0])}).to_arrow_table().schema
                tables[sql_file.table] = MartTable(sql_file, pq.read_schema(files[0]), derived)
        return tables
