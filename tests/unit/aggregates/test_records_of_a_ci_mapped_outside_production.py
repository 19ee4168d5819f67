"""A ServiceNow CI mapped for one entity in two environments, neither of them production (a `qa` and a `staging`
entry of the same component): its incidents and change requests go to one of them, the first by name, in every
build; production, when it maps the CI too, takes them before either."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.unit.aggregates.estate import AS_OF, change, estate_lake, incident, mapping, t, write
from tests.unit.aggregates.test_kpis import mart, reading

CI_SHARED = "f" * 32


def shared_ci_entries(environments: tuple[str, ...]) -> list[dict]:
    return [
        {
            "entity_id": "shared-svc",
            "kind": "component",
            "application_id": "quiet",
            "servicenow_ci_id": CI_SHARED,
            "environment": environment,
        }
        for environment in environments
    ]


@pytest.mark.parametrize(
    ("environments", "owner"),
    [
        (("staging", "qa"), "qa"),
        (("staging", "qa", "production"), "production"),
    ],
)
def test_records_of_a_ci_mapped_in_several_environments_go_to_one_of_them_in_every_build(
    tmp_path: Path, environments: tuple[str, ...], owner: str
) -> None:
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply([*mapping(), *shared_ci_entries(environments)], actor="test", replace=True)
    write(lake, "servicenow/incidents", incident("i-shared", "INC90", CI_SHARED, t(19, 8), 3, 2))
    write(
        lake,
        "servicenow/changes",
        change("c-shared", "CHG90", CI_SHARED, (t(18, 9), t(18, 10)), "successful", t(17), t(18, 11)),
    )
    seen = set()
    for hour in range(3):
        build(lake, settings, mode="full", as_of=AS_OF.replace(hour=AS_OF.hour + hour))
        with reading(lake, settings) as built:
            (opened,) = mart(built, "mv_incidents", "number = 'INC90'")
            (changed,) = mart(built, "mv_changes", "number = 'CHG90'")
        seen.add((opened["environment"], changed["environment"]))
    assert seen == {(owner, owner)}
