"""A deploy run after GitLab was down for days reads a bounded catch-up window that ends in the past, from GitLab's
old watermark; ArgoCD's listing in the same run reads the applications as they are now. ArgoCD's watermark must say
so (the run's start), or it stalls with GitLab's catch-up: admin config/sources then shows ArgoCD a day behind
though it answered every run. A dataset read over the window keeps the window's end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from functions.ingest_deploys import parse
from lakehouse.ingest.run import Page, SourcePlan, Stream, run_plan
from lakehouse.ingest.window import Window
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.ingest.test_window_edges import STARTED, listing


def test_a_snapshot_read_in_a_window_ending_in_the_past_reaches_the_run_s_start(tmp_path: Path) -> None:
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    observed = STARTED + timedelta(minutes=2)

    def argocd_pages() -> Iterator[Page]:
        yield Page(parse.APP_STATUS, listing("Failed", "2024-03-05T07:33:40Z"), {"observed_at": observed})

    def gitlab_pages() -> Iterator[Page]:
        yield Page(parse.DEPLOYMENTS, [], {"project_id": 3})

    argocd = Stream(
        "applications",
        parse.ARGOCD_DATASETS,
        argocd_pages,
        {parse.APP_STATUS: parse.parse_applications_page},
        snapshot=True,  # as functions/ingest_deploys/source.py reads it
    )
    gitlab = Stream("gitlab", (parse.DEPLOYMENTS,), gitlab_pages, {parse.DEPLOYMENTS: parse.parse_deployments_page})
    # The catch-up window: 48 hours from GitLab's watermark, which was three days ago.
    since = datetime.now(UTC) - timedelta(days=3)
    window = Window(since, since + timedelta(hours=48))
    now = datetime.now(UTC)  # as lakehouse.ingest.sources.ingest gives it
    outcome = run_plan(SourcePlan("deploys", "ingest_deploys", [argocd, gitlab]), lake, window, now=now)
    assert not outcome.failed
    marks = Watermarks(lake)
    for name in parse.ARGOCD_DATASETS:
        dataset = get_dataset(name)
        mark = marks.get(dataset.source, dataset.name)
        assert mark is not None and mark.value == now, name
    deployments = get_dataset(parse.DEPLOYMENTS)
    gitlab_mark = marks.get(deployments.source, deployments.name)
    assert gitlab_mark is not None and gitlab_mark.value == window.until
