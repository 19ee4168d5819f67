"""The lake: the only code that knows keys and URLs.

Layout under the lake root (a local folder or s3://bucket/prefix):

    landing/<source>/<dataset>/day=YYYY-MM-DD/<run_id>/page-00001.json.gz   raw API pages, for replay
    raw/<source>/<dataset>/day=YYYY-MM-DD/data.parquet                      typed rows, one object per day
    mart/<table>/data.parquet                                               aggregate tables
    mart/<table>/month=YYYY-MM/data.parquet                                 aggregate tables by day, one object a month
    mart/<table>/month=YYYY-MM/day-YYYY-MM-DD.parquet                       and the month's later days, one object each
    ref/mappings/vNNNNNN/mappings.parquet                                   the mapping table, every version
    runs/day=YYYY-MM-DD/<run_id>.json                                       one record per batch run
    runs/last/<source>/run.json                                             the keys of a source's last run's records
    state/<source>/<dataset>.json                                           watermarks and cursors
    state/<source>/backfill/<scope>/YYYY-MM-DD.json                         one marker per day a backfill finished
    state/build/aggregates.json, lease.json, event_days.parquet             the build's state, lease and event days
    state/build/periods_refresh.json                                        an hourly build's last try at the periods
    state/build/history/<source>/<dataset>.parquet                          the build's copy of a raw dataset's days
    state/build/settled/<name>.parquet                                      deployments no later attempt can change

A day partition is one object, written whole: readers see the old day or the new one, never half.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lakehouse.errors import ConcurrentWriteError, LakeConfigError, SchemaMismatchError
from lakehouse.objectstore import ABSENT, LocalStore, ObjectStore, PreconditionFailed, S3Store
from lakehouse.schemas import READ_AT, Dataset
from lakehouse.settings import Settings, valid_bucket_name, without_credentials

PARTITION_FILE = "data.parquet"
MAX_MERGE_ATTEMPTS = 8
# The footer key naming the run that last wrote a day object (see PartitionWrite.written_by).
WRITTEN_BY = b"rosetta.written_by"

# Rows per Parquet row group unless a writer asks for smaller ones.
ROW_GROUP_ROWS = 256_000


@dataclass(frozen=True)
class PartitionWrite:
    """What one day's write did: rows offered, rows in the day before and after the merge, and whether the day
    changed. A day whose merge gives the rows it holds is left as it is (changed False): its version stays, so the
    builds neither rebuild it nor read it again as a day written since (the deployment events are computed again
    over their last 30 days every run, and nearly all of them come out as they were)."""

    dataset: str
    day: date
    rows_in: int
    rows_before: int
    rows_after: int
    key: str
    changed: bool = True
    # For a day left as it is: the run that last wrote it, as its object's footer names it (None when it names
    # none). A run killed after writing a day and before recording it leaves its record saying "running", naming no
    # day; the next run over the window finds the day as it would write it and, told who wrote it, can name it.
    written_by: str | None = None


class Lake:
    """A lake root with typed partitions, landing pages and small JSON side records."""

    def __init__(self, store: ObjectStore, url: str) -> None:
        self.store = store
        self.url = url.rstrip("/")

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = True, missing_is_empty: bool = False) -> Lake:
        """The lake the settings name. A local folder is made when missing, unless `create` is off (a command that
        only reads): then a missing folder is a mistyped URL, not an empty lake, unless `missing_is_empty` (a command
        that answers what a write would do there, which must make nothing)."""
        url = settings.lake_url.strip()
        if not url:
            raise LakeConfigError("ROSETTA_LAKE_URL is empty: give s3://bucket/prefix or a local folder")
        parsed = urlparse(url)
        # Either URL may carry a user and password a deployer wrote into it: errors quote them without.
        shown = without_credentials(url)
        if parsed.scheme in ("s3", "s3a"):
            bucket = parsed.netloc
            if "@" in bucket:
                raise LakeConfigError(
                    f"lake URL {shown!r} has a user or password before its bucket name: give S3 keys in "
                    "ROSETTA_S3_ACCESS_KEY_ID and ROSETTA_S3_SECRET_ACCESS_KEY, never in the URL"
                )
            if not valid_bucket_name(bucket):
                raise LakeConfigError(f"lake URL {shown!r} has no valid bucket name: use s3://bucket/prefix")
            endpoint = urlparse(settings.s3_endpoint_url) if settings.s3_endpoint_url else None
            if endpoint is not None and (endpoint.scheme not in ("http", "https") or not endpoint.hostname):
                raise LakeConfigError(
                    f"ROSETTA_S3_ENDPOINT_URL {without_credentials(settings.s3_endpoint_url)!r} "
                    "is not a URL like http://host:port"
                )
            secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
            store = S3Store(
                bucket,
                parsed.path,
                endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region,
                url_style=settings.url_style,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=secret,
                conditional_writes=settings.s3_conditional_writes,
                connect_timeout_s=settings.s3_connect_timeout_s,
                read_timeout_s=settings.s3_read_timeout_s,
            )
            prefix = parsed.path.strip("/")
            return cls(store, f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}")
        if parsed.scheme in ("", "file"):
            root = Path(parsed.path if parsed.scheme == "file" else url).expanduser().resolve()
            if root.exists() and not root.is_dir():
                raise LakeConfigError(f"lake folder {str(root)!r} exists and is not a folder")
            if not create and not root.exists():
                if missing_is_empty:
                    return cls(LocalStore(root), str(root))
                raise LakeConfigError(
                    f"no lake at {root}: the folder does not exist; check --lake-url or ROSETTA_LAKE_URL"
                )
            try:
                root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LakeConfigError(
                    f"lake folder {str(root)!r} cannot be made: {exc.strerror}; fix ROSETTA_LAKE_URL"
                ) from None
            return cls(LocalStore(root), str(root))
        raise LakeConfigError(f"lake URL {shown!r} has scheme {parsed.scheme!r}: use s3://bucket/prefix or a folder")

    def check(self) -> None:
        """Fail with one clear line if the lake cannot be reached (missing bucket, refused credentials)."""
        if isinstance(self.store, S3Store):
            self.store.check()

    @property
    def is_s3(self) -> bool:
        return isinstance(self.store, S3Store)

    # --- keys (the only place that builds them) -----------------------------------------------
    @staticmethod
    def partition_key(dataset: Dataset, day: date) -> str:
        return f"raw/{dataset.source}/{dataset.name}/day={day.isoformat()}/{PARTITION_FILE}"

    @staticmethod
    def mart_key(table: str) -> str:
        return f"mart/{table}/{PARTITION_FILE}"

    @staticmethod
    def mart_month_key(table: str, year: int, month: int) -> str:
        return f"mart/{table}/month={year:04d}-{month:02d}/{PARTITION_FILE}"

    @staticmethod
    def mart_day_key(table: str, day: date) -> str:
        """A day table's day written on its own beside its month's object (see lakehouse.aggregates.build)."""
        return f"mart/{table}/month={day.year:04d}-{day.month:02d}/day-{day.isoformat()}.parquet"

    @staticmethod
    def mart_month_of(key: str) -> str | None:
        """The month ('YYYY-MM') of a key made by mart_month_key, else None."""
        folder, _, name = key.rpartition("/")
        month = folder.rpartition("/month=")[2] if "/month=" in folder else ""
        return month if name == PARTITION_FILE and len(month) == 7 else None

    @staticmethod
    def mart_day_of(key: str) -> date | None:
        """The day of a key made by mart_day_key, else None."""
        name = key.rsplit("/", 1)[-1]
        if not (name.startswith("day-") and name.endswith(".parquet")):
            return None
        try:
            return date.fromisoformat(name[4:-8])
        except ValueError:
            return None

    @staticmethod
    def mart_days_held_twice(keys: Iterable[str], days_through: Callable[[str], date | None]) -> set[str]:
        """The day objects among a mart table's keys whose day their month's object also holds. A day table's month
        object holds its days through a date kept in its footer, the month's later days are objects of their own;
        a build stopped between putting a month object and deleting the day objects it took in leaves both, and
        every reader must then skip these day objects (the next build deletes them). `days_through(month_key)` gives
        a month object's date; it is asked only for months with day objects, and None (an object from before there
        were day objects) means the whole month."""
        keys = set(keys)
        through: dict[str, date] = {}
        twice = set()
        for key in sorted(keys):
            day = Lake.mart_day_of(key)
            month_key = f"{key.rsplit('/', 1)[0]}/{PARTITION_FILE}"
            if day is None or month_key not in keys:
                continue
            if month_key not in through:
                last = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
                through[month_key] = days_through(month_key) or last
            if day <= through[month_key]:
                twice.add(key)
        return twice

    @staticmethod
    def landing_key(source: str, dataset: str, day: date, run_id: str, page: int) -> str:
        return f"landing/{source}/{dataset}/day={day.isoformat()}/{run_id}/page-{page:05d}.json.gz"

    @staticmethod
    def landing_page_of(key: str) -> tuple[str, date] | None:
        """The dataset ('source/name') and day of a key made by landing_key, else None."""
        parts = key.split("/")
        if len(parts) != 6 or parts[0] != "landing" or not parts[3].startswith("day="):
            return None
        try:
            return f"{parts[1]}/{parts[2]}", date.fromisoformat(parts[3][4:])
        except ValueError:
            return None

    @staticmethod
    def run_key(run_id: str, started: datetime) -> str:
        return f"runs/day={started.date().isoformat()}/{run_id}.json"

    @staticmethod
    def last_run_key(source: str) -> str:
        # A folder deeper than the day folders: the batch_runs view reads runs/*/*.json, which this is not.
        return f"runs/last/{source}/run.json"

    @staticmethod
    def state_key(source: str, dataset: str) -> str:
        return f"state/{source}/{dataset}.json"

    @staticmethod
    def read_from_key(source: str, dataset: str) -> str:
        return f"state/{source}/read_from/{dataset}.json"

    @staticmethod
    def mapping_version_key(version: int) -> str:
        return f"ref/mappings/v{version:06d}/mappings.parquet"

    def url_of(self, key: str) -> str:
        """The URL DuckDB reads a key from."""
        return f"{self.url}/{key}"

    def dataset_glob(self, dataset: Dataset) -> str:
        """A glob an analyst can give read_parquet(..., hive_partitioning = true)."""
        return f"{self.url}/raw/{dataset.source}/{dataset.name}/*/*.parquet"

    # --- typed partitions ---------------------------------------------------------------------
    def write_partition(
        self, dataset: Dataset, day: date, rows: pa.Table, *, run_id: str | None = None
    ) -> PartitionWrite:
        """Merge `rows` into the day partition, keep one row per natural key, replace the object whole.

        Latest version wins (the dataset's version column; on a tie, or without one, the new rows).
        The replace is a compare-and-swap, so a concurrent writer's rows are merged, not lost.
        `run_id`, the writing run's, goes in the object's footer.
        """
        new = dataset.conform(rows)
        _check_day(dataset, day, new)
        key = self.partition_key(dataset, day)
        for _ in range(MAX_MERGE_ATTEMPTS):
            current = self.store.get(key)
            stored = _read_parquet(current.data) if current else None
            old = dataset.conform_stored(stored) if stored is not None else None
            merged = merge_rows(dataset, old, new)
            if old is not None and _same_rows(dataset, merged, old):
                writer = _written_by(stored)
                return PartitionWrite(
                    dataset.id, day, new.num_rows, old.num_rows, merged.num_rows, key, changed=False, written_by=writer
                )
            try:
                self.store.put(key, _stamped(merged, run_id), if_match=current.etag if current else ABSENT)
            except PreconditionFailed:
                continue
            return PartitionWrite(dataset.id, day, new.num_rows, old.num_rows if old else 0, merged.num_rows, key)
        raise ConcurrentWriteError(
            f"{key}: replaced by other writers {MAX_MERGE_ATTEMPTS} times in a row; retry the run"
        )

    def write_days(self, dataset: Dataset, rows: pa.Table, *, run_id: str | None = None) -> list[PartitionWrite]:
        """Split rows by the UTC day of the partition column and write each day."""
        conformed = dataset.conform(rows)
        if conformed.num_rows == 0:
            return []
        days = partition_days(dataset, conformed)
        return [self.write_partition(dataset, day, part, run_id=run_id) for day, part in days.items()]

    def replace_days(
        self, dataset: Dataset, rows: pa.Table, first: date, *, run_id: str | None = None
    ) -> list[PartitionWrite]:
        """Make every day from `first` on hold exactly its `rows`, for a dataset computed whole from that day (the
        deployment events): a row can move to another day between two computations (a deployment's finish time
        given again), and a merge would keep it in both. A day left without rows is removed; a day that holds its
        rows already is left as it is. Rows before `first` are merged as `write_days` does.

        A moved row reaches its new day before it leaves its old one: every day that gains rows gets them first
        (keeping, for now, those it is to lose), then the days are made exact and the emptied ones removed. A run
        failing halfway leaves a moved row in both its days until the next run (stg_deployments keeps one row per
        deployment), never in neither: a day that both gains and loses rows costs one write more."""
        conformed = dataset.conform(rows)
        days = partition_days(dataset, conformed) if conformed.num_rows else {}
        writes = [self.write_partition(dataset, day, part, run_id=run_id) for day, part in days.items() if day < first]
        emptied = [d for d in self.list_partitions(dataset) if d >= first and d not in days]
        wanted = {}
        for day in sorted(d for d in days if d >= first):
            _check_day(dataset, day, days[day])
            current = self.store.get(self.partition_key(dataset, day))
            stored = _read_parquet(current.data) if current else None
            before = dataset.conform_stored(stored) if stored is not None else None
            wanted[day] = (before, stored, merge_rows(dataset, None, days[day]))
        held: dict[date, pa.Table | None] = {}  # what each day holds as the writes go on
        for day, (before, _, merged) in wanted.items():
            held[day] = before
            if before is None or not _keys(dataset, merged) <= _keys(dataset, before):
                gained = merged if before is None else merge_rows(dataset, before, merged)
                self.store.put(self.partition_key(dataset, day), _stamped(gained, run_id))
                held[day] = gained
        for day, (before, stored, merged) in wanted.items():
            key = self.partition_key(dataset, day)
            if not merged.equals(held[day]):
                self.store.put(key, _stamped(merged, run_id))
            changed = before is None or not merged.equals(before)
            writer = None if changed else _written_by(stored)
            rows_before = before.num_rows if before else 0
            writes.append(
                PartitionWrite(dataset.id, day, days[day].num_rows, rows_before, merged.num_rows, key, changed, writer)
            )
        for day in emptied:
            key = self.partition_key(dataset, day)
            before = self.read_partition(dataset, day)
            self.store.delete(key)
            writes.append(PartitionWrite(dataset.id, day, 0, before.num_rows if before else 0, 0, key))
        return writes

    def rewrite_partition(
        self,
        dataset: Dataset,
        day: date,
        change: Callable[[pa.Table], pa.Table | None],
        *,
        run_id: str | None = None,
    ) -> PartitionWrite | None:
        """Replace a day's rows by `change(rows)` as it gives them, without a merge: a row it leaves out is gone. None
        when the day is missing or `change` gives None (nothing to change). A compare-and-swap, as write_partition's:
        the rows of a writer in between are changed too, not lost, and the write reported is that last change. A day
        left without rows stays, empty."""
        key = self.partition_key(dataset, day)
        current = self.store.get(key)
        for _ in range(MAX_MERGE_ATTEMPTS):
            if current is None:
                return None
            old = dataset.conform_stored(_read_parquet(current.data))
            changed = change(old)
            if changed is None:
                return None
            new = dataset.conform(changed)
            _check_day(dataset, day, new)
            written = _stamped(new, run_id)
            try:
                self.store.put(key, written, if_match=current.etag)
            except PreconditionFailed:
                current = self.store.get(key)
                # Another writer's version, which the change is made on again; or this put's own, landed with its
                # answer lost and the retry of the same put refused: the change is written (made again, it would
                # find nothing to change, and the day would read as one this call left as it was).
                if current is None or current.data != written:
                    continue
            return PartitionWrite(dataset.id, day, new.num_rows, old.num_rows, new.num_rows, key)
        raise ConcurrentWriteError(
            f"{key}: replaced by other writers {MAX_MERGE_ATTEMPTS} times in a row; run the command again"
        )

    def read_partition(self, dataset: Dataset, day: date) -> pa.Table | None:
        current = self.store.get(self.partition_key(dataset, day))
        if current is None:
            return None
        return dataset.conform_stored(_read_parquet(current.data))

    def list_partitions(self, dataset: Dataset) -> list[date]:
        return list(self.partition_versions(dataset))

    def partition_versions(self, dataset: Dataset) -> dict[date, str]:
        """Each day partition with a tag that changes whenever the day is rewritten (from the listing alone)."""
        prefix = f"raw/{dataset.source}/{dataset.name}/"
        days = {}
        for key, tag in self.store.versions(prefix).items():
            part = key[len(prefix) :].split("/")
            if len(part) == 2 and part[0].startswith("day=") and part[1] == PARTITION_FILE:
                days[date.fromisoformat(part[0][4:])] = tag
        return dict(sorted(days.items()))

    def partition_urls(self, dataset: Dataset, days: Iterable[date] | None = None) -> list[str]:
        """URLs of existing partitions, optionally only some days: narrow paths instead of a glob."""
        existing = self.list_partitions(dataset)
        wanted = existing if days is None else sorted(set(days) & set(existing))
        return [self.url_of(self.partition_key(dataset, d)) for d in wanted]

    def read_dataset(
        self, con: duckdb.DuckDBPyConnection, dataset: Dataset, days: Iterable[date] | None = None
    ) -> pa.Table:
        """Read partitions through DuckDB (httpfs for S3), with `day` as a column like Hive partitioning."""
        urls = self.partition_urls(dataset, days)
        if not urls:
            return dataset.schema.empty_table()
        # By name: days written by older releases may lack a column added since (read as null).
        rel = con.execute(
            "select * exclude (day) from read_parquet($files, hive_partitioning = true, union_by_name = true)",
            {"files": urls},
        )
        return dataset.conform(rel.to_arrow_table())

    # --- landing pages ------------------------------------------------------------------------
    def put_landing(self, source: str, dataset: str, run_id: str, page: int, payload: Any, day: date) -> str:
        key = self.landing_key(source, dataset, day, run_id, page)
        self.store.put(key, _landing_body(payload))
        return key

    def landing_keys(self, source: str) -> list[str]:
        """Every landing page of a source, in key order (day, run, page within each dataset)."""
        return self.store.list(f"landing/{source}/")

    def read_landing(self, key: str) -> Any:
        """A landing page as the source sent it; None when it is gone."""
        text = self.read_landing_text(key)
        return json.loads(text) if text is not None else None

    def read_landing_text(self, key: str) -> str | None:
        """A landing page's JSON text, decompressed, not parsed (searched before it is read); None when it is gone."""
        obj = self.store.get(key)
        return gzip.decompress(obj.data).decode() if obj else None

    def rewrite_landing(self, key: str, page: Any) -> None:
        """A landing page replaced by `page` under the same key (a key landing_keys gave), compressed as put_landing
        does: a page redacted keeps its place among its run's pages."""
        if self.landing_page_of(key) is None:
            raise ValueError(f"{key}: not a landing page")
        self.store.put(key, _landing_body(page))

    def iter_landing(self, source: str, dataset: str, run_id: str | None = None) -> Iterator[tuple[str, Any]]:
        """Landing pages in key order (day, run, page), for replay."""
        for key in self.store.list(f"landing/{source}/{dataset}/"):
            if run_id is not None and f"/{run_id}/" not in key:
                continue
            page = self.read_landing(key)
            if page is not None:
                yield key, page

    # --- small JSON records (runs, state) -----------------------------------------------------
    def put_json(self, key: str, record: Any, *, if_match: str | None = None) -> None:
        self.store.put(key, json.dumps(record, sort_keys=True, default=str).encode(), if_match=if_match)

    def get_json(self, key: str) -> tuple[Any, str] | None:
        obj = self.store.get(key)
        return (json.loads(obj.data), obj.etag) if obj else None

    def update_json(self, key: str, change: Callable[[Any], Any]) -> Any:
        """Read, change and write back a JSON record, written only if nobody replaced it in between (read again and
        changed again when somebody did). `change` gets the stored record (None when there is none) and returns the
        record to write, or None to leave it as it is. Returns the record in place afterwards."""
        for _ in range(8):
            found = self.get_json(key)
            current = found[0] if found else None
            new = change(current)
            if new is None:
                return current
            try:
                self.put_json(key, new, if_match=found[1] if found else ABSENT)
            except PreconditionFailed:
                continue
            return new
        raise ConcurrentWriteError(f"{key}: kept changing under this update; retry")

    def list_keys(self, prefix: str, *, start_after: str | None = None) -> list[str]:
        return self.store.list(prefix, start_after=start_after)

    def list_folders(self, prefix: str) -> list[str]:
        return self.store.folders(prefix)

    # --- whole tables (mart, ref) -------------------------------------------------------------
    def put_table(
        self, key: str, table: pa.Table, *, if_match: str | None = None, row_group_size: int = ROW_GROUP_ROWS
    ) -> None:
        self.store.put(key, to_parquet(table, row_group_size=row_group_size), if_match=if_match)

    def get_table(self, key: str) -> pa.Table | None:
        obj = self.store.get(key)
        return _read_parquet(obj.data) if obj else None


def merge_rows(dataset: Dataset, old: pa.Table | None, new: pa.Table) -> pa.Table:
    """Union old and new rows, keep one row per natural key, sort by key so equal input gives equal bytes.

    Latest version first (nulls last); on a tie, or without a version column, a new row before an old one and a
    later new row before an earlier one. Arrow's sort is stable, so the rows go in that order of precedence (the
    new ones reversed, then the old) and the sort keeps it within a key and version. Arrow's compute functions
    merge a day of a few hundred rows in about 2 ms, where the same merge as a DuckDB query took 20 to 40 ms, and a
    backfill writes thousands of days (bench/RESULTS.md, "Day partitions merged by Arrow")."""
    precedence = [new.take(pa.array(range(new.num_rows - 1, -1, -1), pa.int64()))]
    if old is not None:
        precedence.append(old)
    rows = pa.concat_tables(precedence)
    keys = [(column, "ascending", "at_end") for column in dataset.natural_key]
    if dataset.version_column:
        keys.append((dataset.version_column, "descending", "at_end"))
    rows = rows.take(pc.sort_indices(rows, options=pc.SortOptions(keys)))
    if rows.num_rows > 1:
        # A row whose key differs from the row before it is its key's first: the one kept.
        differs = [
            pc.not_equal(rows.column(c).slice(1), rows.column(c).slice(0, rows.num_rows - 1))
            for c in dataset.natural_key
        ]
        first = differs[0]
        for other in differs[1:]:
            first = pc.or_(first, other)
        rows = rows.filter(pa.concat_arrays([pa.array([True]), first.combine_chunks()]))
    return dataset.conform(rows)


def _keys(dataset: Dataset, rows: pa.Table) -> set[tuple]:
    """The natural keys a day's rows hold."""
    return set(zip(*(rows.column(k).to_pylist() for k in dataset.natural_key), strict=True))


def _same_rows(dataset: Dataset, merged: pa.Table, old: pa.Table) -> bool:
    """Whether the merge leaves the day's rows as they are. A source read again that says the same (the overlap read
    every run) changes no row, though its read is newer: the day keeps its bytes, as the first read stamped them."""
    if dataset.version_column == READ_AT:
        return merged.drop_columns([READ_AT]).equals(old.drop_columns([READ_AT]))
    return merged.equals(old)


def days_written(writes: Iterable[PartitionWrite]) -> list[str]:
    """The days a run changed, as its run log record names them (ISO dates): the builds rebuild those."""
    return [w.day.isoformat() for w in writes if w.changed]


def partition_days(dataset: Dataset, table: pa.Table) -> dict[date, pa.Table]:
    column = table.column(dataset.partition_column)
    if column.null_count:
        raise SchemaMismatchError(f"{dataset.id}: partition column {dataset.partition_column!r} has nulls")
    # Vectorised: millions of rows must not become millions of Python datetimes.
    days = _utc_days(column)
    return {d: table.filter(pc.equal(days, pa.scalar(d, pa.date32()))) for d in sorted(pc.unique(days).to_pylist())}


def to_parquet(table: pa.Table, *, row_group_size: int = ROW_GROUP_ROWS) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=row_group_size)
    return buf.getvalue()


