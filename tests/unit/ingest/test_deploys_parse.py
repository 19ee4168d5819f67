"""ArgoCD and GitLab parsers on real payloads: history ids and times, operations, deployable finish times; what a
GitLab run fetches from those pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from functions.ingest_deploys import parse
from functions.ingest_deploys.client import GitLabClient
from functions.ingest_deploys.events import EVENTS
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.mapping_pivots import argocd_apps
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingEntry, MappingStore
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES

OBSERVED = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
ENTRY = MappingEntry(entity_id="velero", kind="application", argocd_app_name="velero-test")


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_argocd_application_history_status_and_operation() -> None:
    result = parse.parse_applications_page(
        load("argocd/application__live_velero-test__converted.json"), {"observed_at": OBSERVED}
    )
    history = result.tables[parse.HISTORY].to_pylist()
    # revisionHistoryLimit 10: ids 14..23, all deploying one SHA (a deployment is an entry, not a SHA).
    assert [h["history_id"] for h in history] == list(range(14, 24))
    assert {h["revision"] for h in history} == {"ea8759964626a583667a2bfd08f334ec2070040a"}
    assert history[0]["deploy_started_at"] == datetime(2024, 3, 4, 22, 0, 5, tzinfo=UTC)
    assert history[0]["deployed_at"] == datetime(2024, 3, 4, 22, 0, 6, tzinfo=UTC)
    assert history[0]["repo_url"] == "https://github.com/foo/manifests-velero.git"
    (status,) = result.tables[parse.APP_STATUS].to_pylist()
    assert status["sync_status"] == "Synced" and status["health_status"] == "Healthy"
    assert status["reconciled_at"] == datetime(2024, 3, 5, 7, 33, 4, tzinfo=UTC)
    assert status["dest_server"] == "gke-alpha-01-europe-west1" and status["observed_at"] == OBSERVED
    (operation,) = result.tables[parse.SYNC_OPERATIONS].to_pylist()
    assert operation["phase"] == "Succeeded" and operation["initiated_by"] == "foo@example.com"
    assert operation["started_at"] == datetime(2024, 3, 5, 7, 33, 3, tzinfo=UTC)


def test_argocd_history_that_does_not_say_who_deployed_is_not_read_as_a_manual_deployment_by_nobody() -> None:
    """The fixture's ArgoCD writes no initiatedBy in its history entries: each was stored as started by "" and not
    automated, a claim the source never made (a share of automated deployments read 0 %). Unknown stays unknown;
    the last operation, which says, keeps its user; an entry that says it was automated is so."""
    app = load("argocd/application__live_velero-test__converted.json")
    app["status"]["history"][-1]["initiatedBy"] = {"automated": True}
    result = parse.parse_applications_page(app, {"observed_at": OBSERVED})
    history = result.tables[parse.HISTORY].to_pylist()
    assert {(h["initiated_by"], h["automated"]) for h in history[:-1]} == {(None, None)}
    assert (history[-1]["initiated_by"], history[-1]["automated"]) == ("", True)
    (operation,) = result.tables[parse.SYNC_OPERATIONS].to_pylist()
    assert (operation["initiated_by"], operation["automated"]) == ("foo@example.com", False)


def test_argocd_keeps_only_mapped_apps_and_rejects_broken_ones() -> None:
    app = load("argocd/application__live_velero-test__converted.json")
    broken = json.loads(json.dumps(app))
    broken["metadata"]["name"] = "broken"
    broken["status"]["history"][0]["deployedAt"] = "2024-03-04 22:00:06"  # no zone: ambiguous
    other = json.loads(json.dumps(app))
    other["metadata"]["name"] = "not-mapped"
    result = parse.parse_applications_page(
        {"items": [app, broken, other]}, {"observed_at": OBSERVED, "apps": {"velero-test": None, "broken": None}}
    )
    # The broken entry (id 14 of "broken") is set aside alone: both mapped apps keep their status rows.
    assert result.tables[parse.APP_STATUS].column("app_name").to_pylist() == ["velero-test", "broken"]
    assert len(result.tables[parse.HISTORY]) == 10 + 9
    (reject,) = result.rejects
    assert reject.dataset == parse.HISTORY and "'broken'" in reject.reason and "time zone" in reject.reason


def test_argocd_a_mapped_app_the_listing_lacks_is_a_reject_naming_it() -> None:
    """A mapped name ArgoCD does not list (a typo, an application deleted or renamed, or one the token may not see:
    ArgoCD leaves those out rather than refuse) gave no row and no word: the application showed no deployment,
    as if it had none. As for a GitLab project gone, it is a reject naming it; the listed one is read."""
    app = load("argocd/application__live_velero-test__converted.json")
    wanted = {"velero-test": None, "velero-prod": None, "velero-team": "team-b"}
    result = parse.parse_applications_page({"items": [app]}, {"observed_at": OBSERVED, "apps": wanted})
    assert result.tables[parse.APP_STATUS].column("app_name").to_pylist() == ["velero-test"]
    assert [(r.index, r.raw) for r in result.rejects] == [
        (None, {"argocd_app_name": "velero-prod"}),
        (None, {"argocd_app_name": "velero-team", "argocd_app_namespace": "team-b"}),
    ]
    assert "'velero-prod' is not in ArgoCD's listing" in result.rejects[0].reason
    assert "'velero-team' is not in ArgoCD's listing in namespace team-b" in result.rejects[1].reason


def test_argocd_an_app_with_a_wrongly_typed_field_is_rejected_alone() -> None:
    """An application whose health status came as a number failed the listing: every app's status was lost."""
    app = load("argocd/application__live_velero-test__converted.json")
    broken = json.loads(json.dumps(app))
    broken["metadata"]["name"] = "broken"
    broken["status"]["health"]["status"] = 1
    result = parse.parse_applications_page({"items": [app, broken]}, {"observed_at": OBSERVED})
    assert result.tables[parse.APP_STATUS].column("app_name").to_pylist() == ["velero-test"]
    # Only the broken app's status row is set aside: its history (ids 14..23) and operation are kept with the other's.
    assert len(result.tables[parse.HISTORY]) == 20 and len(result.tables[parse.SYNC_OPERATIONS]) == 2
    (reject,) = result.rejects
    assert reject.index == 1 and "health_status should be string" in reject.reason


