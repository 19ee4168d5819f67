"""A backfill of the deploy sources whose GitLab deployments are not written (the store refuses the puts; GitLab
refusing does the same) still computes the deployment events from what the lake holds, ArgoCD's history. Those
events are what DORA counts deployments from: had their first read moved back over days whose GitLab deployments the
lake lacks, a GitLab application would show no deployment there, where it should show 'insufficient data'. The
first read of the events moves back only over the days every dataset they are computed from was read for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest, run_backfill
from lakehouse.ingest.window import Window
from lakehouse.runlog import FirstReads
from lakehouse.schemas import Dataset
from lakehouse.storage import Lake
from tests.integration.ingest.conftest import END, Estate, import_catalog

DEPLOYMENTS = "gitlab/deployments"
EVENTS = "deploys/deployment_events"


def _first_reads(lake: Lake) -> dict[str, Any]:
    reads = FirstReads(lake)
    return {d: reads.get(*d.split("/")) for d in (DEPLOYMENTS, EVENTS)}


def _backfill(lake: Lake, window: Window) -> list[dict[str, str]]:
    """A backfill of the deploy sources over the window; each day's statuses of GitLab's deployments and events."""
    days = run_backfill("deploys", lake, IngestSettings().resolved(), window=window, now=END)
    return [{o.dataset: o.record.status for o in d.outcomes if o.dataset in (DEPLOYMENTS, EVENTS)} for d in days]


def test_a_backfill_whose_gitlab_days_failed_does_not_move_deployments_first_read(
    sims_lake: Lake, estate: Estate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """By hand: the scheduled run reads the last day, from END - 1 day. A backfill of the day before succeeds: both
    first reads move to END - 2 days. A backfill of the day before that fails for GitLab: the events are computed
    (succeeded) and both first reads stay at END - 2 days. Run again once the store answers, the backfill takes up
    that day (no marker was left for it) and both move to END - 3 days."""
    import_catalog(sims_lake, estate)
    day = timedelta(days=1)
    scheduled = ingest("deploys", sims_lake, IngestSettings().resolved(), window=Window(END - day, END))
    assert scheduled.status == "succeeded"
    assert _first_reads(sims_lake) == {DEPLOYMENTS: END - day, EVENTS: END - day}

    assert _backfill(sims_lake, Window(END - 2 * day, END - day)) == [{DEPLOYMENTS: "succeeded", EVENTS: "succeeded"}]
    assert _first_reads(sims_lake) == {DEPLOYMENTS: END - 2 * day, EVENTS: END - 2 * day}

    real = Lake.write_days

    def refuse_gitlab(self: Lake, ds: Dataset, table: Any, **kw: Any) -> Any:
        if ds.id == DEPLOYMENTS:
            raise OSError("store refused the put")
        return real(self, ds, table, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(Lake, "write_days", refuse_gitlab)
        failed = _backfill(sims_lake, Window(END - 3 * day, END - 2 * day))
    assert failed == [{DEPLOYMENTS: "failed", EVENTS: "succeeded"}]
    assert _first_reads(sims_lake) == {DEPLOYMENTS: END - 2 * day, EVENTS: END - 2 * day}

    assert _backfill(sims_lake, Window(END - 3 * day, END - 2 * day)) == [
        {DEPLOYMENTS: "succeeded", EVENTS: "succeeded"}
    ]
    assert _first_reads(sims_lake) == {DEPLOYMENTS: END - 3 * day, EVENTS: END - 3 * day}
