"""What the APIs say agrees with the estate's truth: the basis for checking KPIs computed from them."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulators.estate import Estate
from simulators.model import PRODUCTION

pytestmark = pytest.mark.simulators
Client = Callable[[str], httpx.Client]


def _all_pages(gl: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items, page = [], "1"
    while page:
        response = gl.get(path, params={**params, "page": page, "per_page": 100})
        items += response.json()
        page = response.headers["x-next-page"]
    return items


def test_gitlab_production_deployments_equal_the_truth(client: Client, estate: Estate) -> None:
    gl = client("gitlab")
    checked = 0
    for app in estate.applications:
        truth = [d for d in estate.truth.deployments_of(app.id) if d.origin == "gitlab"]
        found = []
        for comp in app.components:
            if comp.deploy_tool == "gitlab":
                found += _all_pages(
                    gl, f"/api/v4/projects/{comp.gitlab_project_id}/deployments", {"environment": "production"}
                )
        assert sorted(d["id"] for d in found) == sorted(d.id for d in truth)
        failed = {d["id"] for d in found if d["status"] == "failed"}
        assert failed == {d.id for d in truth if d.failed}
        checked += len(found)
    assert checked > 10


def test_green_pipelines_outnumber_deployments(client: Client, estate: Estate) -> None:
    comp = next(
        c
        for c in estate.components
        if c.deploy_tool == "gitlab" and any(d.component == c.name for d in estate.truth.deployments)
    )
    gl = client("gitlab")
    green = _all_pages(gl, f"/api/v4/projects/{comp.gitlab_project_id}/pipelines", {"status": "success", "ref": "main"})
    deployments = _all_pages(
        gl, f"/api/v4/projects/{comp.gitlab_project_id}/deployments", {"environment": "production", "status": "success"}
    )
    assert len(green) > len(deployments) > 0


def test_argocd_history_is_the_last_ten_successful_syncs(client: Client, estate: Estate) -> None:
    argo = client("argocd")
    items = argo.get("/api/v1/applications", params={"selector": "environment=production"}).json()["items"]
    assert items and all(i["metadata"]["name"].endswith("-prod") for i in items)
    truncated = 0
    for item in items:
        comp = item["metadata"]["labels"]["rosetta.io/component"]
        syncs = [d for d in estate.deployments if d.component == comp and d.environment == PRODUCTION]
        successes = [d for d in syncs if not d.failed][-10:]
        history = item["status"]["history"]
        assert [h["id"] for h in history] == [d.history_id for d in successes]
        assert [h["revision"] for h in history] == [d.revision for d in successes]
        assert [h["id"] for h in history] == sorted(h["id"] for h in history)
        if syncs:
            last = syncs[-1]
            assert item["status"]["operationState"]["phase"] == ("Failed" if last.failed else "Succeeded")
            assert item["status"]["operationState"]["finishedAt"] == last.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        truncated += len([d for d in syncs if not d.failed]) > 10
    assert truncated, "some applications deploy more often than the history keeps"


def test_servicenow_incidents_equal_the_truth(client: Client, estate: Estate) -> None:
    sn = client("servicenow")
    for app in estate.applications[:3]:
        cis = [app.ci_sys_id, *(c.ci_sys_id for c in app.components)]
        response = sn.get(
            "/api/now/table/incident",
            params={
                "sysparm_query": f"cmdb_ciIN{','.join(cis)}^ORDERBYopened_at",
                "sysparm_fields": "number,opened_at,resolved_at,closed_at,priority,caused_by.number",
            },
        )
        found = response.json()["result"]
        truth = estate.truth.incidents_of(app.id)
        assert int(response.headers["X-Total-Count"]) == len(truth)
        by_number = {i.number: i for i in truth}
        for row in found:
            incident = by_number[row["number"]]
            assert row["opened_at"] == incident.opened_at.strftime("%Y-%m-%d %H:%M:%S")
            assert row["resolved_at"] == (
                incident.resolved_at.strftime("%Y-%m-%d %H:%M:%S") if incident.resolved_at else ""
            )
            assert row["priority"] == str(incident.priority)
            assert bool(row["caused_by.number"]) == (incident.caused_by is not None)


def test_deployment_caused_incidents_point_at_the_change_of_that_deployment(client: Client, estate: Estate) -> None:
    sn = client("servicenow")
    rows = sn.get(
        "/api/now/table/incident",
        params={"sysparm_query": "caused_byISNOTEMPTY", "sysparm_fields": "number,caused_by.number"},
    ).json()["result"]
    deployments = {d.caused_incident: d for d in estate.truth.deployments if d.caused_incident}
    assert {r["number"] for r in rows} == set(deployments)
    for row in rows:
        assert row["caused_by.number"] == deployments[row["number"]].change_number


def test_error_logs_rise_during_dynatrace_problems(client: Client, estate: Estate) -> None:
    es = client("elasticsearch")

    def errors(comp_name: str, app: str, start: int, span: int) -> int:
        query = {
            "bool": {
                "filter": [
                    {"range": {"@timestamp": {"gte": start, "lt": start + span, "format": "epoch_millis"}}},
                    {"term": {"service.name": comp_name}},
                    {"term": {"deployment.environment": "production"}},
                    {"term": {"log.level": "ERROR"}},
                ]
            }
        }
        return int(es.post(f"/logs-{app}-*/_count", json={"query": query}).json()["count"])

    compared = 0
    for problem in estate.dynatrace_problems:
        if problem.end_ms == -1 or problem.start_ms - 86_400_000 < estate.start_s * 1000:
            continue
        comp = estate.components[problem.component_index]
        if comp.traffic.night_idle:
            continue  # batch-like services may see no traffic at all while a problem is open
        span = min(problem.end_ms - problem.start_ms, 3_600_000)
        day_before = problem.start_ms - 86_400_000
        # Compare with the same time the day before, when the service was calm.
        if any(
            d.component_index == comp.index and d.start_s * 1000 < day_before + span and d.end_s * 1000 > day_before
            for d in estate.degradations
        ):
            continue
        assert errors(comp.name, comp.app, problem.start_ms, span) > 2 * max(
            1, errors(comp.name, comp.app, day_before, span)
        )
        compared += 1
    assert compared >= 3


def test_dynatrace_tags_and_catalog_annotations_agree(client: Client, estate: Estate) -> None:
    dt = client("dynatrace")
    app = estate.applications[0]
    entities = dt.get(
        "/api/v2/entities",
        params={"entitySelector": f'type(SERVICE),tag("app:{app.id}"),tag("environment:production")'},
    ).json()["entities"]
    assert {e["entityId"] for e in entities} == {c.service_id for c in app.components}
    staging = dt.get("/api/v2/entities", params={"entitySelector": f'type(SERVICE),tag("app:{app.id}")'}).json()
    assert staging["totalCount"] == sum(len(c.environments()) for c in app.components)


def test_gitlab_fast_forward_merges_come_without_a_merge_commit(client: Client, estate: Estate) -> None:
    """GitLab's own merged-list example has merge_commit_sha and squash_commit_sha null: a project merging by
    fast-forward puts the request's head commit on the branch as it is. Such projects exist in the estate, and a
    deployment of theirs ships the head `sha` of one of the requests GitLab links to it (a merge commit elsewhere)."""
    gl = client("gitlab")
    fast_forward, checked = 0, 0
    for comp in (c for c in estate.components if c.deploy_tool == "gitlab"):
        project = f"/api/v4/projects/{comp.gitlab_project_id}"
        merged = _all_pages(gl, f"{project}/merge_requests", {"state": "merged"})
        without = [m for m in merged if m["merge_commit_sha"] is None and m["squash_commit_sha"] is None]
        assert without in ([], merged)  # a project merges one way
        fast_forward += bool(without)
        shipped = _all_pages(gl, f"{project}/deployments", {"environment": "production", "status": "success"})
        for deployment in shipped:
            listed = _all_pages(gl, f"{project}/deployments/{deployment['id']}/merge_requests", {})
            if listed:
                landed = {m["sha"] if without else m["merge_commit_sha"] for m in listed}
                assert deployment["sha"] in landed
                checked += 1
    assert fast_forward > 0 and checked > 0


def test_dynatrace_services_reach_their_containers_through_process_instances(client: Client, estate: Estate) -> None:
    """Dynatrace links a service to the process group instances it runs on (runsOnProcessGroupInstance, the
    relationship keptn selects them by in requests__real_query_strings.txt), and a process group instance to its
    container (isPgiOfCgi); a service runsOn its process group, never a container. Followed hop by hop, each
    production service ends at its component's container, as the estate knows it."""
    dt = client("dynatrace")
    services = dt.get(
        "/api/v2/entities", params={"entitySelector": "type(SERVICE)", "fields": "+fromRelationships", "pageSize": 500}
    ).json()["entities"]
    reached = {}
    for service in services:
        outgoing = service["fromRelationships"]
        assert {t["type"] for t in outgoing["runsOn"]} == {"PROCESS_GROUP"}
        (process,) = outgoing["runsOnProcessGroupInstance"]
        assert process["type"] == "PROCESS_GROUP_INSTANCE"
        instance = dt.get(
            "/api/v2/entities",
            params={
                "entitySelector": f'type(PROCESS_GROUP_INSTANCE),entityId("{process["id"]}")',
                "fields": "+fromRelationships",
            },
        ).json()["entities"]
        (container,) = instance[0]["fromRelationships"]["isPgiOfCgi"]
        reached[service["entityId"]] = container["id"]
    for comp in estate.components:
        assert reached[comp.service_id] == comp.container_id


