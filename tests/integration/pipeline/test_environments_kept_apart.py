"""Production and staging of one estate, from the sources' APIs to the monitoring API: neither's figures in the other's.

The simulators' estate runs some components in staging as well as in production: a Dynatrace service, an ArgoCD
application (`<component>-staging`) or GitLab environment, and log lines saying `deployment.environment: staging` of
their own. The catalog maps production; the staging entries, as a YAML file would give them, name each staging
component's service by its tags (`component:<name>` and `environment:staging`), its staging ArgoCD application, its
GitLab project (whose staging deployments GitLab names "staging") and its application's log index. Finding services
by tag, they need the services' listing kept, which the ingestion does without being told (the entities setting is
left at its default: before, staging had no traffic at all). The four
ingestion handlers read the simulators over HTTP, the build runs, and the API answers through its ASGI app. Expected
figures come from the estate itself: its deployments by environment and the simulators' traffic and log model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.ingest.config import IngestSettings
from simulators.estate import KIBANA_QUERY_TEMPLATE, Estate, generate_estate
from simulators.model import PRODUCTION, STAGING, Component
from simulators.timeseries import ERROR_TYPES, Telemetry
from tests.integration.api.conftest import READ_ROUTES, READER, api_settings
from tests.integration.pipeline.simulated import handler_of, simulated_lake
from tests.lambda_context import LambdaContext

END = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 10
START = END - timedelta(days=DAYS)
# The day whose signals are compared hour by hour: a whole day before the build's as-of.
DAY = END - timedelta(days=1)
HOUR_S = 3600


def staging_entries(estate: Estate) -> list[dict[str, Any]]:
    """The mapping's staging entries: one per component the estate runs in staging."""
    entries = []
    for app in estate.applications:
        for comp in app.components:
            if not comp.has_staging:
                continue
            entry = {
                "entity_id": comp.name,
                "kind": "component",
                "application_id": app.id,
                "environment": STAGING,
                "dynatrace_entity_selector": f'type(SERVICE),tag("component:{comp.name}"),tag("environment:staging")',
                "gitlab_project_id": comp.gitlab_project_id,
                "elisa_index": f"logs-{app.id}-*",
                "kibana_query_template": KIBANA_QUERY_TEMPLATE,
            }
            if comp.deploy_tool == "argocd":
                entry["argocd_app_name"] = comp.argo_staging_app
            entries.append(entry)
    return entries


@pytest.fixture(scope="module")
def estate_of_two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Estate, str, TestClient]]:
    """The estate ingested from the simulators and built, and the API over it with live calls to the simulators."""
    root = tmp_path_factory.mktemp("two-environments")
    estate = generate_estate(seed=7, apps=4, days=DAYS, end=END)
    with simulated_lake(root, estate, staging_entries(estate)) as (_, settings, lake):
        window = {"window": {"since": START.isoformat(), "until": END.isoformat()}}
        for name in ("ingest_dynatrace", "ingest_servicenow", "ingest_logs", "ingest_deploys"):
            handler_of(name)(window, LambdaContext(name))
        handler_of("build_aggregates")({"mode": "full", "as_of": END.isoformat()}, LambdaContext("build"))
        app = create_app(api_settings(root), settings, IngestSettings())
        with TestClient(app, raise_server_exceptions=False) as client:
            yield estate, lake.url, client


