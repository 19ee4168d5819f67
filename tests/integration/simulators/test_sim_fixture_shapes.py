"""Every real payload in ../shared/fixtures has a simulator twin with the same keys and JSON value types."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulators.estate import Estate
from simulators.serve import RunningSimulators

pytestmark = pytest.mark.simulators
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures"
Client = Callable[[str], httpx.Client]
SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch")
# Maps whose keys are data, not schema: compare value types only.
FREE_FORM = {"metadata.annotations", "metadata.labels"}
# Request bodies published beside the responses; the requests below send them.
REQUEST_FIXTURES = {
    "elasticsearch/count_request__spec_example.json",
    "elasticsearch/search_request__bool_filter_range_terms_date_histogram__grafana.json",
}
# Fields another fixture or the contract shows as null for the same object: a null answer is within the contract.
NULLABLE = {
    "rootCauseEntity",  # null in dynatrace/problem_v2__open_endTime_minus1_with_evidence.json
    "deployable",  # GitLab's, for a deployment created through the API (source-contracts.md §4)
}
NOT_REPRODUCED = {
    "dynatrace/slo_v2__get_by_id_older.json": "older tenants' SLO shape (targetSuccess, timeWindow, stray 'Warning'); "
    "the simulator serves the newer shape, compared with slo_v2__get_by_id_newer.json",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return {str: "str", dict: "dict", list: "list"}[type(value)]


def _is_reference(value: Any) -> bool:
    return isinstance(value, dict) and set(value) <= {"link", "value", "display_value"}


def shape_errors(samples: list[Any], actual: Any, path: str, servicenow: bool) -> list[str]:
    """Check `actual` against every fixture sample found at the same path (list items are pooled)."""
    kinds = {_kind(s) for s in samples}
    got = _kind(actual)
    if got == "null":
        if "null" in kinds or path.rpartition(".")[2] in NULLABLE:
            return []
        return [f"{path}: null where the fixture has {sorted(kinds)}"]
    # ServiceNow writes an empty reference as "": a reference object and "" are the same field.
    if servicenow and (
        ("str" in kinds and _is_reference(actual)) or (actual == "" and any(_is_reference(s) for s in samples))
    ):
        return []
    if got not in kinds and "null" not in kinds:
        return [f"{path}: {got} where the fixture has {sorted(kinds)}"]
    errors: list[str] = []
    if got == "dict":
        dicts = [s for s in samples if isinstance(s, dict)]
        if dicts and path.lstrip(".") not in FREE_FORM:
            required = set.intersection(*(set(d) for d in dicts))
            errors += [f"{path}.{key}: missing" for key in sorted(required - set(actual))]
            for key in sorted(set(actual) & set().union(*dicts)):
                errors += shape_errors([d[key] for d in dicts if key in d], actual[key], f"{path}.{key}", servicenow)
        elif dicts:
            values = [v for d in dicts for v in d.values()]
            for key, value in actual.items():
                errors += shape_errors(values, value, f"{path}.{key}", servicenow)
    elif got == "list":
        items = [item for s in samples if isinstance(s, list) for item in s]
        if items and not actual and any(isinstance(i, dict) for i in items):
            errors.append(f"{path}: empty list where the fixture has records (nothing to compare)")
        if items:
            for item in actual:
                errors += shape_errors(items, item, f"{path}[]", servicenow)
    return errors


# --- the equivalent requests ---------------------------------------------------------------------------------
def _gitlab_component(estate: Estate) -> Any:
    return max(
        (c for c in estate.components if c.deploy_tool == "gitlab"),
        key=lambda c: sum(d.component == c.name for d in estate.deployments),
    )


def _gitlab_deployment(estate: Estate) -> Any:
    comp = _gitlab_component(estate)
    return comp, next(
        d
        for d in reversed(estate.deployments)
        if d.component == comp.name and not d.failed and d.merge_request_ids and not d.jobless
    )


def _problem_with_open_first(estate: Estate) -> Any:
    problems = estate.dynatrace_problems
    return next((p for p in problems if p.end_ms == -1), problems[-1])


def _grafana_request(estate: Estate) -> dict[str, Any]:
    body = json.loads(
        (FIXTURES / "elasticsearch/search_request__bool_filter_range_terms_date_histogram__grafana.json").read_text()
    )
    text = json.dumps(body).replace('"testtime"', '"@timestamp"').replace('"label"', '"service.name"')
    request = json.loads(text)
    end_ms = estate.end_s * 1000
    request["query"]["bool"]["filter"]["range"]["@timestamp"].update({"gte": end_ms - 3_600_000, "lte": end_ms})
    request["aggs"]["3"]["aggs"]["2"]["date_histogram"]["extended_bounds"] = {"min": end_ms - 3_600_000, "max": end_ms}
    return request


def _msearch(c: Client, body: dict[str, Any]) -> httpx.Response:
    lines = json.dumps({"index": "logs-*"}) + "\n" + json.dumps(body) + "\n"
    return c("elasticsearch").post("/_msearch", content=lines, headers={"Content-Type": "application/x-ndjson"})


Request = Callable[[Client, Estate, RunningSimulators], httpx.Response]


def _metrics(selector: str, resolution: str = "10m", **extra: str) -> Request:
    def call(c: Client, estate: Estate, sims: RunningSimulators) -> httpx.Response:
        params = {"metricSelector": selector, "resolution": resolution, "from": "now-1d", **extra}
        return c("dynatrace").get("/api/v2/metrics/query", params=params)

    return call


REQUESTS: dict[str, Request] = {
    # Dynatrace
    "dynatrace/entities_v2__list.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/entities", params={"entitySelector": "type(SERVICE)"}
    ),
    "dynatrace/error__400_constraints_violated.json": lambda c, e, s: c("dynatrace").get("/api/v2/metrics/query"),
    "dynatrace/metric_descriptor__request_count_total_Count.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/metrics/builtin:service.requestCount.total"
    ),
    "dynatrace/metric_descriptor__response_time_MicroSecond.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/metrics/builtin:service.response.time"
    ),
    "dynatrace/metric_descriptor__response_time_p95_MicroSecond.json": lambda c, e, s: c("dynatrace").get(
        '/api/v2/metrics/builtin:service.response.time:merge("dt.entity.service"):percentile(95)'
    ),
    "dynatrace/metrics_query__empty_with_warnings.json": _metrics(
        'builtin:service.response.time:merge("dt.entity.services"):percentile(95)'
    ),
    "dynatrace/metrics_query__errors_ratio_expression_docs.json": _metrics(
        "builtin:service.errors.total.count/(builtin:service.errors.total.count"
        "+builtin:service.errors.total.successCount)",
        "1d",
        **{"from": "now-3d"},
    ),
    "dynatrace/metrics_query__errors_total_count_2_services_docs.json": _metrics(
        "builtin:service.errors.total.count", "1d", **{"from": "now-3d"}
    ),
    "dynatrace/metrics_query__request_count_total_10m.json": _metrics(
        "builtin:service.requestCount.total:splitBy():value:names"
    ),
    "dynatrace/metrics_query__response_time_avg_split_by_service_names_with_nulls_10m.json": _metrics(
        'builtin:service.response.time:splitBy("dt.entity.service"):avg:names'
    ),
    "dynatrace/metrics_query__response_time_by_service_resolution_inf.json": _metrics(
        "builtin:service.response.time", "Inf"
    ),
    "dynatrace/metrics_query__response_time_p95_3_services_10m.json": _metrics(
        "builtin:service.response.time:percentile(95)"
    ),
    "dynatrace/metrics_query__response_time_p95_merged_1h.json": _metrics(
        'builtin:service.response.time:merge("dt.entity.service"):percentile(95)', "1h"
    ),
    "dynatrace/problem_v2__open_endTime_minus1_with_evidence.json": lambda c, e, s: c("dynatrace").get(
        f"/api/v2/problems/{_problem_with_open_first(e).problem_id}"
    ),
    "dynatrace/problems_v2__list_empty_page.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/problems", params={"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"}
    ),
    "dynatrace/problems_v2__list_one_closed.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/problems", params={"problemSelector": 'status("closed")', "from": "now-21d", "pageSize": "1"}
    ),
    "dynatrace/securityproblems_v2__nextPageKey_only.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/problems", params={"from": "now-21d", "pageSize": "1"}
    ),
    "dynatrace/slo_v2__get_by_id_newer.json": lambda c, e, s: c("dynatrace").get(
        "/api/v2/slo/" + c("dynatrace").get("/api/v2/slo").json()["slo"][0]["id"]
    ),
    # ServiceNow
    "servicenow/error__429_rate_limit_exceeded_docs.json": lambda c, e, s: c("servicenow-429").get(
        "/api/now/table/incident"
    ),
    "servicenow/sn_chg_rest_change__get_by_sys_id_display_value_pairs_docs.json": lambda c, e, s: c("servicenow").get(
        "/api/sn_chg_rest/change/" + next(ch.sys_id for ch in e.changes if ch.close_code == "successful")
    ),
    "servicenow/table_incident__get_by_sys_id_docs.json": lambda c, e, s: c("servicenow").get(
        f"/api/now/table/incident/{e.incidents[0].sys_id}"
    ),
    "servicenow/table_problem__list_limit1_docs.json": lambda c, e, s: c("servicenow").get(
        "/api/now/table/problem", params={"sysparm_limit": "1"}
    ),
    "servicenow/table_sys_user_has_role__display_value_true_dotwalk_docs.json": lambda c, e, s: c("servicenow").get(
        "/api/now/table/sys_user_has_role",
        params={
            "sysparm_display_value": "true",
            "sysparm_fields": "user.name,user.sys_id,role.name,user.department,role,user",
        },
    ),
    # Argo CD
    "argocd/application__live_velero-test__converted.json": lambda c, e, s: c("argocd").get(
        "/api/v1/applications/"
        + max(
            (comp for comp in e.components if comp.deploy_tool == "argocd"),
            key=lambda comp: sum(d.component == comp.name for d in e.deployments),
        ).argo_app
    ),
    # GitLab
    "gitlab/deployments__list_docs.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_component(e).gitlab_project_id}/deployments"
    ),
    "gitlab/deployment__single_docs.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_deployment(e)[0].gitlab_project_id}/deployments/{_gitlab_deployment(e)[1].id}"
    ),
    "gitlab/deployment_merge_requests__gitlab_com_real_go-gitlab.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_deployment(e)[0].gitlab_project_id}/deployments/{_gitlab_deployment(e)[1].id}/merge_requests"
    ),
    "gitlab/pipelines__list_docs.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_component(e).gitlab_project_id}/pipelines"
    ),
    "gitlab/pipeline__single_docs.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_component(e).gitlab_project_id}/pipelines/{_gitlab_deployment(e)[1].pipeline_id}"
    ),
    "gitlab/merge_requests__project_list_merged_docs.json": lambda c, e, s: c("gitlab").get(
        f"/api/v4/projects/{_gitlab_component(e).gitlab_project_id}/merge_requests", params={"state": "merged"}
    ),
    # Elasticsearch
    "elasticsearch/count_response__spec_example.json": lambda c, e, s: c("elasticsearch").post(
        "/logs-*/_count",
        content=(FIXTURES / "elasticsearch/count_request__spec_example.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    ),
    "elasticsearch/search_response__hits_spec_example.json": lambda c, e, s: c("elasticsearch").post(
        "/logs-*/_search", json={"size": 1, "query": {"match_all": {}}}
    ),
    "elasticsearch/msearch_response__terms_date_histogram__grafana.json": lambda c, e, s: _msearch(
        c, _grafana_request(e)
    ),
    "elasticsearch/msearch_response__date_histogram_avg__grafana.json": lambda c, e, s: _msearch(
        c,
        {
            "size": 0,
            "query": {
                "bool": {
                    "filter": {
                        "range": {
                            "@timestamp": {
                                "gte": e.end_s * 1000 - 600_000,
                                "lte": e.end_s * 1000,
                                "format": "epoch_millis",
                            }
                        }
                    }
                }
            },
            "aggs": {
                "2": {
                    "date_histogram": {
                        "field": "@timestamp",
                        "fixed_interval": "1m",
                        "min_doc_count": 0,
                        "format": "epoch_millis",
                    },
                    "aggs": {"1": {"avg": {"field": "event.duration"}}},
                }
            },
        },
    ),
}


def _json_fixtures() -> list[str]:
    found = []
    for source in SOURCES:
        for path in sorted((FIXTURES / source).glob("*.json")):
            if not path.name.startswith("swagger"):
                found.append(f"{source}/{path.name}")
    return found


def test_every_json_fixture_has_an_equivalent_request() -> None:
    fixtures = set(_json_fixtures())
    assert fixtures, f"no fixtures found under {FIXTURES}"
    covered = set(REQUESTS) | REQUEST_FIXTURES | set(NOT_REPRODUCED)
    assert fixtures - covered == set(), "fixtures without an equivalent simulator request"
    assert covered - fixtures == set(), "requests for fixtures that do not exist"


# Request bodies are sent by the requests of the response fixtures; NOT_REPRODUCED says why each other
# fixture has no equivalent (the coverage test above keeps both lists exact).
RESPONSE_FIXTURES = [f for f in _json_fixtures() if f not in REQUEST_FIXTURES and f not in NOT_REPRODUCED]


@pytest.mark.parametrize("fixture", RESPONSE_FIXTURES)
def test_simulator_answer_has_the_fixture_shape(
    fixture: str, client: Client, estate: Estate, sims: RunningSimulators, faulty: Any, connect: Any
) -> None:
    expected = json.loads((FIXTURES / fixture).read_text())

    def clients(source: str) -> httpx.Client:
        if source == "servicenow-429":
            limited = faulty({"servicenow": {"rate_limit": 1.0, "retry_after": 2}})
            return connect(limited, "servicenow")
        return client(source)

    response = REQUESTS[fixture](clients, estate, sims)
    if fixture.startswith("dynatrace/error__400"):
        assert response.status_code == 400
    elif fixture.startswith("servicenow/error__429"):
        assert response.status_code == 429 and response.headers["Retry-After"] == "2"
    else:
        assert response.status_code == 200, response.text[:300]
    errors = shape_errors([expected], response.json(), "", servicenow=fixture.startswith("servicenow/"))
    assert errors == []


def test_the_shape_check_itself_catches_differences() -> None:
    fixture = {"a": 1, "b": {"c": "x"}, "d": [{"e": 1, "f": None}, {"e": 2}]}
    assert shape_errors([fixture], {"a": 2, "b": {"c": "y", "z": 1}, "d": [{"e": 3, "f": "s"}]}, "", False) == []
    assert shape_errors([fixture], {"a": "2", "b": {"c": "y"}, "d": []}, "", False) == [
        ".a: str where the fixture has ['number']",
        ".d: empty list where the fixture has records (nothing to compare)",
    ]
    assert shape_errors([fixture], {"a": 1, "b": {}, "d": [{"f": 1}]}, "", False) == [
        ".b.c: missing",
        ".d[].e: missing",
    ]
    assert shape_errors([{"ref": ""}], {"ref": {"link": "l", "value": "v"}}, "", True) == []


def test_fixture_folder_is_the_shared_one(fixtures_dir: Path) -> None:
    assert (FIXTURES / "SOURCES.md").is_file()
    assert FIXTURES.resolve() == fixtures_dir.resolve()


@pytest.mark.parametrize("resolution", ["10m", "1h", "1d"])
def test_request_counts_are_whole_numbers_at_every_resolution(client: Client, resolution: str) -> None:
    """builtin:service.requestCount.total is a Count (descriptor unit Count): every slot holds a whole number of
    requests, as in the real 10m answer. Hourly slots came as 3721.79 requests, and so did the hours a user reads."""
    real = json.loads((FIXTURES / "dynatrace/metrics_query__request_count_total_10m.json").read_text())
    real_values = [v for series in real["result"][0]["data"] for v in series["values"] if v is not None]
    assert real_values and all(float(v).is_integer() for v in real_values)
    params = {
        "metricSelector": "builtin:service.requestCount.total",
        "entitySelector": "type(SERVICE)",
        "resolution": resolution,
        "from": "now-3d",
    }
    body = client("dynatrace").get("/api/v2/metrics/query", params=params).json()
    values = [v for series in body["result"][0]["data"] for v in series["values"] if v is not None]
    assert values
    assert [v for v in values if not float(v).is_integer()] == []
