"""How far the deployments were read, as the build records it for the DORA rows, the deployments list and the trend:
the earliest watermark of the deployment events and of the sources the last deploy run read. An estate that moved
to ArgoCD alone keeps GitLab's last watermark for ever; it must not hold the deployments back. And when the events'
derivation failed while both sources were read, the events' own watermark says how far they go.

Watermarks set by hand: ArgoCD's history to the 19th, GitLab's deployments to the 10th, the events to the 19th (or
the 15th); the last deploy run's records noted as the ingestion notes them (lakehouse.runlog.RunLog.start).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from lakehouse.aggregates.build import STATE_KEY, build
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, estate_lake, t

HISTORY, DEPLOYMENTS, EVENTS = (
    get_dataset(d) for d in ("argocd/deployment_history", "gitlab/deployments", "deploys/deployment_events")
)


def deploy_run(lake: Lake, window: tuple[datetime, datetime], datasets: list) -> None:
    """One ingest_deploys run over `window` reading `datasets`, each recorded."""
    log = RunLog(lake)
    for dataset in datasets:
        log.finish(log.start("ingest_deploys", dataset.source, dataset.id, window=window), "succeeded")


def read_until(tmp_path: Path, events_mark: datetime, last_run_reads_gitlab: bool) -> str:
    lake, settings = estate_lake(tmp_path)
    marks = Watermarks(lake)
    for dataset, mark in ((HISTORY, t(19)), (DEPLOYMENTS, t(10)), (EVENTS, events_mark)):
        marks.advance(dataset.source, dataset.name, mark, run_id="by-hand")
    deploy_run(lake, (t(9), t(10)), [HISTORY, DEPLOYMENTS, EVENTS])
    deploy_run(lake, (t(18), t(19)), [HISTORY, EVENTS, *([DEPLOYMENTS] if last_run_reads_gitlab else [])])
    build(lake, settings, mode="full", as_of=AS_OF)
    state = lake.get_json(STATE_KEY)
    assert state is not None
    return state[0]["read_until"][EVENTS.id]


@pytest.mark.parametrize(
    ("events_mark", "last_run_reads_gitlab", "expected"),
    [
        (t(19), False, t(19)),  # GitLab switched off after the 10th: ArgoCD's and the events' watermark
        (t(19), True, t(10)),  # GitLab read by the last run, and down since the 10th
        (t(15), False, t(15)),  # the events' derivation failed since the 15th
    ],
)
def test_deployments_are_read_up_to_the_sources_the_last_run_read_and_the_events(
    tmp_path: Path, events_mark: datetime, last_run_reads_gitlab: bool, expected: datetime
) -> None:
    assert read_until(tmp_path, events_mark, last_run_reads_gitlab) == expected.isoformat()
