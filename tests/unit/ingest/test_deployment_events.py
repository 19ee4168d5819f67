"""Unified deployment events: ArgoCD history and failed operations, GitLab deployments, rollbacks flagged."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from functions.ingest_deploys import parse as deploys_parse
from functions.ingest_deploys.events import EVENTS, INPUTS, build_events, whole_from
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.run import Derived, SourcePlan, run_plan
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingEntry, MappingStore
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES
from tests.gitlab_deployments import gitlab_deployment, write_gitlab_deployments

T0 = datetime(2024, 3, 1, 9, tzinfo=UTC)


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_events_from_both_tools_with_rollbacks(tmp_path: Path) -> None:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    history = get_dataset("argocd/deployment_history")
    lake.write_days(
        history,
        pa.Table.from_pylist(
            [
                {
                    "app_name": "pay-prod",
                    "history_id": 1,
                    "revision": "A",
                    "deployed_at": at(0),
                    "initiated_by": "ann",
                    "automated": False,
                },
                {
                    "app_name": "pay-prod",
                    "history_id": 2,
                    "revision": "B",
                    "deployed_at": at(5),
                    "initiated_by": "ann",
                    "automated": False,
                },
                {
                    "app_name": "pay-prod",
                    "history_id": 3,
                    "revision": "A",
                    "deployed_at": at(6),
                    "initiated_by": "",
                    "automated": True,
                },
                {
                    "app_name": "pay-prod",
                    "history_id": 4,
                    "revision": "A",
                    "deployed_at": at(7),
                    "initiated_by": "ann",
                    "automated": False,
                },
                {"app_name": "unmapped", "history_id": 1, "revision": "Z", "deployed_at": at(1), "automated": False},
            ],
            schema=history.schema,
        ),
    )
    operations = get_dataset("argocd/sync_operations")
    lake.write_days(
        operations,
        pa.Table.from_pylist(
            [
                {
                    "app_name": "pay-prod",
                    "started_at": at(8),
                    "finished_at": at(9),
                    "phase": "Failed",
                    "revision": "C",
                    "initiated_by": "bob",
                    "automated": False,
                },
            ],
            schema=operations.schema,
        ),
    )
    deployments = get_dataset("gitlab/deployments")
    lake.write_days(
        deployments,
        pa.Table.from_pylist(
            [
                {
                    "deployment_id": 10,
                    "project_id": 7,
                    "environment": "production",
                    "status": "success",
                    "sha": "X",
                    "created_at": at(1),
                    "updated_at": at(2),
                    "finished_at": at(2),
                    "user_username": "cy",
                },
                {
                    "deployment_id": 11,
                    "project_id": 7,
                    "environment": "staging",
                    "status": "success",
                    "sha": "Y",
                    "created_at": at(1),
                    "updated_at": at(2),
                    "finished_at": at(2),
                },
                {
                    "deployment_id": 12,
                    "project_id": 7,
                    "environment": "production",
                    "status": "running",
                    "sha": "Y",
                    "created_at": at(3),
                    "updated_at": at(3),
                    "finished_at": None,
                },
            ],
            schema=deployments.schema,
        ),
    )
    entries = [
        MappingEntry(entity_id="pay", kind="component", argocd_app_name="pay-prod"),
        MappingEntry(entity_id="shop", kind="component", gitlab_project_id=7),
    ]
    table = build_events(lake, T0, entries)
    events = {e["deployment_key"]: e for e in table.to_pylist()}
    assert set(events) == {
        "argocd:pay-prod:1",
        "argocd:pay-prod:2",
        "argocd:pay-prod:3",
        "argocd:pay-prod:4",
        f"argocd:pay-prod:op:{at(8).isoformat()}",
        "gitlab:10",
    }
    # A back to A after B is a rollback; A again after A is a redeploy, not a rollback.
    assert [events[f"argocd:pay-prod:{i}"]["is_rollback"] for i in (1, 2, 3, 4)] == [False, False, True, False]
    assert events["argocd:pay-prod:3"]["initiated_by"] == "automated"
    failed = events[f"argocd:pay-prod:op:{at(8).isoformat()}"]
    assert failed["status"] == "failed" and failed["finished_at"] == at(9)
    assert events["gitlab:10"]["source_ref"] == "7" and events["gitlab:10"]["status"] == "succeeded"
    assert get_dataset(EVENTS).conform(table).num_rows == 6


def test_a_deployment_whose_finish_moves_to_another_day_is_one_event(tmp_path: Path) -> None:
    """GitLab deployment 7001 first reads as finished on the 4th, then (updated) on the 6th. The second run's
    events replace the days they are computed whole for, so the deployment is one event, on the 6th, and the
    4th, left with no event, is gone and named among the days written (the build rebuilds from it)."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    events = get_dataset(EVENTS)
    written = []
    for updated, run_day in (("2024-03-04T10:05:00.000Z", 4), ("2024-03-06T08:00:00.000Z", 6)):
        write_gitlab_deployments(lake, [gitlab_deployment(updated)])
        since = datetime(2024, 3, run_day, tzinfo=UTC)
        outcome = ingest(
            "deploys", lake, IngestSettings(), window=Window(since, since + timedelta(days=1)), datasets=[EVENTS]
        )
        (run,) = outcome.outcomes
        written.append(run.record.days_written)
    stored = {
        d.isoformat(): lake.read_partition(events, d).column("deployment_key").to_pylist()
        for d in lake.list_partitions(events)
    }  # type: ignore[union-attr]
    assert stored == {"2024-03-06": ["gitlab:7001"]}
    assert written == [["2024-03-04"], ["2024-03-04", "2024-03-06"]]


