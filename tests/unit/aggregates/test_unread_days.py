"""Days the lake never read: the day tables' SLA breaches before task SLAs were first read are unknown (null), not 0.
Each figure is worked out by hand in the docstrings."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.runlog import FirstReads
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, CI_Q, breached_sla, estate_lake, incident, mapping, metrics, rows, t
from tests.unit.aggregates.test_kpis import mart, one, reading
from tests.unit.aggregates.test_run_kpis import app_days


def slas_read_late(root: Path) -> tuple[Lake, Settings]:
    """The hand-made estate, built as of the 20th at 10:00, whose ServiceNow incidents were first read from the 16th
    at 06:00 and task SLAs from the 17th at 06:00, with three P3 incidents on quiet, each with a task SLA breached
    three hours after it opened (what the later reads brought of the days before included):

        INC9   opened 14th 09:00   (incidents and task SLAs not read yet)
        INC11  opened 16th 09:00   (incidents read, task SLAs not yet)
        INC10  opened 18th 09:00   (both read)
    """
    lake, settings = estate_lake(root)
    incidents, slas = get_dataset("servicenow/incidents"), get_dataset("servicenow/task_slas")
    opened = [
        incident("k4" * 16, "INC9", CI_Q, t(14, 9), 3, 2),
        incident("k6" * 16, "INC11", CI_Q, t(16, 9), 3, 2),
        incident("k8" * 16, "INC10", CI_Q, t(18, 9), 3, 2),
    ]
    lake.write_days(incidents, rows(incidents.id, *opened))
    lake.write_days(slas, rows(slas.id, *(breached_sla(i, i["opened_at"] + timedelta(hours=3)) for i in opened)))
    FirstReads(lake).record("servicenow", "incidents", t(16, 6), run_id="first-run")
    FirstReads(lake).record("servicenow", "task_slas", t(17, 6), run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


@pytest.fixture(scope="module")
def read_late(tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, Settings]:
    return slas_read_late(tmp_path_factory.mktemp("slas-read-late"))


def breaches(built: tuple[Lake, Settings], table: str, first: int, last: int) -> list[int | None]:
    """quiet's SLA breaches in a day table from the `first` to the `last` of November."""
    days = app_days(built, table, "quiet", first, last)
    return [days[d]["sla_breaches"] for d in range(first, last + 1)]


def test_a_day_before_task_slas_were_first_read_has_unknown_sla_breaches(read_late: tuple[Lake, Settings]) -> None:
    """Task SLAs were first read from the 17th at 06:00: quiet's SLA breaches from the 14th to the 16th are unknown
    (null), where they said 1 on the 14th (INC9), 0 on the 15th and 1 on the 16th (INC11); from the 17th they are
    counted: 0 on the 17th, 1 on the 18th (INC10), 0 on the 19th and 20th. The incidents opened stay counted (1 on
    the 14th, 16th and 18th): the SLAs alone were not read."""
    expected = [None, None, None, 0, 1, 0, 0]
    assert breaches(read_late, "mv_incidents_app_day", 14, 20) == expected
    assert breaches(read_late, "mv_monitoring_app_day_summary", 14, 20) == expected
    days = app_days(read_late, "mv_incidents_app_day", "quiet", 14, 18)
    assert [days[d]["opened"] for d in (14, 16, 18)] == [1, 1, 1]


def test_a_domains_sla_breaches_are_unknown_on_a_day_before_task_slas_were_read(
    read_late: tuple[Lake, Settings],
) -> None:
    """Domain d1 (shop and quiet): on the 16th neither application's SLA breaches are known, so neither is the
    domain's (null, where it said 0 + 1 = 1); on the 18th it is 0 (shop) + 1 (quiet, INC10) = 1."""
    where = "domain = 'd1' and environment = 'production' and day = $day"
    with reading(*read_late) as built:
        found = [one(mart(built, "mv_monitoring_domain_day_summary", where, day=t(d).date())) for d in (16, 18)]
    assert [r["sla_breaches"] for r in found] == [None, 1]


