"""ROSETTA_REQUEST_BUDGET is what one run may ask of the sources, retries included: a deploys run reads ArgoCD and
GitLab, and both draw on the one budget, so a run never makes more requests than the operator allowed."""

from __future__ import annotations

import pytest

from functions.ingest_deploys import handler as deploys_handler
from lakehouse.ingest.run import IngestionFailed
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.serve import RunningSimulators
from tests.integration.ingest.conftest import import_catalog, invoke, scheduled_event
from tests.integration.ingest.test_ingest_handlers import Point, windows

pytestmark = pytest.mark.simulators


def test_argocd_and_gitlab_draw_on_one_budget(
    local_settings: Settings, sims: RunningSimulators, point: Point, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run of the window counts the requests each tool needs. Run again with a budget one request short of
    both together (and enough for either alone), the run stops at the budget: it never makes that last request."""
    point(sims, local_settings)
    lake = Lake.from_settings(local_settings)
    import_catalog(lake, sims.estate)
    event = scheduled_event(deploys_handler.__file__, windows(sims.estate)["deploys"])
    (run,) = invoke(deploys_handler, event)["runs"]
    needs = {tool: requests(run, tool) for tool in ("argocd/", "gitlab/")}
    assert needs["argocd/"] >= 1 and needs["gitlab/"] > 1, needs
    budget = sum(needs.values()) - 1

    monkeypatch.setenv("ROSETTA_REQUEST_BUDGET", str(budget))
    with pytest.raises(IngestionFailed) as caught:
        invoke(deploys_handler, event)
    records = {o.dataset: o.record for o in caught.value.outcome.outcomes}
    assert sum(r.requests for d, r in records.items() if d.startswith(("argocd/", "gitlab/"))) == budget
    failed = {d: r.error or "" for d, r in records.items() if r.status == "failed"}
    assert failed and all(f"request budget of {budget} used up" in error for error in failed.values()), failed


def requests(run: dict, tool: str) -> int:
    """The requests a run's datasets of one tool (`argocd/`, `gitlab/`) made, each attempt counted (retries too)."""
    return sum(v["requests"] for d, v in run["datasets"].items() if d.startswith(tool))