def mart(url: str, table: str, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    files = [str(p) for p in Path(url, "mart", table).rglob("*.parquet")]
    with duckdb.connect() as con:
        sql = f"select * from read_parquet($files, union_by_name = true) where {where}"
        return con.execute(sql, {"files": files, **params}).to_arrow_table().to_pylist()


def staged(estate: Estate) -> list[Component]:
    return [c for app in estate.applications for c in app.components if c.has_staging]


def get(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def day_hours() -> range:
    first = int(DAY.timestamp())
    return range(first, first + 24 * HOUR_S, HOUR_S)


@pytest.mark.parametrize("environment", [PRODUCTION, STAGING])
def test_each_environment_has_its_own_services_requests_and_log_errors(estate_of_two, environment: str) -> None:
    """Each staged component's requests and error log lines on the 19th, in each environment, are that environment's
    service's and log lines' as the simulators serve them: staging's tag selector finds the staging service alone,
    and the log counts keep the lines of each `deployment.environment` apart."""
    estate, url, _ = estate_of_two
    telemetry = Telemetry(estate)
    rows = mart(
        url,
        "mv_golden_signals_hourly",
        "level = 'component' and environment = $environment and day = $day",
        {"environment": environment, "day": DAY.date()},
    )
    for comp in staged(estate):
        mine = [r for r in rows if r["component_id"] == comp.name]
        stats = [telemetry.hour_stats(comp, environment, h) for h in day_hours()]
        requests = sum(s.requests for s in stats if s is not None)
        log_errors = sum(
            telemetry.hour_log_count(comp, environment, "ERROR", kind, h) for h in day_hours() for kind in ERROR_TYPES
        )
        assert sum(r["requests"] or 0 for r in mine) == pytest.approx(requests, rel=1e-9), comp.name
        assert sum(r["log_errors"] or 0 for r in mine) == log_errors, comp.name


@pytest.mark.parametrize("environment", [PRODUCTION, STAGING])
def test_each_environment_has_its_own_deployments(estate_of_two, environment: str) -> None:
    """Every successful deployment of a component is counted in the environment it went to, once: ArgoCD's by the
    application of that environment, GitLab's by its environment's name."""
    estate, url, _ = estate_of_two
    rows = mart(url, "mv_deployments", "environment = $environment", {"environment": environment})
    for comp in staged(estate):
        expected = [d for d in estate.deployments if d.component == comp.name and d.environment == environment]
        mine = [r for r in rows if r["component_id"] == comp.name and r["status"] == "succeeded"]
        assert len(mine) == sum(not d.failed for d in expected), comp.name
        assert sorted(r["revision"] for r in mine) == sorted(d.revision for d in expected if not d.failed), comp.name


def test_dora_counts_production_deployments_unless_another_environment_is_asked(estate_of_two) -> None:
    """The deployment frequency of the last 7 days counts each application's successful deployments to production
    when no environment is named, and its staging ones when staging is."""
    estate, _, client = estate_of_two
    since = END - timedelta(days=7)
    for environment, query in ((PRODUCTION, ""), (STAGING, "&environment=staging")):
        report = get(client, f"/monitoring/kpis/dora?period=last_7d&groupBy=app{query}")
        assert report["environment"] == environment
        counted = {r["id"]: r["deploymentFrequencyNumerator"] for r in report["items"]}
        for app in estate.applications:
            deployed = [
                d
                for d in estate.deployments
                if d.app == app.id and d.environment == environment and not d.failed and since <= d.time < END
            ]
            assert counted.get(app.id, 0) == len(deployed), (environment, app.id)


def test_the_overview_trend_says_and_follows_its_environment(estate_of_two) -> None:
    """The overview's trend of the last 7 days names the environment it is for, production's without one asked, and
    its deployments each day are that environment's successful ones."""
    estate, _, client = estate_of_two
    for environment, query in ((PRODUCTION, ""), (STAGING, "&environment=staging")):
        overview = get(client, f"/monitoring/overview?period=last_7d{query}")
        assert overview["environment"] == environment
        for day in overview["trend"]:
            deployed = [
                d
                for d in estate.deployments
                if d.environment == environment and not d.failed and f"{d.time:%Y-%m-%d}" == day["day"]
            ]
            assert day["deployments"] == len(deployed), (environment, day["day"])


def test_a_teams_slo_sums_its_applications_requests_of_that_environment_alone(estate_of_two) -> None:
    """A team's SLO row over the last 7 days counts the requests of its applications' services in the environment
    asked: production's without the staging traffic, staging's without production's."""
    estate, _, client = estate_of_two
    telemetry = Telemetry(estate)
    first = int((END - timedelta(days=7)).timestamp())
    hours = range(first, int(END.timestamp()), HOUR_S)
    for environment, query in ((PRODUCTION, ""), (STAGING, "&environment=staging")):
        rows = {r["id"]: r for r in get(client, f"/monitoring/kpis/slo?period=last_7d&groupBy=team{query}")["items"]}
        for team in {app.team for app in estate.applications}:
            components = [c for a in estate.applications if a.team == team for c in a.components]
            running = [c for c in components if environment in c.environments()]
            served = [telemetry.hour_stats(c, environment, h) for c in running for h in hours]
            requests = sum(s.requests for s in served if s is not None)
            assert rows[team]["availabilityDenominator"] == pytest.approx(requests, rel=1e-9), (environment, team)


def test_an_applications_pages_follow_the_environment_asked(estate_of_two) -> None:
    """A staged application's summary in staging lists its staging components and their last staging deployment
    (ArgoCD's `-staging` application); without an environment, production's."""
    estate, _, client = estate_of_two
    app = next(a for a in estate.applications if any(c.has_staging and c.deploy_tool == "argocd" for c in a.components))
    staging = get(client, f"/monitoring/applications/{app.id}/summary?environment=staging")
    production = get(client, f"/monitoring/applications/{app.id}/summary")
    assert staging["entity"]["environment"] == STAGING and production["entity"]["environment"] == PRODUCTION
    assert staging["entity"]["components"] == sorted(c.name for c in app.components if c.has_staging)
    assert production["entity"]["components"] == sorted(c.name for c in app.components)
    for summary, suffix in ((staging, "-staging"), (production, "-prod")):
        for last in summary["lastDeployments"]:
            comp = estate.component(last["componentId"])
            if comp.deploy_tool == "argocd":
                assert last["deploymentKey"].startswith(f"argocd:{comp.name}{suffix}:"), last


def test_live_status_and_kibana_link_follow_the_environment_asked(estate_of_two) -> None:
    """A staged ArgoCD component's live status is its staging application's, asked of ArgoCD now; its Kibana link
    filters on its staging log lines."""
    estate, _, client = estate_of_two
    comp = next(c for c in staged(estate) if c.deploy_tool == "argocd")
    base = f"/monitoring/components/{comp.name}"
    for environment, query, app_name in (
        (STAGING, "&environment=staging", comp.argo_staging_app),
        (PRODUCTION, "", comp.argo_app),
    ):
        live = get(client, f"{base}/deployments?mode=live{query}")["live"]
        assert [(i["argocdApp"], i["sources"]["argocd"]["state"]) for i in live] == [(app_name, "live")]
        link = get(client, f"{base}/logs/link?timeRange=now-24h{query}")
        assert link["query"] == f'service.name:"{comp.name}" and deployment.environment:"{environment}"'


@pytest.mark.parametrize("route", READ_ROUTES)
def test_an_environment_no_entry_is_mapped_in_is_a_404_on_every_read_route(estate_of_two, route: str) -> None:
    """`qa` is no environment of the mapping: every read route says so, naming the two it has."""
    estate, _, client = estate_of_two
    app = estate.applications[0]
    url = route.replace("/shop-api/", f"/{app.components[0].name}/").replace("/shop/", f"/{app.id}/")
    response = client.get(f"{url}?environment=qa", headers=READER)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "no entity is mapped in environment 'qa'; the mapping's environments are production, staging"
    )
