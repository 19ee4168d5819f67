"""Simulators (clean and faulty) on loopback, a mapping from the estate's catalog, and a way to call handlers;
Elasticsearch's answers to the log counts' search, and a logs run reading them."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from pydantic import SecretStr

from functions.ingest_logs.parse import AGGREGATION
from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.local_s3 import S3Endpoint
from lakehouse.mappings import MappingStore, from_catalog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate, generate_estate
from simulators.faults import FaultConfig
from simulators.serve import RunningSimulators, start_simulators
from tests.integration.store_faults import FaultyStore
from tests.lambda_context import LambdaContext

END = datetime(2024, 3, 6, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]
# Every API misbehaves on fixed request numbers: throttled (with and without Retry-After, GitLab's window resetting
# at once: a longer wait than the client's would stop the run), a 5xx burst, a page of invalid JSON; ServiceNow
# records move while being paged; a Dynatrace page key expires.
FAULTS = {
    "seed": 5,
    "all": {
        "schedule": {"2": "rate_limit", "4": "server_error", "8": "malformed"},
        "retry_after": 0,
        "server_error_burst": 2,
    },
    "gitlab": {
        "schedule": {"2": "rate_limit", "4": "server_error", "8": "malformed"},
        "retry_after": None,
        "reset_after": 0,
        "server_error_burst": 2,
    },
    "servicenow": {
        "schedule": {"2": "rate_limit", "4": "server_error", "8": "malformed"},
        "retry_after": 0,
        "server_error_burst": 2,
        "drift": 0.3,
    },
    "dynatrace": {
        "schedule": {"3": "expired_page_key", "5": "rate_limit", "7": "server_error", "9": "malformed"},
        "retry_after": 0,
        "server_error_burst": 2,
    },
}
TUNING = {
    "ROSETTA_SERVICENOW_PAGE_SIZE": "5",
    "ROSETTA_GITLAB_PER_PAGE": "10",
    "ROSETTA_ELASTICSEARCH_PAGE_SIZE": "500",
    "ROSETTA_DYNATRACE_PAGE_SIZE": "3",
    "ROSETTA_HTTP_BACKOFF_BASE_S": "0.01",
    "ROSETTA_HTTP_BACKOFF_MAX_S": "0.05",
    "ROSETTA_HTTP_MAX_SERVER_WAIT_S": "0.05",
    "ROSETTA_HTTP_ATTEMPTS": "5",
    "ROSETTA_HTTP_CONNECT_TIMEOUT_S": "1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "RosettaMonitoringTest",
}


@pytest.fixture(scope="session")
def estate() -> Estate:
    return generate_estate(seed=16, apps=5, days=10, end=END)


@pytest.fixture(scope="session")
def sims(estate: Estate) -> Iterator[RunningSimulators]:
    with start_simulators(estate, dynatrace_page_size=5) as running:
        yield running


@pytest.fixture(scope="session")
def faulty_sims() -> Iterator[RunningSimulators]:
    # Its own estate object: drift changes the simulated tables.
    with start_simulators(
        generate_estate(seed=16, apps=5, days=10, end=END), dynatrace_page_size=5, faults=FaultConfig.from_dict(FAULTS)
    ) as running:
        yield running


def lake_env(settings: Settings) -> dict[str, str]:
    env = {"ROSETTA_LAKE_URL": settings.lake_url}
    if settings.s3_endpoint_url:
        assert settings.s3_secret_access_key is not None and settings.s3_access_key_id is not None
        env |= {
            "ROSETTA_S3_ENDPOINT_URL": settings.s3_endpoint_url,
            "ROSETTA_S3_ACCESS_KEY_ID": settings.s3_access_key_id,
            "ROSETTA_S3_SECRET_ACCESS_KEY": settings.s3_secret_access_key.get_secret_value(),
        }
    return env


def import_catalog(lake: Lake, estate: Estate) -> None:
    entries, problems = from_catalog(list(yaml.safe_load_all(estate.catalog_yaml())))
    assert not problems
    MappingStore(lake).apply(entries, actor="tests")


Invoke = Callable[..., dict[str, Any]]


@pytest.fixture
def fake_aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A region and made-up credentials, so that boto3 clients under moto's mock_aws never look for real ones."""
    for name, value in {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def point(monkeypatch: pytest.MonkeyPatch) -> Callable[[RunningSimulators, Settings], None]:
    """Point the handlers' environment at a set of simulators and a lake."""

    def apply(running: RunningSimulators, settings: Settings) -> None:
        for key, value in {**running.env(), **lake_env(settings), **TUNING}.items():
            monkeypatch.setenv(key, value)

    return apply


@pytest.fixture
def sims_lake(tmp_path: Path, sims: RunningSimulators, point: Callable[[RunningSimulators, Settings], None]) -> Lake:
    """A checked lake in tmp_path/lake, the handlers' environment pointed at it and at the clean simulators."""
    settings = Settings(lake_url=str(tmp_path / "lake"))
    point(sims, settings)
    lake = Lake.from_settings(settings)
    lake.check()
    return lake


def invoke(module: Any, event: dict[str, Any], *, remaining_ms: int = 900_000) -> dict[str, Any]:
    result: dict[str, Any] = module.handler(
        event, LambdaContext(function_name=module.SOURCE, remaining_ms=remaining_ms)
    )
    return result


def scheduled_event(module_file: str, window: dict[str, str] | None) -> dict[str, Any]:
    """The sample event stored beside the handler, with the test's window."""
    event: dict[str, Any] = json.loads((Path(module_file).parent / "events" / "scheduled.json").read_text())
    event.pop("window", None)
    if window:
        event["window"] = window
    return event


def servicenow_incidents_event(window: dict[str, datetime]) -> dict[str, Any]:
    """The scheduled event of ServiceNow's ingestion over `window`, for its incidents alone."""
    as_text = {bound: moment.isoformat() for bound, moment in window.items()}
    return {**scheduled_event(servicenow_handler.__file__, as_text), "datasets": ["servicenow/incidents"]}


def lake_on_faulty_store(
    store: FaultyStore, sims: RunningSimulators, point: Callable[[RunningSimulators, Settings], None], root: Path
) -> Lake:
    """A lake of its own on the faulty store, the estate's catalog imported, the handlers' environment pointed at it
    and at the simulators."""
    settings = store.endpoint.settings(f"t-{uuid.uuid4().hex[:12]}", duckdb_temp_directory=root / "duckdb")
    point(sims, settings)
    lake = Lake.from_settings(settings)
    import_catalog(lake, sims.estate)
    return lake


def incident_days(lake: Lake) -> dict[date, pa.Table | None]:
    """ServiceNow's incident days in the lake, each as read back: what a failed run must leave as it was."""
    incidents = get_dataset("servicenow/incidents")
    return {day: lake.read_partition(incidents, day) for day in lake.list_partitions(incidents)}


def search_answer(buckets: list[dict[str, Any]], *, timed_out: bool = False) -> dict[str, Any]:
    """Elasticsearch's answer to the log counts' search, its one shard answering: these buckets of the aggregation."""
    return {
        "took": 1,
        "timed_out": timed_out,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"hits": []},
        "aggregations": {AGGREGATION: {"buckets": buckets}},
    }


