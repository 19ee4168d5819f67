"""Each handler against the simulators: the lake ends with the estate's records, once, faults or not."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from functions.ingest_deploys import handler as deploys_handler
from functions.ingest_dynatrace import handler as dynatrace_handler
from functions.ingest_logs import handler as logs_handler
from functions.ingest_servicenow import handler as servicenow_handler
from lakehouse.aggregates.build import build
from lakehouse.errors import RosettaError
from lakehouse.ingest import config
from lakehouse.ingest.run import IngestionFailed
from lakehouse.mappings import MappingStore, from_catalog
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.schemas import REGISTRY, get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.argocd import SIMULATED_SECRET
from simulators.estate import Estate, generate_estate
from simulators.faults import FaultConfig
from simulators.model import PRODUCTION, Component
from simulators.serve import RunningSimulators, start_simulators
from simulators.timeseries import ERROR_TYPES, Telemetry

from .conftest import END, closed_port_url, import_catalog, invoke, scheduled_event
from .truth import check_deployment_links, check_deploys, check_dynatrace, check_logs, check_servicenow, epoch, rows

pytestmark = pytest.mark.simulators
Point = Callable[[RunningSimulators, Settings], None]
HANDLERS = (dynatrace_handler, servicenow_handler, deploys_handler, logs_handler)


def windows(estate: Estate) -> dict[str, dict[str, str]]:
    hourly = {"since": estate.start.isoformat(), "until": estate.end.isoformat()}
    # Records of the tables and deployments updated before the history started are wanted too.
    wide = {
        "since": (estate.start - timedelta(days=401)).isoformat(),
        "until": (estate.end + timedelta(hours=1)).isoformat(),
    }
    return {"dynatrace": hourly, "logs": hourly, "servicenow": wide, "deploys": wide}


def run_all(estate: Estate) -> dict[str, dict[str, Any]]:
    spans = windows(estate)
    return {m.SOURCE: invoke(m, scheduled_event(str(m.__file__), spans[m.SOURCE])) for m in HANDLERS}


def test_servicenow_every_version_once(settings: Settings, sims: RunningSimulators, point: Point) -> None:
    """Also against S3 on loopback: the same handler, the same result."""
    point(sims, settings)
    lake = Lake.from_settings(settings)
    summary = invoke(
        servicenow_handler, scheduled_event(servicenow_handler.__file__, windows(sims.estate)["servicenow"])
    )
    assert check_servicenow(lake, sims) == 0
    (run,) = summary["runs"]
    assert run["status"] == "succeeded" and run["datasets"]["servicenow/incidents"]["pages"] >= 2
    # Requests grow with pages, not records: one more per table counts the window to check nothing was missed.
    for stats in run["datasets"].values():
        assert stats["requests"] == stats["pages"] + 1


def test_cis_nobody_edits_arrive_through_the_daily_full_read(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    cis = sims.apis["servicenow"].tables["cmdb_ci"]
    every_ci = {cis.sys_id(r) for r in cis.rows}
    stamps = sorted(cis.value(r, "sys_updated_on") for r in cis.rows)
    # A window after the last CI edit: an incremental read alone would bring none of them.
    last_edit = datetime.fromisoformat(stamps[-1]).replace(tzinfo=UTC)
    window = {
        "since": (last_edit + timedelta(hours=1)).isoformat(),
        "until": (last_edit + timedelta(hours=3)).isoformat(),
    }
    event = {**scheduled_event(servicenow_handler.__file__, window), "datasets": ["servicenow/cmdb_ci"]}
    (first,) = invoke(servicenow_handler, event)["runs"]
    assert {r["sys_id"] for r in rows(lake, "servicenow/cmdb_ci")} == every_ci
    assert first["datasets"]["servicenow/cmdb_ci"]["rows_out"] == len(every_ci)
    # Within the next 24 hours the read is incremental again: nothing new in that window.
    (second,) = invoke(servicenow_handler, event)["runs"]
    assert second["datasets"]["servicenow/cmdb_ci"]["rows_out"] == 0
    assert {r["sys_id"] for r in rows(lake, "servicenow/cmdb_ci")} == every_ci


def test_all_sources_then_rerun_changes_no_byte(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    production = sims.estate.truth.deployments
    # The estate has what the checks are about: rollbacks and failures, open problems.
    assert any(d.rollback for d in production if d.origin == "gitlab")
    assert any(d.failed for d in production if d.origin == "gitlab")
    assert any(d.rollback for d in production if d.origin == "argocd")
    assert any(p.end_ms == -1 for p in sims.estate.dynatrace_problems)
    first = run_all(sims.estate)
    check_dynatrace(lake, sims.estate)
    check_servicenow(lake, sims)
    check_deploys(lake, sims.estate)
    check_logs(lake, sims.estate)
    assert all(s["runs"][0]["status"] == "succeeded" for s in first.values())
    # Every ArgoCD application's Helm values hold a password: no page of the listing landed for audit keeps it.
    landed = [json.dumps(page) for _, page in lake.iter_landing("argocd", "app_status")]
    assert landed and not [page for page in landed if SIMULATED_SECRET in page]
    before = partition_bytes(lake)
    run_all(sims.estate)
    after = partition_bytes(lake)
    # Status snapshots are stamped with the poll time: a re-run adds one; every other partition is identical.
    snapshots = [k for k in after if k.startswith("raw/argocd/app_status/")]
    assert {k: v for k, v in after.items() if k not in snapshots} == {
        k: v for k, v in before.items() if k not in snapshots
    }
    argocd_apps = sum(1 for c in sims.estate.components if c.deploy_tool == "argocd")
    assert len(rows(lake, "argocd/app_status")) == 2 * argocd_apps  # one snapshot per app and run


def test_gitlab_requests_grow_with_pages_and_exact_links_come_on_request(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    (run,) = invoke(deploys_handler, event)["runs"]
    gitlab = {d: v for d, v in run["datasets"].items() if d.startswith("gitlab/")}
    assert "gitlab/deployment_merge_requests" not in gitlab
    # Every request returned a page (no request per deployment): requests grow with pages, not with records. Each
    # project is asked once for itself too (its default branch), with its merge requests.
    projects = {c.gitlab_project_id for c in sims.estate.components}
    assert sum(v["requests"] for v in gitlab.values()) == sum(v["pages"] for v in gitlab.values()) + len(projects)
    assert rows(lake, "gitlab/deployment_merge_requests") == []
    check_deploys(lake, sims.estate)

    (linked,) = invoke(deploys_handler, {**event, "datasets": ["gitlab/deployment_merge_requests"]})["runs"]
    stats = linked["datasets"]["gitlab/deployment_merge_requests"]
    successful = [d for d in sims.estate.truth.deployments if d.origin == "gitlab" and not d.failed]
    assert stats["requests"] >= len(successful)  # the price of exact links: one request per deployment
    check_deployment_links(lake, sims.estate)
    check_deploys(lake, sims.estate)


def partition_bytes(lake: Lake) -> dict[str, bytes]:
    out = {}
    for key in lake.list_keys("raw/"):
        if "/rejects/" in key:
            continue
        obj = lake.store.get(key)
        assert obj is not None
        out[key] = obj.data
    return out


def test_faults_change_nothing_and_a_page_read_again_is_no_reject(
    local_settings: Settings, sims: RunningSimulators, faulty_sims: RunningSimulators, point: Point
) -> None:
    point(faulty_sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, faulty_sims.estate)
    summaries = run_all(faulty_sims.estate)
    check_dynatrace(lake, faulty_sims.estate)
    drifted = check_servicenow(lake, sims)
    check_deploys(lake, faulty_sims.estate)
    check_logs(lake, faulty_sims.estate)
    assert drifted > 0, "the drift fault did not move any record"
    retries = {
        s: sum(d["retries"] for d in summary["runs"][0]["datasets"].values()) for s, summary in summaries.items()
    }
    assert all(n >= 3 for n in retries.values()), retries  # a 429, a 5xx burst of 2, an invalid page each
    records = RunLog(lake).list(since=faulty_sims.estate.end.date() - timedelta(days=1000), limit=100)
    # Each invalid JSON page was read on its next attempt: nothing was lost, so it is no reject (a retry).
    rejected = {r.dataset: r.rows_rejected for r in records if r.rows_rejected}
    assert rejected == {}
    assert not any(rows(lake, f"{s}/rejects") for s in ("dynatrace", "servicenow", "argocd", "gitlab", "elasticsearch"))


def test_dynatrace_answering_without_its_lists_fails_the_run_and_keeps_the_window(
    local_settings: Settings, estate: Estate, point: Point
) -> None:
    """Dynatrace answers every request 200 but without the list of its records (entities, result, problems): the
    run read them as pages of no records, wrote nothing and moved its watermarks past the window. By hand: each
    stream fails at its first request, after its 5 attempts (ROSETTA_HTTP_ATTEMPTS), naming the missing list; the
    page is 1 reject, however many answers it took; no row is written and no watermark moves."""
    with start_simulators(estate, faults=FaultConfig.from_dict({"dynatrace": {"unlisted": 1.0}})) as own:
        point(own, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, estate)
        with pytest.raises(IngestionFailed) as caught:
            invoke(dynatrace_handler, scheduled_event(dynatrace_handler.__file__, windows(estate)["dynatrace"]))
        records = {o.dataset: o.record for o in caught.value.outcome.outcomes}
        assert {d: (r.status, r.rows_out, r.rows_rejected) for d, r in records.items()} == {
            "dynatrace/service_metrics_hourly": ("failed", 0, 1),
            "dynatrace/problems": ("failed", 0, 1),
        }
        metrics_error = records["dynatrace/service_metrics_hourly"].error or ""
        assert "dynatrace: page has no entities list on GET /api/v2/entities, still after 5 attempts" in metrics_error
        problems_error = records["dynatrace/problems"].error or ""
        assert "dynatrace: page has no problems list on GET /api/v2/problems, still after 5 attempts" in problems_error
        assert sorted(r["reason"] for r in rows(lake, "dynatrace/rejects")) == [
            "page has no entities list, on all 5 attempts",
            "page has no problems list, on all 5 attempts",
        ]
        for dataset in records:
            assert lake.list_partitions(get_dataset(dataset)) == []
            assert Watermarks(lake).get("dynatrace", dataset.split("/")[1]) is None


def test_servicenow_asking_to_wait_an_hour_stops_the_run_at_once_and_says_so(
    local_settings: Settings, estate: Estate, point: Point
) -> None:
    """ServiceNow's hourly rate-limit rule answers 429 with Retry-After 3600 (and X-RateLimit-Reset an hour on). The
    client waited its cap (ROSETTA_HTTP_MAX_SERVER_WAIT_S, 0.05 s here, 60 s by default) and asked again, 5 times
    per page here (6 by default: 5 minutes lost), then failed with "HTTP 429 ... still after 5 attempts", without the
    wait the server asked for. By hand: after a good run, the next run makes exactly one request, the 429; every
    table fails naming the rate limit and the 3600 s; no watermark moves. A short Retry-After (0 s) is still waited
    and the run goes on."""
    tables = ["servicenow/incidents", "servicenow/changes"]
    with start_simulators(estate, faults=FaultConfig.from_dict({"servicenow": {"retry_after": 3600}})) as own:
        point(own, local_settings)
        lake = Lake.from_settings(local_settings)
        event = {**scheduled_event(servicenow_handler.__file__, windows(estate)["servicenow"]), "datasets": tables}
        invoke(servicenow_handler, event)
        marks = {d: Watermarks(lake).get("servicenow", d.split("/")[1]) for d in tables}
        assert all(marks.values())

        injector = own.injectors["servicenow"]
        injector.faults.rate_limit = 1.0
        before = injector.request_count
        with pytest.raises(IngestionFailed) as caught:
            invoke(servicenow_handler, event)
        assert injector.request_count == before + 1
        errors = {o.dataset: o.record.error or "" for o in caught.value.outcome.outcomes}
        assert set(errors) == set(tables)
        for error in errors.values():
            assert error.startswith("servicenow: rate limit on GET /api/now/v2/table/incident: retry after 3600 s")
        # The failed runs count what they sent: the incidents' one request, the changes' none (refused unsent).
        sent = {o.dataset: o.record.requests for o in caught.value.outcome.outcomes}
        assert sent == {"servicenow/incidents": 1, "servicenow/changes": 0}
        assert {d: Watermarks(lake).get("servicenow", d.split("/")[1]) for d in tables} == marks

        injector.faults.rate_limit = 0.0
        injector.faults.retry_after = 0
        injector.faults.schedule[injector.request_count + 1] = ["rate_limit"]
        (run,) = invoke(servicenow_handler, event)["runs"]
        assert run["status"] == "succeeded"
        assert run["datasets"]["servicenow/incidents"]["retries"] >= 1


def test_a_source_that_is_down_fails_alone(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    spans = windows(sims.estate)
    invoke(deploys_handler, scheduled_event(deploys_handler.__file__, spans["deploys"]))
    deployments = get_dataset("gitlab/deployments")
    kept = {d: lake.read_partition(deployments, d) for d in lake.list_partitions(deployments)}
    mark = Watermarks(lake).get("gitlab", "deployments")
    monkeypatch.setenv("ROSETTA_GITLAB_URL", closed_port_url())
    with pytest.raises(IngestionFailed) as caught:
        invoke(deploys_handler, scheduled_event(deploys_handler.__file__, spans["deploys"]))
    message = str(caught.value)
    assert "gitlab: connection failed (ConnectError) on GET /api/v4/projects/" in message
    assert sims.credentials["gitlab"]["private_token"] not in message
    outcome = caught.value.outcome
    status = {o.dataset: o.record.status for o in outcome.outcomes}
    assert status["gitlab/deployments"] == "failed" and status["argocd/deployment_history"] == "succeeded"
    assert {d: lake.read_partition(deployments, d) for d in lake.list_partitions(deployments)} == kept
    assert Watermarks(lake).get("gitlab", "deployments") == mark
    # Other sources are not affected.
    summary = invoke(logs_handler, scheduled_event(logs_handler.__file__, spans["logs"]))
    assert summary["runs"][0]["status"] == "succeeded"


def test_without_a_window_the_run_starts_at_the_watermark(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    with pytest.raises(Exception, match="no mapping: import one with `rosetta-monitoring mappings import`"):
        invoke(logs_handler, {})
    import_catalog(lake, sims.estate)
    spans = windows(sims.estate)
    invoke(logs_handler, scheduled_event(logs_handler.__file__, spans["logs"]))
    mark = Watermarks(lake).get("elasticsearch", "log_counts_hourly")
    assert mark is not None and mark.value == sims.estate.end
    # The API's batch trigger names itself in the event and finds its runs in the run log by that tag.
    summary = invoke(logs_handler, {**scheduled_event(logs_handler.__file__, None), "trigger": "api:3f2a9c"})
    window = summary["runs"][0]["window"]
    assert window["since"] == (sims.estate.end - timedelta(hours=2)).isoformat()  # watermark minus the overlap
    assert summary["trigger"] == "api:3f2a9c"
    run_ids = {r["run_id"] for r in summary["runs"][0]["datasets"].values()}
    records = RunLog(lake).list(since=sims.estate.end.date() - timedelta(days=1000), limit=100)
    assert {r.run_id for r in records if r.trigger == "api:3f2a9c"} == run_ids
    # A tag that is not a plain word (it would land in logs) is not taken.
    odd = invoke(logs_handler, {"trigger": "api:x\nforged log line"})
    assert odd["trigger"] == "schedule"


def test_problems_are_read_with_a_page_size_above_the_api_maximum(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings take up to 5000 problems and entities a page, but the Problems API answers 400 above 500 (its
    documented maximum, the simulator's too): with 1000 set, every problems run failed. By hand: the run must
    bring every problem of the estate, as with the default size."""
    point(sims, local_settings)
    monkeypatch.setenv("ROSETTA_DYNATRACE_PAGE_SIZE", "1000")
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    event = {
        **scheduled_event(dynatrace_handler.__file__, windows(sims.estate)["dynatrace"]),
        "datasets": ["dynatrace/problems"],
    }
    (run,) = invoke(dynatrace_handler, event)["runs"]
    assert run["status"] == "succeeded"
    assert {r["problem_id"] for r in rows(lake, "dynatrace/problems")} == {
        p.problem_id for p in sims.estate.dynatrace_problems
    }


