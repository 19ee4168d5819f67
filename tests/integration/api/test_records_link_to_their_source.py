"""An incident, a change or a deployment listed by the API opens in its source with one click: each item's `url`,
built from the configured base URL (its path prefix kept, its user and password left out), null when none is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functions.api.auth import key_digest
from functions.api.main import create_app
from functions.api.settings import ApiKey, ApiSettings
from functions.api.source_links import argocd_application, servicenow_record
from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from tests.integration.api.conftest import READER, READER_KEY, down_sources, get_json
from tests.unit.aggregates import estate as hand_made
from tests.unit.aggregates.estate import AS_OF, CHG1, CHG2

SOURCE_URLS = ("ROSETTA_API_SERVICENOW_URL", "ROSETTA_SERVICENOW_URL", "ROSETTA_API_ARGOCD_URL", "ROSETTA_ARGOCD_URL")
# As an operator may write them: behind a proxy's path, with a trailing /, a service account's password inside.
SERVICENOW_URL = "https://svc-rosetta:Sn0w-Secret@acme.service-now.example/sn/"
ARGOCD_URL = "https://admin:Arg0-Secret@argocd.example.org/cd/"
SERVICENOW = "https://acme.service-now.example/sn/nav_to.do?uri="
ARGOCD = "https://argocd.example.org/cd/applications/"
SECRETS = ("svc-rosetta", "Sn0w-Secret", "admin:", "Arg0-Secret")
# The hand-made estate's records of shop, by their number or key, over the last 30 days before its as-of.
SHOP_INCIDENTS = ("INC1", "INC2", "INC3")
SHOP_CHANGES = ("CHG1", "CHG2")
SHOP_DEPLOYMENTS = (
    "argocd:shop-api-prod:1",
    "argocd:shop-api-prod:2",
    "argocd:shop-api-prod:3",
    "gitlab:101",
    "gitlab:102",
)


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    """The hand-made estate, shop-api's ArgoCD application in a namespace of its own (team-shop)."""
    root = tmp_path_factory.mktemp("links")
    lake, settings = hand_made.estate_lake(root)
    entries = [
        entry | {"argocd_app_namespace": "team-shop"} if entry["entity_id"] == "shop-api" else entry
        for entry in hand_made.mapping()
    ]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    build(lake, settings, mode="full", as_of=AS_OF)
    return settings, root


@contextmanager
def api(estate: tuple[Settings, Path], name: str, **configured: str) -> Iterator[TestClient]:
    """The API over the estate, the link settings given (the others as the environment has them)."""
    settings, root = estate
    api_settings = ApiSettings(
        api_keys=[ApiKey(name="backstage", sha256=key_digest(READER_KEY), roles=["reader"])],
        local_dir=root / f"api-{name}",
        mart_check_interval_s=3600,
        **configured,
    )
    with TestClient(create_app(api_settings, settings, down_sources())) as client:
        yield client


def links(client: TestClient, route: str, key: str) -> dict[str, Any]:
    """Each listed item's url, by `key`."""
    return {item[key]: item["url"] for item in get_json(client, route)["items"]}


@pytest.fixture
def no_source_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in SOURCE_URLS:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.usefixtures("no_source_urls")
def test_incidents_and_changes_open_their_servicenow_form(estate: tuple[Settings, Path]) -> None:
    with api(estate, "servicenow", servicenow_url=SERVICENOW_URL) as client:
        incidents = client.get("/monitoring/applications/shop/incidents?status=all", headers=READER)
        changes = client.get("/monitoring/applications/shop/changes?status=all", headers=READER)
        shop_api = links(client, "/monitoring/components/shop-api/incidents?status=all", "number")

    assert {item["number"]: item["url"] for item in incidents.json()["items"]} == {
        "INC1": f"{SERVICENOW}incident.do%3Fsys_id%3D{'i1' * 16}",
        "INC2": f"{SERVICENOW}incident.do%3Fsys_id%3D{'i2' * 16}",
        "INC3": f"{SERVICENOW}incident.do%3Fsys_id%3D{'i3' * 16}",
    }
    assert {item["number"]: item["url"] for item in changes.json()["items"]} == {
        "CHG1": f"{SERVICENOW}change_request.do%3Fsys_id%3D{CHG1}",
        "CHG2": f"{SERVICENOW}change_request.do%3Fsys_id%3D{CHG2}",
    }
    # A component's list links the same way (INC2 is the database's).
    assert shop_api == {
        "INC1": f"{SERVICENOW}incident.do%3Fsys_id%3D{'i1' * 16}",
        "INC3": f"{SERVICENOW}incident.do%3Fsys_id%3D{'i3' * 16}",
    }
    for answer in (incidents, changes):
        assert not [secret for secret in SECRETS if secret in answer.text]


