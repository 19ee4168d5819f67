"""A green application whose SLOs could not be judged says so in its reasons: green must not pass for healthy SLOs
that no one measured. Red and orange have reasons of their own, and 'no data' needs none. A green team, group or
domain names those of its applications.

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
    served_by_quiet(lake, [(first + timedelta(hours=h), 100.0, 0.0) for h in range(hours)], latency=True)
    risk, health = quiet_rows(lake, settings)
    assert (risk["measured_hours_7d"], risk["risk_score"], risk["health"]) == (hours, 0, "green")
    assert risk["reasons"] == reasons
    assert (health["health"], health["reasons"]) == ("green", reasons)


def test_a_green_application_with_traffic_but_no_latency_says_its_latency_slo_was_not_judged(tmp_path: Path) -> None:
    """quiet serves 100 requests an hour without an error for 84 hours, enough to judge its availability (met), but
    Dynatrace reports no response time in any of them: its latency SLO rests on none of the 84 hours it needs. Green,
    and it says so; slos_judged_7d is false, so a green team would name it."""
    lake, settings = estate_lake(tmp_path)
    served_by_quiet(lake, [(t(14) + timedelta(hours=h), 100.0, 0.0) for h in range(84)])
    risk, health = quiet_rows(lake, settings)
    said = [
        "latency SLO not judged: latency reported in 0 of the 168 hours of the last 7 days, fewer than the 84 it needs"
    ]
    assert (risk["measured_hours_7d"], risk["health"], risk["slos_judged_7d"]) == (84, "green", False)
    assert risk["reasons"] == said
    assert (health["health"], health["reasons"]) == ("green", said)


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


def lamps(count: int) -> list[dict[str, Any]]:
    """`count` applications lamp1, lamp2, ... of team t3 (group g3, domain d3), each watched through its own
    Dynatrace service, SERVICE-L1, SERVICE-L2, ..."""
    entries: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        entries.append({"entity_id": f"lamp{n}", "kind": "application", "team": "t3", "group": "g3", "domain": "d3"})
        entries.append(
            {
                "entity_id": f"lamp{n}-svc",
                "kind": "component",
                "application_id": f"lamp{n}",
                "dynatrace_entity_selector": f'entityId("SERVICE-L{n}")',
            }
        )
    return entries


def lit(service: str, hours: int) -> list[dict[str, Any]]:
    """A service's 100 requests an hour, none failed, with a p95 of 200 ms and a p99 of 300 ms (under the default
    thresholds), in the `hours` hours before as_of."""
    return [
        {
            "entity_id": service,
            "hour": AS_OF - timedelta(hours=h),
            "request_count": 100.0,
            "error_count": 0.0,
            "latency_p95_ms": 200.0,
            "latency_p99_ms": 300.0,
        }
        for h in range(1, hours + 1)
    ]


def team_t3(lake: Lake, settings: Settings) -> dict[tuple[str, str], dict[str, Any]]:
    """mv_health's rows of t3, g3 and d3 (all the same applications), built as of AS_OF."""
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        rows = mart(built, "mv_health", "level_id in ('t3', 'g3', 'd3')")
    return {(r["level"], r["level_id"]): r for r in rows}


def test_a_green_team_names_its_applications_whose_slos_were_not_judged(tmp_path: Path) -> None:
    """t3: lamp1 served in the 100 hours before as_of (judged: 100 of 168 is over the 84 needed, and met), lamp2 in
    the 10 before and lamp3 in the 30 before (not judged), lamp4 in none, and with no event of the 14 days either:
    no data. All green but lamp4, so t3 is green with 3 applications with data, of which lamp2 and lamp3 were not
    judged. Both score 0 and fail no request: their rank breaks the tie by app_id, lamp2 first. g3 and d3 hold the
    same four and say the same; each application says its own sentence."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(lamps(4), actor="test")
    write(lake, "dynatrace/service_metrics_hourly", *lit("SERVICE-L1", 100), *lit("SERVICE-L2", 10))
    write(lake, "dynatrace/service_metrics_hourly", *lit("SERVICE-L3", 30))
    levels = team_t3(lake, settings)
    said = ["SLOs not judged for 2 of its 3 applications with data: lamp2, lamp3"]
    for level in (("team", "t3"), ("group", "g3"), ("domain", "d3")):
        row = levels[level]
        assert (row["health"], row["applications"], row["green"], row["no_data"]) == ("green", 4, 3, 1)
        assert row["reasons"] == said
    with reading(lake, settings) as built:
        risks = {r["app_id"]: r for r in mart(built, "mv_monitoring_top_risks", "app_id like 'lamp%'")}
    assert {app: (r["health"], r["slos_judged_7d"]) for app, r in risks.items()} == {
        "lamp1": ("green", True),
        "lamp2": ("green", False),
        "lamp3": ("green", False),
        "lamp4": ("no data", False),
    }
    assert risks["lamp3"]["reasons"] == [
        "SLOs not judged: traffic measured in 30 of the 168 hours of the last 7 days, fewer than the 84 they need"
    ]


def test_a_green_team_names_five_and_counts_the_others(tmp_path: Path) -> None:
    """t3 of seven applications, lamp1 to lamp7, each served in the one hour before as_of: all green, none judged.
    The sentence names the first five by rank (app_id here, all tied) and counts the two others."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(lamps(7), actor="test")
    write(lake, "dynatrace/service_metrics_hourly", *(x for n in range(1, 8) for x in lit(f"SERVICE-L{n}", 1)))
    t3 = team_t3(lake, settings)["team", "t3"]
    assert (t3["health"], t3["green"]) == ("green", 7)
    assert t3["reasons"] == [
        "SLOs not judged for 7 of its 7 applications with data: lamp1, lamp2, lamp3, lamp4, lamp5 and 2 more"
    ]


def test_a_green_team_of_one_application_not_judged_says_it_in_the_singular(tmp_path: Path) -> None:
    """t3 is lamp1 alone, served in the 20 hours before as_of."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(lamps(1), actor="test")
    write(lake, "dynatrace/service_metrics_hourly", *lit("SERVICE-L1", 20))
    t3 = team_t3(lake, settings)["team", "t3"]
    assert (t3["health"], t3["reasons"]) == (
        "green",
        ["SLOs not judged for 1 of its 1 application with data: lamp1"],
    )


def test_an_orange_team_names_its_orange_applications_only(tmp_path: Path) -> None:
    """t3: lamp1 fails 10 of 100 requests in each of the 6 hours before as_of (a 1 h burn of 20x: +30, orange), lamp2
    is served without an error in the 10 hours before (green, not judged). t3 is orange and names lamp1 alone: an
    orange level's reasons are its red and orange applications, as before."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply(lamps(2), actor="test")
    failing = [{**x, "error_count": 10.0} for x in lit("SERVICE-L1", 6)]
    write(lake, "dynatrace/service_metrics_hourly", *failing, *lit("SERVICE-L2", 10))
    t3 = team_t3(lake, settings)["team", "t3"]
    assert (t3["health"], t3["reasons"]) == ("orange", ["lamp1 is orange"])
