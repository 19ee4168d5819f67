"""The answers the real APIs give that most records do not take (source-contracts.md §3-4, ../shared/fixtures): a
GitLab deployment without a job, an ArgoCD history entry without initiatedBy. The simulators give a share of each,
and the pipeline keeps, attributes and counts those deployments as the estate says."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from functions.ingest_deploys import handler as deploys_handler
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate
from simulators.model import PRODUCTION, Deployment
from simulators.serve import RunningSimulators
from tests.integration.ingest.conftest import import_catalog, invoke, lake_env, scheduled_event
from tests.integration.ingest.test_ingest_handlers import mart_rows

from .test_sim_truth import _all_pages

pytestmark = pytest.mark.simulators
Client = Callable[[str], httpx.Client]


def test_gitlab_gives_deployments_without_a_job_as_the_estate_made_them(client: Client, estate: Estate) -> None:
    """`deployable` is null for a deployment created through the API or whose pipeline was deleted since (contract
    §4); the finish is then the deployment's updated_at, the moment its status was last set. By hand: the estate
    makes 6 of its 63 GitLab deployments to production (one of them failed) without a job, about one in ten; GitLab
    answers exactly those (staging's too) with `deployable: null` and an updated_at in the second they finished."""
    gitlab = [d for d in [*estate.deployments, *estate.handoffs] if d.origin == "gitlab"]
    made = {d.id: d for d in gitlab if d.jobless}
    production = [d for d in estate.truth.deployments if d.origin == "gitlab"]
    assert (len(production), sum(d.jobless for d in production)) == (63, 6)
    assert sum(d.jobless and d.failed for d in production) == 1
    served = []
    for comp in estate.components:
        served += _all_pages(client("gitlab"), f"/api/v4/projects/{comp.gitlab_project_id}/deployments", {})
    assert len(served) == len(gitlab)
    without = {d["id"]: d for d in served if d["deployable"] is None}
    assert set(without) == set(made)
    for number, deployment in without.items():
        assert deployment["updated_at"][:19] == f"{made[number].time:%Y-%m-%dT%H:%M:%S}"


def _history_entry_of(estate: Estate, app: dict[str, Any], entry: dict[str, Any]) -> Deployment:
    labels = app["metadata"]["labels"]
    return next(
        d
        for d in estate.deployments
        if (d.component, d.environment, d.history_id)
        == (labels["rosetta.io/component"], labels["environment"], entry["id"])
    )


def test_argocd_history_has_entries_without_initiatedby_as_the_estate_made_them(
    faulty: Callable[[dict[str, object]], RunningSimulators], connect: Callable[..., httpx.Client], estate: Estate
) -> None:
    """An entry ArgoCD wrote before it recorded who started a sync has no initiatedBy at all, as every entry of the
    live application in fixtures/argocd; one its automated sync policy started has {"automated": true} (contract
    §3). The estate's ArgoCD began recording 4 days 4 hours into its 21 days. Polled a day after that and at the end,
    each entry has no initiatedBy when it was deployed before, else the estate's initiator; both kinds, and users,
    are seen."""
    assert estate.argocd_initiators_from_s - estate.start_s == 4 * 86400 + 4 * 3600
    sims = faulty({})
    argo = connect(sims, "argocd")
    kinds = set()
    for poll in (estate.argocd_initiators_from_s + 86400, estate.end_s):
        sims.set_argocd_clock(datetime.fromtimestamp(poll, UTC))
        for app in argo.get("/api/v1/applications").json()["items"]:
            for entry in app["status"]["history"]:
                sync = _history_entry_of(estate, app, entry)
                if sync.finished_s < estate.argocd_initiators_from_s:
                    assert "initiatedBy" not in entry
                    kinds.add("none")
                elif sync.automated:
                    assert entry["initiatedBy"] == {"automated": True}
                    kinds.add("automated")
                else:
                    assert entry["initiatedBy"] == {"username": estate.users[sync.user_index].email}
                    kinds.add("user")
    assert kinds == {"none", "automated", "user"}


def _key(estate: Estate, d: Deployment) -> str:
    if d.origin == "gitlab":
        return f"gitlab:{d.id}"
    app = estate.component(d.component).argo_app
    return f"argocd:{app}:op:{d.started_at.isoformat()}" if d.failed else f"argocd:{app}:{d.history_id}"


def test_deployments_without_a_job_or_an_initiator_are_kept_attributed_and_counted(
    faulty: Callable[[dict[str, object]], RunningSimulators],
    estate: Estate,
    local_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulators over HTTP, ingest_deploys over the estate's 21 days, the lake, a full build. ArgoCD keeps every
    sync in its history here (revisionHistoryLimit raised), so one listing at the end shows each successful sync;
    a failed one shows only while it is the application's last operation. By hand, every production deployment the
    APIs show is in mv_deployments once, on its application and component, with its status and initiator as the
    estate gives them (and GitLab's with its rollback flag): GitLab's 6 without a job among them (their user is the
    deployment's), ArgoCD's entries without initiatedBy with none (null, not a name), automated ones 'automated'."""
    sims = faulty({})
    sims.apis["argocd"].limit = len(estate.deployments)
    for name, value in {**sims.env(), **lake_env(local_settings)}.items():
        monkeypatch.setenv(name, value)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, estate)
    window = {"since": estate.start.isoformat(), "until": (estate.end + timedelta(hours=1)).isoformat()}
    (run,) = invoke(deploys_handler, scheduled_event(deploys_handler.__file__, window))["runs"]
    assert {v["status"] for v in run["datasets"].values()} == {"succeeded"}
    build(lake, local_settings, mode="full", as_of=estate.end)

    last_syncs = {}
    for d in estate.deployments:
        if d.origin == "argocd":
            last_syncs[(d.component, d.environment)] = d
    shown = [
        d
        for d in estate.truth.deployments
        if d.origin == "gitlab" or not d.failed or last_syncs[(d.component, d.environment)] is d
    ]
    counted = {r["deployment_key"]: r for r in mart_rows(lake, "mv_deployments") if r["environment"] == PRODUCTION}
    assert sorted(counted) == sorted(_key(estate, d) for d in shown)
    for d in shown:
        row = counted[_key(estate, d)]
        status = "failed" if d.failed else "succeeded"
        assert (row["app_id"], row["component_id"], row["status"]) == (d.app, d.component, status)
        assert row["initiated_by"] == estate.initiated_by(d)
        # ArgoCD gives no commit dates: its rollback to a revision first deployed before the history is not known.
        if d.origin == "gitlab":
            assert row["is_rollback"] == d.rollback
    initiators = [estate.initiated_by(d) for d in shown if d.origin == "argocd"]
    assert initiators.count(None) > 0 and initiators.count("automated") > 0
    assert sum(d.jobless for d in shown) == 6