@pytest.mark.usefixtures("no_source_urls")
def test_an_argocd_deployment_opens_its_application_and_a_gitlab_one_has_no_link(
    estate: tuple[Settings, Path],
) -> None:
    with api(estate, "argocd", argocd_url=ARGOCD_URL) as client:
        shop = client.get("/monitoring/applications/shop/deployments", headers=READER)
        broken = links(client, "/monitoring/applications/broken/deployments", "deploymentKey")

    # shop-api-prod is in the namespace the mapping names; the estate's GitLab deployments carry no pipeline address.
    assert {item["deploymentKey"]: item["url"] for item in shop.json()["items"]} == {
        "argocd:shop-api-prod:1": f"{ARGOCD}team-shop/shop-api-prod",
        "argocd:shop-api-prod:2": f"{ARGOCD}team-shop/shop-api-prod",
        "argocd:shop-api-prod:3": f"{ARGOCD}team-shop/shop-api-prod",
        "gitlab:101": None,
        "gitlab:102": None,
    }
    # broken-prod has no namespace in the mapping: ArgoCD's UI finds it by name in its own.
    assert broken == {
        "argocd:broken-prod:op1": f"{ARGOCD}broken-prod",
        "argocd:broken-prod:op2": f"{ARGOCD}broken-prod",
    }
    assert not [secret for secret in SECRETS if secret in shop.text]


@pytest.mark.usefixtures("no_source_urls")
def test_without_a_source_url_every_record_is_listed_without_a_link(estate: tuple[Settings, Path]) -> None:
    with api(estate, "none") as client:
        incidents = links(client, "/monitoring/applications/shop/incidents?status=all", "number")
        changes = links(client, "/monitoring/applications/shop/changes?status=all", "number")
        deployments = links(client, "/monitoring/applications/shop/deployments", "deploymentKey")

    assert incidents == dict.fromkeys(SHOP_INCIDENTS)
    assert changes == dict.fromkeys(SHOP_CHANGES)
    assert deployments == dict.fromkeys(SHOP_DEPLOYMENTS)


@pytest.mark.usefixtures("no_source_urls")
def test_the_ingestion_urls_serve_unless_the_api_has_its_own(
    estate: tuple[Settings, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API function is given the ingestion's ROSETTA_SERVICENOW_URL and ROSETTA_ARGOCD_URL; ROSETTA_API_* ones,
    when set, are where its links point instead."""
    monkeypatch.setenv("ROSETTA_SERVICENOW_URL", "https://acme.service-now.example")
    monkeypatch.setenv("ROSETTA_ARGOCD_URL", "https://argocd.example.org")
    with api(estate, "ingestion") as client:
        incidents = links(client, "/monitoring/applications/shop/incidents?status=all", "number")
        deployments = links(client, "/monitoring/components/shop-api/deployments", "deploymentKey")
    assert incidents["INC1"] == f"https://acme.service-now.example/nav_to.do?uri=incident.do%3Fsys_id%3D{'i1' * 16}"
    assert deployments["argocd:shop-api-prod:2"] == "https://argocd.example.org/applications/team-shop/shop-api-prod"

    monkeypatch.setenv("ROSETTA_API_SERVICENOW_URL", "https://acme.servicenowservices.example")
    monkeypatch.setenv("ROSETTA_API_ARGOCD_URL", "https://cd.example.org")
    with api(estate, "own") as client:
        changes = links(client, "/monitoring/applications/shop/changes?status=all", "number")
        deployments = links(client, "/monitoring/components/shop-api/deployments", "deploymentKey")
    assert (
        changes["CHG2"] == f"https://acme.servicenowservices.example/nav_to.do?uri=change_request.do%3Fsys_id%3D{CHG2}"
    )
    assert deployments["argocd:shop-api-prod:2"] == "https://cd.example.org/applications/team-shop/shop-api-prod"


def test_an_application_name_is_one_path_segment_of_the_link() -> None:
    """The mapping admits only Kubernetes names, which need no encoding; a name with a space, #, / or ? still opens
    that application, not another path or a fragment of the page."""
    assert argocd_application(ARGOCD_URL, "shop api#1/?", "team shop") == f"{ARGOCD}team%20shop/shop%20api%231%2F%3F"
    # A sys_id is encoded inside the record's URI, then with it: its & cannot end nav_to's uri.
    assert servicenow_record(SERVICENOW_URL, "incident", "a&b") == f"{SERVICENOW}incident.do%3Fsys_id%3Da%2526b"
