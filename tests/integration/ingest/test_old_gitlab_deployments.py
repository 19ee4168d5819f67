"""A GitLab deployment created months before it ran (its manual deploy job waiting, blocked, then played), against
the GitLab simulator over HTTP: read, stored, built into a deployment event and counted, run after run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from functions.ingest_deploys import handler as deploys_handler
from functions.ingest_deploys.events import LOOKBACK
from lakehouse.aggregates.build import build
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import generate_estate
from simulators.model import PRODUCTION, at
from simulators.serve import RunningSimulators, start_simulators

from .conftest import END, import_catalog, invoke, scheduled_event
from .test_ingest_handlers import mart_rows
from .truth import rows

pytestmark = pytest.mark.simulators
Point = Callable[[RunningSimulators, Settings], None]
WAITED = timedelta(days=150)


def deploys_event(since: str, until: str) -> dict[str, object]:
    return scheduled_event(deploys_handler.__file__, {"since": since, "until": until})


def test_a_deployment_created_months_before_it_ran_is_an_event_and_counted_in_dora(
    local_settings: Settings, point: Point
) -> None:
    """GitLab creates a deployment with its pipeline; a manual deploy job waits (the deployment `created`, then
    `blocked` for an approval) until someone plays it, here 150 days later, and it then finishes with an updated_at
    in the run's window. The deployments are kept in the day they were created, and the events read those days from
    120 days (LOOKBACK) before the window on: the deployment was read and stored, but never became an event, so
    DORA never counted it. By hand: the last successful production deployment of the estate's GitLab components is
    made 150 days old when it runs; the run over the estate's 10 days reads it, stores it on its creation day (some
    140 days before the estate's start, 20 before the first day the events read) and makes it event gitlab:<id>,
    succeeded at its finish; a scheduled run 20 days after the estate's end (nothing new to read, events computed
    again from 30 days before it, the deployment's finish within them) keeps it; and the build counts it in
    production for its component, with as many deployments as the estate made there."""
    estate = generate_estate(seed=16, apps=5, days=10, end=END)
    played = next(
        d for d in reversed(estate.truth.deployments) if d.origin == "gitlab" and not d.failed and not d.rollback
    )
    played.created_s = played.finished_s - int(WAITED.total_seconds())
    created = at(played.created_s)
    assert created.date() < (estate.start - LOOKBACK).date()
    with start_simulators(estate) as sims:
        point(sims, local_settings)
        lake = Lake.from_settings(local_settings)
        import_catalog(lake, estate)
        (run,) = invoke(deploys_handler, deploys_event(estate.start.isoformat(), estate.end.isoformat()))["runs"]
        assert run["datasets"]["deploys/deployment_events"]["status"] == "succeeded"
        stored = [r for r in rows(lake, "gitlab/deployments") if r["deployment_id"] == played.id]
        assert [(r["status"], r["created_at"].replace(microsecond=0)) for r in stored] == [("success", created)]

        def event() -> list[tuple[str, str]]:
            found = [e for e in rows(lake, "deploys/deployment_events") if e["deployment_key"] == f"gitlab:{played.id}"]
            return [(e["status"], f"{e['finished_at']:%Y-%m-%d %H:%M:%S}") for e in found]

        expected = [("succeeded", f"{played.time:%Y-%m-%d %H:%M:%S}")]
        assert event() == expected
        later = estate.end + timedelta(days=20)
        invoke(deploys_handler, deploys_event(later.isoformat(), (later + timedelta(hours=1)).isoformat()))
        assert event() == expected

    build(lake, local_settings, mode="full", as_of=END)
    counted = [
        r
        for r in mart_rows(lake, "mv_deployments")
        if r["environment"] == PRODUCTION and r["component_id"] == played.component
    ]
    assert f"gitlab:{played.id}" in {r["deployment_key"] for r in counted}
    made = [d for d in estate.truth.deployments if d.component == played.component]
    assert len(counted) == len(made)
