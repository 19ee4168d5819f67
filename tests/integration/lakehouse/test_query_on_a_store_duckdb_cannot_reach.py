"""`query` on an S3 lake DuckDB cannot reach, though the S3 client can: virtual-hosted addressing on an IP endpoint,
which botocore turns to path style and DuckDB does not (it looks for rosetta-test.127.0.0.1). The views failed to be
made with a Python traceback and exit code 1, which the README keeps for a failed ingestion; it is now one `error:`
line and exit code 2, as for a failing query."""

from __future__ import annotations

import pytest

from lakehouse.cli import main
from lakehouse.local_s3 import S3Endpoint
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake


def test_views_duckdb_cannot_make_are_one_error_line(
    s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in s3_endpoint.environment("query-vhost").items():
        monkeypatch.setenv(name, value)
    lake = Lake.from_settings(Settings())
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application"}], actor="test", replace=True)
    monkeypatch.setenv("ROSETTA_S3_URL_STYLE", "vhost")
    code = main(["query", "select 1"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("error: the lake's views could not be made: ") and "Traceback" not in err
    assert s3_endpoint.secret_access_key not in err