def _twin_in(namespace: str) -> dict[str, Any]:
    """The fixture's application (namespace argo-cd, ArgoCD's own) under the same name in another namespace, with a
    history of its own: ArgoCD's applications in any namespace lets a team's namespace hold one."""
    twin = json.loads(json.dumps(load("argocd/application__live_velero-test__converted.json")))
    twin["metadata"]["namespace"] = namespace
    twin["status"]["history"] = [{**twin["status"]["history"][-1], "id": 3, "revision": "b" * 40}]
    return twin


def test_argocd_an_app_named_without_namespace_is_the_one_in_argocds_own_namespace() -> None:
    """Two applications named velero-test, in argo-cd (ArgoCD's own namespace) and team-b: both were kept for the
    one mapped name, so their histories and statuses mixed under it."""
    app = load("argocd/application__live_velero-test__converted.json")
    result = parse.parse_applications_page(
        {"items": [_twin_in("team-b"), app]}, {"observed_at": OBSERVED, "apps": argocd_apps((ENTRY,))}
    )
    assert len(result.tables[parse.APP_STATUS]) == 1
    history = result.tables[parse.HISTORY].to_pylist()
    assert [h["history_id"] for h in history] == list(range(14, 24))  # the fixture's own ids, not team-b's 3
    assert result.rejects == []


def test_argocd_the_mappings_namespace_picks_the_app_of_that_name() -> None:
    app = load("argocd/application__live_velero-test__converted.json")
    entry = ENTRY.model_copy(update={"argocd_app_namespace": "team-b"})
    result = parse.parse_applications_page(
        {"items": [app, _twin_in("team-b")]}, {"observed_at": OBSERVED, "apps": argocd_apps((entry,))}
    )
    history = result.tables[parse.HISTORY].to_pylist()
    assert [(h["history_id"], h["revision"]) for h in history] == [(3, "b" * 40)]
    assert len(result.tables[parse.APP_STATUS]) == 1 and result.rejects == []


def test_argocd_one_name_in_two_team_namespaces_without_the_mappings_namespace_is_a_reject() -> None:
    """Neither is ArgoCD's own: nothing says which one the mapping means, so neither is read as it."""
    result = parse.parse_applications_page(
        {"items": [_twin_in("team-a"), _twin_in("team-b")]},
        {"observed_at": OBSERVED, "apps": argocd_apps((ENTRY,))},
    )
    assert len(result.tables[parse.APP_STATUS]) == 0 and len(result.tables[parse.HISTORY]) == 0
    assert [r.index for r in result.rejects] == [0, 1]
    assert "team-a, team-b" in result.rejects[0].reason and "argocd/app-namespace" in result.rejects[0].reason