def _check_day(dataset: Dataset, day: date, table: pa.Table) -> None:
    column = table.column(dataset.partition_column)
    outside = pc.or_kleene(pc.is_null(column), pc.not_equal(_utc_days(column), pa.scalar(day, pa.date32())))
    if pc.any(outside).as_py():
        value = column.filter(pc.fill_null(outside, True))[0].as_py()
        raise SchemaMismatchError(
            f"{dataset.id}: a row with {dataset.partition_column}={value} does not belong to day={day}"
        )


def _utc_days(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """The UTC day of each instant (Arrow takes the day in the column's own zone, so name UTC first)."""
    unit = column.type.unit if pa.types.is_timestamp(column.type) else "us"
    return pc.cast(pc.cast(column, pa.timestamp(unit, tz="UTC")), pa.date32())


def _landing_body(page: Any) -> bytes:
    """A landing page as stored: compact JSON, gzip without a timestamp (the same page, the same bytes)."""
    return gzip.compress(json.dumps(page, separators=(",", ":")).encode(), mtime=0)


def _stamped(table: pa.Table, run_id: str | None) -> bytes:
    """A day object's bytes, its footer naming the run that wrote it."""
    if run_id is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), WRITTEN_BY: run_id.encode()})
    return to_parquet(table)


def _written_by(stored: pa.Table | None) -> str | None:
    """The run a day object's footer names as its writer (see _stamped)."""
    metadata = stored.schema.metadata if stored is not None else None
    writer = (metadata or {}).get(WRITTEN_BY)
    return writer.decode() if writer else None


def _read_parquet(data: bytes) -> pa.Table:
    """A stored object's rows, read on the calling thread. pyarrow's reader threads can abort the process as it
    exits ("terminate called without an active exception", apache/arrow#34314): a CLI command that had done its
    work then failed with code 134, a few runs in a hundred. The objects read here are small."""
    return pq.read_table(io.BytesIO(data), use_threads=False)
