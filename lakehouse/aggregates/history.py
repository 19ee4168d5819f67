"""The build's copy of each event dataset's history: every day partition of the dataset in one object.

Incidents, changes, deployment events and merge requests are read whole by every build (an incident's latest
version, a deployment's next success, a merge request's first deployment can lie anywhere in the past). A year
of them is 365 small objects per dataset: opening them costs more than reading their rows, and on S3 it is one
request each. So the build keeps a copy of all of a dataset's days in one object,
`state/build/history/<source>/<dataset>.parquet`, whose footer lists the days it holds with the version each
day had (the tag the store's listing gives, an ETag on S3).

A build reads from the copy the days whose version is unchanged, and every other day (new, or rewritten since)
from its partition; a day removed from raw/ is read from neither. The rows are the same either way: the copy is
a cache of raw/, never a source. When days had to be read from their partitions, a new copy is written first
and the build reads that: by daily and full builds as soon as one day is stale, by hourly builds once more than
STALE_DAYS_BEFORE_REWRITE are (today's partition changes every hour: reading it costs less than rewriting the
copy for it every hour).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

import duckdb

from lakehouse.aggregates import footers
from lakehouse.schemas import Dataset
from lakehouse.storage import Lake

HISTORY_PREFIX = "state/build/history"
MANIFEST_KEY = "rosetta_history"
STALE_DAYS_BEFORE_REWRITE = 3


@dataclass(frozen=True)
class DatasetHistory:
    """Where a build reads one dataset's days from."""

    dataset: Dataset
    versions: dict[date, str]  # every day partition in raw/ now, with its version
    held: dict[date, str]  # the days the stored copy holds, with the version each had when copied

    @property
    def key(self) -> str:
        return history_key(self.dataset)

    @property
    def kept(self) -> list[date]:
        """Days read from the copy: unchanged since it was written."""
        return [d for d, version in self.held.items() if self.versions.get(d) == version]

    @property
    def skipped(self) -> list[date]:
        """Days the copy holds that are not read from it: rewritten or removed since."""
        kept = set(self.kept)
        return [d for d in self.held if d not in kept]

    @property
    def stale(self) -> list[date]:
        """Days read from their partitions: new or rewritten since the copy was written."""
        kept = set(self.kept)
        return [d for d in self.versions if d not in kept]

    def needs_rewrite(self, hourly: bool) -> bool:
        if not self.versions:
            return False
        return len(self.stale) > STALE_DAYS_BEFORE_REWRITE if hourly else bool(self.stale) or bool(self.skipped)


def history_key(dataset: Dataset) -> str:
    return f"{HISTORY_PREFIX}/{dataset.source}/{dataset.name}.parquet"


def schema_tag(dataset: Dataset) -> str:
    """Changes with the dataset's schema: a copy made under another schema is not read."""
    return hashlib.sha256(str(dataset.schema).encode()).hexdigest()[:16]


def plan(con: duckdb.DuckDBPyConnection, lake: Lake, dataset: Dataset, stored: set[str]) -> DatasetHistory:
    """The dataset's days now and the days its copy holds (`stored`: the keys under HISTORY_PREFIX)."""
    versions = lake.partition_versions(dataset)
    key = history_key(dataset)
    held: dict[date, str] = {}
    if key in stored:
        held = _held_days(con, lake.url_of(key), dataset)
    return DatasetHistory(dataset, versions, held)


def _held_days(con: duckdb.DuckDBPyConnection, url: str, dataset: Dataset) -> dict[date, str]:
    """The days a copy holds; none when it cannot be read or was made under another schema (the copy is only a
    cache: every day is then read from raw/, and the next daily build writes a new copy)."""
    try:
        text = footers.read(con, url, MANIFEST_KEY)
        manifest = json.loads(text) if text is not None else {}
        if manifest.get("schema") != schema_tag(dataset):
            return {}
        return {date.fromisoformat(d): str(v) for d, v in manifest.get("days", {}).items()}
    except (duckdb.Error, ValueError, AttributeError):
        return {}


def register(
    con: duckdb.DuckDBPyConnection, lake: Lake, view: str, history: DatasetHistory, copy_url: str | None = None
) -> None:
    """`<view>_days`: the dataset's rows with their `day`, from the copy (the stored one unless `copy_url` names
    another) and the stale partitions. `view` is a name from the dataset registry, never from input; every value
    is bound."""
    copy_url = copy_url or lake.url_of(history.key)
    parts = []
    if history.kept:
        con.execute(f"set variable {view}_copy = $url", {"url": copy_url})
        con.execute(f"set variable {view}_skipped = $days", {"days": history.skipped})
        parts.append(
            f"select * from read_parquet(getvariable('{view}_copy')) "  # noqa: S608
            f"where not list_contains(cast(getvariable('{view}_skipped') as date[]), day)"
        )
    if history.stale:
        urls = [lake.url_of(lake.partition_key(history.dataset, d)) for d in history.stale]
        con.execute(f"set variable {view}_files = $files", {"files": urls})
        # By name: a day an older release wrote without a column added since reads it as null.
        parts.append(
            f"select * from read_parquet(getvariable('{view}_files'), hive_partitioning = true, union_by_name = true)"  # noqa: S608
        )
    con.execute(f"create or replace view {view}_days as " + " union all by name ".join(parts))


def manifest(history: DatasetHistory) -> str:
    """What a new copy's footer says it holds: every day now in raw/, with its version when it was listed (a day
    rewritten after that reads as changed next time, so the copy is never trusted past what it holds)."""
    days = {d.isoformat(): v for d, v in history.versions.items()}
    return json.dumps({"schema": schema_tag(history.dataset), "days": days})
