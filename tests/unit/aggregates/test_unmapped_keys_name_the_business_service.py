"""An incident or change request with no CI but a business service is attributed by that business service (a
`servicenow_ci` pivot on its sys_id claims it). Unattributed, it was listed in the unmapped keys under a null key,
"no entry can claim those", where mapping its business service would: the key is now the business service's sys_id,
the label its name. Records naming neither stay under the null key.

By hand, on the hand-made estate (as of 20 Nov 10:00) with the records of test_mapping_coverage: INC11 (14 Nov) and
INC12 (16 Nov) without a CI, in the business service BILLING no entry names; CHG4 (created 17 Nov) likewise; INC6
(13 Nov) names neither."""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, change, estate_lake, incident, t, write
from tests.unit.aggregates.test_mapping_coverage import add_records_no_entry_claims, coverage, unmapped

BILLING = "b1" * 16


def test_a_record_without_a_ci_is_listed_under_its_business_service(tmp_path: Path) -> None:
    lake, settings = estate_lake(tmp_path)
    add_records_no_entry_claims(lake)
    in_billing = {"cmdb_ci_sys_id": None, "cmdb_ci_name": None, "business_service_sys_id": BILLING}
    write(
        lake,
        "servicenow/incidents",
        incident("ib" * 16, "INC11", BILLING, t(14, 9), 3, 2) | in_billing | {"business_service_name": "Billing"},
        incident("ic" * 16, "INC12", BILLING, t(16, 9), 3, 2) | in_billing | {"business_service_name": "Billing v2"},
    )
    write(
        lake,
        "servicenow/changes",
        change("4" * 32, "CHG4", BILLING, (t(17, 9), t(17, 10)), "successful", t(17), t(17, 10))
        | in_billing
        | {"business_service_name": "Billing"},
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    keys = unmapped(lake, settings)
    billing = keys[("incident", BILLING, None)]
    # INC11 and INC12; the name on the latest, INC12.
    assert (billing["key_kind"], billing["records"], billing["latest_record"], billing["label"]) == (
        "servicenow_ci",
        2,
        "INC12",
        "Billing v2",
    )
    assert (billing["first_seen"], billing["last_seen"]) == (t(14, 9), t(16, 9))
    changes = keys[("change", BILLING, None)]
    assert (changes["records"], changes["latest_record"], changes["label"]) == (1, "CHG4", "Billing")
    # INC6 names neither a CI nor a business service: the null key is its alone.
    assert keys[("incident", None, None)]["records"] == 1
    assert keys[("incident", None, None)]["latest_record"] == "INC6"
    # The coverage counts them as before: 9 incidents in the window, 4 attributed; 4 changes, 2 attributed.
    kinds = coverage(lake, settings)
    assert (kinds["incident"]["records"], kinds["incident"]["attributed"]) == (9, 4)
    assert (kinds["change"]["records"], kinds["change"]["attributed"]) == (4, 2)
