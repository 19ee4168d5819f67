"""ServiceNow's task SLAs not read since the 18th while its incidents still are (the task_sla table refused, say):
the SLA breaches of the days after are unknown, never 0.

The hand-made estate, built as of the 20th at 10:00, with incidents and task SLAs first read on the 1st. Incidents
were read up to the 20th at 09:45, task SLAs up to the 18th at 00:00. quiet has two P3 incidents besides: INC31,
opened on the 17th at 09:00, its task SLA breached at 10:00, restored at 11:00 (all read); INC32, opened on the 19th
at 09:00 and still open, whose task SLA the lake never got.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads, Watermarks
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, breached_sla, estate_lake, incident, rows, t

INCIDENTS = get_dataset("servicenow/incidents")
TASK_SLAS = get_dataset("servicenow/task_slas")
INC31 = incident("i31" + "0" * 29, "INC31", CI_Q, t(17, 9), 3, 6, resolved=t(17, 11))
INC32 = incident("i32" + "0" * 29, "INC32", CI_Q, t(19, 9), 3, 2)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("slas-not-read")
    lake, settings = estate_lake(root)
    lake.write_days(INCIDENTS, rows(INCIDENTS.id, INC31, INC32))
    lake.write_days(TASK_SLAS, rows(TASK_SLAS.id, breached_sla(INC31, t(17, 10))))
    for dataset in (INCIDENTS, TASK_SLAS):
        FirstReads(lake).record(dataset.source, dataset.name, t(1), run_id="first-run")
    Watermarks(lake).advance(INCIDENTS.source, INCIDENTS.name, t(20, 9, 45), run_id="servicenow-run")
    Watermarks(lake).advance(TASK_SLAS.source, TASK_SLAS.name, t(18), run_id="servicenow-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def quiet_incidents(client: TestClient, period: str) -> dict:
    (row,) = get_json(client, f"/monitoring/kpis/incidents?groupBy=app&app=quiet&{period}")["items"]
    return row


def test_sla_breaches_over_days_after_the_task_slas_watermark_are_unknown(client: TestClient) -> None:
    """From the 18th to the 20th the incidents were read (INC32 opened on the 19th) but not their task SLAs: how many
    breached is unknown, where the report said 0."""
    row = quiet_incidents(client, "from=2026-11-18")
    assert [(d["day"], d["opened"]) for d in row["days"]] == [("2026-11-18", 0), ("2026-11-19", 1), ("2026-11-20", 0)]
    assert (row["opened"], row["slaBreaches"]) == (1, None)


def test_sla_breaches_count_the_days_both_were_read(client: TestClient) -> None:
    """From the 16th: the 16th and 17th were read for both, INC31's breach on the 17th is the 1; the 18th to the 20th
    add nothing. The incidents opened count every day: INC31 and INC32."""
    row = quiet_incidents(client, "from=2026-11-16")
    assert (row["opened"], row["slaBreaches"]) == (2, 1)


def test_a_summary_does_not_claim_an_open_incident_has_not_breached_while_task_slas_are_not_read(
    client: TestClient,
) -> None:
    """INC32 is open at as-of and known (incidents read); whether its task SLA breached since the 18th is not."""
    incidents = get_json(client, "/monitoring/applications/quiet/summary")["incidents"]
    assert (incidents["open"], incidents["openP1P2"], incidents["slaBreached"]) == (1, 0, None)
    assert incidents["readUntil"] is None


def test_the_incidents_list_says_which_breaches_are_unknown_while_task_slas_are_not_read(client: TestClient) -> None:
    """Task SLAs read up to the 18th: INC31, opened and resolved on the 17th, had its SLA read to its end (breached);
    INC32, opened on the 19th and open, may have breached unread: its slaBreached null is unknown (slaRead false),
    which the card shows as such rather than as "no SLA"."""
    items = get_json(client, "/monitoring/applications/quiet/incidents?status=all&from=2026-11-16")["items"]
    listed = {i["number"]: (i["slaBreached"], i["slaRead"]) for i in items}
    assert (listed["INC31"], listed["INC32"]) == ((True, True), (None, False))
