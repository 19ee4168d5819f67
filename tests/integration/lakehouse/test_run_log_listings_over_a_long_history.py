"""Listings of the run log after a long operation: a year of runs is some 450,000 records, and a listing that reads
them all costs some 450 requests on S3 or a walk of as many files on a local folder, every time it is made."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

import lakehouse.objectstore as objectstore_module
from lakehouse.runlog import RunLog
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from lakehouse.views import render_views

OLDER_RUNS = 1500


def file_older_runs(lake: Lake) -> None:
    """1,500 runs filed in March 2025, 28 day folders of them."""
    for i in range(OLDER_RUNS):
        lake.put_json(f"runs/day=2025-03-{1 + i % 28:02d}/old-{i:04d}.json", {"run_id": f"old-{i:04d}"})


def test_the_views_find_the_run_log_without_listing_its_records(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """`rosetta-monitoring views` (and `query`, which runs them) checks that the run log has records before giving
    its view. Over 1,500 older records and one run of 2 November 2026, it gives the view having listed no record
    (the day folders alone), and on S3 in one request."""
    file_older_runs(lake)
    RunLog(lake).start("ingest_gitlab", "gitlab", "gitlab/deployments", now=datetime(2026, 11, 2, 9, tzinfo=UTC))
    records_listed: list[str] = []
    listed = lake.store.list

    def counted(prefix: str, *, start_after: str | None = None) -> list[str]:
        keys = listed(prefix, start_after=start_after)
        records_listed.extend(k for k in keys if k.startswith("runs/"))
        return keys

    monkeypatch.setattr(lake.store, "list", counted)
    run_log_requests: list[str] = []
    client = getattr(lake.store, "client", None)
    if client is not None:

        def note(params: dict[str, Any], **kwargs: object) -> None:
            if params.get("Prefix", "").endswith("runs/"):
                run_log_requests.append(params["Prefix"])

        client.meta.events.register("provide-client-params.s3.ListObjectsV2", note)

    script = render_views(lake)

    assert "create or replace view batch_runs" in script
    assert records_listed == []
    if client is not None:
        assert len(run_log_requests) == 1


def test_a_local_lake_lists_recent_runs_without_walking_the_older_day_folders(
    local_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a local folder, the runs since 1 November 2026 (two, of the 2nd and the 20th) are found by opening the run
    log's folder, those two days' and the last runs' (runs/last/gitlab): none of the 28 folders of March 2025."""
    lake = Lake.from_settings(local_settings)
    file_older_runs(lake)
    runs = RunLog(lake)
    recent = [runs.start("f", "gitlab", now=datetime(2026, 11, d, 9, tzinfo=UTC)).run_id for d in (2, 20)]
    root = local_settings.lake_url
    opened: list[str] = []
    scandir = os.scandir

    def noted(path: str) -> Iterator[os.DirEntry[str]]:
        opened.append(os.path.relpath(path, root))
        return scandir(path)

    monkeypatch.setattr(objectstore_module.os, "scandir", noted)
    listed = runs.list(since=date(2026, 11, 1))

    assert [r.run_id for r in listed] == recent[::-1]
    assert sorted(opened) == ["runs", "runs/day=2026-11-02", "runs/day=2026-11-20", "runs/last", "runs/last/gitlab"]