def test_the_deploys_ingest_is_allowed_to_remove_the_event_days_it_empties(tmp_path: Path) -> None:
    """An event day left without rows is deleted (the test above): in AWS the ingest_deploys function may delete only
    under the prefixes infra/terraform grants it, or its runs fail and the events stay stale."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    events = get_dataset(EVENTS)
    moved = {
        "deployment_key": "gitlab:7001",
        "origin": "gitlab",
        "source_ref": "11",
        "environment": "production",
        "revision": "abc",
        "status": "succeeded",
    }
    lake.replace_days(events, pa.Table.from_pylist([moved | {"finished_at": at(1)}], schema=events.schema), T0.date())
    deleted = [
        w.key
        for w in lake.replace_days(
            events, pa.Table.from_pylist([moved | {"finished_at": at(30)}], schema=events.schema), T0.date()
        )
        if w.rows_after == 0
    ]
    assert deleted == ["raw/deploys/deployment_events/day=2024-03-01/data.parquet"]
    terraform = (Path(__file__).resolve().parents[3] / "infra" / "terraform" / "functions.tf").read_text()
    grant = re.search(r"^\s*ingest_deploys\s*=\s*\{.*deletes\s*=\s*\[([^\]]*)\]", terraform, re.M)
    assert grant is not None
    allowed = re.findall(r'"([^"]+)"', grant.group(1))
    assert all(any(key.startswith(prefix) for prefix in allowed) for key in deleted), allowed


def shop_on_gitlab(lake: Lake) -> list[MappingEntry]:
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    mapping = MappingStore(lake).current()
    assert mapping is not None
    return list(mapping.entries)


def ingest_gitlab_deployment(lake: Lake, deployment_id: int, updated_at: str) -> None:
    write_gitlab_deployments(lake, [gitlab_deployment(updated_at) | {"id": deployment_id}])


def stored_keys(lake: Lake) -> list[str]:
    events = get_dataset(EVENTS)
    return sorted(
        key
        for day in lake.list_partitions(events)
        for key in lake.read_partition(events, day).column("deployment_key").to_pylist()  # type: ignore[union-attr]
    )


class FailingPuts:
    """The lake's store, but writing `failing` fails (the store times out, say)."""

    def __init__(self, store: Any, failing: str) -> None:
        self.store, self.failing = store, failing

    def put(self, key: str, *args: Any, **kwargs: Any) -> Any:
        if self.failing in key:
            raise OSError(f"{key}: the store timed out")
        return self.store.put(key, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_run_failing_while_it_moves_a_deployment_keeps_it(tmp_path: Path) -> None:
    """7001 is stored on the 4th; GitLab then gives it a finish on the 6th, and writing the 6th fails. The run
    fails, and 7001 is still stored (on the 4th): the emptied day is removed only after the others are written."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = shop_on_gitlab(lake)
    events = get_dataset(EVENTS)
    since = datetime(2024, 3, 6, tzinfo=UTC)
    ingest_gitlab_deployment(lake, 7001, "2024-03-04T10:05:00.000Z")
    lake.replace_days(events, build_events(lake, since, entries), whole_from(since))
    ingest_gitlab_deployment(lake, 7001, "2024-03-06T08:00:00.000Z")
    lake.store = FailingPuts(lake.store, "deployment_events/day=2024-03-06")  # type: ignore[assignment]
    with pytest.raises(OSError):
        lake.replace_days(events, build_events(lake, since, entries), whole_from(since))
    assert stored_keys(lake) == ["gitlab:7001"]


def test_events_computed_while_another_run_ingests_are_computed_again(tmp_path: Path) -> None:
    """Run A computes the events from 7001 alone; before it writes them, run B ingests 7002 (and writes its own
    events). Written as A computed them, they would drop 7002. A sees that its inputs changed and computes again:
    both deployments are stored, and A's run says so."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = shop_on_gitlab(lake)
    ingest_gitlab_deployment(lake, 7001, "2024-03-04T10:05:00.000Z")
    calls = []

    def events_of_run_a(lake: Lake, window: Window) -> pa.Table:
        table = build_events(lake, window.since, entries)
        if not calls:  # run B ingests while run A computes, the first time only
            ingest_gitlab_deployment(lake, 7002, "2024-03-05T10:05:00.000Z")
            lake.replace_days(get_dataset(EVENTS), build_events(lake, window.since, entries), whole_from(window.since))
        calls.append(table.num_rows)
        return table

    derived = Derived(EVENTS, events_of_run_a, lambda w: whole_from(w.since), INPUTS)
    since = datetime(2024, 3, 5, tzinfo=UTC)
    outcome = run_plan(
        SourcePlan("deploys", "ingest_deploys", [], [derived]), lake, Window(since, since + timedelta(days=1))
    )
    assert not outcome.failed and calls == [1, 2]
    assert stored_keys(lake) == ["gitlab:7001", "gitlab:7002"]


def test_a_gitlab_environment_named_with_capitals_is_the_mappings_environment(tmp_path: Path) -> None:
    """GitLab keeps an environment's name as written ("Production"); a mapping's environment is lower-case, as every
    id of the mapping. The deployment was compared as written and dropped without a trace: the project showed no
    deployment at all. It is the mapping's production, and its event says so, as the build joins on it."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    deployment = gitlab_deployment("2024-03-04T10:05:00.000Z") | {"environment": {"id": 1, "name": "Production"}}
    write_gitlab_deployments(lake, [deployment])
    mapping = MappingStore(lake).current()
    assert mapping is not None
    table = build_events(lake, datetime(2024, 3, 5, tzinfo=UTC), mapping.entries)
    assert [(e["deployment_key"], e["environment"]) for e in table.to_pylist()] == [("gitlab:7001", "production")]


def rollback_flags(lake: Lake, deployments: list[dict], project_id: int, until: datetime) -> dict[str, bool]:
    """A project's GitLab `deployments` (API items) stored, then the unified events built up to `until`: each
    deployment's rollback flag."""
    page = deploys_parse.parse_deployments_page(deployments, {"project_id": project_id})
    lake.write_days(get_dataset(deploys_parse.DEPLOYMENTS), page.tables[deploys_parse.DEPLOYMENTS])
    mapping = MappingStore(lake).current()
    assert mapping is not None
    table = build_events(lake, until, mapping.entries)
    return {e["deployment_key"]: e["is_rollback"] for e in table.to_pylist()}


def test_a_deployment_of_a_fast_forward_merged_request_is_not_a_rollback(tmp_path: Path) -> None:
    """GitLab's own merged-list example (project 3) is a request merged without a merge commit: merge_commit_sha and
    squash_commit_sha are null, as for every fast-forward merge, and the commit it put on the branch is its head
    `sha` 8888…. Deployed at 12:00 after 7777… at 10:00, that commit was read as shipping no request, so as a
    rollback (and left out of lead time). By hand: 8888… was merged at 11:16:17 and never deployed before, so the
    12:00 deployment ships new changes; neither deployment is a rollback."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 3}], actor="test", replace=True
    )
    merged = json.loads((FIXTURES / "gitlab" / "merge_requests__project_list_merged_docs.json").read_text())
    page = deploys_parse.parse_merge_requests_page(merged, {"project_id": 3})
    lake.write_days(get_dataset(deploys_parse.MERGE_REQUESTS), page.tables[deploys_parse.MERGE_REQUESTS])
    deployments = [
        gitlab_deployment(finished) | {"id": number, "sha": sha, "created_at": finished}
        for number, sha, finished in (
            (1, "7" * 40, "2018-09-07T10:00:00.000Z"),
            (2, "8" * 40, "2018-09-07T12:00:00.000Z"),
        )
    ]
    rollbacks = rollback_flags(lake, deployments, 3, datetime(2018, 9, 8, tzinfo=UTC))
    assert rollbacks == {"gitlab:1": False, "gitlab:2": False}


def gitlab_answering(monkeypatch: pytest.MonkeyPatch, answer: Any) -> None:
    """The ingestion's GitLab client answered by `answer` (a request to a response): what GitLab says where its
    simulator does not (a scope refused, a deployment deleted, a feature turned off)."""
    import httpx

    from functions.ingest_deploys import source

    class Answered(source.GitLabClient):
        def __init__(self, base_url: str, token: Any, **options: Any) -> None:
            super().__init__(base_url, token, **options, transport=httpx.MockTransport(answer))

    monkeypatch.setattr(source, "GitLabClient", Answered)


def test_a_gitlab_token_every_project_refuses_fails_the_run_and_keeps_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mapping names GitLab projects 11 and 12; the token lacks the read_api scope, so GitLab answers 403
    insufficient_scope for both. No project was read: that is no project gone but GitLab refusing the run, which
    fails (as any refusal did before projects were set aside one by one) and leaves the watermark where it was, so
    the window is read again once the token is fixed."""
    from functions.ingest_deploys import source
    from lakehouse.runlog import Watermarks

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    MappingStore(lake).apply(
        [
            {"entity_id": "shop", "kind": "application", "gitlab_project_id": 11},
            {"entity_id": "quiet", "kind": "application", "gitlab_project_id": 12},
        ],
        actor="test",
    )

    def refuse(request: Any) -> Any:
        import httpx

        return httpx.Response(403, json={"error": "insufficient_scope"})

    gitlab_answering(monkeypatch, refuse)
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token="t")  # type: ignore[arg-type]
    window = Window(at(0), at(1))
    plan = source.build_plan(settings, lake, window, (deploys_parse.DEPLOYMENTS,))
    outcome = run_plan(plan, lake, window)
    assert [o.record.status for o in outcome.outcomes] == ["failed"]
    assert Watermarks(lake).get("gitlab", "deployments") is None


