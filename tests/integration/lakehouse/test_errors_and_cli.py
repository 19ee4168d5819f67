"""What a user sees when the lake is misconfigured: one line naming what to fix, exit code 2, no traceback."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from functions.api.settings import ApiSettings
from lakehouse.cli import main
from lakehouse.duckdb_session import httpfs_extension_path, open_duckdb
from lakehouse.errors import LakeAccessError, LakeConfigError, RosettaError, SettingsError
from lakehouse.ingest.config import IngestSettings
from lakehouse.local_s3 import S3Endpoint
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, deployment, rows, write_estate


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def imported(capsys: pytest.CaptureFixture[str], lake: str, path: Path, text: str) -> None:
    """A mapping file written and imported, as a platform engineer does before the case under test."""
    path.write_text(text, encoding="utf-8")
    assert run_cli(capsys, "--lake-url", lake, "mappings", "import", str(path))[0] == 0


@pytest.fixture
def s3_env(s3_endpoint: S3Endpoint, monkeypatch: pytest.MonkeyPatch) -> S3Endpoint:
    for name, value in s3_endpoint.environment("cli").items():
        monkeypatch.setenv(name, value)
    return s3_endpoint


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/lake", "lake URL 'ftp://host/lake' has scheme 'ftp': use s3://bucket/prefix or a folder"),
        ("s3:///no-bucket", "lake URL 's3:///no-bucket' has no valid bucket name: use s3://bucket/prefix"),
        ("s3://Bad_Bucket/x", "lake URL 's3://Bad_Bucket/x' has no valid bucket name: use s3://bucket/prefix"),
    ],
)
def test_bad_lake_url(capsys: pytest.CaptureFixture[str], url: str, message: str) -> None:
    code, _, err = run_cli(capsys, "--lake-url", url, "check")
    assert (code, err) == (2, f"error: {message}\n")


def test_missing_bucket(capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint) -> None:
    code, _, err = run_cli(capsys, "--lake-url", "s3://no-such-bucket/lake", "check")
    assert code == 2
    assert err == (
        f"error: bucket 'no-such-bucket' does not exist at s3://no-such-bucket at {s3_env.endpoint_url}: "
        "create it or fix ROSETTA_LAKE_URL\n"
    )


@pytest.mark.parametrize("which", ["ROSETTA_S3_SECRET_ACCESS_KEY", "ROSETTA_S3_ACCESS_KEY_ID"])
def test_wrong_credentials(
    capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint, monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    monkeypatch.setenv(which, "wrong-value-123")
    code, _, err = run_cli(capsys, "check")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: S3 credentials were rejected by s3://{s3_env.bucket} at {s3_env.endpoint_url}")
    assert "wrong-value-123" not in err and s3_env.secret_access_key not in err


def test_unreachable_endpoint(
    capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSETTA_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    code, _, err = run_cli(capsys, "check")
    assert code == 2 and err.count("\n") == 1
    assert "cannot connect to the S3 endpoint" in err and "ROSETTA_S3_ENDPOINT_URL" in err


@pytest.mark.parametrize("operation", ["get", "put", "list", "delete"])
def test_every_operation_on_an_unreachable_endpoint_names_it(
    s3_endpoint: S3Endpoint, tmp_path: Path, operation: str
) -> None:
    """Removing an emptied day is an S3 request like any other: a dead endpoint is named, never a botocore trace."""
    settings = s3_endpoint.settings("lake", s3_endpoint_url="http://127.0.0.1:9", duckdb_temp_directory=tmp_path)
    store = Lake.from_settings(settings).store
    calls = {
        "get": lambda: store.get("runs/x.json"),
        "put": lambda: store.put("runs/x.json", b"{}"),
        "list": lambda: store.list("runs/"),
        "delete": lambda: store.delete("runs/x.json"),
    }
    with pytest.raises(LakeAccessError) as error:
        calls[operation]()
    assert str(error.value) == (
        f"cannot connect to the S3 endpoint for s3://{s3_endpoint.bucket} at http://127.0.0.1:9: "
        "check ROSETTA_S3_ENDPOINT_URL"
    )
    assert s3_endpoint.secret_access_key not in str(error.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "s3://viewer:pass-123@rosetta-lake/x",
            "lake URL 's3://rosetta-lake/x' has a user or password before its bucket name: give S3 keys in "
            "ROSETTA_S3_ACCESS_KEY_ID and ROSETTA_S3_SECRET_ACCESS_KEY, never in the URL",
        ),
        (
            "gs://viewer:pass-123@rosetta-lake/x",
            "lake URL 'gs://rosetta-lake/x' has scheme 'gs': use s3://bucket/prefix or a folder",
        ),
    ],
)
def test_a_lake_url_s_user_and_password_are_never_quoted(
    capsys: pytest.CaptureFixture[str], url: str, message: str
) -> None:
    """The error quotes the lake URL without the viewer:pass-123@ written into it."""
    code, _, err = run_cli(capsys, "--lake-url", url, "check")
    assert (code, err) == (2, f"error: {message}\n")


def test_the_demo_names_its_lake_without_the_user_and_password_written_into_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The demo's first line quoted --lake-url as given, viewer:pass-123@ included, just above the error that
    refuses the URL for holding them; it names the lake as that error does."""
    url = "s3://viewer:pass-123@rosetta-lake/x"
    code, out, err = run_cli(capsys, "--lake-url", url, "demo", "--no-serve")
    assert (code, out) == (2, "[1/6] lake at s3://rosetta-lake/x\n")
    assert "pass-123" not in out + err
    assert "pass-123" not in err


