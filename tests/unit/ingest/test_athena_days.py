"""Athena sees the days the ingestion writes: its tables project day partitions from projection_start_day on."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from functions.ingest_servicenow import parse
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.conftest import FIXTURES

TERRAFORM = Path(__file__).resolve().parents[3] / "infra" / "terraform"
GLUE_TABLES = TERRAFORM / "modules" / "catalog" / "tables.generated.tf.json"


def projection_starts() -> dict[str, str]:
    """projection_start_day as the variable's default and as the example tfvars set it."""
    variable = (TERRAFORM / "variables.tf").read_text(encoding="utf-8").split('variable "projection_start_day"', 1)[1]
    default = re.search(r'^\s*default\s*=\s*"([^"]+)"', variable, re.M)
    assert default is not None
    starts = {"variables.tf default": default.group(1)}
    example = re.search(
        r'^projection_start_day\s*=\s*"([^"]+)"', (TERRAFORM / "terraform.tfvars.example").read_text(), re.M
    )
    if example:
        starts["terraform.tfvars.example"] = example.group(1)
    return starts


def test_an_incident_opened_years_before_the_first_run_is_in_a_day_athena_sees(tmp_path: Path) -> None:
    """A first run reads the incidents updated in its window and stores each under the day it was opened, however
    long ago: on an instance in use for years, that is years before the deployment. ServiceNow's own example
    incident, INC0000046, was opened 2015-11-02 22:04:15 UTC, so it lands in day=2015-11-02. Athena's table of
    incidents projects its day partitions from projection_start_day: a start at the first ingested day hides it."""
    page = json.loads((FIXTURES / "servicenow" / "table_incident__get_by_sys_id_docs.json").read_text())
    incidents = get_dataset("servicenow/incidents")
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path)))
    lake.write_days(incidents, parse.parse_table_page(incidents.id, page).tables[incidents.id])
    (day,) = lake.list_partitions(incidents)
    assert day == date(2015, 11, 2)
    table = json.loads(GLUE_TABLES.read_text())["locals"]["generated_raw_tables"]["servicenow__incidents"]
    assert (table["name"], table["partition_key"]) == ("raw_servicenow_incidents", "day")
    hidden = {where: start for where, start in projection_starts().items() if date.fromisoformat(start) > day}
    assert hidden == {}
