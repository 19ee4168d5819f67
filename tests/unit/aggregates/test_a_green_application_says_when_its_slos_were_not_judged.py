"""A green application whose SLOs could not be judged says so in its reasons: green must not pass for healthy SLOs
that no one measured. Red and orange have reasons of their own, and 'no data' needs none.

The hand-made estate (tests/unit/aggregates/estate.py), built in full as of the 20th at 10:00: the last 7 days are
the 168 hours from the 13th at 10:00, and an SLO needs traffic in min_coverage (0.5) of them, 84 hours. quiet has
no traffic of its own; each test gives it some, without an error, so that nothing scores.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, estate_lake, mapping, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet

# CHG7, a successful standard change on quiet-svc's CI, implemented on the 17th: an event of the 14 days that scores
# nothing, so quiet has data without traffic.
CHG7 = change("7" * 32, "CHG7", CI_Q, (t(17, 9), t(17, 10)), "successful", t(16), t(17, 11), "standard")


def quiet_rows(lake: Lake, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    """quiet's top-risks row and its application row of mv_health, built as of AS_OF."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        risk = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
        health = one(mart(built, "mv_health", "level = 'application' and level_id = 'quiet'"))
    return risk, health


@pytest.mark.parametrize(
    ("hours", "reasons"),
    [
        # 84 hours with traffic from the 14th at 00:00: half the 168, enough. Judged and met: nothing to say.
        (84, []),
        # 83: one short. Green, and it says by how much.
        (
            83,
            [
                "SLOs not judged: traffic measured in 83 of the 168 hours of the last 7 days, "
                "fewer than the 84 they need"
            ],
        ),
        # 2 hours, the 19th at 08:00 and 09:00.
        (
            2,
            ["SLOs not judged: traffic measured in 2 of the 168 hours of the last 7 days, fewer than the 84 they need"],
        ),
    ],
)
def test_a_green_application_measured_too_little_says_its_slos_were_not_judged(
    tmp_path: Path, hours: int, reasons: list[str]
) -> None:
    """quiet serves 100 requests an hour without an error for `hours` hours, the last ending before as_of: score 0,
    green either way; only under 84 hours do its reasons, and mv_health's, say why its SLOs were not judged."""
    lake, settings = estate_lake(tmp_path)
    first = t(14) if hours >= 83 else AS_OF - timedelta(hours=hours)
    served_by_quiet(lake, [(first + timedelta(hours=h), 100.0, 0.0) for h in range(hours)])
    risk, health = quiet_rows(lake, settings)
    assert (risk["measured_hours_7d"], risk["risk_score"], risk["health"]) == (hours, 0, "green")
    assert risk["reasons"] == reasons
    assert (health["health"], health["reasons"]) == ("green", reasons)


def test_a_green_application_no_dynatrace_service_watches_says_so(tmp_path: Path) -> None:
    """quiet-svc mapped to no Dynatrace service, CHG7 its one event: green with a score of 0, and its SLOs were not
    judged because nothing measures it, not because it was idle: the sentence names the mapping. quiet's team t2
    (quiet and broken, orange) names only broken: a team's reasons name its red and orange applications."""
    lake, settings = estate_lake(tmp_path)
    entries = mapping()
    quiet_svc = next(e for e in entries if e["entity_id"] == "quiet-svc")
    del quiet_svc["dynatrace_entity_selector"]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    write(lake, "servicenow/changes", CHG7)
    risk, health = quiet_rows(lake, settings)
    assert (risk["risk_score"], risk["health"]) == (0, "green")
    assert risk["reasons"] == health["reasons"] == ["SLOs not judged: no Dynatrace service mapped to it in production"]
    with reading(lake, settings) as built:
        t2 = one(mart(built, "mv_health", "level = 'team' and level_id = 't2'"))
    assert t2["reasons"] == ["broken is orange"]


def test_an_orange_application_measured_too_little_keeps_its_own_reasons(tmp_path: Path) -> None:
    """quiet fails 10 of 100 requests in each of the 6 hours before as_of, its only traffic: a 1 h burn rate of
    0.1 / 0.005 = 20x, over 14.4, +30, orange. Its reason is the burn; 6 hours of the 84 the SLOs need are not said,
    as orange says enough."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=h), 100.0, 10.0) for h in range(1, 7)])
    risk, _ = quiet_rows(lake, settings)
    assert (risk["measured_hours_7d"], risk["risk_score"], risk["health"]) == (6, 30, "orange")
    assert risk["reasons"] == ["error budget burning 20.0x over the last hour"]
