"""An ingestion started while `forget` removes a person from the lake (by hand, or by a schedule left on against the
README's advice): `forget` refused to start while an ingestion ran, but an ingestion started after it went on and
could write the person back into a day or a landing page already rewritten. It now reads and writes nothing, its run
records say why, and no watermark moves: once `forget` has ended, the next run reads the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lakehouse.aggregates import lease
from lakehouse.runlog import RunLog, Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.ingest.test_cli_exit_codes import ingest, mapped_lake

__all__ = ["mapped_lake"]  # a local lake with the estate's mapping, the simulators in the environment: a fixture

pytestmark = pytest.mark.simulators

# The deployments: ArgoCD's and GitLab's streams, then the unified deployment events derived from their days.
SOURCES = ("argocd", "gitlab", "deploys")
FORGETTING = "forget is removing a person from the lake"


def written(lake: Lake) -> list[str]:
    return [key for source in SOURCES for prefix in ("raw", "landing") for key in lake.list_keys(f"{prefix}/{source}/")]


def test_an_ingestion_started_while_forget_holds_the_lake_reads_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], mapped_lake: Settings
) -> None:
    lake = Lake.from_settings(mapped_lake)
    started = datetime.now(UTC) - timedelta(seconds=1)
    forgetting = lease.take(lake, lease.FORGET, lease.BUILD_LEASE)

    code, err = ingest(capsys, "deploys")
    assert code == 1
    assert FORGETTING in err
    assert written(lake) == []
    runs = [r for r in RunLog(lake).list(started_from=started) if r.function == "ingest_deploys"]
    datasets = {r.dataset for r in runs}
    assert {"argocd/deployment_history", "gitlab/deployments", "deploys/deployment_events"} <= datasets
    assert all(r.status == "failed" and FORGETTING in (r.error or "") for r in runs)
    assert all(Watermarks(lake).get(*dataset.split("/")) is None for dataset in datasets)

    lease.release(lake, forgetting)
    code, err = ingest(capsys, "deploys")
    assert code == 0, err
    assert any(key.startswith("raw/deploys/deployment_events/") for key in written(lake))
