"""A deployment whose finish GitLab gives again on a later day moves from the 4th to the 6th. The run that moves it
stops halfway (the store refusing every call from one write on). Whichever day it stopped after, the deployment is
one row of mv_deployments and one deployment in the DORA deployment frequency, after the stopped run and after the
next run, which puts it on the 6th alone."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.ingest_deploys.events import EVENTS
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.gitlab_deployments import gitlab_deployment, write_gitlab_deployments

MOVED = 7001
FIRST_FINISH, MOVED_FINISH = "2024-03-04T10:05:00.000Z", "2024-03-06T08:00:00.000Z"
OLD_DAY, NEW_DAY = "deployment_events/day=2024-03-04", "deployment_events/day=2024-03-06"
AS_OF = datetime(2024, 3, 6, 12, tzinfo=UTC)


class StopsAfterPut:
    """The lake's store, refusing every call once a key containing `stop_after` has been put: the run is stopped."""

    def __init__(self, store: Any, stop_after: str) -> None:
        self.store, self.stop_after, self.stopped = store, stop_after, False

    def put(self, key: str, *args: Any, **kwargs: Any) -> Any:
        self._refuse_once_stopped()
        done = self.store.put(key, *args, **kwargs)
        self.stopped = self.stopped or self.stop_after in key
        return done

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.store, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self._refuse_once_stopped()
            return found(*args, **kwargs)

        return call

    def _refuse_once_stopped(self) -> None:
        if self.stopped:
            raise OSError("the run was stopped")


def deployment_listed(lake: Lake, deployment_id: int, updated_at: str) -> None:
    """A successful GitLab deployment made through the API (no job), listed by a run: it finished when it was last
    updated."""
    write_gitlab_deployments(lake, [gitlab_deployment(updated_at) | {"id": deployment_id, "iid": deployment_id}])


def events_run(lake: Lake, since: datetime) -> None:
    ingest("deploys", lake, IngestSettings(), window=Window(since, since + timedelta(hours=1)), datasets=[EVENTS])


def shop_deployments(lake: Lake) -> list[tuple[str, datetime]]:
    rows = [row for key in lake.list_keys("mart/mv_deployments/") for row in lake.get_table(key).to_pylist()]  # type: ignore[union-attr]
    return sorted((r["deployment_key"], r["finished_at"]) for r in rows if r["app_id"] == "shop")


def shop_deployments_last_7_days(lake: Lake) -> set[int]:
    """The deployments the DORA deployment frequency of shop's last 7 days counts (each mode and band set's row)."""
    rows = lake.get_table("mart/mv_dora_app_period/data.parquet").to_pylist()  # type: ignore[union-attr]
    return {r["deployment_frequency_numerator"] for r in rows if r["app_id"] == "shop" and r["period"] == "last_7d"}


@pytest.mark.parametrize(
    ("others_on_the_old_day", "stopped_after"),
    [
        pytest.param([], NEW_DAY, id="old day emptied, stopped once the new day is written"),
        pytest.param([7002], OLD_DAY, id="old day keeping another deployment, stopped once the old day is written"),
        pytest.param([7002], NEW_DAY, id="old day keeping another deployment, stopped once the new day is written"),
    ],
)
def test_a_deployment_moved_by_a_stopped_run_counts_once(
    tmp_path: Path, others_on_the_old_day: list[int], stopped_after: str
) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(
        [{"entity_id": "shop", "kind": "application", "gitlab_project_id": 11}], actor="test", replace=True
    )
    # A first run on March 1st: the lake reads deployments from then on, so DORA counts the 4th and the 6th.
    events_run(lake, datetime(2024, 3, 1, tzinfo=UTC))
    deployment_listed(lake, MOVED, FIRST_FINISH)
    for other in others_on_the_old_day:
        deployment_listed(lake, other, "2024-03-04T12:05:00.000Z")
    events_run(lake, datetime(2024, 3, 6, 9, tzinfo=UTC))
    deployment_listed(lake, MOVED, MOVED_FINISH)

    store = lake.store
    stopping = StopsAfterPut(store, stopped_after)
    lake.store = stopping  # type: ignore[assignment]
    with contextlib.suppress(OSError):
        events_run(lake, datetime(2024, 3, 6, 10, tzinfo=UTC))
    lake.store = store
    assert stopping.stopped

    others = [f"gitlab:{n}" for n in others_on_the_old_day]
    expected_keys = sorted(["gitlab:7001", *others])
    build(lake, settings, mode="hourly", as_of=AS_OF)
    assert [key for key, _ in shop_deployments(lake)] == expected_keys
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=1))
    assert [key for key, _ in shop_deployments(lake)] == expected_keys
    assert shop_deployments_last_7_days(lake) == {1 + len(others)}

    events_run(lake, datetime(2024, 3, 6, 11, tzinfo=UTC))
    moved = ("gitlab:7001", datetime(2024, 3, 6, 8, tzinfo=UTC))
    build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=2))
    assert [d for d in shop_deployments(lake) if d[0] == "gitlab:7001"] == [moved]
    build(lake, settings, mode="full", as_of=AS_OF + timedelta(hours=3))
    assert [d for d in shop_deployments(lake) if d[0] == "gitlab:7001"] == [moved]
    assert len(shop_deployments(lake)) == 1 + len(others)
    assert shop_deployments_last_7_days(lake) == {1 + len(others)}
