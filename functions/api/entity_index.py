"""What the busiest routes read, indexed per entity when a copy loads: a summary or a last-day series is a few
lookups, not queries.

A summary reads one row or a handful from each of five small tables, the default timeseries a day of one entity's
hours. Run per request, each query costs about a millisecond of planning, binding and conversion whatever its size,
which bounds the throughput of one process. A copy is immutable until the next build, so each table is read once,
sorted by its key, and every entity's rows are a contiguous slice of it. Every entity is indexed the same way,
whether it is asked for or not.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from functions.api import queries
from functions.api.queries import Scope


@dataclass(frozen=True)
class Keyed:
    """A table's rows grouped by key columns: the table is sorted by them, so a key's rows are one slice."""

    table: pa.Table
    spans: dict[tuple[Hashable, ...], tuple[int, int]]

    @classmethod
    def of(cls, table: pa.Table, key: Sequence[str], columns: Sequence[str]) -> Keyed:
        """`table` sorted by `key`; `columns`, the ones a lookup returns."""
        starts = _run_starts(table, key)
        ends = [*starts[1:], table.num_rows] if starts else []
        spans: dict[tuple[Hashable, ...], tuple[int, int]] = {}
        first_rows = table.take(pa.array(starts, pa.int64())).select(list(key)).to_pylist()
        for start, end, row in zip(starts, ends, first_rows, strict=True):
            value = tuple(row[name] for name in key)
            if value in spans:
                raise ValueError(f"rows are not sorted by {', '.join(key)}")
            spans[value] = (start, end - start)
        return cls(table.select(list(columns)), spans)

    def rows(self, *key: Hashable) -> list[dict[str, Any]]:
        span = self.spans.get(key)
        if span is None:
            return []
        found: list[dict[str, Any]] = self.table.slice(*span).to_pylist()
        return found

    def row(self, *key: Hashable) -> dict[str, Any] | None:
        found = self.rows(*key)
        return found[0] if found else None


def _run_starts(table: pa.Table, key: Sequence[str]) -> list[int]:
    """Where each run of equal keys starts (a null equals a null), computed in Arrow: only one row per run is
    turned into Python objects, not the 200,000 rows of the recent hours."""
    if table.num_rows == 0:
        return []
    changed = None
    for name in key:
        column = table.column(name)
        before, after = column.slice(0, table.num_rows - 1), column.slice(1)
        one_null = pc.xor(pc.is_null(before), pc.is_null(after))
        differs = pc.or_(pc.fill_null(pc.not_equal(before, after), False), one_null)
        changed = differs if changed is None else pc.or_(changed, differs)
    return [0, *(i + 1 for i in pc.indices_nonzero(changed).to_pylist())]


def _read(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    return con.execute(sql, params).to_arrow_table()


def _without(table: pa.Table, key: Sequence[str]) -> list[str]:
    return [name for name in table.column_names if name not in key]


def _keyed(con: duckdb.DuckDBPyConnection, sql: str, key: Sequence[str], params: dict[str, Any] | None = None) -> Keyed:
    table = _read(con, sql, params)
    return Keyed.of(table, key, _without(table, key))


@dataclass(frozen=True)
class SummaryIndex:
    """SLO, risk, open incidents and latest deployments of every entity; the last day's golden signals once the
    recent hours are in memory (`with_signals`)."""

    slo: Keyed
    risk: Keyed
    open_by_app: Keyed
    open_by_component: Keyed
    latest_by_app: Keyed
    latest_by_component: Keyed
    status_by_app: Keyed
    status_by_component: Keyed
    signals: Keyed | None = None

    @classmethod
    def build(cls, con: duckdb.DuckDBPyConnection, task_slas_read_from: datetime | None = None) -> SummaryIndex:
        """`task_slas_read_from`: the first instant the lake read task SLAs from, as the build had it (None when
        unknown, or never read): open incidents opened before it have unknown SLA breaches."""
        latest = _read(con, queries.SUMMARY_LATEST_SQL)
        slas = {"slas_from": task_slas_read_from}
        columns = list(queries.LAST_DEPLOYMENT_COLUMNS)
        status_columns = list(queries.LIVE_STATUS_COLUMNS)
        try:
            status = _read(con, queries.SUMMARY_LIVE_STATUS_SQL)
        except duckdb.CatalogException:
            # A mart built by a release before the table: summaries still answer, and live mode's fallback has no
            # status to give until the next build (a full one, the SQL having changed) writes it.
            status = pa.table({name: pa.array([], pa.string()) for name in ("app_id", "environment", *status_columns)})
        return cls(
            slo=_keyed(con, queries.SUMMARY_SLO_SQL, ("app_id", "environment")),
            risk=_keyed(con, queries.SUMMARY_RISK_SQL, ("app_id",)),
            open_by_app=_keyed(con, queries.SUMMARY_OPEN_BY_APP_SQL, ("app_id", "environment"), slas),
            open_by_component=_keyed(
                con, queries.SUMMARY_OPEN_BY_COMPONENT_SQL, ("app_id", "environment", "component_id"), slas
            ),
            latest_by_app=Keyed.of(latest, ("app_id", "environment"), columns),
            latest_by_component=Keyed.of(latest, ("app_id", "environment", "component_id"), columns),
            status_by_app=Keyed.of(status, ("app_id", "environment"), status_columns),
            status_by_component=Keyed.of(status, ("app_id", "environment", "component_id"), status_columns),
        )

    def with_signals(self, con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> SummaryIndex:
        """The same index with each entity's golden signals over [start, end), read from the recent hours held in
        memory (mv_golden_signals_recent)."""
        signals = _keyed(con, queries.SUMMARY_SIGNALS_SQL, queries.SIGNALS_KEY, {"start": start, "end": end})
        return replace(self, signals=signals)

    def last_day_signals(self, scope: Scope) -> dict[str, Any] | None:
        """None until the recent hours are in memory; {} for an entity with no hour in the window."""
        if self.signals is None:
            return None
        return self.signals.row(scope.app_id, scope.level, scope.component_id, scope.environment) or {}

    def slo_last_30d(self, scope: Scope) -> dict[str, Any] | None:
        return self.slo.row(scope.app_id, scope.environment)

    def app_risk(self, app_id: str) -> dict[str, Any] | None:
        return self.risk.row(app_id)

    def open_incidents(self, scope: Scope) -> dict[str, Any]:
        if scope.component_id is None:
            found = self.open_by_app.row(scope.app_id, scope.environment)
        else:
            found = self.open_by_component.row(scope.app_id, scope.environment, scope.component_id)
        return found or {}

    def latest_deployments(self, scope: Scope) -> list[dict[str, Any]]:
        """The latest deployment of each component, from history, ordered by component."""
        if scope.component_id is None:
            return self.latest_by_app.rows(scope.app_id, scope.environment)
        return self.latest_by_component.rows(scope.app_id, scope.environment, scope.component_id)

    def last_statuses(self, scope: Scope) -> list[dict[str, Any]]:
        """The last ArgoCD status and GitLab pipeline read of each component, from history, ordered by component."""
        if scope.component_id is None:
            return self.status_by_app.rows(scope.app_id, scope.environment)
        return self.status_by_component.rows(scope.app_id, scope.environment, scope.component_id)


@dataclass(frozen=True)
class RecentHours:
    """The last hours of golden signals (mv_golden_signals_hourly's rows from `start` on), by entity and hour."""

    start: datetime
    hours: Keyed

    @classmethod
    def of(cls, table: pa.Table, start: datetime) -> RecentHours:
        """`table` sorted by entity, then hour."""
        columns = ["hour", *queries.TIMESERIES_METRICS.values()]
        return cls(start, Keyed.of(table, queries.SIGNALS_KEY, columns))

    def covers(self, start: datetime) -> bool:
        return start >= self.start

    def series(self, scope: Scope, metric: str, start: datetime, end: datetime) -> list[tuple[datetime, float | None]]:
        """One entity's metric per hour in [start, end), as queries.timeseries gives it from the month objects."""
        column = queries.TIMESERIES_METRICS[metric]  # KeyError for anything outside the allow-list
        span = self.hours.spans.get((scope.app_id, scope.level, scope.component_id, scope.environment))
        if span is None:
            return []
        rows = self.hours.table.slice(*span)
        hours = rows.column("hour").to_pylist()
        first, stop = bisect_left(hours, start), bisect_left(hours, end)
        values = rows.column(column).slice(first, stop - first).to_pylist()
        return [(h, None if v is None else float(v)) for h, v in zip(hours[first:stop], values, strict=True)]
