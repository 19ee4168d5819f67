"""SLA breaches when the lake does not know since when it read ServiceNow's task SLAs (a lake an older release wrote,
which recorded no first read): unknown (null) on every day and in kpis/incidents, as the summary says, never 0.

The hand-made estate (tests/unit/aggregates/estate.py), built as of the 20th at 10:00, with two P3 incidents on quiet
and their task SLAs in the lake:

    INC61  opened 17th 09:00, restored 11:00   its task SLA breached at 10:00
    INC62  opened 19th 09:00, still open       its task SLA running, not breached

Counted by hand, where the first read is known (the 1st): quiet's breaches are 1 on the 17th (INC61) and 0 on the
16th, 18th, 19th and 20th; over last_7d (the 13th to the 20th) and from the 16th to the 20th (the 16th to the 19th)
1 breach of 2 incidents opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.schemas import Dataset, get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, breached_sla, estate_lake, incident, rows, t
from tests.unit.aggregates.test_run_kpis import app_days

INCIDENTS = get_dataset("servicenow/incidents")
TASK_SLAS = get_dataset("servicenow/task_slas")
INC61 = incident("q1" * 16, "INC61", CI_Q, t(17, 9), 3, 6, resolved=t(17, 11))
INC62 = incident("q2" * 16, "INC62", CI_Q, t(19, 9), 3, 2)
RUNNING = breached_sla(INC62, t(21, 9)) | {"has_breached": False, "sys_updated_on": t(19, 9)}
LAST_7D = "period=last_7d"
RANGE = "from=2026-11-16&to=2026-11-20"


def quiet_lake(root: Path, *read: Dataset, with_slas: bool = True) -> tuple[Lake, Settings]:
    """The estate with INC61 and INC62, and their task SLAs when `with_slas`, built; the datasets in `read` recorded
    read from the 1st (as an ingest of this release records it), the others with no first read (an older release's
    lake, or one that never read them when it holds none)."""
    lake, settings = estate_lake(root)
    lake.write_days(INCIDENTS, rows(INCIDENTS.id, INC61, INC62))
    if with_slas:
        lake.write_days(TASK_SLAS, rows(TASK_SLAS.id, breached_sla(INC61, t(17, 10)), RUNNING))
    for dataset in read:
        FirstReads(lake).record(dataset.source, dataset.name, t(1), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


@pytest.fixture(scope="module")
def older_release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, Settings, TestClient]]:
    root = tmp_path_factory.mktemp("first-read-unknown")
    lake, settings = quiet_lake(root)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        yield lake, settings, client


@pytest.fixture(scope="module")
def read_from_the_1st(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Lake, Settings, TestClient]]:
    root = tmp_path_factory.mktemp("first-read-known")
    lake, settings = quiet_lake(root, INCIDENTS, TASK_SLAS)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        yield lake, settings, client


def breaches(lake: Lake, settings: Settings, table: str) -> list[int | None]:
    """quiet's SLA breaches in a day table from the 16th to the 20th."""
    days = app_days((lake, settings), table, "quiet", 16, 20)
    return [days[d]["sla_breaches"] for d in range(16, 21)]


def quiet_report(client: TestClient, when: str) -> tuple[int | None, int | None]:
    """quiet's incidents opened and SLA breaches in kpis/incidents."""
    quiet = by_id(get_json(client, f"/monitoring/kpis/incidents?{when}"))["quiet"]
    return quiet["opened"], quiet["slaBreaches"]


def test_the_build_state_says_the_first_read_is_unknown(older_release: tuple[Lake, Settings, TestClient]) -> None:
    """The older release's lake holds task SLAs but no first read: unknown (null), not "never"."""
    lake, _, _ = older_release
    state = lake.get_json("state/build/aggregates.json")
    assert state is not None
    assert state[0]["read_from"]["servicenow/task_slas"] is None


def test_day_tables_leave_every_day_unknown_when_the_first_read_is(
    older_release: tuple[Lake, Settings, TestClient],
) -> None:
    """From the 16th to the 20th quiet's breaches are null in both day tables, where they said 0, 1, 0, 0, 0; the
    incidents opened stay counted (INC61 on the 17th, INC62 on the 19th)."""
    lake, settings, _ = older_release
    assert breaches(lake, settings, "mv_incidents_app_day") == [None] * 5
    assert breaches(lake, settings, "mv_monitoring_app_day_summary") == [None] * 5
    days = app_days((lake, settings), "mv_incidents_app_day", "quiet", 17, 19)
    assert [days[d]["opened"] for d in (17, 18, 19)] == [1, 0, 1]


def test_the_incidents_report_says_unknown_when_the_first_read_is(
    older_release: tuple[Lake, Settings, TestClient],
) -> None:
    """Over last_7d and from the 16th to the 20th: 2 incidents opened, SLA breaches null (where it said 1 and 0 on the
    days the lake never read), as the summary's open incidents say of INC62."""
    _, _, client = older_release
    assert quiet_report(client, LAST_7D) == (2, None)
    assert quiet_report(client, RANGE) == (2, None)
    summary = get_json(client, "/monitoring/applications/quiet/summary")["incidents"]
    assert (summary["open"], summary["slaBreached"]) == (1, None)


def test_a_known_first_read_counts_the_breaches(read_from_the_1st: tuple[Lake, Settings, TestClient]) -> None:
    """Read from the 1st: 1 breach on the 17th (INC61) and 0 on the other days; 1 over last_7d and the range."""
    lake, settings, client = read_from_the_1st
    assert breaches(lake, settings, "mv_incidents_app_day") == [0, 1, 0, 0, 0]
    assert breaches(lake, settings, "mv_monitoring_app_day_summary") == [0, 1, 0, 0, 0]
    assert quiet_report(client, LAST_7D) == (2, 1)
    assert quiet_report(client, RANGE) == (2, 1)


def test_task_slas_never_read_are_unknown_in_the_incidents_report(tmp_path: Path) -> None:
    """Incidents read from the 1st, task SLAs never (none in the lake, no first read): the build state says "never"
    and the report's SLA breaches are null over last_7d and the range, the 2 incidents opened counted."""
    lake, settings = quiet_lake(tmp_path, INCIDENTS, with_slas=False)
    state = lake.get_json("state/build/aggregates.json")
    assert state is not None
    assert state[0]["read_from"]["servicenow/task_slas"] == "never"
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        assert quiet_report(client, LAST_7D) == (2, None)
        assert quiet_report(client, RANGE) == (2, None)