def test_argocd_a_mapped_app_whose_status_is_not_an_object_is_rejected_alone() -> None:
    """Choosing among same-named applications read each one's status.controllerNamespace before the parser's
    guard: a status sent as a number failed the whole listing."""
    app = load("argocd/application__live_velero-test__converted.json")
    broken = {**_twin_in("team-b"), "metadata": {**app["metadata"], "name": "broken"}, "status": 5}
    result = parse.parse_applications_page(
        {"items": [app, broken]}, {"observed_at": OBSERVED, "apps": {"velero-test": None, "broken": None}}
    )
    assert result.tables[parse.APP_STATUS].column("app_name").to_pylist() == ["velero-test"]
    (reject,) = result.rejects
    assert reject.index == 1 and "AttributeError" in reject.reason


def test_argocd_an_app_outside_argocds_namespace_is_found_by_its_name_alone_when_it_is_the_only_one() -> None:
    result = parse.parse_applications_page(
        {"items": [_twin_in("team-b")]}, {"observed_at": OBSERVED, "apps": argocd_apps((ENTRY,))}
    )
    assert [h["history_id"] for h in result.tables[parse.HISTORY].to_pylist()] == [3]


def test_gitlab_deployment_finish_is_the_deploying_job() -> None:
    result = parse.parse_deployments_page(load("gitlab/deployments__list_docs.json"), {"project_id": 1})
    first = result.tables[parse.DEPLOYMENTS].to_pylist()[0]
    assert first["deployment_id"] == 41 and first["environment"] == "production"
    assert first["finished_at"] == datetime(2016, 8, 11, 7, 36, 39, 851000, tzinfo=UTC)  # deployable.finished_at
    assert first["created_at"] == datetime(2016, 8, 11, 7, 36, 40, 222000, tzinfo=UTC)
    assert first["job_id"] == 657 and first["pipeline_id"] == 36 and first["user_username"] == "root"


def test_gitlab_deployment_without_job_uses_updated_at_when_successful() -> None:
    single = load("gitlab/deployment__single_docs.json")
    single["deployable"] = None  # deployments created through the API have no job
    row = parse.deployment_row(single, 5)
    assert row["finished_at"] == datetime(2016, 8, 11, 11, 34, 1, 123000, tzinfo=UTC)
    assert row["job_id"] is None and row["pipeline_id"] is None


def test_gitlab_deployment_with_a_wrongly_typed_environment_is_rejected_alone() -> None:
    """A deployment whose environment name came as a number failed its page: the other deployments were lost."""
    good = load("gitlab/deployment__single_docs.json")
    bad = {**good, "id": 43, "environment": {"id": 9, "name": 42}}
    result = parse.parse_deployments_page([good, bad], {"project_id": 5})
    assert result.tables[parse.DEPLOYMENTS].column("deployment_id").to_pylist() == [42]
    (reject,) = result.rejects
    assert reject.index == 1 and reject.reason == "ValueError: environment should be string, got int 42"


def test_a_time_past_the_last_utc_date_is_a_reject_not_a_failed_run() -> None:
    """An instant whose offset carries it past 9999-12-31 in UTC (9999-12-31T23:00:00-05:00, a "never" some tools
    write) failed the page when it was turned to UTC: the deployment and the application are rejects, the others
    are kept."""
    good = load("gitlab/deployment__single_docs.json")
    bad = {**good, "id": 43, "updated_at": "9999-12-31T23:00:00.000-05:00"}
    result = parse.parse_deployments_page([good, bad], {"project_id": 5})
    assert result.tables[parse.DEPLOYMENTS].column("deployment_id").to_pylist() == [42]
    (reject,) = result.rejects
    assert reject.index == 1
    assert reject.reason == "ValueError: 9999-12-31T23:00:00.000-05:00 is outside the dates UTC can hold"
    app = load("argocd/application__live_velero-test__converted.json")
    spoiled = {**app, "metadata": {**app["metadata"], "name": "other"}}
    spoiled["status"] = {**app["status"], "reconciledAt": "9999-12-31T23:00:00-05:00"}
    observed = datetime(2024, 3, 6, tzinfo=UTC)
    apps = parse.parse_applications_page({"items": [app, spoiled]}, {"observed_at": observed})
    assert apps.tables[parse.APP_STATUS].column("app_name").to_pylist() == ["velero-test"]
    assert [r.index for r in apps.rejects] == [1]


