"""An incident's task SLA in the incidents list: known when its task SLAs were read, unknown otherwise, never "no SLA".

The lake is slas_read_late's (tests/unit/aggregates/test_unread_days.py): built as of the 20th at 10:00, task SLAs
first read from the 17th at 06:00, and quiet's INC9 (opened on the 14th), INC11 (16th) and INC10 (18th), each with a
breached task SLA read. Added here, on quiet, built again as of the same hour:

    INC14  opened 16th 10:00   a task SLA read, not breached   (before the first read: another may have breached)
    INC12  opened 16th 12:00   no task SLA read                 (before the first read: unknown)
    INC15  opened 17th 06:00   no task SLA read                 (at the first read: it has none)
    INC13  opened 19th 09:00   no task SLA read                 (after it: it has none)

A second lake never read task SLAs (nothing of them held, no first read recorded): every incident's SLA is unknown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from tests.integration.api.conftest import api_settings, down_sources, get_json
from tests.unit.aggregates.estate import AS_OF, CI_Q, breached_sla, estate_lake, incident, rows, t
from tests.unit.aggregates.test_unread_days import slas_read_late

INCIDENTS = get_dataset("servicenow/incidents")
TASK_SLAS = get_dataset("servicenow/task_slas")
INC14 = incident("m4" * 16, "INC14", CI_Q, t(16, 10), 3, 2)
INC12 = incident("m2" * 16, "INC12", CI_Q, t(16, 12), 3, 2)
INC15 = incident("m5" * 16, "INC15", CI_Q, t(17, 6), 3, 2)
INC13 = incident("m3" * 16, "INC13", CI_Q, t(19, 9), 3, 2)


@pytest.fixture(scope="module")
def read_late(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("incident-slas-read-late")
    lake, settings = slas_read_late(root)
    lake.write_days(INCIDENTS, rows(INCIDENTS.id, INC14, INC12, INC15, INC13))
    met = breached_sla(INC14, t(16, 14)) | {"has_breached": False}
    lake.write_days(TASK_SLAS, rows(TASK_SLAS.id, met))
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


@pytest.fixture(scope="module")
def never_read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("incident-slas-never-read")
    lake, settings = estate_lake(root)
    lake.write_days(INCIDENTS, rows(INCIDENTS.id, INC12, INC13))
    FirstReads(lake).record(INCIDENTS.source, INCIDENTS.name, t(1), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    with TestClient(create_app(api_settings(root), settings, down_sources())) as c:
        yield c


def slas(client: TestClient, route: str) -> dict[str, tuple[bool | None, bool]]:
    """Each listed incident's (slaBreached, slaRead), by number."""
    items = get_json(client, f"{route}?status=all&limit=100")["items"]
    return {i["number"]: (i["slaBreached"], i["slaRead"]) for i in items}


def test_an_incident_opened_before_task_slas_were_first_read_has_an_unknown_sla(read_late: TestClient) -> None:
    """INC12 opened on the 16th, before the first read on the 17th at 06:00, and no task SLA of it was read: one
    recorded, breached and last updated before then would never have been: unknown (slaRead false), not "no SLA"."""
    assert slas(read_late, "/monitoring/applications/quiet/incidents")["INC12"] == (None, False)


def test_an_incident_opened_after_task_slas_were_first_read_without_one_has_none(read_late: TestClient) -> None:
    """INC15 opened at the first read itself, INC13 on the 19th: no task SLA of them read means they have none."""
    found = slas(read_late, "/monitoring/applications/quiet/incidents")
    assert (found["INC15"], found["INC13"]) == ((None, True), (None, True))


def test_a_breached_task_sla_read_is_known_whenever_the_incident_opened(read_late: TestClient) -> None:
    """INC9 (14th) and INC11 (16th) opened before the first read, INC10 (18th) after it: each breached task SLA was
    read, so each breach is known."""
    found = slas(read_late, "/monitoring/applications/quiet/incidents")
    assert [found[n] for n in ("INC9", "INC11", "INC10")] == [(True, True)] * 3


def test_a_met_task_sla_before_the_first_read_does_not_make_the_incident_known(read_late: TestClient) -> None:
    """INC14, opened before the first read, has a task SLA read not breached; another of its SLAs may have breached
    and been last updated before the first read: not known either (as the summary's count takes it)."""
    assert slas(read_late, "/monitoring/applications/quiet/incidents")["INC14"] == (False, False)


def test_a_components_incidents_say_the_same(read_late: TestClient) -> None:
    """quiet-svc holds quiet's incidents (CI_Q): the component's list says what the application's does."""
    assert slas(read_late, "/monitoring/components/quiet-svc/incidents") == slas(
        read_late, "/monitoring/applications/quiet/incidents"
    )


def test_no_incidents_sla_is_known_when_task_slas_were_never_read(never_read: TestClient) -> None:
    """Task SLAs never read (the integration user refused ServiceNow's task_sla table, say): INC12, INC13 and shop's
    INC1, INC2 and INC3 all have an unknown SLA, none "no SLA"."""
    found = slas(never_read, "/monitoring/applications/quiet/incidents")
    found |= slas(never_read, "/monitoring/applications/shop/incidents")
    assert found == dict.fromkeys(["INC12", "INC13", "INC1", "INC2", "INC3"], (None, False))