def test_argocd_shows_a_sync_running_while_it_runs(
    faulty: Callable[[dict[str, object]], Any], connect: Callable[..., httpx.Client], estate: Estate
) -> None:
    """ArgoCD's present while a sync runs: its operationState is that sync, phase Running, started, not finished
    (no finishedAt), the application OutOfSync on the revision being synced and Progressing; the history gains
    the sync once it succeeds. The simulator showed only finished syncs, so a poll during a sync read the one
    before it as the application's last operation, and a collector's handling of a running sync could not be
    tried. Polled 60 s into the last successful production sync, then 1 s after it ended."""
    from functions.ingest_deploys import parse

    sims = faulty({})
    argo = connect(sims, "argocd")
    sync = next(
        d for d in reversed(estate.deployments) if d.origin == "argocd" and d.environment == PRODUCTION and not d.failed
    )
    name = next(c.argo_app for c in estate.components if c.name == sync.component)
    sims.set_argocd_clock(datetime.fromtimestamp(sync.started_s + 60, UTC))
    status = argo.get(f"/api/v1/applications/{name}").json()["status"]
    operation = status["operationState"]
    assert operation["phase"] == "Running" and "finishedAt" not in operation
    assert operation["startedAt"] == datetime.fromtimestamp(sync.started_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert operation["operation"]["sync"]["revision"] == sync.revision
    assert (status["sync"]["status"], status["sync"]["revision"]) == ("OutOfSync", sync.revision)
    assert status["health"]["status"] == "Progressing"
    assert sync.history_id not in [h["id"] for h in status["history"]]
    page = {"items": [argo.get(f"/api/v1/applications/{name}").json()]}
    (row,) = (
        parse.parse_applications_page(page, {"observed_at": datetime.now(UTC)})
        .tables[parse.SYNC_OPERATIONS]
        .to_pylist()
    )
    assert (row["phase"], row["finished_at"], row["revision"]) == ("Running", None, sync.revision)
    sims.set_argocd_clock(datetime.fromtimestamp(sync.finished_s + 1, UTC))
    status = argo.get(f"/api/v1/applications/{name}").json()["status"]
    assert status["operationState"]["phase"] == "Succeeded" and status["history"][-1]["id"] == sync.history_id


def test_gitlab_takes_a_project_by_its_url_encoded_path(client: Client, estate: Estate) -> None:
    """GitLab's `:id` is the numeric id or the URL-encoded path (/projects/group%2Fproject, source contract §4), the
    path found without regard to case; a path it does not know is its 404 "Project Not Found". The server decoded
    %2F into the path's slashes, so no route matched (a framework 404, not GitLab's). By hand: the project and its
    deployments read by path are those read by id; an unknown path answers {"message": "404 Project Not Found"}."""
    gl = client("gitlab")
    comp = next(c for c in estate.components if c.deploy_tool == "gitlab")
    encoded = comp.gitlab_path.upper().replace("/", "%2F")
    by_path = gl.get(f"/api/v4/projects/{encoded}")
    assert by_path.status_code == 200, by_path.text
    assert (by_path.json()["id"], by_path.json()["path_with_namespace"]) == (comp.gitlab_project_id, comp.gitlab_path)
    listed = gl.get(f"/api/v4/projects/{encoded}/deployments", params={"per_page": 100})
    assert (
        listed.json()
        == gl.get(f"/api/v4/projects/{comp.gitlab_project_id}/deployments", params={"per_page": 100}).json()
    )
    unknown = gl.get("/api/v4/projects/nobody%2Fnothing")
    assert (unknown.status_code, unknown.json()) == (404, {"message": "404 Project Not Found"})