def test_a_backfill_reading_task_slas_further_back_rebuilds_the_days_it_makes_read(tmp_path: Path) -> None:
    """A backfill then reads task SLAs from the 12th: an hourly build an hour later rebuilds every day, so quiet's
    breaches on the 14th (INC9) and the 16th (INC11) are counted, 1 each, and the 15th has 0. An hourly build would
    have rebuilt only the 20th, no ingest having written the earlier days, leaving them unknown."""
    lake, settings = slas_read_late(tmp_path)
    FirstReads(lake).record("servicenow", "task_slas", t(12), run_id="backfill")
    result = build(lake, settings, mode="hourly", as_of=AS_OF + timedelta(hours=1))
    assert breaches((lake, settings), "mv_incidents_app_day", 14, 18) == [1, 0, 1, 0, 1]
    assert result.full_because == "task SLAs were first read from another instant"


def signals_alone(root: Path, *, deployments_read_from: datetime | None = None) -> tuple[Lake, Settings]:
    """The hand-made estate's mapping and Dynatrace signals alone, built as of the 20th at 10:00: no deployment,
    incident, change or task SLA in the lake, as on the day a platform team connects Dynatrace first; with
    `deployments_read_from`, a deploy ingest recorded reading from then on and found nothing."""
    settings = Settings(lake_url=str(root / "lake"), duckdb_temp_directory=root / "duckdb")
    lake = Lake.from_settings(settings)
    MappingStore(lake).apply(mapping(), actor="test", replace=True)
    lake.write_days(get_dataset("dynatrace/service_metrics_hourly"), metrics())
    if deployments_read_from is not None:
        FirstReads(lake).record("deploys", "deployment_events", deployments_read_from, run_id="first-run")
    build(lake, settings, mode="full", as_of=AS_OF)
    return lake, settings


def test_what_the_lake_never_read_is_unknown_and_what_it_read_empty_is_none(tmp_path: Path) -> None:
    """Never read (no first read recorded, nothing of it in the lake): shop's deployment frequency over the last 30
    days is 'insufficient data' (null per day), where it said 'no deployments' (0 per day); its SLA breaches on the
    19th are unknown (null), where they said 0; the build state says "never" for each of the four datasets, which
    the API's reports read (days before a first read are unknown there).
    Read from the 1st with nothing found: 'no deployments', 0 per day, over the 19.42 days from the 1st at 00:00
    to the 20th at 10:00 (466 hours / 24)."""
    never, _ = signals_alone(tmp_path / "never")
    with reading(never, Settings(lake_url=never.url)) as built:
        dora = mart(built, "mv_dora_app_period", "app_id = 'shop' and period = 'last_30d'")
        day = one(mart(built, "mv_incidents_app_day", "app_id = 'shop' and day = $d", d=t(19).date()))
    # One row per correlation mode and band set: the frequency is the same in each.
    assert {(r["deployment_frequency_state"], r["deployment_frequency_per_day"]) for r in dora} == {
        ("insufficient data", None)
    }
    assert day["sla_breaches"] is None
    state = never.get_json("state/build/aggregates.json")
    assert state is not None
    assert state[0]["read_from"] == dict.fromkeys(
        ["deploys/deployment_events", "servicenow/incidents", "servicenow/changes", "servicenow/task_slas"], "never"
    )

    read, _ = signals_alone(tmp_path / "read", deployments_read_from=t(1))
    with reading(read, Settings(lake_url=read.url)) as built:
        dora = mart(built, "mv_dora_app_period", "app_id = 'shop' and period = 'last_30d'")
    assert {(r["deployment_frequency_state"], r["deployment_frequency_per_day"]) for r in dora} == {
        ("no deployments", 0)
    }
    assert [r["deployment_frequency_denominator_days"] for r in dora] == [pytest.approx(466 / 24)] * len(dora)