def test_a_project_gitlab_no_longer_serves_is_set_aside_and_the_others_are_read(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """The mapping still names project 999999, deleted from GitLab (it answers 404 Project Not Found): every other
    project's deployments, pipelines and merged requests arrive; the refusal is one reject naming the project, and
    the run says partial."""
    from lakehouse.mappings import MappingStore

    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    retired = {"entity_id": "retired-app", "kind": "application", "gitlab_project_id": 999999}
    MappingStore(lake).apply([retired], actor="tests")
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    (run,) = invoke(deploys_handler, event)["runs"]
    check_deploys(lake, sims.estate)
    gitlab = {d: v for d, v in run["datasets"].items() if d.startswith("gitlab/")}
    assert gitlab["gitlab/deployments"]["status"] == "partial"
    assert gitlab["gitlab/deployments"]["rows_rejected"] == 1
    (reject,) = rows(lake, "gitlab/rejects")
    assert "GitLab project 999999" in reject["location"] and "HTTP 404" in reject["reason"]


def test_an_index_elasticsearch_no_longer_has_is_set_aside_and_the_others_are_read(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """The mapping still names the index logs-retired, deleted from Elasticsearch (a search of it answers 404
    index_not_found_exception): every other index pattern's counts arrive; the refusal is one reject naming the
    index, and the run says partial."""
    from lakehouse.mappings import MappingStore

    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    retired = {"entity_id": "retired-app", "kind": "application", "elisa_index": "logs-retired"}
    MappingStore(lake).apply([retired], actor="tests")
    (run,) = invoke(logs_handler, scheduled_event(logs_handler.__file__, windows(sims.estate)["logs"]))["runs"]
    check_logs(lake, sims.estate)
    counts = run["datasets"]["elasticsearch/log_counts_hourly"]
    assert counts["status"] == "partial"
    assert counts["rows_rejected"] == 1
    (reject,) = rows(lake, "elasticsearch/rejects")
    assert "logs-retired" in reject["location"] and "HTTP 404" in reject["reason"]


def test_a_run_failing_after_a_malformed_record_keeps_it_and_counts_it(
    local_settings: Settings, estate: Estate, point: Point
) -> None:
    """One incident of the window comes with reassignment_count "many", on the first page; ServiceNow then answers
    503 to every try of the second page. The failed run kept nothing of that record: the next run may read the
    window after the record was mended, or fail too. By hand: the failed run says 1 reject and keeps it with its
    reason, writes no incident and leaves the watermark where the last good run put it; the next run over the
    window meets the record again and keeps it once more, under its own run: 2 rejects counted, 2 kept."""
    with start_simulators(estate, faults=FaultConfig.from_dict({"servicenow": {"server_error_burst": 5}})) as own:
        point(own, local_settings)  # ROSETTA_HTTP_ATTEMPTS=5: a burst of 5 fails the page for good
        lake = Lake.from_settings(local_settings)
        event = {
            **scheduled_event(servicenow_handler.__file__, windows(estate)["servicenow"]),
            "datasets": ["servicenow/incidents"],
        }
        invoke(servicenow_handler, event)
        incidents = get_dataset("servicenow/incidents")
        kept = {d: lake.read_partition(incidents, d) for d in lake.list_partitions(incidents)}
        mark = Watermarks(lake).get("servicenow", "incidents")

        table = own.apis["servicenow"].tables["incident"]
        first = min(table.rows, key=lambda r: (table.value(r, "sys_updated_on"), table.sys_id(r)))
        broken = table.sys_id(first)
        count = table.getters["reassignment_count"]
        table.getters["reassignment_count"] = lambda r: "many" if table.sys_id(r) == broken else count(r)
        injector = own.injectors["servicenow"]
        injector.faults.schedule[injector.request_count + 2] = ["server_error"]  # the second page

        with pytest.raises(IngestionFailed) as caught:
            invoke(servicenow_handler, event)
        (failed,) = caught.value.outcome.outcomes
        assert failed.pages == 1 and failed.record.status == "failed" and failed.record.rows_rejected == 1
        (reject,) = rows(lake, "servicenow/rejects")
        assert reject["run_id"] == failed.record.run_id
        assert reject["reason"] == "reassignment_count: expected an integer, got 'many'"
        assert reject["location"] == "page 1 record 0" and broken in reject["raw_text"]
        assert {d: lake.read_partition(incidents, d) for d in lake.list_partitions(incidents)} == kept
        assert Watermarks(lake).get("servicenow", "incidents") == mark

        (run,) = invoke(servicenow_handler, event)["runs"]
        stats = run["datasets"]["servicenow/incidents"]
        assert (stats["status"], stats["rows_rejected"]) == ("partial", 1)
        again = [r for r in rows(lake, "servicenow/rejects") if r["run_id"] == stats["run_id"]]
        assert [(r["reason"], r["location"]) for r in again] == [(reject["reason"], "page 1 record 0")]
        records = RunLog(lake).list(since=estate.end.date() - timedelta(days=1000), limit=100)
        assert sum(r.rows_rejected for r in records) == len(rows(lake, "servicenow/rejects")) == 2


class HandCountedLogs(Telemetry):
    """Log lines the test counts itself: those given, and no other."""

    def __init__(self, estate: Estate, counts: dict[tuple[str, str, str, str | None, int], int]) -> None:
        super().__init__(estate)
        self.counts = counts

    def hour_log_count(self, comp: Component, environment: str, level: str, error_type: str | None, hour_s: int) -> int:
        return self.counts.get((comp.name, environment, level, error_type, hour_s), 0)


def test_logs_of_elastic_common_schema_loggers_count_once_their_environment_field_is_set(
    local_settings: Settings, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An estate whose loggers follow Elastic Common Schema: its lines name their environment in
    service.environment, never deployment.environment. By hand, one service in production: 3 ERROR lines (each with
    an exception) in the hour 3 h before the end, 2 WARN lines in the next hour. Read from deployment.environment
    (the default), every line lacks the field: the two buckets (3 and 2 lines) are set aside as 2 rejects saying
    why, and nothing is counted. With ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD=service.environment the same window
    gives ERROR 3 and EXCEPTION 3 for the first hour, WARN 2 for the next, in production, and no reject."""
    estate = generate_estate(seed=16, apps=1, days=1, end=END)
    service = estate.components[0].name
    first = estate.end_s - 3 * 3600
    counts = {
        (service, PRODUCTION, "ERROR", ERROR_TYPES[0], first): 3,
        (service, PRODUCTION, "WARN", None, first + 3600): 2,
    }
    logs = HandCountedLogs(estate, counts)
    window = {"since": (END - timedelta(hours=4)).isoformat(), "until": END.isoformat()}
    with start_simulators(estate, telemetry=logs, log_environment_fields=("service.environment",)) as ecs:
        point(ecs, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, estate)

        (default,) = invoke(logs_handler, scheduled_event(logs_handler.__file__, window))["runs"]
        assert default["datasets"]["elasticsearch/log_counts_hourly"]["rows_rejected"] == 2
        assert rows(lake, "elasticsearch/log_counts_hourly") == []
        reasons = sorted(r["reason"] for r in rows(lake, "elasticsearch/rejects"))
        assert reasons == [
            "2 log lines without deployment.environment: no environment to count them in",
            "3 log lines without deployment.environment: no environment to count them in",
        ]

        monkeypatch.setenv("ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD", "service.environment")
        (ecs_run,) = invoke(logs_handler, scheduled_event(logs_handler.__file__, window))["runs"]
        assert ecs_run["datasets"]["elasticsearch/log_counts_hourly"]["rows_rejected"] == 0
        counted = {
            (r["service_name"], r["environment"], r["level"], epoch(r["hour"])): r["count"]
            for r in rows(lake, "elasticsearch/log_counts_hourly")
        }
        assert counted == {
            (service, PRODUCTION, "ERROR", first): 3,
            (service, PRODUCTION, "EXCEPTION", first): 3,
            (service, PRODUCTION, "WARN", first + 3600): 2,
        }


def test_logs_of_opentelemetry_exporters_count_by_their_severity_text(local_settings: Settings, point: Point) -> None:
    """Logs an OpenTelemetry exporter writes in its own mapping carry the level in severity_text (no log.level)
    and an exception's type in exception.type (no error.type). By hand, one service in production: 3 ERROR lines
    (each with an exception) in the hour 3 h before the end, 2 WARN lines in the next hour. Read with the default
    settings (environment in deployment.environment), they count as ERROR 3 and EXCEPTION 3 for the first hour and
    WARN 2 for the next, with no reject: the same figures as the log.level lines of an ECS logger."""
    estate = generate_estate(seed=16, apps=1, days=1, end=END)
    service = estate.components[0].name
    first = estate.end_s - 3 * 3600
    counts = {
        (service, PRODUCTION, "ERROR", ERROR_TYPES[0], first): 3,
        (service, PRODUCTION, "WARN", None, first + 3600): 2,
    }
    logs = HandCountedLogs(estate, counts)
    window = {"since": (END - timedelta(hours=4)).isoformat(), "until": END.isoformat()}
    with start_simulators(
        estate, telemetry=logs, log_environment_fields=("deployment.environment",), log_level_field="severity_text"
    ) as otel:
        point(otel, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, estate)

        (run,) = invoke(logs_handler, scheduled_event(logs_handler.__file__, window))["runs"]
        assert run["datasets"]["elasticsearch/log_counts_hourly"]["rows_rejected"] == 0
        counted = {
            (r["service_name"], r["environment"], r["level"], epoch(r["hour"])): r["count"]
            for r in rows(lake, "elasticsearch/log_counts_hourly")
        }
        assert counted == {
            (service, PRODUCTION, "ERROR", first): 3,
            (service, PRODUCTION, "EXCEPTION", first): 3,
            (service, PRODUCTION, "WARN", first + 3600): 2,
        }


def test_an_ingestion_near_its_timeout_stops_itself_and_ends_its_run_records(
    local_settings: Settings, point: Point
) -> None:
    """Lambda kills a function at its timeout without a word, leaving run records that say "running" for ever. The
    handler stops the run 30 s before the timeout instead. ServiceNow answers every page a second late here; invoked
    with 31.5 s left, the run is stopped 1.5 s in, on its second page: the invocation fails (Lambda counts the error
    and retries), each of the run's records has ended "failed", "stopped (LambdaTimeout)", and no watermark moved."""
    faults = FaultConfig.from_dict({"servicenow": {"slow": 1.0, "slow_seconds": 1.0}})
    with start_simulators(generate_estate(seed=7, apps=2, days=2, end=END), faults=faults) as slow:
        point(slow, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, slow.estate)
        started = datetime.now(UTC)
        with pytest.raises(RosettaError, match="stopped 30 s before the Lambda timeout"):
            invoke(servicenow_handler, {}, remaining_ms=31_500)
    records = RunLog(lake).list(since=started.date() - timedelta(days=1), limit=100)
    assert records and {(r.source, r.status, r.error) for r in records} == {
        ("servicenow", "failed", "stopped (LambdaTimeout)")
    }
    assert all(Watermarks(lake).get("servicenow", d.split("/")[1]) is None for d in {r.dataset for r in records})


@pytest.mark.parametrize("unset", ["ARGOCD", "GITLAB"])
def test_a_shop_with_one_deployment_tool_ingests_its_deployments(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch, unset: str
) -> None:
    """A platform with GitLab and no ArgoCD (or the reverse) sets only that tool's URL and token. Every scheduled run
    of ingest_deploys failed on the missing ArgoCD settings, and GitLab was never read. The run now reads the tool it
    is given: its datasets, and deployment events of that origin alone, as many as the estate made."""
    point(sims, local_settings)
    monkeypatch.delenv(f"ROSETTA_{unset}_URL")
    monkeypatch.delenv(f"ROSETTA_{unset}_TOKEN")
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    (run,) = invoke(deploys_handler, event)["runs"]
    kept, gone = ("gitlab", "argocd") if unset == "ARGOCD" else ("argocd", "gitlab")
    assert {d.split("/")[0] for d in run["datasets"]} == {kept, "deploys"}
    assert all(v["status"] == "succeeded" for v in run["datasets"].values()), run["datasets"]
    origins = {e["origin"] for e in rows(lake, "deploys/deployment_events")}
    assert origins == {kept}
    if kept == "gitlab":
        made = {d.id for d in [*sims.estate.deployments, *sims.estate.handoffs] if d.origin == "gitlab"}
        assert {r["deployment_id"] for r in rows(lake, "gitlab/deployments")} == made
    assert not [d for d in REGISTRY.values() if d.source == gone and lake.list_partitions(d)]


def test_a_deployment_tool_given_half_its_settings_is_named_not_skipped(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ArgoCD's token set without its URL is a mistake to name, not a platform without ArgoCD."""
    point(sims, local_settings)
    monkeypatch.delenv("ROSETTA_ARGOCD_URL")
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    with pytest.raises(RosettaError, match=r"missing settings: ROSETTA_ARGOCD_URL$"):
        invoke(deploys_handler, event)
    # The run that could not start is in the run log, as the admin API's batch runs and sources' state read it.
    (record,) = [r for r in RunLog(lake).list() if r.source == "deploys"]
    assert (record.function, record.dataset, record.status) == ("ingest_deploys", None, "failed")
    assert record.error is not None and "missing settings: ROSETTA_ARGOCD_URL" in record.error


def test_a_secret_that_cannot_be_read_is_a_failed_run_in_the_run_log(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets Manager refusing the function (a policy not applied yet) failed the invocation before any run
    started: the Lambda error alarm said so, while the run log, the admin API's batch runs and the sources' last run
    status showed nothing, only data growing old."""
    point(sims, local_settings)

    def refused(name: str, arn: str | None, parameter: str | None) -> str:
        raise RosettaError(f"{name}: AccessDeniedException reading the referenced secret")

    monkeypatch.setattr(config, "_fetch_secret", refused)
    monkeypatch.setenv("ROSETTA_ARGOCD_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:argocd")
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    with pytest.raises(RosettaError, match="AccessDeniedException"):
        invoke(deploys_handler, scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"]))
    (record,) = [r for r in RunLog(lake).list() if r.source == "deploys"]
    assert (record.dataset, record.status) == (None, "failed")
    assert record.error is not None and "argocd_token: AccessDeniedException" in record.error


def test_a_backfill_near_its_timeout_stops_the_days_it_runs(local_settings: Settings, point: Point) -> None:
    """A backfill stopped (Lambda's timeout near, or Ctrl-C) dropped the days still queued but waited for the days its
    thread pool was running to end: a day takes minutes on a real estate, so Lambda killed the run first and left
    their records "running". ServiceNow answers every request a second late here, and a day of incidents takes two
    requests (a page and the count), so about two seconds. A backfill of 8 whole days and today (9 days) runs its
    first day alone, then two at a time; invoked with 33.5 s left, it is stopped 3.5 s in, while the second and third
    days run. Those two end "failed", "stopped (LambdaTimeout)" at their next request, write no day and leave no
    marker; the six days still queued never start (no run record); and the invocation fails as a timeout."""
    faults = FaultConfig.from_dict({"servicenow": {"slow": 1.0, "slow_seconds": 1.0}})
    with start_simulators(generate_estate(seed=7, apps=2, days=2, end=END), faults=faults) as slow:
        point(slow, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, slow.estate)
        started = datetime.now(UTC)
        event = {"backfill_days": 8, "datasets": ["servicenow/incidents"]}
        with pytest.raises(RosettaError, match="stopped 30 s before the Lambda timeout"):
            invoke(servicenow_handler, event, remaining_ms=33_500)
    records = RunLog(lake).list(since=started.date() - timedelta(days=1), limit=100)
    days_run = {r.window_start for r in records}
    # The first day alone, then at most the two the pool had started: 3 of 9 days at most, each with one record.
    assert 1 <= len(days_run) <= 3 and len(records) == len(days_run)
    stopped = [r for r in records if r.status == "failed"]
    assert stopped and {r.error for r in stopped} == {"stopped (LambdaTimeout)"}
    assert all(r.days_written == [] for r in stopped)
    assert all(r.status == "succeeded" for r in records if r not in stopped)
    # A marker for each day that ended, none for a stopped one: a resumed backfill runs those again.
    markers = lake.list_keys("state/servicenow/backfill/")
    assert len(markers) == len(records) - len(stopped)


def path_only_catalog(estate: Estate) -> list[dict[str, Any]]:
    """The estate's catalog with each component naming its GitLab project as most Backstage catalogs do, by
    `gitlab.com/project-slug` (its path with namespace) alone, without `gitlab.com/project-id`."""
    documents = list(yaml.safe_load_all(estate.catalog_yaml()))
    for d in documents:
        notes = d["metadata"].get("annotations") or {}
        if d["kind"] == "Component" and notes.pop("gitlab.com/project-id", None):
            notes["gitlab.com/project-slug"] = next(
                c for c in estate.components if c.name == d["metadata"]["name"]
            ).gitlab_path
    return documents


def mart_rows(lake: Lake, table: str) -> list[dict[str, Any]]:
    files = [str(p) for p in Path(lake.url, "mart", table).rglob("*.parquet")]
    with duckdb.connect() as con:
        return con.execute("select * from read_parquet($files)", {"files": files}).to_arrow_table().to_pylist()


def test_components_named_by_their_gitlab_path_get_their_deployments_and_merge_requests(
    local_settings: Settings, sims: RunningSimulators, point: Point, tmp_path: Path
) -> None:
    """A catalog naming every component's GitLab project by its path alone (gitlab.com/project-slug): the mapping
    kept no project, GitLab was not read for them and they had no deployment, merge request or lead time. Ingestion
    asks GitLab each path's project once (GET /projects/<encoded path>), records the answer, and reads the project
    by its id, so the lake holds what the estate's catalog of ids gives. By hand: the recorded paths are the
    estate's, each with its project's id; the stored deployments, events and merged requests are the estate's
    (check_deploys); the build gives each GitLab deployment in production to its component, and the lead times are
    those a lake ingested with the catalog of ids has, each request's on the component of its project."""
    ids = Settings(lake_url=str(tmp_path / "ids"), duckdb_temp_directory=tmp_path / "duckdb")
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    point(sims, ids)
    by_id = Lake.from_settings(ids)
    import_catalog(by_id, sims.estate)
    invoke(deploys_handler, event)
    build(by_id, ids, mode="full", as_of=END)

    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    entries, problems = from_catalog(path_only_catalog(sims.estate))
    assert problems == [] and not any(e.gitlab_project_id for e in entries)
    MappingStore(lake).apply(entries, actor="tests")
    (run,) = invoke(deploys_handler, event)["runs"]
    assert {d: v["status"] for d, v in run["datasets"].items()} == dict.fromkeys(run["datasets"], "succeeded")
    assert {(r["project_path"], r["project_id"]) for r in rows(lake, "gitlab/project_paths")} == {
        (c.gitlab_path, c.gitlab_project_id) for c in sims.estate.components
    }
    check_deploys(lake, sims.estate)

    build(lake, local_settings, mode="full", as_of=END)
    attributed = {
        r["deployment_key"]: r["component_id"]
        for r in mart_rows(lake, "mv_deployments")
        if r["origin"] == "gitlab" and r["environment"] == PRODUCTION
    }
    gitlab = [d for d in sims.estate.truth.deployments if d.origin == "gitlab"]
    assert attributed == {f"gitlab:{d.id}": d.component for d in gitlab}
    component_of = {c.gitlab_project_id: c.name for c in sims.estate.components}
    lead_times = lead_time_rows(lake)
    assert lead_times and lead_times == lead_time_rows(by_id)
    assert all(r["component_id"] == component_of[r["project_id"]] for r in lead_times)


def lead_time_rows(lake: Lake) -> list[dict[str, Any]]:
    found = [r for r in mart_rows(lake, "mv_lead_times") if r["environment"] == PRODUCTION]
    return sorted(found, key=lambda r: (r["mr_id"], r["deployment_key"]))


def test_a_path_gitlab_does_not_know_is_set_aside_and_the_others_are_read(
    local_settings: Settings, sims: RunningSimulators, point: Point
) -> None:
    """The mapping names one more project by a path GitLab does not know (it answers 404 Project Not Found): every
    other project's deployments, pipelines and merged requests arrive; the path is one reject naming it, counted
    by the run of the paths it records, which says partial. By hand: one reject, its location the path, its reason
    the 404; the other datasets succeed and the lake holds the estate's records."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    unknown = {"entity_id": "unknown-app", "kind": "application", "gitlab_project_slug": "nobody/nothing"}
    MappingStore(lake).apply([unknown], actor="tests")
    (run,) = invoke(deploys_handler, scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"]))["runs"]
    check_deploys(lake, sims.estate)
    paths = run["datasets"]["gitlab/project_paths"]
    assert (paths["status"], paths["rows_rejected"], paths["rows_out"]) == ("partial", 1, 0)
    others = {d: v["status"] for d, v in run["datasets"].items() if d != "gitlab/project_paths"}
    assert set(others.values()) == {"succeeded"}
    (reject,) = rows(lake, "gitlab/rejects")
    assert "nobody/nothing" in reject["location"] and "HTTP 404" in reject["reason"]


def test_an_argocd_listing_over_the_page_limit_fails_its_stream_alone_and_says_which_setting(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ArgoCD lists every application in one answer, some 13 kB each in the simulated estate (64 kB for 5): at 1,000
    applications a listing is tens of MB, and a 200 MB page read whole took 1.6-2.6 GB, over the function's
    1,024 MB. With a limit of 32 kB (ROSETTA_HTTP_MAX_PAGE_MB 0.03125), by hand: the ArgoCD stream fails at its one
    request, unretried, naming the setting; the listing is kept among the rejects as the one reject it makes, its
    cut beginning not kept (it is no JSON, whose tools' values could not be redacted); nothing of ArgoCD is written
    and its watermark does not move. GitLab's pages, each under 32 kB, are read as ever."""
    point(sims, local_settings)
    monkeypatch.setenv("ROSETTA_HTTP_MAX_PAGE_MB", "0.03125")
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    with pytest.raises(IngestionFailed) as caught:
        invoke(deploys_handler, scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"]))
    records = {o.dataset: o.record for o in caught.value.outcome.outcomes}
    argocd = {d: (r.status, r.requests, r.rows_rejected) for d, r in records.items() if d.startswith("argocd/")}
    assert argocd == {
        "argocd/app_status": ("failed", 1, 1),
        "argocd/sync_operations": ("failed", 0, 0),
        "argocd/deployment_history": ("failed", 0, 0),
    }
    error = records["argocd/app_status"].error or ""
    assert "argocd: page was over 0.03125 MB (" in error and "on GET /api/v1/applications" in error
    assert "ROSETTA_HTTP_MAX_PAGE_MB" in error
    (kept,) = rows(lake, "argocd/rejects")
    assert kept["reason"].startswith("page was over 0.03125 MB") and kept["raw_text"].startswith("<not kept: ")
    for dataset, record in records.items():
        if dataset.startswith("argocd/"):
            assert lake.list_partitions(get_dataset(dataset)) == []
            assert Watermarks(lake).get("argocd", dataset.split("/")[1]) is None
        else:
            assert record.status == "succeeded" and record.rows_out > 0, dataset