def test_an_endpoint_url_s_user_and_password_are_never_quoted(
    capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ROSETTA_S3_ENDPOINT_URL with viewer:pass-123@ in it: refused as no http URL, unreachable on a closed port, or
    reached on a port whose server hangs up (botocore then names the whole request URL), the password is nowhere in
    the error."""
    monkeypatch.setenv("ROSETTA_S3_ENDPOINT_URL", "ftp://viewer:pass-123@127.0.0.1:9000")
    code, _, err = run_cli(capsys, "check")
    assert (code, err) == (
        2,
        "error: ROSETTA_S3_ENDPOINT_URL 'ftp://127.0.0.1:9000' is not a URL like http://host:port\n",
    )
    monkeypatch.setenv("ROSETTA_S3_ENDPOINT_URL", "http://viewer:pass-123@127.0.0.1:9")
    code, _, err = run_cli(capsys, "check")
    assert (code, err) == (
        2,
        f"error: cannot connect to the S3 endpoint for s3://{s3_env.bucket} at http://127.0.0.1:9: "
        "check ROSETTA_S3_ENDPOINT_URL\n",
    )
    with hanging_up_server() as port:
        monkeypatch.setenv("ROSETTA_S3_ENDPOINT_URL", f"http://viewer:pass-123@127.0.0.1:{port}")
        code, _, err = run_cli(capsys, "check")
    assert code == 2 and err.startswith(f"error: S3 request to s3://{s3_env.bucket} at http://127.0.0.1:{port} failed")
    assert "pass-123" not in err and "viewer" not in err
    # DuckDB's S3 secret is made from the same setting.
    lake = Lake.from_settings(s3_env.settings("cli"))
    bad = s3_env.settings("cli", s3_endpoint_url="http://viewer:pass-123@", duckdb_temp_directory=tmp_path)
    with pytest.raises(LakeConfigError) as error:
        open_duckdb(bad, lake)
    assert str(error.value) == "ROSETTA_S3_ENDPOINT_URL 'http://' is not a URL like http://host:port"


@contextlib.contextmanager
def hanging_up_server() -> Iterator[int]:
    """A port on loopback whose server reads each request and closes the connection without answering."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        server.close()


def test_check_succeeds_on_a_good_lake(capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint) -> None:
    code, out, _ = run_cli(capsys, "check")
    assert code == 0 and out == f"ok: s3://{s3_env.bucket}/cli is reachable and writable\n"


def test_mapping_import_reports_every_problem_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- {entity_id: pay, kind: application}\n"
        "- {entity_id: Pay-API, kind: component}\n"
        "- {entity_id: db, kind: component, application_id: pay, argocd: db-prod}\n",
        encoding="utf-8",
    )
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(bad))
    assert code == 2
    assert err.splitlines() == [
        "error: 2 mapping problem(s), nothing written:",
        "  - entry 2 (Pay-API): entity_id: String should match pattern '^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$'",
        "  - entry 3 (db): argocd: unknown key",
    ]
    assert run_cli(capsys, "--lake-url", lake, "mappings", "history")[1] == ""


def test_mapping_import_and_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    example = Path(__file__).resolve().parents[3] / "lakehouse" / "examples" / "mappings.yaml"
    code, out, _ = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(example), "--actor", "ops")
    assert (code, out) == (0, "mapping version 1: 4 entries, by ops\n")
    code, out, _ = run_cli(capsys, "--lake-url", lake, "mappings", "list")
    assert code == 0 and len(out.splitlines()) == 4 and '"argocd_app_name": "payments-api-staging"' in out


def test_importing_the_same_file_again_changes_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The example file imported twice, as a pipeline that imports its catalog on every run does: the second import
    writes no version 2 (which would make the next build a full one) and says the mapping is unchanged."""
    lake = str(tmp_path / "lake")
    example = Path(__file__).resolve().parents[3] / "lakehouse" / "examples" / "mappings.yaml"
    run_cli(capsys, "--lake-url", lake, "mappings", "import", str(example), "--actor", "ops")
    code, out, _ = run_cli(capsys, "--lake-url", lake, "mappings", "validate", str(example))
    assert (code, out) == (
        0,
        "4 valid entries: importing this file would change nothing (mapping version 1 stays)\n",
    )
    code, out, _ = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(example), "--actor", "pipeline")
    assert (code, out) == (0, "mapping unchanged: version 1 kept, 4 entries\n")
    assert len(run_cli(capsys, "--lake-url", lake, "mappings", "history")[1].splitlines()) == 1


def test_views_of_a_lake_that_holds_nothing_say_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`views` pointed at a lake nothing was ingested into (the default folder after the demo ran on its embedded
    store, which is gone) printed a script of empty views and said nothing, so every query of the analyst answered
    no rows. It still prints the script, and says on stderr that the lake has no mapping, which every ingestion needs
    first; once one is imported it says nothing."""
    lake = str(tmp_path / "lake")
    Path(lake).mkdir()
    code, out, err = run_cli(capsys, "--lake-url", lake, "views")
    assert code == 0 and "create or replace view raw_servicenow_incidents as" in out
    nothing = "has no mapping, so nothing was ingested there: every view is empty"
    assert err == f"warning: {Path(lake).resolve()} {nothing}\n"
    imported(capsys, lake, tmp_path / "apps.yaml", "- {entity_id: pay, kind: application}\n")
    code, out, err = run_cli(capsys, "--lake-url", lake, "views")
    assert (code, err) == (0, "") and "create or replace view ref_mappings as" in out


def test_mapping_import_upserts_into_the_current_mapping(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An admin adds a component of an application already mapped, as through the API: the file is checked merged
    with the current mapping, not alone; with --replace the file alone becomes the mapping, so it is refused."""
    lake = str(tmp_path / "lake")
    imported(capsys, lake, tmp_path / "apps.yaml", "- {entity_id: pay, kind: application}\n")
    more = tmp_path / "components.yaml"
    more.write_text("- {entity_id: pay-api, kind: component, application_id: pay}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(more))
    assert (code, err) == (0, ""), err
    assert out.startswith("mapping version 2: 2 entries")
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(more), "--replace")
    assert code == 2 and "application_id 'pay' is not a known application" in err


def test_mapping_validate_answers_whether_import_would_succeed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The lake maps pay and its pay-api (ArgoCD's pay-api-prod), version 1. clash.yaml maps pay and a pay-web that
    also claims pay-api-prod: alone it is fine, and validate said so, yet its import is refused. more.yaml adds
    pay-db to pay: alone its application is unknown, and validate refused what imports. Validate now checks the file
    merged with the stored mapping, as import does: clash.yaml gets import's very problem, more.yaml passes and
    would make version 2 of 3 entries (pay, pay-api stored + pay-db), and with --replace (the file alone becomes
    the mapping) more.yaml is refused as its import would be. Validating writes nothing: the history keeps one
    version until more.yaml is imported as version 2 of 3 entries."""
    lake = str(tmp_path / "lake")
    imported(
        capsys,
        lake,
        tmp_path / "stored.yaml",
        "- {entity_id: pay, kind: application}\n"
        "- {entity_id: pay-api, kind: component, application_id: pay, argocd_app_name: pay-api-prod}\n",
    )
    clash = tmp_path / "clash.yaml"
    clash.write_text(
        "- {entity_id: pay, kind: application}\n"
        "- {entity_id: pay-web, kind: component, application_id: pay, argocd_app_name: pay-api-prod}\n",
        encoding="utf-8",
    )
    problem = "pay-web [production]: argocd_app_name 'pay-api-prod' is already mapped to pay-api"
    code, out, err = run_cli(capsys, "--lake-url", lake, "mappings", "validate", str(clash))
    assert (code, err, out) == (2, f"  - {problem}\n", "1 problem(s): importing this file would write nothing\n")
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(clash))
    assert (code, err.splitlines()[1:]) == (2, [f"  - {problem}"])

    more = tmp_path / "more.yaml"
    more.write_text(
        "- {entity_id: pay-db, kind: component, application_id: pay, argocd_app_name: pay-db-prod}\n", encoding="utf-8"
    )
    code, out, err = run_cli(capsys, "--lake-url", lake, "mappings", "validate", str(more))
    assert (code, err, out) == (
        0,
        "",
        "1 valid entry: importing this file would write mapping version 2 of 3 entries\n",
    )
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "validate", str(more), "--replace")
    assert (code, err) == (2, "  - pay-db [production]: application_id 'pay' is not a known application\n")
    assert len(run_cli(capsys, "--lake-url", lake, "mappings", "history")[1].splitlines()) == 1
    code, out, _ = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(more))
    assert (code, out.split(",")[0]) == (0, "mapping version 2: 3 entries")


