"""The one place that opens DuckDB: limits, httpfs loaded offline, S3 credentials as a secret."""

from __future__ import annotations

import importlib.abc
import importlib.util
import math
import sys
from pathlib import Path
from urllib.parse import urlparse

import duckdb

from lakehouse.errors import LakeAccessError, LakeConfigError
from lakehouse.objectstore import S3Store
from lakehouse.settings import Settings, make_folder, without_credentials
from lakehouse.storage import Lake

# httpfs's tries of one request to the store after the first (its default): a throttled answer or a dropped connection
# is absorbed. It waits 100 ms before the first retry and four times longer before each next.
STORE_READ_RETRIES = 3
STORE_RETRY_WAITS_S = sum(0.1 * 4**n for n in range(STORE_READ_RETRIES))


def sql_literal(text: str) -> str:
    """`text` as a quoted SQL string, for the few places DuckDB takes no bound value (file paths in COPY, LOAD
    and view definitions, COPY options)."""
    return "'" + text.replace("'", "''") + "'"


def httpfs_extension_path() -> Path:
    """The httpfs binary shipped by the duckdb-extension-httpfs wheel, matching the installed duckdb."""
    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise LakeConfigError(
            "duckdb-extension-httpfs is not installed: pip install the project's pinned set"
        ) from None
    base = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = base / "httpfs.duckdb_extension"
    if not path.is_file():
        raise LakeConfigError(
            f"no httpfs extension for duckdb {duckdb.__version__} in {base.parent}: "
            "duckdb and duckdb-extension-httpfs must be the same version"
        )
    return path


def first_row(result: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a query's answer, the answer read to its end. From DuckDB 2.0 a result streams and holds its
    connection until its last row is read: a `fetchone()` left there would fail the connection's next `register`."""
    rows = result.fetchall()
    return rows[0] if rows else None


class _Absent(importlib.abc.MetaPathFinder):
    """Says at once that a module known to be missing is missing."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == self.name:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def _answer_pandas_probes_at_once() -> None:
    """DuckDB tries to import pandas twice for every parameter it binds. pandas is not installed, and each failed
    try walks sys.path under the import lock: about 0.1 ms each, 28 tries for an API summary, thousands in a build."""
    if any(isinstance(f, _Absent) for f in sys.meta_path):
        return  # already answered (asking find_spec again would now raise)
    if importlib.util.find_spec("pandas") is None:
        sys.meta_path.insert(0, _Absent("pandas"))


def open_duckdb(
    settings: Settings, lake: Lake | None = None, *, database: str = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A connection with sane limits; with an S3 lake, httpfs loaded and credentials configured.

    Nothing is downloaded: automatic extension install/load is off and httpfs is loaded by path.
    """
    _answer_pandas_probes_at_once()
    make_folder("ROSETTA_DUCKDB_TEMP_DIRECTORY", settings.duckdb_temp_directory)
    con = duckdb.connect(
        database,
        config={
            "threads": settings.duckdb_threads,
            "memory_limit": settings.duckdb_memory_limit,
            "temp_directory": str(settings.duckdb_temp_directory),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # Lambda's filesystem is read-only except /tmp.
            "home_directory": str(settings.duckdb_temp_directory),
        },
    )
    # Every instant in the lake is UTC; date_trunc and casts to date must not follow the machine's zone. Global: each
    # cursor of the connection is a session of its own, which starts in the database's zone, else in the machine's.
    con.execute("set global TimeZone = 'UTC'")
    if lake is not None and isinstance(lake.store, S3Store):
        _configure_s3(con, settings, lake.store)
    return con


def utc_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con`, a connection open_duckdb made, in UTC: a cursor is a session of its own, and starts in the
    zone open_duckdb set for the whole database (setting it again took 0.15 ms, a twentieth of an API request)."""
    return con.cursor()


def store_wait_s(settings: Settings) -> int:
    """The longest httpfs waits for the store on one try, in whole seconds (its only unit): the lake client's timeouts,
    so that ROSETTA_S3_CONNECT_TIMEOUT_S and ROSETTA_S3_READ_TIMEOUT_S bound DuckDB's reads of the lake as well."""
    return math.ceil(max(settings.s3_connect_timeout_s, settings.s3_read_timeout_s))


def longest_store_read_s(settings: Settings) -> float:
    """How long one DuckDB query can be held by a store that takes its request and never answers: every try waits out
    its timeout. A query is not interrupted while httpfs waits, so this is what a stop before Lambda's timeout must
    leave room for (functions/build_aggregates)."""
    return (STORE_READ_RETRIES + 1) * store_wait_s(settings) + STORE_RETRY_WAITS_S


def _configure_s3(con: duckdb.DuckDBPyConnection, settings: Settings, store: S3Store) -> None:
    con.execute(f"LOAD {sql_literal(str(httpfs_extension_path()))}")
    # httpfs's own timeout is 30 s a try, four tries: a silent store would hold a query two minutes. Global: the
    # build's background writes read the lake on cursors, each a session of its own.
    con.execute("set global http_timeout = $seconds", {"seconds": store_wait_s(settings)})
    con.execute("set global http_retries = $retries", {"retries": STORE_READ_RETRIES})
    credentials = store.session.get_credentials()
    if credentials is None:
        raise LakeAccessError(
            "no S3 credentials found: set ROSETTA_S3_ACCESS_KEY_ID/ROSETTA_S3_SECRET_ACCESS_KEY "
            "or the usual AWS variables/profile"
        )
    frozen = credentials.get_frozen_credentials()
    params: dict[str, object] = {
        "key_id": frozen.access_key,
        "secret": frozen.secret_key,
        "session_token": frozen.token or "",
        "region": settings.s3_region,
        "url_style": settings.url_style,
        "scope": f"s3://{store.bucket}",
    }
    options = (
        "KEY_ID $key_id, SECRET $secret, SESSION_TOKEN $session_token, "
        "REGION $region, URL_STYLE $url_style, SCOPE $scope"
    )
    if settings.s3_endpoint_url:
        endpoint = urlparse(settings.s3_endpoint_url)
        if not endpoint.hostname:
            raise LakeConfigError(
                f"ROSETTA_S3_ENDPOINT_URL {without_credentials(settings.s3_endpoint_url)!r} "
                "is not a URL like http://host:port"
            )
        # Host and port alone: a user and password written in the URL are not the S3 keys (the lake's client
        # ignores them too), and in front of the host DuckDB would ask a server of that name.
        params["endpoint"] = urlparse(without_credentials(settings.s3_endpoint_url)).netloc
        params["use_ssl"] = endpoint.scheme == "https"
        options += ", ENDPOINT $endpoint, USE_SSL $use_ssl"
    con.execute(f"CREATE OR REPLACE SECRET rosetta_lake (TYPE s3, {options})", params)


def tune_for_build(con: duckdb.DuckDBPyConnection) -> None:
    """The settings a build runs its SQL with."""
    # The same day files are read by several steps.
    con.execute("set parquet_metadata_cache = true")
    # An in-memory database still checkpoints (compressing its tables) once enough has changed: a 1.2 s pause in
    # a full build, 0.5 s in an hourly one, for tables that live one run.
    con.execute("set checkpoint_threshold = '100GB'")
