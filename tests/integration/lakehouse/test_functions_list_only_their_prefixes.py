"""What each function's role may list of the lake bucket (infra/terraform/modules/function/iam.tf, given its prefixes
by functions.tf and main.tf): every listing its code makes lies under the s3:prefix condition of its ListBucket, and
a ListBucket without a prefix, which S3 answers with every key of the bucket, goes only to the function that checks
the bucket at start, HeadBucket being authorised as one."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.mappings import MappingStore
from lakehouse.objectstore import LocalStore
from simulators.estate import generate_estate
from tests.integration.api.conftest import ADMIN, api_settings, down_sources
from tests.integration.pipeline.simulated import handler_of, simulated_lake
from tests.lambda_context import LambdaContext
from tests.unit.lakehouse.test_terraform_functions import attribute, handlers, loaded_sources, locals_map

TERRAFORM = Path(__file__).resolve().parents[3] / "infra" / "terraform"
IAM = (TERRAFORM / "modules" / "function" / "iam.tf").read_text(encoding="utf-8")
MAIN = (TERRAFORM / "main.tf").read_text(encoding="utf-8")
INGESTIONS = ("ingest_dynatrace", "ingest_servicenow", "ingest_deploys", "ingest_logs")


def iam_statements() -> list[str]:
    """The statements of the function's policy document, plain or dynamic, as written."""
    return re.findall(r'^  (?:statement|dynamic "statement") \{\n.*?^  \}', IAM, re.M | re.S)


def listing_without_prefix_allowed(function: str) -> bool:
    """Whether the function's role may ListBucket without a prefix: a statement whose condition is that s3:prefix is
    absent, given to every function, or only where the module variable it depends on is set for this one."""
    (statement,) = [s for s in iam_statements() if re.search(r'test\s*=\s*"Null"\s*\n\s*variable\s*=\s*"s3:prefix"', s)]
    assert '"s3:ListBucket"' in statement
    gate = re.search(r"for_each\s*=\s*local\.optional_statements\.(\w+)\s*\?", statement)
    if gate is None:
        return True
    variable = re.search(rf"^\s+{gate.group(1)}\s*=\s*var\.(\w+)\s*$", IAM, re.M)
    assert variable is not None, f"optional_statements.{gate.group(1)} is no module variable"
    given = re.search(rf"^\s+{variable.group(1)}\s*=\s*each\.value\.(\w+)\s*$", MAIN, re.M)
    assert given is not None, f"main.tf does not give the functions' {variable.group(1)}"
    return attribute(function, given.group(1)) == "true"


def quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def listable_prefixes(function: str) -> list[str]:
    """The prefixes the s3:prefix condition of the function's ListBucket names: the ones it reads and those it writes
    (local.lake_access of functions.tf), as the module makes them."""
    assert "readable_prefixes = distinct(concat(var.read_prefixes, var.write_prefixes))" in IAM
    assert 'listable_prefixes = [for p in local.readable_prefixes : "${var.lake_root}${p}*"]' in IAM
    access = locals_map("lake_access")
    if function in INGESTIONS:
        sources = re.search(rf"^\s+{function}\s*=\s*\{{\s*lake_sources\s*=\s*\[([^\]]*)\]", locals_map("ingest"), re.M)
        grant = re.search(
            r"read\s*=\s*\[([^\]]*)\]\s*write\s*=\s*concat\(flatten\(\[for s in spec\.lake_sources : \[([^\]]*)\]\]\),"
            r"\s*\[([^\]]*)\]\)",
            access,
        )
        assert sources is not None and grant is not None
        per_source = [p.replace("${s}", s) for s in quoted(sources.group(1)) for p in quoted(grant.group(2))]
        return quoted(grant.group(1)) + per_source + quoted(grant.group(3))
    block = re.search(rf"^\s+{function}\s*=\s*\{{(.*?)\}}\s*$", access, re.M | re.S)
    assert block is not None, f"local.lake_access has no {function}"
    grants = [re.search(rf"{name}\s*=\s*\[([^\]]*)\]", block.group(1)) for name in ("read", "write")]
    return [p for grant in grants if grant is not None for p in quoted(grant.group(1))]