def test_a_deployment_deleted_since_it_was_listed_loses_its_links_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Project 11 lists deployments 7001 and 7002; by the time their merge requests are asked, 7001 is deleted
    (GitLab answers 404 Deployment Not Found). 7002's merge request 55 is read, both deployments are stored, and
    7001's links are one reject of the merge-request links, which end partial; the deployments succeed."""
    import httpx

    from functions.ingest_deploys import source

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test")
    listed = [gitlab_deployment("2024-03-04T10:05:00.000Z"), gitlab_deployment("2024-03-04T11:05:00.000Z")]
    listed[1] |= {"id": 7002, "iid": 2, "sha": "def"}
    request_55 = {"id": 955, "iid": 55, "project_id": 11, "state": "merged", "sha": "def"}
    request_55 |= {"merge_commit_sha": "def", "merged_at": "2024-03-04T09:00:00.000Z"}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/deployments/7001/merge_requests"):
            return httpx.Response(404, json={"message": "404 Deployment Not Found"})
        if request.url.path.endswith("/deployments/7002/merge_requests"):
            return httpx.Response(200, json=[request_55])
        return httpx.Response(200, json=listed if request.url.path.endswith("/deployments") else [])

    gitlab_answering(monkeypatch, answer)
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token="t")  # type: ignore[arg-type]
    window = Window(datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
    datasets = (deploys_parse.DEPLOYMENTS, deploys_parse.DEPLOYMENT_MRS)
    outcome = run_plan(source.build_plan(settings, lake, window, datasets), lake, window)
    status = {o.dataset: (o.record.status, o.record.rows_out, o.record.rows_rejected) for o in outcome.outcomes}
    assert status == {deploys_parse.DEPLOYMENTS: ("succeeded", 2, 0), deploys_parse.DEPLOYMENT_MRS: ("partial", 1, 1)}
    links = lake.read_partition(get_dataset(deploys_parse.DEPLOYMENT_MRS), date(2024, 3, 4))
    assert links is not None and links.column("deployment_id").to_pylist() == [7002]


def velero_listing(created: str, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """ArgoCD's listing of velero-test (the real application) as created at `created`, with its history or that."""
    text = (FIXTURES / "argocd" / "application__live_velero-test__converted.json").read_text(encoding="utf-8")
    app = json.loads(text)
    app["metadata"]["creationTimestamp"] = created
    if history is not None:
        app["status"]["history"] = history
    return {"metadata": {}, "items": [app]}


def test_a_recreated_argocd_application_gives_its_deployments_keys_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """velero-test as found: created 2024-03-04 21:30:33, history ids 14-23 deployed on the 4th (14-20) and the 5th
    (21-23). Its ApplicationSet then deletes and creates it again on the 5th at 08:00: ArgoCD numbers its history
    from 0 again, and after 24 quick syncs lists ids 14-23, deployed from 09:14 to 09:23 the same day. Every id is
    met in both lives, three of them on one day: the first life's deployments keep the keys they had
    (argocd:velero-test:14 ...), the second life's are told apart by the application's creation time, and the lake
    holds the 20 deployments once each."""
    import httpx
    from pydantic import SecretStr

    from functions.ingest_deploys import source

    first = velero_listing("2024-03-04T21:30:33Z")
    template = first["items"][0]["status"]["history"][-1]
    second_history = [
        template
        | {"id": i, "deployStartedAt": f"2024-03-05T09:{i:02d}:00Z", "deployedAt": f"2024-03-05T09:{i:02d}:30Z"}
        for i in range(14, 24)
    ]
    listings = [first, velero_listing("2024-03-05T08:00:00Z", second_history)]

    class ArgoCD(source.ArgoCDClient):
        def __init__(self, base_url: str, token: Any, **options: Any) -> None:
            listing = listings.pop(0)
            answer = httpx.MockTransport(lambda request: httpx.Response(200, json=listing))
            super().__init__(base_url, token, **options, transport=answer)

    monkeypatch.setattr(source, "ArgoCDClient", ArgoCD)
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    MappingStore(lake).apply(
        [{"entity_id": "velero", "kind": "application", "argocd_app_name": "velero-test"}], actor="test"
    )
    settings = IngestSettings(argocd_url="https://argocd.example", argocd_token=SecretStr("t"))
    datasets = [*deploys_parse.ARGOCD_DATASETS, EVENTS]
    for until in (datetime(2024, 3, 5, 8, tzinfo=UTC), datetime(2024, 3, 5, 10, tzinfo=UTC)):
        outcome = ingest("deploys", lake, settings, window=Window(until - timedelta(hours=2), until), datasets=datasets)
        assert not outcome.failed

    keys = stored_keys(lake)
    assert len(keys) == len(set(keys)) == 20
    assert [k for k in keys if "@" not in k] == sorted(f"argocd:velero-test:{i}" for i in range(14, 24))
    assert [k for k in keys if "@" in k] == sorted(
        f"argocd:velero-test:{i}@2024-03-05T08:00:00+00:00" for i in range(14, 24)
    )
    history = get_dataset("argocd/deployment_history")
    fifth = lake.read_partition(history, date(2024, 3, 5))
    assert fifth is not None
    assert sorted(fifth.column("history_id").to_pylist()) == [14, 15, 16, 17, 18, 19, 20, 21, 21, 22, 22, 23, 23]


def test_a_deploys_backfill_reads_the_argocd_listing_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 3-day backfill asked ArgoCD for its listing once per day: the same snapshot landed three times and the
    mapped application ArgoCD does not list (ghost) was rejected three times. The listing says what ArgoCD holds now,
    whatever the day: a backfill reads it once, stores velero-test's 10 history entries and rejects ghost once. A
    scheduled run afterwards reads it again, as every scheduled run does."""
    import httpx
    from pydantic import SecretStr

    from functions.ingest_deploys import source
    from lakehouse.ingest.sources import run_backfill

    text = (FIXTURES / "argocd" / "application__live_velero-test__converted.json").read_text(encoding="utf-8")
    listing = {"metadata": {}, "items": [json.loads(text)]}
    asked: list[str] = []

    def argocd(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(200, json=listing)

    class ArgoCD(source.ArgoCDClient):
        def __init__(self, base_url: str, token: Any, **options: Any) -> None:
            super().__init__(base_url, token, **options, transport=httpx.MockTransport(argocd))

    monkeypatch.setattr(source, "ArgoCDClient", ArgoCD)
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    mapping = [
        {"entity_id": "velero", "kind": "application", "argocd_app_name": "velero-test"},
        {"entity_id": "ghost", "kind": "application", "argocd_app_name": "ghost"},
    ]
    MappingStore(lake).apply(mapping, actor="test")
    settings = IngestSettings(argocd_url="https://argocd.example", argocd_token=SecretStr("t"))
    datasets = [*deploys_parse.ARGOCD_DATASETS, EVENTS]
    days = Window(datetime(2024, 3, 3, tzinfo=UTC), datetime(2024, 3, 6, tzinfo=UTC))
    outcomes = run_backfill("deploys", lake, settings, window=days, datasets=datasets, concurrency=2, now=days.until)

    assert not any(o.failed for o in outcomes) and len(outcomes) == 3
    assert asked == ["/api/v1/applications"]
    assert len(list(lake.iter_landing("argocd", "app_status"))) == 1
    rejects = get_dataset("argocd/rejects")
    reasons = [r["reason"] for d in lake.list_partitions(rejects) for r in lake.read_partition(rejects, d).to_pylist()]  # type: ignore[union-attr]
    assert len(reasons) == 1 and "'ghost'" in reasons[0]
    history = get_dataset("argocd/deployment_history")
    assert sum(lake.read_partition(history, d).num_rows for d in lake.list_partitions(history)) == 10  # type: ignore[union-attr]

    ingest("deploys", lake, settings, window=Window(days.until, days.until + timedelta(hours=1)), datasets=datasets)
    assert asked == ["/api/v1/applications"] * 2


def test_a_gitlab_deployment_of_a_newer_commit_without_a_known_request_is_not_a_rollback(tmp_path: Path) -> None:
    """GitLab's own deployments example (project 1, taken as successful): 99d03678 at 07:36:39 UTC, committed at
    09:36:01+02:00 (07:36:01 UTC), then a91957a8 at 11:32:35, committed at 13:28:26+02:00 (11:28:26 UTC). The lake
    holds no merged request for a91957a8 (a direct push, a release commit made by CI, a tag ship none), so it was
    flagged a rollback and 99d03678 counted as rolled back. By hand: a91957a8 is newer than the commit it replaced and
    never ran before, so neither is a rollback. A third deployment, at 12:00, of cccc… committed on the 10th
    (10:00 UTC), before a91957a8 and never deployed in the lake's history, puts back an older commit: a rollback."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 1}], actor="test", replace=True
    )
    listed = json.loads((FIXTURES / "gitlab" / "deployments__list_docs.json").read_text())
    deployments = [d | {"status": "success"} for d in listed]
    older = copy.deepcopy(deployments[1])
    older["deployable"]["commit"]["created_at"] = "2016-08-10T12:00:00.000+02:00"
    older["deployable"]["finished_at"] = "2016-08-11T12:00:00.000Z"
    deployments.append(older | {"id": 43, "iid": 3, "sha": "c" * 40, "created_at": "2016-08-11T11:59:00.000Z"})
    rollbacks = rollback_flags(lake, deployments, 1, datetime(2016, 8, 12, tzinfo=UTC))
    assert rollbacks == {"gitlab:41": False, "gitlab:42": False, "gitlab:43": True}


def test_putting_back_the_revision_a_rollback_replaced_is_a_roll_forward(tmp_path: Path) -> None:
    """GitLab's own deployments example (project 1, taken as successful): 99d03678 at 07:36:39, a91957a8 at 11:32:35.
    At 12:00 deployment 43 puts 99d03678 back (a rollback), and at 13:00 deployment 44 puts a91957a8 back. Every
    revision ran before, and "ran before" alone was read as older, so 44 was flagged a rollback too, where the build
    (stg_deployments) calls putting back the revision a rollback left a roll forward. By hand: a91957a8 first ran at
    11:32:35, after 99d03678 (07:36:39), the revision it replaces, so 44 puts back a newer revision: not a rollback;
    43 puts back 99d03678, first run before a91957a8: a rollback."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 1}], actor="test", replace=True
    )
    listed = json.loads((FIXTURES / "gitlab" / "deployments__list_docs.json").read_text())
    deployments = [d | {"status": "success"} for d in listed]
    for number, source, finished in ((43, deployments[0], "12:00"), (44, deployments[1], "13:00")):
        again = copy.deepcopy(source)
        again["deployable"]["finished_at"] = f"2016-08-11T{finished}:00.000Z"
        deployments.append(again | {"id": number, "iid": number - 40, "created_at": f"2016-08-11T{finished}:00.000Z"})
    rollbacks = rollback_flags(lake, deployments, 1, datetime(2016, 8, 12, tzinfo=UTC))
    assert rollbacks == {"gitlab:41": False, "gitlab:42": False, "gitlab:43": True, "gitlab:44": False}


def test_a_gitlab_deployment_starts_when_its_job_starts(tmp_path: Path) -> None:
    """GitLab creates a deployment with its pipeline (status created), long before a manual deploy job is played:
    deployment 7001 is created at 10:00 on the 4th, its job (as GitLab's deployments example shows one) is played and
    starts at 09:00 on the 5th and finishes at 09:04. The event started at the deployment's creation, a day before
    the rollout. By hand: it starts at the job's 09:00 and finishes at its 09:04. Without a job (made through the
    API), the creation is all GitLab says of the start: 7002 starts at its created_at, 10:00 on the 4th."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    example = json.loads((FIXTURES / "gitlab" / "deployment__single_docs.json").read_text())
    job = example["deployable"] | {"started_at": "2024-03-05T09:00:00.000Z", "finished_at": "2024-03-05T09:04:00.000Z"}
    deployments = [
        gitlab_deployment("2024-03-05T09:04:01.000Z") | {"deployable": job},
        gitlab_deployment("2024-03-04T10:05:00.000Z") | {"id": 7002, "iid": 2},
    ]
    write_gitlab_deployments(lake, deployments)
    mapping = MappingStore(lake).current()
    assert mapping is not None
    table = build_events(lake, datetime(2024, 3, 6, tzinfo=UTC), mapping.entries)
    times = {e["deployment_key"]: (e["started_at"], e["finished_at"]) for e in table.to_pylist()}
    assert times == {
        "gitlab:7001": (datetime(2024, 3, 5, 9, tzinfo=UTC), datetime(2024, 3, 5, 9, 4, tzinfo=UTC)),
        "gitlab:7002": (datetime(2024, 3, 4, 10, tzinfo=UTC), datetime(2024, 3, 4, 10, 5, tzinfo=UTC)),
    }


def test_a_gitlab_deployment_whose_job_failed_before_it_started_is_no_attempt(tmp_path: Path) -> None:
    """GitLab fails a deployment whose job it drops before the job starts: an outdated deployment job once a newer
    pipeline deployed (failure_reason failed_outdated_deployment_job), an approval rejected (deployment_rejected).
    Nothing was deployed, yet each was a failed deployment event, so a change failure. Two of GitLab's deployments
    example, failed: 7001's job was dropped as outdated (no started_at), 7002's job started at 09:00 and its script
    failed at 09:04. By hand: 7002 is the one failed attempt; 7001 is no event."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    job = json.loads((FIXTURES / "gitlab" / "deployment__single_docs.json").read_text())["deployable"]
    dropped = job | {
        "status": "failed",
        "failure_reason": "failed_outdated_deployment_job",
        "started_at": None,
        "finished_at": "2024-03-04T09:04:00.000Z",
    }
    failed = job | {
        "id": 665,
        "status": "failed",
        "failure_reason": "script_failure",
        "started_at": "2024-03-04T09:00:00.000Z",
        "finished_at": "2024-03-04T09:04:00.000Z",
    }
    deployments = [
        gitlab_deployment("2024-03-04T09:04:01.000Z") | {"status": "failed", "deployable": dropped},
        gitlab_deployment("2024-03-04T09:04:01.000Z")
        | {"id": 7002, "iid": 2, "status": "failed", "deployable": failed},
    ]
    write_gitlab_deployments(lake, deployments)
    mapping = MappingStore(lake).current()
    assert mapping is not None
    table = build_events(lake, datetime(2024, 3, 5, tzinfo=UTC), mapping.entries)
    assert [(e["deployment_key"], e["status"]) for e in table.to_pylist()] == [("gitlab:7002", "failed")]


def test_a_gitlab_project_with_merge_requests_disabled_still_gives_its_deployments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Project 11, the only one mapped, has its merge requests feature disabled (changes are pushed straight to
    main): GitLab answers its merge request list 403 Forbidden, as it does for a feature a project turned off, while
    its deployments (7001) and pipelines (none) are served. The 403 was read as the project refused: with every
    mapped project "refused", the run failed, deployment 7001 was never stored and the window was read again on
    every run. By hand: 7001 is stored (deployments succeeded, 1 row), pipelines succeed with no row, and the
    merged requests end partial with the refusal as their one reject."""
    import httpx

    from functions.ingest_deploys import source
    from lakehouse.runlog import Watermarks

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb"))
    MappingStore(lake).apply([{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test")

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/merge_requests"):
            return httpx.Response(403, json={"message": "403 Forbidden"})
        if path.endswith("/projects/11"):
            return httpx.Response(200, json={"id": 11, "default_branch": "main"})
        listed = [gitlab_deployment("2024-03-04T10:05:00.000Z")] if path.endswith("/deployments") else []
        return httpx.Response(200, json=listed)

    gitlab_answering(monkeypatch, answer)
    settings = IngestSettings(gitlab_url="https://gitlab.example", gitlab_token="t")  # type: ignore[arg-type]
    window = Window(datetime(2024, 3, 4, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC))
    datasets = (deploys_parse.DEPLOYMENTS, deploys_parse.PIPELINES, deploys_parse.MERGE_REQUESTS)
    outcome = run_plan(source.build_plan(settings, lake, window, datasets), lake, window)
    status = {o.dataset: (o.record.status, o.record.rows_out, o.record.rows_rejected) for o in outcome.outcomes}
    assert status == {
        deploys_parse.DEPLOYMENTS: ("succeeded", 1, 0),
        deploys_parse.PIPELINES: ("succeeded", 0, 0),
        deploys_parse.MERGE_REQUESTS: ("partial", 0, 1),
    }
    stored = lake.read_partition(get_dataset(deploys_parse.DEPLOYMENTS), date(2024, 3, 4))
    assert stored is not None and stored.column("deployment_id").to_pylist() == [7001]
    assert Watermarks(lake).get("gitlab", "deployments") is not None


def test_a_run_computing_the_days_again_as_they_were_says_it_wrote_none_of_them(tmp_path: Path) -> None:
    """Every run computes the deployment events of its last 30 days again. 7001 (4 Mar) and 7002 (5 Mar) are stored
    by the first run; the second run finds them as they were, and 7003 (6 Mar) new: it writes the 6th alone, and its
    run log record names that day alone, so the next hourly build rebuilds it and not the two days before."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    entries = shop_on_gitlab(lake)
    plan = SourcePlan(
        "deploys",
        "ingest_deploys",
        [],
        [Derived(EVENTS, lambda lake, w: build_events(lake, w.since, entries), lambda w: whole_from(w.since), INPUTS)],
    )
    ingest_gitlab_deployment(lake, 7001, "2024-03-04T10:05:00.000Z")
    ingest_gitlab_deployment(lake, 7002, "2024-03-05T10:05:00.000Z")
    since = datetime(2024, 3, 6, tzinfo=UTC)
    first = run_plan(plan, lake, Window(since, since + timedelta(hours=1)))
    assert first.outcomes[0].record.days_written == ["2024-03-04", "2024-03-05"]
    versions = lake.partition_versions(get_dataset(EVENTS))
    ingest_gitlab_deployment(lake, 7003, "2024-03-06T10:05:00.000Z")
    second = run_plan(plan, lake, Window(since + timedelta(hours=1), since + timedelta(hours=2)))
    assert second.outcomes[0].record.days_written == ["2024-03-06"]
    after = lake.partition_versions(get_dataset(EVENTS))
    assert {d: after[d] for d in versions} == versions
    assert stored_keys(lake) == ["gitlab:7001", "gitlab:7002", "gitlab:7003"]