def index_not_found(pattern: str) -> dict[str, Any]:
    """Elasticsearch's 404 answer to a search of an index pattern it does not hold."""
    error = {"type": "index_not_found_exception", "reason": f"no such index [{pattern}]"}
    return {"error": {"root_cause": [error], **error}, "status": 404}


def lake_reading_indices(root: Path, indices: dict[str, str]) -> Lake:
    """A lake in root/lake whose mapping reads each application's logs from its index pattern (application: pattern)."""
    lake = Lake.from_settings(Settings(lake_url=str(root / "lake")))
    entries = [
        {"entity_id": app, "kind": "application", "team": "t1", "elisa_index": pattern}
        for app, pattern in indices.items()
    ]
    MappingStore(lake).apply(entries, actor="test")
    return lake


def elasticsearch_reader(url: str, **more: Any) -> IngestSettings:
    """The ingestion's settings reading Elasticsearch at `url` with the reader's account."""
    return IngestSettings(
        elasticsearch_url=url,
        elasticsearch_user="reader",
        elasticsearch_password=SecretStr("reader-password"),
        **more,
    )


def read_logs(lake: Lake, url: str, since: datetime, until: datetime) -> str:
    """One logs run over [since, until), each search asked once (a refused or timed out one is not asked again); its
    status."""
    (outcome,) = ingest("logs", lake, elasticsearch_reader(url, http_attempts=1), window=Window(since, until)).outcomes
    return outcome.record.status


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


__all__ = ["END", "S3Endpoint"]
