"""Key-value metadata in the footers of the Parquet files the build writes: what the build keeps beside the rows
(a history copy's days and versions, a month object's fingerprint), read back without reading the rows."""

from __future__ import annotations

import duckdb

from lakehouse.duckdb_session import first_row, sql_literal


def read(con: duckdb.DuckDBPyConnection, url: str, key: str) -> str | None:
    """The value under `key` in the footer of the Parquet file at `url` (a ranged read on S3), or None."""
    row = first_row(
        con.execute(
            "select decode(value) from parquet_kv_metadata($url) where decode(key) = $key", {"url": url, "key": key}
        )
    )
    return str(row[0]) if row is not None else None


def read_shared(con: duckdb.DuckDBPyConnection, urls: list[str], key: str) -> str | None:
    """The value under `key` in the footers of the files at `urls`, written together by one build; None when one
    lacks it or they differ (the files of two builds, one stopped while putting them)."""
    values = {read(con, url, key) for url in urls}
    return values.pop() if len(values) == 1 else None


def copy_option(footer: dict[str, str]) -> str:
    """The `kv_metadata` option of a COPY ... TO (format parquet) that writes `footer`. COPY options take no
    bound values, so keys and values are quoted as SQL literals."""
    pairs = ", ".join(f"{sql_literal(k)}: {sql_literal(v)}" for k, v in footer.items())
    return f"kv_metadata {{{pairs}}}"
