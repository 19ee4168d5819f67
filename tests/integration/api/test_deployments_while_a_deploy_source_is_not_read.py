"""While one deployment source cannot be read (GitLab down, ArgoCD still read), the deployments the lake holds stop at
its watermark: the DORA rows, the overview's trend and the deployments list say how far deployments were read
rather than count the days after as days without a deployment.

The hand-made estate, built as of the 20th at 10:00: ArgoCD's history read up to the 19th at 00:00, GitLab's
deployments up to the 17th at 00:00 (down since). Deployments are read up to the earlier: the 17th to the 20th were
not read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient

from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import DORA_TO_AS_OF, estate_read_until, get_json
from tests.unit.aggregates.estate import t

ARGOCD_HISTORY = get_dataset("argocd/deployment_history")
GITLAB_DEPLOYMENTS = get_dataset("gitlab/deployments")


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    marks = {ARGOCD_HISTORY.id: t(19), GITLAB_DEPLOYMENTS.id: t(17)}
    with estate_read_until(tmp_path_factory.mktemp("deploys-not-read"), marks) as c:
        yield c


@pytest.mark.parametrize("query", DORA_TO_AS_OF)
def test_dora_rows_going_past_the_earlier_watermark_say_how_far_deployments_were_read(
    client: TestClient, query: str
) -> None:
    (row,) = get_json(client, f"/monitoring/kpis/dora?{query}")["items"]
    assert when(row["deploymentsReadUntil"]) == t(17)


@pytest.mark.parametrize(
    "query",
    [
        "groupBy=app&app=shop&from=2026-11-01&to=2026-11-17",  # ends at the watermark: the 16th, its last day, read
        "groupBy=app&app=shop&period=previous_month",  # October
    ],
)
def test_dora_rows_read_to_their_end_say_nothing_more(client: TestClient, query: str) -> None:
    (row,) = get_json(client, f"/monitoring/kpis/dora?{query}")["items"]
    assert row["deploymentsReadUntil"] is None


def test_the_trend_has_no_deployment_count_for_the_days_not_read(client: TestClient) -> None:
    trend = get_json(client, "/monitoring/overview?period=last_7d")["trend"]
    counted = {date.fromisoformat(d["day"]): d["deployments"] for d in trend}
    # From the 13th at 10:00 to as-of; GitLab's deployments of the 18th are in the lake but their day is not read.
    assert sorted(counted) == [date(2026, 11, day) for day in range(13, 21)]
    assert [day.day for day, n in counted.items() if n is None] == [17, 18, 19, 20]


@pytest.mark.parametrize(
    ("query", "read_until"),
    [
        ("period=last_7d", t(17)),
        ("from=2026-11-10&to=2026-11-17", None),
        ("from=2026-11-10&to=2026-11-17T00:00:01Z", t(17)),  # one second of the 17th
    ],
)
def test_the_deployments_list_says_how_far_deployments_were_read(
    client: TestClient, query: str, read_until: datetime | None
) -> None:
    answer = get_json(client, f"/monitoring/applications/shop/deployments?{query}")
    assert when(answer["readUntil"]) == read_until


def test_a_source_never_read_does_not_hold_the_other_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # An estate deploying with ArgoCD alone: GitLab has no watermark, and deployments are read as far as ArgoCD's.
    with estate_read_until(tmp_path, {ARGOCD_HISTORY.id: t(19)}) as c:
        (row,) = get_json(c, "/monitoring/kpis/dora?groupBy=app&app=shop&period=last_7d")["items"]
    assert when(row["deploymentsReadUntil"]) == t(19)