def test_only_the_function_that_checks_the_bucket_may_list_it_without_a_prefix() -> None:
    """HeadBucket is authorised as a ListBucket without a prefix, which IAM cannot tell from a listing of the whole
    bucket: every function was granted it, though the build alone checks the bucket at start; the others could list
    every key name of the bucket (other prefixes, other lakes) beyond the prefixes they read."""
    checks = {key for key, module in handlers().items() if any("lake.check()" in s for s in loaded_sources(module))}
    assert checks == {"build_aggregates"}
    assert {key for key in handlers() if listing_without_prefix_allowed(key)} == checks


@pytest.fixture
def listings(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[str], dict[str, set[str]], dict[str, set[str]]]]:
    """Every prefix the lake lists and every key it reads, by the function running (the caller sets the first item to
    it)."""
    running = ["setup"]
    listed: dict[str, set[str]] = defaultdict(set)
    read: dict[str, set[str]] = defaultdict(set)

    def recording(method: Any, into: dict[str, set[str]]) -> Any:
        def call(self: Any, prefix: str, *args: Any, **kwargs: Any) -> Any:
            into[running[0]].add(prefix)
            return method(self, prefix, *args, **kwargs)

        return call

    for name in ("list", "versions", "folders"):
        monkeypatch.setattr(LocalStore, name, recording(getattr(LocalStore, name), listed))
    monkeypatch.setattr(LocalStore, "get", recording(LocalStore.get, read))
    yield running, listed, read


def api_routes(mapped: list[Any]) -> list[str]:
    """The read routes Backstage calls for one mapped application and one component, and the admin reads."""
    app = next(e.entity_id for e in mapped if e.kind == "application")
    component = next(e.entity_id for e in mapped if e.kind == "component")
    pages = ["summary", "timeseries", "incidents", "changes", "deployments"]
    return [
        "/monitoring/overview",
        *(f"/monitoring/applications/{app}/{page}" for page in pages),
        *(f"/monitoring/components/{component}/{page}" for page in pages),
        *(f"/monitoring/kpis/{kpi}" for kpi in ("slo", "dora", "incidents", "changes")),
        "/monitoring/risk/top",
        "/monitoring/admin/batch-runs",
        "/monitoring/admin/config/sources",
        "/monitoring/admin/mappings",
        "/monitoring/admin/mappings/coverage",
    ]


@pytest.mark.simulators
def test_every_listing_and_read_a_function_makes_is_under_its_prefixes(
    tmp_path: Path, listings: tuple[list[str], dict[str, set[str]], dict[str, set[str]]]
) -> None:
    """Each ingestion runs against the simulators, then the builds (full, daily, hourly) and the API's routes read
    what they wrote: on AWS a listing outside the role's s3:prefix condition, or a read of a key outside the prefixes
    it may read, is an AccessDenied (an ingestion reading the build's lease without the grant would fail every run)."""
    running, listed, read = listings
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with simulated_lake(tmp_path, generate_estate(seed=5, apps=2, days=2, end=end)) as (_, settings, lake):
        for function in INGESTIONS:
            running[0] = function
            handler_of(function)({}, LambdaContext(function_name=function))
        running[0] = "build_aggregates"
        for mode in ("full", "daily", "hourly"):
            handler_of("build_aggregates")({"mode": mode}, LambdaContext())
        running[0] = "api"
        mapping = MappingStore(lake).current()
        assert mapping is not None
        with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
            for url in api_routes(list(mapping.entries)):
                assert client.get(url, headers=ADMIN).status_code == 200, url

    assert set(handlers()) <= set(listed)
    for function in handlers():
        granted = tuple(listable_prefixes(function))
        assert sorted(p for p in listed[function] if not p or not p.startswith(granted)) == [], function
        assert sorted(key for key in read[function] if not key.startswith(granted)) == [], function
    assert all(read[function] for function in INGESTIONS)