def test_a_file_without_entries_is_refused_by_import(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A catalog-info.yaml that only points at other files (a Location) holds no System or Component. Imported, it
    wrote a version 2 the same as version 1, and with --replace it emptied the mapping; the API refuses such an
    empty change. It is refused here too: the history keeps version 1 alone."""
    lake = str(tmp_path / "lake")
    imported(capsys, lake, tmp_path / "apps.yaml", "- {entity_id: pay, kind: application}\n")
    location = tmp_path / "catalog-info.yaml"
    location.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: estate}\n"
        "spec: {targets: [./payments/catalog-info.yaml]}\n",
        encoding="utf-8",
    )
    for extra in ([], ["--replace"]):
        code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(location), *extra)
        assert code == 2 and "no entries" in err
    _, history, _ = run_cli(capsys, "--lake-url", lake, "mappings", "history")
    assert len(history.splitlines()) == 1


def test_a_catalog_entity_without_spec_or_name_is_named_in_the_refusal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A catalog of three entities: the System checkout with `spec:` left empty (null), a Component without
    metadata.name, and a well-formed Component. Imported, it stopped on a Python traceback; now the file is refused
    as a whole, as a file with a malformed entry is, with one line per bad entity naming its position and kind, and
    nothing is written (the history stays empty). Validating it names the same two problems."""
    lake = str(tmp_path / "lake")
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(
        "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: checkout}\nspec:\n"
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {title: Checkout API}\n"
        "spec: {owner: payments-team, system: checkout}\n"
        "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: checkout-web}\n"
        "spec: {owner: payments-team, system: checkout}\n",
        encoding="utf-8",
    )
    problems = [
        "  - document 1 (System checkout): spec is empty: expected the entity's fields",
        "  - document 2 (Component): metadata.name is missing",
    ]
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "import", str(catalog))
    assert code == 2
    assert err.splitlines() == ["error: 2 mapping problem(s), nothing written:", *problems]
    assert run_cli(capsys, "--lake-url", lake, "mappings", "history")[1] == ""
    code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", "validate", str(catalog))
    assert (code, err.splitlines()) == (2, problems)


def test_httpfs_loads_from_the_installed_wheel_without_network(s3_endpoint: S3Endpoint, tmp_path: Path) -> None:
    settings = s3_endpoint.settings("duck", duckdb_temp_directory=tmp_path / "duckdb")
    con = open_duckdb(settings, Lake.from_settings(settings))
    loaded = con.execute(
        "select loaded, install_path from duckdb_extensions() where extension_name = 'httpfs'"
    ).fetchone()
    assert loaded is not None and loaded[0] is True
    assert con.execute("select current_setting('autoinstall_known_extensions')").fetchone() == (False,)
    assert httpfs_extension_path().is_file()
    # Nothing was installed into DuckDB's own extension folder (which is where a download would go).
    assert not list((tmp_path / "duckdb").rglob("*.duckdb_extension"))
    secrets = con.execute("select name, scope from duckdb_secrets()").fetchall()
    assert secrets == [("rosetta_lake", [f"s3://{s3_endpoint.bucket}"])]


def test_endpoint_without_scheme_is_explained(s3_endpoint: S3Endpoint, tmp_path: Path) -> None:
    settings = s3_endpoint.settings("x", s3_endpoint_url="localhost", duckdb_temp_directory=tmp_path)
    with pytest.raises((LakeConfigError, LakeAccessError), match="ROSETTA_S3_ENDPOINT_URL"):
        lake = Lake.from_settings(settings)
        lake.check()
        open_duckdb(settings, lake)