def test_gitlab_pipeline_single_and_list() -> None:
    (row,) = (
        parse.parse_pipelines_page(load("gitlab/pipeline__single_docs.json"), {"project_id": 21})
        .tables[parse.PIPELINES]
        .to_pylist()
    )
    assert row["duration_s"] == 34.0 and row["started_at"] == datetime(2022, 9, 21, 1, 5, 14, 197000, tzinfo=UTC)
    listed = parse.parse_pipelines_page(load("gitlab/pipelines__list_docs.json"), {"project_id": 1})
    rows = listed.tables[parse.PIPELINES].to_pylist()
    assert [r["pipeline_id"] for r in rows] == [47, 48] and rows[0]["finished_at"] is None


def test_gitlab_a_pipeline_or_request_with_a_number_no_column_holds_is_rejected_alone() -> None:
    """A duration of 10**400 seconds, or a project id of Infinity (Python's JSON reader accepts the word), failed
    the whole page (OverflowError); a project id of true was stored as project 1. Each is a reject naming the
    field, and pipeline 48 beside it stays, in the page's project."""
    first, second = load("gitlab/pipelines__list_docs.json")
    for field, value, why in (
        ("duration", 10**400, "duration should be a finite number of seconds, got 1000000"),
        ("project_id", float("inf"), "project_id should be an integer, got float"),
        ("project_id", True, "project_id should be an integer, got bool"),
    ):
        result = parse.parse_pipelines_page([{**first, field: value}, second], {"project_id": 1})
        rows = result.tables[parse.PIPELINES].to_pylist()
        assert [(r["pipeline_id"], r["project_id"]) for r in rows] == [(48, 1)]
        (reject,) = result.rejects
        assert reject.index == 0 and why in reject.reason
    (request,) = load("gitlab/merge_requests__project_list_merged_docs.json")[:1]
    result = parse.parse_merge_requests_page(
        json.loads(json.dumps([request]).replace(f'"project_id": {request["project_id"]}', '"project_id": Infinity')),
        {"project_id": 3},
    )
    assert result.rows == 0 and "project_id should be an integer, got float" in result.rejects[0].reason


def test_gitlab_pipeline_times_the_list_lacks_are_described_as_empty() -> None:
    """GitLab's pipeline list (its docs' example: pipelines 47 and 48) gives no started_at, finished_at or duration;
    the ingestion reads the list, so those three columns stay empty for every pipeline, and the data dictionary
    says so instead of promising a start, an end and a duration."""
    listed = load("gitlab/pipelines__list_docs.json")
    assert [p["id"] for p in listed] == [47, 48]
    assert all({"started_at", "finished_at", "duration"}.isdisjoint(p) for p in listed)
    rows = parse.parse_pipelines_page(listed, {"project_id": 1}).tables[parse.PIPELINES].to_pylist()
    assert [(r["started_at"], r["finished_at"], r["duration_s"]) for r in rows] == [(None, None, None)] * 2
    described = {c.name: c.description for c in get_dataset(parse.PIPELINES).columns}
    for name in ("started_at", "finished_at", "duration_s"):
        assert "empty" in described[name] and "pipeline list" in described[name], name


def test_gitlab_merge_requests_shipped_keep_merged_at() -> None:
    result = parse.parse_deployment_merge_requests_page(
        load("gitlab/merge_requests__project_list_merged_docs.json"), {"project_id": 3, "deployment_id": 42}
    )
    rows = result.tables[parse.DEPLOYMENT_MRS].to_pylist()
    assert rows[0]["mr_id"] == 1 and rows[0]["deployment_id"] == 42
    assert rows[0]["merged_at"] == datetime(2018, 9, 7, 11, 16, 17, 520000, tzinfo=UTC)
    # The real gitlab.com payload lists open merge requests only: nothing merged, nothing shipped.
    real = parse.parse_deployment_merge_requests_page(
        load("gitlab/deployment_merge_requests__gitlab_com_real_go-gitlab.json"),
        {"project_id": 278964, "deployment_id": 2},
    )
    assert real.rows == 0 and real.rejects == []


