"""What an operator sees of `rosetta-monitoring forget` when S3 does what it asked and its answer is lost (a read
timeout, a 500 from a load balancer): botocore sends the put again, and a put on a condition is then refused (412),
the object being that put's already.

A renewal of the build's lease lost so stopped forget, saying a build had taken the lake though none had, and left the
lake held in forget's own name for half an hour: every build and every forget run again was refused meanwhile. The
lease read back is forget's own: it goes on. A renewal that landed with every answer lost stops it, naming the store,
and the lake is let go of all the same.

A day's rewrite lost so was made (the person gone from it), yet left out of what forget says, of the days its run
record names as written, and of the objects it names as rewritten (`rewrote <key>`), whose noncurrent versions the
operator deletes on a versioned bucket: that day's earlier version kept naming them, and forget run again found the
day clean. The day read back is forget's own write: it is named as rewritten, as a day another writer replaced in
between is, once rewritten over their version.

The lake is the one test_forget_a_person.py writes by hand, on S3 on loopback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from lakehouse import forget as forget_module
from lakehouse import objectstore
from lakehouse.aggregates import lease
from lakehouse.errors import RosettaError
from lakehouse.forget import forget
from lakehouse.runlog import RunLog
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.lakehouse.test_build_failures import _Raw
from tests.integration.lakehouse.test_forget_a_person import (
    JANE,
    WHO_COLUMNS,
    rows_of,
    t,
    table,
    whole_lake,
    write_lake,
)

pytestmark = pytest.mark.s3


class AnswersLost:
    """The PUTs of one key, as botocore sends them: the first `passed` go as they are; the next reaches S3 and lands,
    and its answer is lost (a 500 stands in), and so are those to the `more` tries after it, which are not sent."""

    def __init__(self, lake: Lake, key: str, *, passed: int = 0, more: int = 0) -> None:
        self.key, self.passed, self.more, self.landed = key, passed, more, 0
        lake.store.client.meta.events.register("before-send.s3.PutObject", self)  # type: ignore[attr-defined]

    def __call__(self, request: AWSPreparedRequest, **kwargs: object) -> AWSResponse | None:
        if not unquote(request.url.split("?")[0]).endswith(self.key):
            return None
        if self.passed:
            self.passed -= 1
            return None
        if not self.landed:
            body = request.body if isinstance(request.body, bytes) else request.body.read()  # type: ignore[union-attr]
            landed = httpx.request(request.method, request.url, headers=dict(request.headers.items()), content=body)
            assert landed.status_code == 200, landed.text
            self.landed += 1
        elif self.more:
            self.more -= 1
        else:
            return None
        return AWSResponse(request.url, 500, {}, _Raw(b"<Error><Code>InternalError</Code></Error>"))


@pytest.fixture
def lake(s3_settings: Settings, one_retry: None, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """The hand-written lake, its lease renewed by forget before every read and write."""
    monkeypatch.setattr(forget_module, "RENEW_AFTER", timedelta(0))
    lake = Lake.from_settings(s3_settings)
    lake.check()
    write_lake(lake)
    return lake


def who_deployed(lake: Lake) -> list[Any]:
    return [
        row[column]
        for dataset, column in WHO_COLUMNS.items()
        for rows in rows_of(lake, dataset).values()
        for row in rows
    ]


def forget_runs(lake: Lake) -> list[tuple[str, str | None]]:
    return [(r.status, r.error) for r in RunLog(lake).list() if r.function == "forget"]


def test_a_lease_renewal_whose_answer_is_lost_keeps_forget_going(lake: Lake) -> None:
    """forget's first renewal lands and its answer is lost, the retry refused: forget rewrites her days, its run
    succeeds and the lake is let go of, so a build starts right after."""
    lost = AnswersLost(lake, lease.LEASE_KEY, passed=1)  # forget's take goes through; its first renewal is lost

    outcome = forget(lake, JANE, say=lambda line: None)

    assert lost.landed == 1
    assert forget_runs(lake) == [("succeeded", None)]
    assert outcome.rewritten and JANE not in who_deployed(lake)
    held = lake.get_json(lease.LEASE_KEY)
    assert held is not None and held[0]["holder"] is None
    lease.release(lake, lease.take(lake, "schedule", timedelta(minutes=5)))  # a build starts right after


def test_a_lease_renewal_landed_with_every_answer_lost_stops_forget_and_lets_go_of_the_lake(lake: Lake) -> None:
    """forget's first renewal lands and S3's answers to every try are lost: forget stops naming the store, not a build,
    and lets go of the lease it still holds (at the version it never saw), so forget run again at once ends the work."""
    lost = AnswersLost(lake, lease.LEASE_KEY, passed=1, more=objectstore.RETRIES)

    with pytest.raises(RosettaError) as stopped:
        forget(lake, JANE, say=lambda line: None)

    assert lost.landed == 1
    said = str(stopped.value)
    assert said.startswith("forget's lease on the lake could not be renewed (S3 error InternalError"), said
    assert "a build took it" not in said
    assert [status for status, _ in forget_runs(lake)] == ["failed"]
    held = lake.get_json(lease.LEASE_KEY)
    assert held is not None and held[0]["holder"] is None
    assert forget(lake, JANE, say=lambda line: None).rewritten  # run again at once, it ends the work
    assert JANE not in who_deployed(lake)


HISTORY = get_dataset("argocd/deployment_history")
NINETEENTH = Lake.partition_key(HISTORY, date(2026, 11, 19))  # her deployment of the 19th, 9:00


def rewritten(lake: Lake, before: dict[str, bytes | None]) -> list[str]:
    """The days and landing pages whose objects changed since `before`."""
    after = whole_lake(lake)
    return sorted(key for key in before if key.startswith(("raw/", "landing/")) and after.get(key) != before[key])


def test_a_day_rewrite_whose_answer_is_lost_is_named_as_rewritten(lake: Lake) -> None:
    """Her 19th of ArgoCD's history is rewritten, and S3's answer lost: forget says the row it set to null, records
    the day as written and names the object with every other one it rewrote, and no other."""
    before = whole_lake(lake)
    lost = AnswersLost(lake, NINETEENTH)
    said: list[str] = []

    outcome = forget(lake, JANE, say=said.append)

    assert lost.landed == 1
    assert [line for line in said if line.startswith("argocd/deployment_history") and "2026-11-19" in line] == [
        f"{HISTORY.id:<32} 2026-11-19  1 row: initiated_by set to null"
    ]
    assert outcome.rewritten_keys() == rewritten(lake, before)
    assert NINETEENTH in outcome.rewritten_keys()
    [record] = [r for r in RunLog(lake).list() if r.function == "forget"]
    assert record.status == "succeeded" and "2026-11-19" in record.days_written
    assert forget(lake, JANE, say=lambda line: None).rewritten == []  # nothing left to rewrite


def test_a_day_another_writer_replaced_in_between_is_rewritten_over_their_version_and_named(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer puts the 19th with a later deployment of hers between forget's read of the day and its put:
    forget's put is refused, and the day is rewritten again over their version, both her rows set to null and said
    so."""
    put = lake.store.put
    replaced: list[str] = []

    def another_writer_first(key: str, data: bytes, *, if_match: str | None = None) -> None:
        if key == NINETEENTH and if_match is not None and not replaced:
            replaced.append(key)
            later = {
                "app_name": "shop-api-prod",
                "history_id": 5,
                "deployed_at": t(19, 16),
                "initiated_by": JANE,
            }
            lake.write_days(HISTORY, table(HISTORY.id, [later]))
        put(key, data, if_match=if_match)

    monkeypatch.setattr(lake.store, "put", another_writer_first)
    before = whole_lake(lake)
    said: list[str] = []

    outcome = forget(lake, JANE, say=said.append)

    assert replaced == [NINETEENTH]
    assert f"{HISTORY.id:<32} 2026-11-19  2 rows: initiated_by set to null" in said
    assert outcome.rewritten_keys() == rewritten(lake, before)
    assert NINETEENTH in outcome.rewritten_keys()
    by = {r["history_id"]: r["initiated_by"] for r in rows_of(lake, HISTORY.id)[date(2026, 11, 19)]}
    assert by == {3: None, 4: "", 5: None}
