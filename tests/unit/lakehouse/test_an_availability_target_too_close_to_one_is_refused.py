"""An availability target leaves an error budget of 1 - T, which the build computes to twelve decimals. A target of
0.9999999999999 (thirteen nines) rounded to 1 there: no budget at all, the burn rates null and the alert "no data"
for an application failing one request in ten. It is refused at import instead; twelve nines still leave one."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lakehouse.mappings import validate_entries

MACROS = Path(__file__).resolve().parents[3] / "lakehouse" / "sql" / "macros.sql"


def test_thirteen_nines_are_refused_naming_the_field() -> None:
    entries, problems = validate_entries(
        [{"entity_id": "payments", "kind": "application", "slo_availability_target": 0.9999999999999}]
    )
    assert entries == [] and len(problems) == 1
    assert problems[0].startswith("entry 1 (payments): slo_availability_target: ")
    assert "at most 0.999999999999" in problems[0]


def test_twelve_nines_are_kept_and_leave_a_budget() -> None:
    entries, problems = validate_entries(
        [{"entity_id": "payments", "kind": "application", "slo_availability_target": 0.999999999999}]
    )
    assert problems == [] and entries[0].slo_availability_target == 0.999999999999
    con = duckdb.connect()
    con.execute(MACROS.read_text(encoding="utf-8"))
    # By hand: B = 1e-12 of 1,000,000 requests is 1e-6 failed request allowed; 100,000 failed burn it 1e11 times over.
    budget = con.execute("select error_budget(0.999999999999, 1000000)").fetchone()
    assert budget is not None and float(budget[0]) == 1e-6