def test_an_empty_s3_endpoint_is_aws_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ROSETTA_S3_ENDPOINT_URL=` (a line left empty in .env) reached botocore as "", a ValueError traceback."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", "s3://rosetta-lake/prod")
    monkeypatch.setenv("ROSETTA_S3_ENDPOINT_URL", "")
    settings = Settings()
    lake = Lake.from_settings(settings)
    assert lake.url == "s3://rosetta-lake/prod"
    assert (settings.s3_endpoint_url, settings.url_style) == (None, "vhost")


@pytest.mark.parametrize("region", ["eu west 1", " eu-west-1", "-eu-west-1"])
def test_an_s3_region_botocore_refuses_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, region: str
) -> None:
    """botocore refuses the name when the client is made: every command on an s3:// lake ended in its
    InvalidRegionError traceback."""
    monkeypatch.setenv("ROSETTA_LAKE_URL", "s3://rosetta-lake/prod")
    monkeypatch.setenv("ROSETTA_S3_REGION", region)
    code, out, err = run_cli(capsys, "runs")
    assert (code, out) == (2, "")
    assert err == (
        "error: ROSETTA_S3_REGION is not a region name: give one like eu-west-1 (letters, digits and inner dashes)\n"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ROSETTA_DUCKDB_THREADS", "two", "ROSETTA_DUCKDB_THREADS: Input should be a valid integer"),
        ("ROSETTA_S3_URL_STYLE", "virtual", "ROSETTA_S3_URL_STYLE: Input should be 'path' or 'vhost'"),
        ("ROSETTA_S3_CONDITIONAL_WRITES", "maybe", "ROSETTA_S3_CONDITIONAL_WRITES: Input should be a valid boolean"),
        ("ROSETTA_DUCKDB_MEMORY_LIMIT", "lots", "ROSETTA_DUCKDB_MEMORY_LIMIT: Value error, give a size DuckDB reads"),
        ("ROSETTA_DUCKDB_MEMORY_LIMIT", "2XB", "ROSETTA_DUCKDB_MEMORY_LIMIT: Value error, give a size DuckDB reads"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """A value that cannot be read fails at start-up with one line naming the variable as it is set, not the
    field behind it, and without a traceback."""
    monkeypatch.setenv(variable, value)
    code, _, err = run_cli(capsys, "runs")
    assert code == 2
    assert err.startswith(f"error: {message}")
    assert len(err.strip().splitlines()) == 1


def test_ingest_with_a_token_pasted_with_a_non_breaking_space_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """It ended in a UnicodeEncodeError traceback from the HTTP client, quoting the character."""
    monkeypatch.setenv("ROSETTA_GITLAB_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ROSETTA_GITLAB_TOKEN", "glpat-Zq8sec7Tok3n\u00a0")
    (tmp_path / "lake").mkdir()
    code, out, err = run_cli(capsys, "--lake-url", str(tmp_path / "lake"), "ingest", "deploys")
    assert (code, out) == (2, "")
    # "glpat-Zq8sec7Tok3n" is 18 characters: the space is the 19th.
    assert err.startswith("error: ROSETTA_GITLAB_TOKEN: Value error, character 19 is not ASCII")
    assert len(err.strip().splitlines()) == 1 and "Zq8sec" not in err


def test_api_keys_that_are_not_json_are_named_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`openapi` (and `serve`) build the API's settings: a traceback of pydantic-settings ended them."""
    monkeypatch.setenv("ROSETTA_API_API_KEYS", '[{"name": "backstage", "sha256": "5e88')
    code, out, err = run_cli(capsys, "openapi")
    assert (code, out) == (2, "")
    # The digest's string never ends; before it: "[{" 2 + '"name": ' 8 + '"backstage", ' 13 + '"sha256": ' 10 = 33.
    why = "Unterminated string starting at: line 1 column 34 (char 33)"
    assert err == f"error: ROSETTA_API_API_KEYS: not valid JSON ({why})\n"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Settings(),
        lambda: IngestSettings(),
        lambda: ApiSettings(),
    ],
)
def test_a_bad_setting_never_quotes_a_value(monkeypatch: pytest.MonkeyPatch, build: Callable[[], object]) -> None:
    """A secret pasted into the wrong variable (here a token where a number belongs) stops the process with the
    variable's name; the value itself is never in the message the runtime logs."""
    token = "glpat-Zq8sec7Tok3n"
    for variable in ("ROSETTA_DUCKDB_THREADS", "ROSETTA_HTTP_TIMEOUT_S", "ROSETTA_API_LIVE_TIMEOUT_S"):
        monkeypatch.setenv(variable, token)
    with pytest.raises(SettingsError) as err:
        build()
    assert "ROSETTA_" in str(err.value)
    assert "Zq8sec" not in str(err.value)


def test_secrets_stay_out_of_settings_repr(s3_endpoint: S3Endpoint) -> None:
    settings: Settings = s3_endpoint.settings("x")
    assert s3_endpoint.secret_access_key not in repr(settings) and s3_endpoint.secret_access_key not in str(settings)


def test_build_reports_what_it_wrote_and_its_slowest_steps(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSETTA_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "duckdb"))
    url = str(tmp_path / "lake")
    lake = Lake.from_settings(Settings(lake_url=url))
    write_estate(lake)
    code, out, err = run_cli(capsys, "--lake-url", url, "build", "--mode", "full", "--as-of", AS_OF.isoformat())
    assert (code, err) == (0, "")
    summary, because, slowest = out.splitlines()
    assert because == "every day rebuilt: no build before"
    objects = len(lake.list_keys("mart/"))
    assert summary.startswith("full build as of 2026-11-20T10:00:00+00:00: days 2026-11-01 to 2026-11-20, ")
    assert f", {objects} mart objects written, run " in summary
    steps = slowest.removeprefix("slowest steps: ").split(", ")
    assert len(steps) == 5 and all(step.endswith(" s") for step in steps)

    # An hourly build says what it kept from the full one: every settled part, the carried links and deployment rows,
    # empty in an estate whose events all come after the cut (16 Oct). A deployment backfilled on 1 Sep, before the cut,
    # leaves it none to keep.
    hourly = ("--lake-url", url, "build", "--mode", "hourly", "--as-of", (AS_OF + timedelta(hours=1)).isoformat())
    code, out, err = run_cli(capsys, *hourly)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "kept from earlier builds: stg_deployments 0 rows, stg_merge_requests 0 rows, stg_change_deployments 0 rows, "
        "mv_incident_links 0 rows, mv_deployments 0 rows, mv_lead_times 0 rows, mv_changes 0 rows"
    )
    backfilled = deployment("gitlab:801", "gitlab", "12", datetime(2026, 9, 1, 12, tzinfo=UTC), "succeeded", "b1")
    lake.write_days(get_dataset("deploys/deployment_events"), rows("deploys/deployment_events", backfilled))
    code, out, err = run_cli(capsys, *hourly[:-1], (AS_OF + timedelta(hours=2)).isoformat())
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "kept from earlier builds: nothing, every event table computed whole"


@pytest.mark.parametrize("command", ["import", "validate"])
def test_a_mapping_file_that_cannot_be_read_is_a_problem_not_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    """A misspelt path, a folder, a file in another encoding and broken YAML each give one problem naming the file,
    exit 2, and write nothing."""
    lake = str(tmp_path / "lake")
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("- {entity_id: caf\xe9, kind: application}\n".encode("latin-1"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("- {entity_id: pay, kind: application\n", encoding="utf-8")
    cases = {
        tmp_path / "missing.yaml": "cannot be read: No such file or directory",
        tmp_path: "cannot be read: Is a directory",
        latin1: "is not UTF-8 text (byte 0xe9 at position 17)",
        broken: "is not valid YAML (line 2, column 1): expected ',' or '}', but got '<stream end>'",
    }
    for path, reason in cases.items():
        code, _, err = run_cli(capsys, "--lake-url", lake, "mappings", command, str(path))
        assert code == 2
        assert f"  - {path}: {reason}\n" in err
        assert "Traceback" not in err
    assert run_cli(capsys, "--lake-url", lake, "mappings", "history")[1] == ""


def build_refused_at(tmp_path: Path, as_of: str) -> Lake:
    """`build --as-of <as_of>` on a lake holding the estate, refused with the arguments (exit code 2); the lake."""
    url = str(tmp_path / "lake")
    lake = Lake.from_settings(Settings(lake_url=url))
    write_estate(lake)
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", url, "build", "--as-of", as_of])
    assert stopped.value.code == 2
    return lake


@pytest.mark.parametrize(
    ("as_of", "reason"),
    [("yesterday", "is not an ISO 8601 instant"), ("2026-13-01T00:00:00+00:00", "month must be in 1..12")],
)
def test_build_names_an_as_of_it_cannot_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, as_of: str, reason: str
) -> None:
    """An --as-of that is no instant, or no date at all (month 13), is named in one line with an example, with the
    arguments; the build does not start, so the lake keeps no mart and no run record."""
    lake = build_refused_at(tmp_path, as_of)
    out, err = capsys.readouterr()
    assert (out, err.splitlines()[-1]) == (
        "",
        f"rosetta-monitoring build: error: argument --as-of: {as_of!r} {reason}: give e.g. 2026-11-20T10:00:00+00:00",
    )
    assert lake.list_keys("mart/") == [] and lake.list_keys("runs/") == []


@pytest.mark.parametrize("as_of", ["9999-12-31T23:00:00+00:00", "0001-01-10T00:00:00+00:00"])
def test_build_refuses_an_as_of_whose_periods_no_calendar_holds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, as_of: str
) -> None:
    """An --as-of at the calendar's end (its month ends in the year 10000) or its start (the hourly lookback reaches
    before the year 1) ended in a ValueError or OverflowError traceback after the build had started. It is refused
    with the arguments, in one line: the lake keeps no mart and no run record."""
    lake = build_refused_at(tmp_path, as_of)
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"rosetta-monitoring build: error: argument --as-of: {as_of} leaves no room for the build's periods around "
        "it: give an instant from the year 2 to 9998, e.g. 2026-11-20T10:00:00+00:00"
    )
    assert "Traceback" not in err
    assert lake.list_keys("mart/") == [] and lake.list_keys("runs/") == []


@pytest.mark.parametrize(
    ("command", "option"),
    [(["scheduler", "--minutes"], "--minutes"), (["demo", "--schedule-minutes"], "--schedule-minutes")],
)
@pytest.mark.parametrize("minutes", ["1000000000000", "inf"])
def test_a_scheduler_period_longer_than_a_year_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], option: str, minutes: str
) -> None:
    """A period of 10**12 minutes ended, once the first wait began (for the demo after its whole pipeline), in an
    OverflowError traceback: no clock holds that wait. A period longer than a year, which would never fire while the
    process lives, is refused with the arguments."""
    lake = tmp_path / "lake"
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", str(lake), *command, minutes])
    assert stopped.value.code == 2
    refusal = capsys.readouterr().err.splitlines()[-1]
    assert f"argument {option}: {minutes} is not a number of minutes " in refusal
    assert refusal.endswith(", up to a year (525600)")
    assert not lake.exists()


def test_a_lake_folder_that_cannot_be_made_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A lake URL whose parent is a file (a typo in the path) cannot become a folder: one line naming it and why,
    exit 2, not a traceback."""
    (tmp_path / "notes.txt").write_text("not a folder", encoding="utf-8")
    url = tmp_path / "notes.txt" / "lake"
    code, _, err = run_cli(capsys, "--lake-url", str(url), "check")
    assert (code, err) == (2, f"error: lake folder '{url}' cannot be made: Not a directory; fix ROSETTA_LAKE_URL\n")


@pytest.mark.parametrize("source", ["gitlab", "elasticsearch", "nosuch"])
def test_scheduler_refuses_a_source_it_does_not_schedule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, source: str
) -> None:
    """The scheduler fires the four ingestion functions: dynatrace, servicenow, deploys (ArgoCD and GitLab) and logs
    (Elasticsearch). Another name (an `ingest` source, a typo) was taken, and every round failed on it forever; it is
    refused at once, naming the four."""
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", str(tmp_path / "lake"), "scheduler", "--source", source, "--now"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --source: invalid choice: '{source}'" in err
    assert "'dynatrace', 'servicenow', 'deploys', 'logs'" in err


def test_the_scheduler_choices_are_the_functions_it_fires() -> None:
    from lakehouse.cli import SCHEDULED_SOURCES
    from lakehouse.scheduler import INGESTION

    assert SCHEDULED_SOURCES == INGESTION


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--apps", "0", "0 is not a whole number of 1 or more"),
        ("--days", "-3", "-3 is not a whole number of 1 to 3660"),
        ("--days", "1000000", "1000000 is not a whole number of 1 to 3660"),  # an OverflowError, past the year 1
        ("--port", "99999", "99999 is not a port (0 to 65535)"),
    ],
)
def test_demo_refuses_an_estate_or_port_it_cannot_make(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str, reason: str
) -> None:
    """An estate of no applications or no days was a traceback from the estate generator, after the lake was set
    up; a port above 65535 was not even looked at without serving. Each is refused before anything starts: the lake
    stays unmade."""
    lake = tmp_path / "lake"
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", str(lake), "demo", "--no-serve", option, value])
    assert stopped.value.code == 2
    assert f"argument {option}: {reason}" in capsys.readouterr().err
    assert not lake.exists()


def test_local_s3_refuses_a_port_above_65535(capsys: pytest.CaptureFixture[str]) -> None:
    """The embedded store took port 99999 and listened on a free port of its choosing instead."""
    with pytest.raises(SystemExit) as stopped:
        main(["local-s3", "--port", "99999"])
    assert stopped.value.code == 2
    assert "argument --port: 99999 is not a port (0 to 65535)" in capsys.readouterr().err


@pytest.mark.parametrize("minutes", ["0", "-5"])
def test_scheduler_refuses_a_period_of_no_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, minutes: str
) -> None:
    """A period of 0 or fewer minutes ran round after round with no pause, calling every source as fast as it
    answered; it is refused before the first round."""
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", str(tmp_path / "lake"), "scheduler", "--minutes", minutes, "--source", "logs"])
    assert stopped.value.code == 2
    assert f"argument --minutes: {minutes} is not a number of minutes above 0" in capsys.readouterr().err


def test_demo_says_its_port_is_taken_before_building_anything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """With the API's port already taken, the demo ran its whole pipeline, then failed with a traceback from the
    socket. It now says so in one line, exit 2, before starting the simulators: the lake holds no mapping."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(capsys, "--lake-url", str(tmp_path / "lake"), "demo", "--port", str(port))
    assert code == 2
    assert err.endswith(
        f"error: cannot serve the API on 127.0.0.1:{port}: Address already in use; "
        "give another --port (0 picks a free one)\n"
    )
    assert Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))).list_keys("ref/") == []


def test_serve_says_its_port_is_taken_or_its_host_unknown_in_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """uvicorn logged a port already taken (or a host that is none) and exited 3, the code of an ingestion done in
    part, which a systemd unit told to take 3 for success (as the README advises) read as an API started. `serve`
    says it in one line and exits 2, as the demo does."""
    import socket

    lake = tmp_path / "lake"
    Lake.from_settings(Settings(lake_url=str(lake)))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(capsys, "--lake-url", str(lake), "serve", "--port", str(port))
    assert (code, err) == (
        2,
        f"error: cannot serve the API on 127.0.0.1:{port}: Address already in use; "
        "give another --port (0 picks a free one)\n",
    )
    code, _, err = run_cli(capsys, "--lake-url", str(lake), "serve", "--host", "256.1.1.1", "--port", "0")
    assert code == 2 and err.startswith("error: cannot serve the API on 256.1.1.1:0: ") and err.endswith("--host\n")


def test_duckdb_reaches_an_endpoint_written_with_a_user_and_password(s3_endpoint: S3Endpoint, tmp_path: Path) -> None:
    """An endpoint URL may carry a user and password (the keys come from their own settings): the lake's S3 client
    ignores them, and DuckDB must reach the same host and port. It was given them in front of the host and asked a
    server of that name: no bucket found. One incident written through the lake is read by DuckDB: 1 row."""
    url = s3_endpoint.endpoint_url.replace("://", "://viewer:pass-123@", 1)
    settings = s3_endpoint.settings("creds", s3_endpoint_url=url, duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    incidents = get_dataset("servicenow/incidents")
    row = {c.name: None for c in incidents.columns} | {
        "sys_id": "a" * 32,
        "number": "INC1",
        "state": 1,
        "opened_at": datetime(2026, 11, 2, 9, tzinfo=UTC),
        "sys_updated_on": datetime(2026, 11, 2, 9, tzinfo=UTC),
    }
    lake.write_days(incidents, pa.Table.from_pylist([row], schema=incidents.schema))
    con = open_duckdb(settings, lake)
    count = con.execute("select count(*) from read_parquet($urls)", {"urls": lake.partition_urls(incidents)}).fetchone()
    assert count == (1,)


@pytest.mark.parametrize(("option", "value"), [("--days", "-1"), ("--days", "0"), ("--limit", "0")])
def test_runs_refuses_a_count_that_lists_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str
) -> None:
    """`runs --days -1` or `--limit 0` printed nothing and exited 0, as if the run log were empty."""
    with pytest.raises(SystemExit) as stopped:
        main(["--lake-url", str(tmp_path / "lake"), "runs", option, value])
    assert stopped.value.code == 2
    assert f"argument {option}: {value} is not a whole number of 1 or more" in capsys.readouterr().err


def test_serve_refuses_a_port_above_65535(capsys: pytest.CaptureFixture[str]) -> None:
    """The API's server took any integer and failed only once uvicorn tried to bind it."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "99999"])
    assert stopped.value.code == 2
    assert "argument --port: 99999 is not a port (0 to 65535)" in capsys.readouterr().err


def test_demo_refuses_an_s3_endpoint_without_a_lake_url(capsys: pytest.CaptureFixture[str]) -> None:
    """`--s3-endpoint` alone was ignored: the demo ran on its embedded store while the user meant MinIO."""
    code, _, err = run_cli(capsys, "--s3-endpoint", "http://127.0.0.1:9", "demo", "--no-serve")
    assert code == 2
    assert "--s3-endpoint names the store of an s3:// --lake-url" in err


# The server's own thread ends with its error, as it would in the demo's console.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_demo_says_its_api_did_not_start_instead_of_ready() -> None:
    """A server that stops on start (here given a socket already closed) left the demo waiting 30 s and then
    printing READY for an API that was not there; the demo now says it did not start."""
    from lakehouse.demo import _serve_api

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.close()
    with pytest.raises(RosettaError, match="the API did not start"):
        _serve_api(sock)


def test_the_deployment_steps_import_a_mapping_before_the_schedules_run(
    capsys: pytest.CaptureFixture[str], s3_env: S3Endpoint
) -> None:
    """Without a mapping every scheduled ingestion and build fails ("no mapping: import one ..."), so the README's
    deployment steps import one into the deployed lake before turning the schedules on. Their command, given the lake
    URL Terraform outputs, imports the example file's 4 entries (payments; payments-api in production and in
    staging; ledger) into a lake on S3."""
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]
    commands = [c for c in re.findall(r"`(rosetta-monitoring [^`]*)`", section) if " mappings import " in c]
    assert len(commands) == 1, commands
    assert section.index(commands[0]) < section.index("`schedules_enabled = true`")
    lake = f"s3://{s3_env.bucket}/deployed-{uuid.uuid4().hex[:8]}"
    example = Path(__file__).resolve().parents[3] / "lakehouse" / "examples" / "mappings.yaml"
    given = {
        "$(terraform -chdir=infra/terraform output -raw lake_url)": lake,
        "catalog-info.yaml": str(example),
        "$USER": "ops",
    }
    words = [given.get(word, word) for word in shlex.split(commands[0])]
    assert words[0] == "rosetta-monitoring" and lake in words and str(example) in words
    code, out, err = run_cli(capsys, *words[1:])
    assert (code, err) == (0, "")
    assert out == "mapping version 1: 4 entries, by ops\n"


def test_a_listing_piped_into_a_reader_that_stopped_ends_without_a_traceback(tmp_path: Path) -> None:
    """`rosetta-monitoring mappings list | head -1`: once head has its line it stops reading, and the command's
    next write (or its last flush, at exit) failed with a BrokenPipeError traceback. The reader is gone before the
    command writes here (the pipe's read end is closed first): it ends quietly with 141, as a command the pipe's
    signal stopped does in a shell."""
    lake = str(tmp_path / "lake")
    mapping = tmp_path / "apps.yaml"
    mapping.write_text("- {entity_id: pay, kind: application}\n- {entity_id: shop, kind: application}\n")
    assert main(["--lake-url", lake, "mappings", "import", str(mapping)]) == 0
    read_end, write_end = os.pipe()
    os.close(read_end)
    root = Path(__file__).resolve().parents[3]
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "lakehouse.cli", "--lake-url", lake, "mappings", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            env=os.environ | {"PYTHONPATH": str(root)},
            check=False,
        )
    finally:
        os.close(write_end)
    assert (finished.returncode, finished.stderr) == (141, "")


# The command as `rosetta-monitoring` runs it, in a process where a native library's teardown at the C library's exit
# aborts, as Arrow's and DuckDB's thread pools did now and then on a loaded machine (`terminate called without an
# active exception`). And an exit hook, as the API's retiring of its replaced copies is one.
ABORTING_TEARDOWN = """
import atexit
import ctypes
import sys

libc = ctypes.CDLL(None)
libc.__cxa_atexit(ctypes.cast(libc.abort, ctypes.c_void_p), None, None)
atexit.register(lambda: print("exit hook ran", file=sys.stderr))
from lakehouse.cli import run

run()
"""


@pytest.mark.parametrize(
    ("lake_name", "code", "said"),
    [
        ("lake", 0, ""),
        ("no-lake", 2, "error: no lake at {lake}: the folder does not exist; check --lake-url or ROSETTA_LAKE_URL\n"),
    ],
)
def test_a_command_that_did_its_work_ends_with_its_own_code_whatever_the_native_teardown_at_exit(
    tmp_path: Path, lake_name: str, code: int, said: str
) -> None:
    """A CI run failed on `mappings list`: the command had written its lines, then the process aborted in the native
    teardown that follows Python's exit (exit -6; 134 in a shell), and a scheduler would record a good run failed. The
    command now leaves before that teardown, once its exit hooks have run and its output is written: its own exit
    code, every line, the hook's line, and no abort."""
    mapping = tmp_path / "apps.yaml"
    mapping.write_text("- {entity_id: pay, kind: application}\n- {entity_id: shop, kind: application}\n")
    assert main(["--lake-url", str(tmp_path / "lake"), "mappings", "import", str(mapping)]) == 0
    lake = str(tmp_path / lake_name)
    root = Path(__file__).resolve().parents[3]
    finished = subprocess.run(
        [sys.executable, "-c", ABORTING_TEARDOWN, "--lake-url", lake, "mappings", "list"],
        capture_output=True,
        text=True,
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        check=False,
    )
    listed = [] if code else ["pay", "shop"]
    assert finished.returncode == code
    assert [json.loads(line)["entity_id"] for line in finished.stdout.splitlines()] == listed
    assert finished.stderr == said.format(lake=lake) + "exit hook ran\n"


@pytest.mark.parametrize(
    "command",
    [
        ["runs"],
        ["views"],
        ["query", "select 1"],
        ["mappings", "list"],
        ["mappings", "history"],
        ["partitions", "servicenow/incidents"],
        # These write, but only into a lake that holds a mapping: a new folder never does.
        ["build"],
        ["ingest", "servicenow"],
        ["backfill", "servicenow", "--days", "2"],
    ],
)
def test_a_command_on_a_mistyped_lake_folder_says_there_is_no_lake(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    # A typo in --lake-url must not leave an empty lake folder behind, nor read as a lake with nothing in it.
    typo = tmp_path / "lakke"
    code, out, err = run_cli(capsys, "--lake-url", str(typo), *command)
    assert (code, out) == (2, "")
    assert err == f"error: no lake at {typo}: the folder does not exist; check --lake-url or ROSETTA_LAKE_URL\n"
    assert not typo.exists()


def test_the_scheduler_on_a_mistyped_lake_folder_says_there_is_no_lake(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started on a typo, `scheduler` made the folder and fired a round into it every period for as long as it ran,
    each run failing on "no mapping", which pointed at the mapping rather than at the path. It needs the lake's
    mapping as `ingest` and `build` do, and is refused as they are, before any round."""
    from lakehouse import scheduler

    rounds: list[object] = []
    monkeypatch.setattr(scheduler, "tick", lambda *args, **kwargs: rounds.append(args))
    monkeypatch.setattr(scheduler, "run_schedule", lambda *args, **kwargs: rounds.append(args))
    typo = tmp_path / "lakke"
    code, out, err = run_cli(capsys, "--lake-url", str(typo), "scheduler", "--now")
    assert (code, out) == (2, "")
    assert err == f"error: no lake at {typo}: the folder does not exist; check --lake-url or ROSETTA_LAKE_URL\n"
    assert not typo.exists() and rounds == []


def test_a_mapping_import_still_starts_a_lake_in_a_new_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lake = tmp_path / "new" / "lake"
    imported(capsys, str(lake), tmp_path / "apps.yaml", "- {entity_id: pay, kind: application}\n")
    code, out, _ = run_cli(capsys, "--lake-url", str(lake), "mappings", "list")
    assert code == 0 and out.startswith('{"entity_id": "pay"') and out.count("\n") == 1


def test_validating_a_mapping_file_makes_no_lake_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`mappings validate` only answers whether an import would succeed, yet on a folder that did not exist (a new
    lake, or a typo) it made the folder. It now makes nothing: it checks the file as the first version, as the import
    would, and says there is no lake there yet; a file it refuses is refused the same way."""
    lake = tmp_path / "new" / "lake"
    apps = tmp_path / "apps.yaml"
    apps.write_text("- {entity_id: pay, kind: application}\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "--lake-url", str(lake), "mappings", "validate", str(apps))
    assert (code, err) == (0, "")
    assert out == (
        "1 valid entry: importing this file would write mapping version 1 of 1 entries\n"
        f"no lake at {lake} yet: importing this file would start one there\n"
    )
    orphan = tmp_path / "orphan.yaml"
    orphan.write_text("- {entity_id: pay-api, kind: component, application_id: pay}\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "--lake-url", str(lake), "mappings", "validate", str(orphan))
    assert (code, err) == (2, "  - pay-api [production]: application_id 'pay' is not a known application\n")
    assert not (tmp_path / "new").exists()


def test_a_demo_of_another_estate_on_a_lake_folder_holding_one_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A second `demo --no-serve` on a lake folder holding an earlier demo of another --seed ended with seven
    `gitlab_project_id 1000 is already mapped to ...` problems that said nothing of what to do; and an estate whose
    catalog did not clash (the same seed with more applications, or a lake a user had mapped) would have been mixed
    into it. Two estates in one lake make figures of neither, and removing the earlier one would lose its history: the
    demo refuses in one line naming the folder, what it holds and what to do, and leaves the lake as it was. The
    same estate again (same --days) runs as before."""
    lake = tmp_path / "lake"
    demo = ["--lake-url", str(lake), "demo", "--no-serve", "--apps", "2", "--days", "2"]
    assert run_cli(capsys, *demo, "--seed", "1")[0] == 0
    before = {path: path.read_bytes() for path in lake.rglob("*") if path.is_file()}
    code, _, err = run_cli(capsys, *demo, "--seed", "2")
    assert err == (
        f"error: {lake} already holds a mapping that is not this demo's estate (seed 2, 2 applications): version 1 "
        "by demo, 'demo estate of seed 1 with 2 applications, from its Backstage catalog'. One lake holds one "
        "estate: give --lake-url a folder of its own, or the --seed and --apps of the estate it holds; to start "
        "over, remove that lake first. Nothing was written\n"
    )
    assert code == 2
    assert {path: path.read_bytes() for path in lake.rglob("*") if path.is_file()} == before
    code, out, _ = run_cli(capsys, *demo, "--seed", "1")
    assert code == 0 and "[3/6] mapping version 1: " in out


def test_local_s3_says_its_port_is_taken(tmp_path: Path) -> None:
    """On a port another program listens on, the embedded store printed the web server's complaint and then waited
    for ever for a server that had already given up. It now says so in one line, exit 2."""
    root = Path(__file__).resolve().parents[3]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        finished = subprocess.run(
            [sys.executable, "-m", "lakehouse.cli", "local-s3", "--port", str(port)],
            capture_output=True,
            text=True,
            cwd=root,
            env=os.environ | {"PYTHONPATH": str(root)},
            timeout=60,  # only so that the hang it guards against ends the test
            check=False,
        )
    assert (finished.returncode, finished.stdout) == (2, "")
    assert finished.stderr == (
        f"error: cannot serve the embedded S3 store on 127.0.0.1:{port}: Address already in use; "
        "give another --port (0 picks a free one)\n"
    )


@pytest.mark.parametrize("concurrency", ["0", "-1", "17"])
def test_backfill_refuses_a_concurrency_it_would_not_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, concurrency: str
) -> None:
    """--concurrency 0 ran ROSETTA_BACKFILL_CONCURRENCY's 2 days at once, -1 one day, and 17 seventeen, past the
    16 the setting allows: each is refused before anything runs, as the setting refuses them."""
    with pytest.raises(SystemExit) as stopped:
        main(
            [
                "--lake-url",
                str(tmp_path / "lake"),
                "backfill",
                "servicenow",
                "--days",
                "2",
                "--concurrency",
                concurrency,
            ]
        )
    assert stopped.value.code == 2
    assert f"argument --concurrency: {concurrency} is not a whole number from 1 to 16" in capsys.readouterr().err


def test_demo_refuses_a_negative_schedule_period(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--schedule-minutes -5 turned the local scheduler off as 0 does, silently. It is refused before anything
    starts (here even before the API's port, taken, is looked at)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        with pytest.raises(SystemExit) as stopped:
            main(["--lake-url", str(tmp_path / "lake"), "demo", "--port", port, "--schedule-minutes", "-5"])
    assert stopped.value.code == 2
    assert "argument --schedule-minutes: -5 is not a number of minutes of 0 (off) or more" in capsys.readouterr().err


def test_runs_over_more_days_than_the_calendar_has_lists_them_all(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`runs --days 1000000` (everything) reached back before the year 1: a traceback. It lists the whole run log, here
    empty."""
    assert run_cli(capsys, "--lake-url", str(tmp_path), "runs", "--days", "1000000") == (0, "", "")


def test_runs_says_how_long_each_run_took_and_which_days_it_wrote(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What an operator asks of the run log first: how long, and which days the next hourly build will rebuild. An
    ingest that wrote the 19th and 20th (its duration the run log's own timing, in tenths of a second); a build
    still running (no duration, no day yet)."""
    runs = RunLog(Lake.from_settings(Settings(lake_url=str(tmp_path))))
    ingest = runs.start("ingest_servicenow", "servicenow", "servicenow/incidents")
    ingest.days_written = ["2026-11-20", "2026-11-19"]
    runs.finish(ingest, "succeeded")
    runs.start("build_aggregates", "mart", "hourly")
    code, out, err = run_cli(capsys, "--lake-url", str(tmp_path), "runs")
    lines = {line.split()[2]: line for line in out.splitlines()}
    assert (code, err) == (0, "")
    assert re.search(
        r" succeeded +\d+\.\ds in=0 out=0 rejected=0 days=2026-11-19\.\.2026-11-20\(2\) ", lines["ingest_servicenow"]
    )
    assert re.search(r" running +- in=0 out=0 rejected=0 days=- ", lines["build_aggregates"])


def test_a_backfill_reaching_back_before_the_year_1_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """1,000,000 days back from 2026 is before the year 1, which no date holds: a traceback, now one line."""
    code, out, err = run_cli(capsys, "--lake-url", str(tmp_path), "backfill", "servicenow", "--days", "1000000")
    assert (code, out) == (2, "")
    assert err == "error: backfill --days 1000000 reaches back before the year 1: give fewer days\n"


def build_terminated(lake: Path, also: str = "") -> subprocess.CompletedProcess[str]:
    """`rosetta-monitoring build` in a process of its own, sent SIGTERM in the middle of the build; `also`, more
    lines of Python run before it (patching what the clean-up calls)."""
    script = (
        "import os, signal, sys\n"
        "import lakehouse.aggregates.build as build\n"
        "from lakehouse.cli import run\n"
        "def terminated_mid_build(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    signal.pause()\n"
        "build._build = terminated_mid_build\n"
        f"{also}"
        "run()\n"
    )
    root = Path(__file__).resolve().parents[3]
    return subprocess.run(
        [sys.executable, "-c", script, "--lake-url", str(lake), "build"],
        capture_output=True,
        text=True,
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        timeout=60,  # only so that a build left waiting ends the test
        check=False,
    )


def lease_let_go(lake: Path) -> bool:
    lease = Lake.from_settings(Settings(lake_url=str(lake))).get_json("state/build/lease.json")
    return lease is not None and lease[0]["holder"] is None


def test_a_build_terminated_lets_go_of_the_lake(tmp_path: Path) -> None:
    """`docker compose stop` and systemd stop a command with SIGTERM. Its default action ended the build where it
    stood, holding the lake's lease (no build could start for the next 30 minutes) and leaving its run `running`;
    it now stops as Ctrl-C does, through the build's own clean-up: the lease is let go, exit 143, no traceback."""
    finished = build_terminated(tmp_path)
    assert (finished.returncode, finished.stderr) == (143, "")
    assert lease_let_go(tmp_path)


def test_a_second_sigterm_does_not_break_into_the_clean_up_of_the_first(tmp_path: Path) -> None:
    """A process group stopped by `timeout` or `kill -- -PGID` under make gets SIGTERM twice: from the signal to the
    group, then from make passing it on. The second one broke into the clean-up the first had started: `make demo`
    stopped that way ended on "RuntimeError: release unlocked lock" inside the demo's wait. Here the second comes
    while the build lets go of the lake's lease: the lease is let go all the same, exit 143, no traceback."""
    terminated_again = (
        "import lakehouse.aggregates.lease as lease\n"
        "let_go = lease.release\n"
        "def terminated_again(*args):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    let_go(*args)\n"
        "lease.release = terminated_again\n"
    )
    finished = build_terminated(tmp_path, terminated_again)
    assert (finished.returncode, finished.stderr) == (143, "")
    assert lease_let_go(tmp_path)


@pytest.mark.parametrize("command", [["runs"], ["check"], ["demo", "--no-serve"], ["ingest", "logs"]])
def test_an_s3_endpoint_for_a_lake_folder_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    """`--s3-endpoint` names the store of an s3:// lake; with a folder for the lake it was ignored, and the command
    read or wrote the folder while the user meant MinIO. It is refused before anything is read or written."""
    code, out, err = run_cli(capsys, "--lake-url", str(tmp_path), "--s3-endpoint", "http://127.0.0.1:9", *command)
    assert (code, out) == (2, "")
    assert err == (
        f"error: --s3-endpoint names the store of an s3:// lake, and the lake is the folder {tmp_path}: "
        "give --lake-url s3://bucket/prefix, or no --s3-endpoint\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_s3_endpoint_needs_an_s3_lake_from_the_environment_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(tmp_path))
    code, _, err = run_cli(capsys, "--s3-endpoint", "http://127.0.0.1:9", "runs")
    assert code == 2 and err.startswith("error: --s3-endpoint names the store of an s3:// lake")


@pytest.mark.parametrize("linked", [True, False])
def test_a_query_stopped_by_ctrl_c_ends_without_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linked: bool
) -> None:
    """Ctrl-C during a long query: DuckDB stops it and raises RuntimeError("Query interrupted"), from the
    KeyboardInterrupt in DuckDB 1.5 and linked to nothing in 2.0, which came out as a traceback and exit 1. It ends as
    Ctrl-C ends any command: 130, quietly."""
    import lakehouse.duckdb_session

    opened = lakehouse.duckdb_session.open_duckdb

    class Interrupted:
        def __init__(self, *args: object) -> None:
            self.con = opened(*args)  # type: ignore[arg-type]
            self.execute, self.close = self.con.execute, self.con.close

        def sql(self, text: str) -> None:
            if not linked:
                raise RuntimeError("Query interrupted")
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as stop:
                raise RuntimeError("Query interrupted") from stop

    imported(capsys, str(tmp_path), tmp_path / "apps.yaml", "- {entity_id: pay, kind: application}\n")
    monkeypatch.setattr(lakehouse.duckdb_session, "open_duckdb", Interrupted)
    assert run_cli(capsys, "--lake-url", str(tmp_path), "query", "select 1") == (130, "", "")
