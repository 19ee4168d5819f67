"""The simulators answer as the real APIs do (source-contracts.md, ../shared/fixtures) where the parsers rely on it."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_deploys import parse
from functions.ingest_deploys.client import GitLabClient
from functions.ingest_logs.client import log_counts_query
from functions.ingest_logs.parse import AGGREGATION
from simulators.estate import Estate
from simulators.serve import RunningSimulators

from .test_sim_fixture_shapes import _gitlab_component

pytestmark = pytest.mark.simulators
Client = Callable[[str], httpx.Client]


@pytest.mark.parametrize(
    ("listing", "params", "refused"),
    [
        # Upper case is not asc: the simulator used to read any sort but "desc" as ascending.
        ("pipelines", {"sort": "ASC"}, "sort does not have a valid value"),
        ("pipelines", {"status": "succeeded"}, "status does not have a valid value"),
        # Grape names every refused parameter, in the order the endpoint declares them.
        (
            "pipelines",
            {"sort": "up", "scope": "done"},
            "scope does not have a valid value, sort does not have a valid value",
        ),
        ("merge_requests", {"state": "merge"}, "state does not have a valid value"),
        ("merge_requests", {"sort": "ascending"}, "sort does not have a valid value"),
        ("deployments", {"status": "successful"}, "status does not have a valid value"),
    ],
)
def test_gitlab_refuses_values_outside_a_parameters_list(
    client: Client, estate: Estate, listing: str, params: dict[str, str], refused: str
) -> None:
    """GitLab's Grape parameters take only their listed values; any other is a 400 with {"error": "<name> does not
    have a valid value"} (contract: errors `{"error": "…"}`), never a listing read another way: a `sort=ASC` answered
    oldest first, or a misspelt status answered [], would hide a client asking for something GitLab refuses."""
    project = _gitlab_component(estate).gitlab_project_id
    response = client("gitlab").get(f"/api/v4/projects/{project}/{listing}", params=params)
    assert response.status_code == 400
    assert response.json() == {"error": refused}


def test_gitlab_takes_the_values_the_connector_sends(sims: RunningSimulators, estate: Estate) -> None:
    """The connector's own listings (sort=asc, order_by=updated_at, state=merged) are within those lists: each
    answers records over the estate's last week, and the parser reads every one of them."""
    gitlab = GitLabClient(sims.urls["gitlab"], SecretStr(sims.credentials["gitlab"]["private_token"]))
    project = _gitlab_component(estate).gitlab_project_id
    since = estate.end - timedelta(days=7)
    listings = {
        "deployments": (gitlab.deployments(project, since, estate.end, 100), parse.parse_deployments_page),
        "pipelines": (gitlab.pipelines(project, since, estate.end, 100), parse.parse_pipelines_page),
        "merged requests": (gitlab.merged_requests(project, since, estate.end, 100), parse.parse_merge_requests_page),
    }
    for name, (pages, parser) in listings.items():
        bodies = [page.body for page in pages]
        read = [parser(body, {"project_id": project}) for body in bodies]
        records = sum(map(len, bodies))
        assert records > 0, name
        assert [r.rejects for r in read] == [[] for _ in read], name
        assert sum(table.num_rows for r in read for table in r.tables.values()) == records, name


def _first_composite_page(client: Client, estate: Estate) -> tuple[dict[str, Any], dict[str, Any]]:
    """The connector's log-count query over the estate's last two hours, 3 buckets a page, and its first page."""
    end_ms = estate.end_s * 1000
    query = log_counts_query(end_ms - 2 * 3_600_000, end_ms, 3)
    page = client("elasticsearch").post("/logs-*/_search", json=query).json()["aggregations"][AGGREGATION]
    return query, page


def _with_after(query: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    composite = {**query["aggs"][AGGREGATION]["composite"], "after": after}
    return {**query, "aggs": {AGGREGATION: {**query["aggs"][AGGREGATION], "composite": composite}}}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        # The connector's composite has 5 sources (service, environment, level, severity, hour).
        (lambda key: {k: v for k, v in key.items() if k != "hour"}, "[after] has 4 value(s) but [sources] has 5"),
        (
            lambda key: {**{k: v for k, v in key.items() if k != "hour"}, "day": key["hour"]},
            "Missing value for [after.hour]",
        ),
        # hour has no missing_bucket: no bucket of it is keyed null.
        (
            lambda key: {**key, "hour": None},
            "Invalid value for [after.hour], missing_bucket is set to false but the value is null",
        ),
    ],
    ids=["hour left out", "hour renamed day", "hour null"],
)
def test_elasticsearch_refuses_an_after_that_is_not_a_key_of_the_sources(
    client: Client, estate: Estate, change: Callable[[dict[str, Any]], dict[str, Any]], reason: str
) -> None:
    """Elasticsearch takes as `after` only a key of the composite's own sources, and answers anything else with its
    error body (contract: {"error": {"root_cause", "type", "reason"}, "status": 400}); read leniently, a stale or
    mangled after_key would page on from another place. The after_key as given is followed."""
    query, page = _first_composite_page(client, estate)
    assert len(page["buckets"]) == 3 and set(page["after_key"]) == {
        "service",
        "environment",
        "level",
        "severity",
        "hour",
    }
    followed = client("elasticsearch").post("/logs-*/_search", json=_with_after(query, page["after_key"]))
    assert followed.status_code == 200 and followed.json()["aggregations"][AGGREGATION]["buckets"]
    refused = client("elasticsearch").post("/logs-*/_search", json=_with_after(query, change(page["after_key"])))
    assert refused.status_code == 400
    error = refused.json()
    assert error["status"] == 400 and error["error"]["type"] == "illegal_argument_exception"
    assert error["error"]["reason"] == reason
    assert error["error"]["root_cause"] == [{"type": "illegal_argument_exception", "reason": reason}]