def test_a_merged_request_keeps_its_projects_default_branch() -> None:
    """Lead time counts a request merged into a branch the project deploys from; for a project GitLab does not
    deploy (ArgoCD), that is its default branch, read from GET /projects/:id and kept on each request's row. A row
    read without it has none."""
    listed = load("gitlab/merge_requests__project_list_merged_docs.json")
    result = parse.parse_merge_requests_page(listed[:1], {"project_id": 3, "default_branch": "master"})
    table = result.tables[parse.MERGE_REQUESTS]
    assert table.column("target_branch").to_pylist() == ["master"]  # the fixture's request, into master
    assert table.column("default_branch").to_pylist() == ["master"]
    unknown = parse.parse_merge_requests_page(listed[:1], {"project_id": 3})
    assert unknown.tables[parse.MERGE_REQUESTS].column("default_branch").to_pylist() == [None]


def test_a_run_asked_for_merge_requests_reads_the_projects_default_branch(
    gitlab_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitLab project 5's default branch is trunk: its merged requests' rows carry it."""
    listed = load("gitlab/merge_requests__project_list_merged_docs.json")
    monkeypatch.setattr(GitLabClient, "merged_requests", lambda self, *args: iter([SimpleNamespace(body=listed[:1])]))
    monkeypatch.setattr(
        GitLabClient, "project", lambda self, project_id: SimpleNamespace(body={"default_branch": "trunk"})
    )
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token=SecretStr("glpat-x"))
    day = datetime(2016, 8, 11, tzinfo=UTC)
    ingest(
        "deploys", gitlab_lake, settings, window=Window(day, day + timedelta(days=1)), datasets=[parse.MERGE_REQUESTS]
    )
    (part,) = gitlab_lake.list_partitions(get_dataset(parse.MERGE_REQUESTS))
    stored = gitlab_lake.read_partition(get_dataset(parse.MERGE_REQUESTS), part)
    assert stored is not None and stored.column("default_branch").to_pylist() == ["trunk"]


def test_a_merged_request_without_merge_time_is_a_reject_saying_why() -> None:
    """GitLab reads merged_at from the request's merge metrics, which requests merged before GitLab kept them (or
    imported without them) lack: such a request is listed as merged with merged_at null. Its lead time cannot be
    measured, and the run says so instead of dropping it unseen. Open requests are simply not shipped."""
    listed = load("gitlab/merge_requests__project_list_merged_docs.json")
    without_time = {**listed[0], "id": 2, "iid": 2, "merged_at": None}
    result = parse.parse_merge_requests_page([listed[0], without_time], {"project_id": 3})
    assert result.tables[parse.MERGE_REQUESTS].column("mr_id").to_pylist() == [1]
    (reject,) = result.rejects
    assert reject.index == 1 and reject.dataset == parse.MERGE_REQUESTS
    assert "merged_at" in reject.reason and "lead time" in reject.reason

    # Among a deployment's requests: the open ones of the real gitlab.com payload are no rejects, the merged one
    # without a time is.
    real = load("gitlab/deployment_merge_requests__gitlab_com_real_go-gitlab.json")
    shipped = parse.parse_deployment_merge_requests_page(
        [*real, {**real[0], "id": 7, "state": "merged"}], {"project_id": 278964, "deployment_id": 2}
    )
    assert shipped.rows == 0
    (reject,) = shipped.rejects
    assert reject.index == 3 and reject.dataset == parse.DEPLOYMENT_MRS and "lead time" in reject.reason


@pytest.fixture
def gitlab_lake(tmp_path: Path) -> Lake:
    """A lake mapping GitLab project 5 in production."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    entry = {"entity_id": "shop", "kind": "application", "gitlab_project_id": 5}
    MappingStore(lake).apply([entry], actor="test", replace=True)
    return lake


def gitlab_run(
    lake: Lake, monkeypatch: pytest.MonkeyPatch, deployments: list[Any], datasets: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """One GitLab run over 2016-08-11, the day of the fixtures; the run log's records and what was fetched."""
    fetched: list[str] = []

    def pages(name: str, bodies: list[Any]) -> Any:
        def fetch(self: GitLabClient, *args: Any) -> Iterator[SimpleNamespace]:
            fetched.append(name if name != "deployment_merge_requests" else f"{name} {args[1]}")
            return iter([SimpleNamespace(body=b) for b in bodies])

        return fetch

    monkeypatch.setattr(GitLabClient, "deployments", pages("deployments", [deployments]))
    monkeypatch.setattr(GitLabClient, "pipelines", pages("pipelines", []))
    monkeypatch.setattr(GitLabClient, "merged_requests", pages("merged_requests", []))
    monkeypatch.setattr(GitLabClient, "deployment_merge_requests", pages("deployment_merge_requests", []))
    monkeypatch.setattr(
        GitLabClient, "project", lambda self, project_id: SimpleNamespace(body={"default_branch": "main"})
    )
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token=SecretStr("glpat-x"))
    day = datetime(2016, 8, 11, tzinfo=UTC)
    outcome = ingest("deploys", lake, settings, window=Window(day, day + timedelta(days=1)), datasets=datasets)
    return {o.dataset: o.record for o in outcome.outcomes}, fetched


def test_a_malformed_gitlab_deployment_does_not_fail_the_run_that_links_merge_requests(
    gitlab_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment listed as text, or with a text id, failed the whole GitLab run when its links were asked."""
    good = load("gitlab/deployment__single_docs.json")  # id 42, successful, to production
    page = [good, "not a deployment", {**good, "id": "43"}]
    records, fetched = gitlab_run(gitlab_lake, monkeypatch, page, [parse.DEPLOYMENTS, parse.DEPLOYMENT_MRS])
    deployments = records[parse.DEPLOYMENTS]
    assert (deployments.status, deployments.rows_out, deployments.rows_rejected) == ("partial", 1, 2)
    assert records[parse.DEPLOYMENT_MRS].status == "succeeded"
    assert [f for f in fetched if f.startswith("deployment_merge_requests")] == ["deployment_merge_requests 42"]


def test_a_run_asked_for_gitlab_deployments_fetches_and_records_nothing_else(
    gitlab_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked for deployments only, a run recorded merge requests and pipelines as done with 0 rows, watermarks moved."""
    page = [load("gitlab/deployment__single_docs.json")]
    records, fetched = gitlab_run(gitlab_lake, monkeypatch, page, [parse.DEPLOYMENTS])
    assert fetched == ["deployments"]
    assert list(records) == [parse.DEPLOYMENTS] and records[parse.DEPLOYMENTS].rows_out == 1
    marks = Watermarks(gitlab_lake)
    assert marks.get("gitlab", "deployments") is not None
    assert marks.get("gitlab", "merge_requests") is None and marks.get("gitlab", "pipelines") is None


def test_a_failed_gitlab_deployment_reported_through_the_api_counts_as_a_failed_deployment(
    gitlab_lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployment created through the API has no job; when it failed it had no finish and was left out of the
    deployment events, so the change failure rate never saw it. The fixture's deployment 42, marked failed without a
    job: its status last changed at updated_at 2016-08-11T11:34:01.123Z, which is when it finished."""
    failed = {**load("gitlab/deployment__single_docs.json"), "status": "failed", "deployable": None}
    gitlab_run(gitlab_lake, monkeypatch, [failed], [parse.DEPLOYMENTS, EVENTS])
    events = gitlab_lake.read_partition(get_dataset(EVENTS), date(2016, 8, 11))
    assert events is not None
    (event,) = events.to_pylist()
    assert (event["deployment_key"], event["status"]) == ("gitlab:42", "failed")
    assert event["finished_at"] == datetime(2016, 8, 11, 11, 34, 1, 123000, tzinfo=UTC)


def test_gitlab_deployment_of_a_manual_job_is_by_whoever_played_it() -> None:
    """A manual deploy job's deployment keeps the user who created the pipeline (GitLab's play of the job changes the
    job's user only, and GitLab's own "deployed by" reads the job's user first). GitLab's deployment example, its job
    played by "maya" in a pipeline "root" started: stored as deployed by root. By hand: maya deployed it; a
    deployment without a job (made through the API) is by its own user, root."""
    single = load("gitlab/deployment__single_docs.json")
    single["deployable"]["user"] = single["deployable"]["user"] | {"id": 7, "username": "maya"}
    assert parse.deployment_row(single, 5)["user_username"] == "maya"
    assert parse.deployment_row(single | {"deployable": None}, 5)["user_username"] == "root"
