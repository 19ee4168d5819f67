"""One application's figures on every page that shows them agree: the summary, the lists, the KPI reports, the
ranking and the overview, on a lake the whole pipeline built (simulators -> ingestion handlers -> build handler).

Each test takes one figure from two routes (or from a route and the estate the simulators served) and checks the
relation the README's KPI definitions state between them, over the same half-open UTC period. The lake is built
twice: as of midnight, and as of 17:00 on a day (2026-11-18), when an incident of priority 2 is open and the rolling
periods start mid-day, so that a boundary taken differently by two routes shows.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.settings import Settings
from simulators.estate import Estate
from tests.integration.api.conftest import api_settings, by_id, down_sources, get_json
from tests.integration.pipeline.simulated import handler_of
from tests.integration.pipeline.test_truth import END, pipeline  # noqa: F401
from tests.lambda_context import LambdaContext

# The two as-ofs the lake is built at: the pipeline's own, and an afternoon hour while notifications' P2 incident
# (opened 15:56 after a release at 15:31, restored 18:33) is open.
AS_OFS = {"midnight": END, "afternoon": datetime(2026, 11, 18, 17, tzinfo=UTC)}
LEVELS = ("team", "group", "domain")
# The burn-rate windows of an SLO row, in hours.
BURN_WINDOWS = {"burnRate1H": 1, "burnRate2H": 2, "burnRate6H": 6, "burnRate24H": 24, "burnRate3D": 72}


class Site:
    """The API over the lake, as a reader calls it, and the build's as-of."""

    def __init__(self, client: TestClient, as_of: datetime, estate: Estate) -> None:
        self.client = client
        self.as_of = as_of
        self.estate = estate

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return get_json(self.client, f"/monitoring/{path}?{urlencode(params)}")

    def apps(self) -> list[str]:
        return [r["appId"] for r in self.get("risk/top", limit=100)["items"]]

    def summary(self, app: str) -> dict[str, Any]:
        return self.get(f"applications/{app}/summary")

    def series(self, entity: str, metric: str, start: str, end: str) -> dict[str, float]:
        """An entity's hourly points over [start, end), hours without a value left out."""
        points = self.get(f"{entity}/timeseries", metric=metric, **{"from": start, "to": end})["points"]
        return {p["t"]: p["v"] for p in points if p["v"] is not None}

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list route, read in one page."""
        body = self.get(path, limit=500, **params)
        assert body["page"]["nextCursor"] is None
        return list(body["items"])


@pytest.fixture(scope="module", params=sorted(AS_OFS))
def site(
    request: pytest.FixtureRequest,
    pipeline: tuple[Estate, Any, str],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    estate, _, url = pipeline
    as_of = AS_OFS[request.param]
    handler_of("build_aggregates")({"mode": "full", "as_of": as_of.isoformat()}, LambdaContext("build_aggregates"))
    root = tmp_path_factory.mktemp("agree")
    settings = Settings(lake_url=url, duckdb_temp_directory=root / "duckdb")
    with TestClient(create_app(api_settings(root), settings, down_sources()), raise_server_exceptions=False) as c:
        yield Site(c, as_of, estate)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def members(site: Site, level: str) -> dict[str, list[str]]:
    """Each team's, group's or domain's applications, as their summaries name them."""
    out: dict[str, list[str]] = {}
    for app in site.apps():
        out.setdefault(site.summary(app)["entity"][level], []).append(app)
    return out


def in_period(moment: str | None, period: dict[str, str]) -> bool:
    return moment is not None and period["start"] <= moment < period["end"]


def open_at(site: Site, app: str) -> list[Any]:
    """The estate's incidents of `app` open at the as-of hour, as ServiceNow served them: opened before it, restored
    (resolved, else closed) at or after it or not yet."""
    as_of = site.as_of.timestamp()
    found = []
    for i in site.estate.incidents:
        restored = i.resolved_s if i.resolved_s is not None else i.closed_s
        if i.app == app and not i.canceled and i.opened_s < as_of and (restored is None or restored >= as_of):
            found.append(i)
    return found


# --- incidents ----------------------------------------------------------------------------------------------------
def test_open_incidents_on_the_summary_are_those_listed_open_and_those_the_estate_had_open(site: Site) -> None:
    p1_p2_somewhere = 0
    for app in site.apps():
        summary = site.summary(app)
        listed = site.items(f"applications/{app}/incidents", status="open")
        served = open_at(site, app)
        assert summary["incidents"]["open"] == len(listed) == len(served), app
        assert sorted(i["number"] for i in listed) == sorted(i.number for i in served), app
        p1_p2 = sum(i["priority"] in (1, 2) for i in listed)
        assert summary["incidents"]["openP1P2"] == p1_p2 == sum(i.priority in (1, 2) for i in served), app
        assert summary["incidents"]["slaBreached"] == sum(bool(i["slaBreached"]) for i in listed), app
        p1_p2_somewhere += p1_p2
        # Each component's own count is its own list's.
        for component in summary["entity"]["components"]:
            own = site.get(f"components/{component}/summary")["incidents"]["open"]
            assert own == len(site.items(f"components/{component}/incidents", status="open")), component
    # The afternoon build has notifications' P2 open: the check above is not one of zeros alone.
    assert p1_p2_somewhere == (1 if site.as_of.hour == 17 else 0)


def test_the_incident_report_counts_the_incidents_its_period_lists(site: Site) -> None:
    for period in ("last_7d", "last_30d", "month"):
        report = site.get("kpis/incidents", groupBy="app", period=period)
        span = report["period"]
        dora = by_id(site.get("kpis/dora", groupBy="app", **{"from": span["start"], "to": span["end"]}))
        for row in report["items"]:
            app = row["id"]
            # Over 90 days: an incident restored in the period may have opened before it.
            listed = site.items(f"applications/{app}/incidents", status="all", period="last_90d")
            counted = [i for i in listed if not i["isCanceled"]]
            opened = [i for i in counted if in_period(i["openedAt"], span)]
            restored = [i for i in counted if in_period(i["restoredAt"], span)]
            durations = [i["durationHours"] for i in restored if i["durationHours"] is not None]
            assert row["opened"] == len(opened), (period, app)
            assert row["openedP1P2"] == sum(i["priority"] in (1, 2) for i in opened), (period, app)
            assert row["restored"] == len(restored), (period, app)
            assert row["openEndOfPeriod"] == len(site.items(f"applications/{app}/incidents", status="open"))
            assert sum(d["opened"] or 0 for d in row["days"]) == row["opened"], (period, app)
            # Medians do not roll up: the report's and DORA's MTTR are the median of the same restorations.
            assert dora[app]["mttrSample"] == len(durations), (period, app)
            if durations:
                assert row["mttrMedianHours"] == pytest.approx(statistics.median(durations), abs=1e-9)
                assert dora[app]["mttrMedianHours"] == pytest.approx(statistics.median(durations), abs=1e-9)
                assert row["mttrMeanHours"] == pytest.approx(statistics.mean(durations), abs=1e-9)


# --- SLO ----------------------------------------------------------------------------------------------------------
SUMMARY_SLO_FIELDS = (
    "availability",
    "availabilityTarget",
    "availabilityStatus",
    "errorBudgetRemaining",
    "errorBudgetConsumed",
    "burnRatePeriod",
    "burnRate1H",
    "burnRateAlert",
    "coverage",
    "latencyP95Sli",
    "latencyP99Sli",
    "latencyCoverage",
    "latencyP95BudgetRemaining",
    "latencyP99BudgetRemaining",
)


def test_the_summary_slo_is_the_application_row_of_the_slo_report(site: Site) -> None:
    report = site.get("kpis/slo", groupBy="app", period="last_30d")
    rows = by_id(report)
    for app in site.apps():
        slo = site.summary(app)["slo"]
        assert (slo["periodStart"], slo["periodEnd"]) == (report["period"]["start"], report["period"]["end"])
        assert {k: slo[k] for k in SUMMARY_SLO_FIELDS} == {k: rows[app][k] for k in SUMMARY_SLO_FIELDS}, app


def test_an_slo_row_counts_the_requests_errors_and_hours_of_its_hourly_series(site: Site) -> None:
    for period in ("last_7d", "month"):
        report = site.get("kpis/slo", groupBy="app", period=period)
        start, end = report["period"]["start"], report["period"]["end"]
        for row in report["items"]:
            entity = f"applications/{row['id']}"
            requests = {t: v for t, v in site.series(entity, "requests", start, end).items() if v > 0}
            errors = site.series(entity, "errors", start, end)
            p95 = [v for t, v in site.series(entity, "latency_p95", start, end).items() if t in requests]
            bad = sum(errors.get(t, 0) for t in requests)
            assert row["availabilityDenominator"] == pytest.approx(sum(requests.values()))
            assert row["badRequests"] == pytest.approx(bad)
            assert row["availability"] == pytest.approx(1 - bad / sum(requests.values()), abs=1e-12)
            assert row["measuredHours"] == len(requests)
            assert row["latencyP95BadHours"] == sum(v > row["latencyP95ThresholdMs"] for v in p95)
            assert row["latencyCoverage"] == pytest.approx(len(p95) / row["expectedHours"])


def test_a_team_group_or_domain_slo_is_its_applications_events_summed_not_their_percentages_averaged(
    site: Site,
) -> None:
    apps = by_id(site.get("kpis/slo", groupBy="app", period="last_30d"))
    for level in LEVELS:
        owned = members(site, level)
        for row in site.get("kpis/slo", groupBy=level, period="last_30d")["items"]:
            mine = [apps[a] for a in owned[row["id"]]]
            good = sum(a["availabilityNumerator"] for a in mine)
            requests = sum(a["availabilityDenominator"] for a in mine)
            allowed = sum(a["errorBudgetAllowed"] for a in mine)
            bad_hours = sum(a["latencyP95BadHours"] for a in mine)
            allowed_hours = sum(a["latencyP95BudgetAllowed"] for a in mine)
            assert row["applications"] == len(mine)
            assert (row["availabilityNumerator"], row["availabilityDenominator"]) == (good, requests)
            assert row["availability"] == pytest.approx(good / requests, abs=1e-12)
            assert row["errorBudgetAllowed"] == pytest.approx(allowed)
            assert row["errorBudgetConsumed"] == pytest.approx((requests - good) / allowed)
            assert row["latencyP95BudgetConsumed"] == pytest.approx(bad_hours / allowed_hours)


def test_burn_rates_are_the_errors_of_the_hourly_series_over_the_budget_their_requests_allow(site: Site) -> None:
    apps = by_id(site.get("kpis/slo", groupBy="app", period="last_30d"))
    windows: dict[tuple[str, str], tuple[float, float]] = {}
    for app, row in apps.items():
        for key, hours in BURN_WINDOWS.items():
            start, end = iso(site.as_of - timedelta(hours=hours)), iso(site.as_of)
            requests = sum(site.series(f"applications/{app}", "requests", start, end).values())
            errors = sum(site.series(f"applications/{app}", "errors", start, end).values())
            windows[app, key] = (requests, errors)
            assert row[key] == pytest.approx(errors / requests / (1 - row["availabilityTarget"])), (app, key)
    for level in LEVELS:
        owned = members(site, level)
        for row in site.get("kpis/slo", groupBy=level, period="last_30d")["items"]:
            for key in BURN_WINDOWS:
                errors = sum(windows[a, key][1] for a in owned[row["id"]])
                allowed = sum(windows[a, key][0] * (1 - apps[a]["availabilityTarget"]) for a in owned[row["id"]])
                assert row[key] == pytest.approx(errors / allowed), (level, row["id"], key)


# --- golden signals -----------------------------------------------------------------------------------------------
# A summary's golden signal and how its window's hourly points make it.
SUMMARY_SIGNALS: dict[str, tuple[str, Callable[[Iterable[float]], float]]] = {
    "requests": ("requests", sum),
    "errors": ("errors", sum),
    "latency_p50": ("latencyP50MaxMs", max),
    "latency_p95": ("latencyP95MaxMs", max),
    "latency_p99": ("latencyP99MaxMs", max),
    "cpu": ("cpuMaxPct", max),
    "memory": ("memoryMaxPct", max),
    "log_errors": ("logErrors", sum),
    "log_exceptions": ("logExceptions", sum),
}


def test_the_summary_golden_signals_are_its_hourly_series_over_the_same_day(site: Site) -> None:
    for app in site.apps():
        summary = site.summary(app)
        entities = [f"applications/{app}"] + [f"components/{c}" for c in summary["entity"]["components"]]
        for entity in entities:
            signals = site.get(f"{entity}/summary")["goldenSignals"]
            assert (signals["windowStart"], signals["windowEnd"]) == (
                iso(site.as_of - timedelta(days=1)),
                iso(site.as_of),
            )
            for metric, (key, combine) in SUMMARY_SIGNALS.items():
                values = site.series(entity, metric, signals["windowStart"], signals["windowEnd"]).values()
                assert signals.get(key) == (pytest.approx(combine(values)) if values else None), (entity, metric)


def test_an_application_hour_is_its_components_hours_summed(site: Site) -> None:
    start, end = iso(site.as_of - timedelta(days=7)), iso(site.as_of)
    for app in site.apps():
        components = site.summary(app)["entity"]["components"]
        for metric in ("requests", "errors", "log_errors"):
            summed: dict[str, float] = defaultdict(float)
            for component in components:
                for hour, value in site.series(f"components/{component}", metric, start, end).items():
                    summed[hour] += value
            own = site.series(f"applications/{app}", metric, start, end)
            assert own == pytest.approx(dict(summed)), (app, metric)


# --- deployments --------------------------------------------------------------------------------------------------
def test_the_summary_last_deployment_is_the_newest_each_component_has_in_its_history(site: Site) -> None:
    for app in site.apps():
        newest: dict[str, dict[str, Any]] = {}
        for d in site.items(f"applications/{app}/deployments", mode="history", period="last_90d"):
            if d["finishedAt"] > newest.get(d["componentId"], {}).get("finishedAt", ""):
                newest[d["componentId"]] = d
        shown = {d["componentId"]: (d["deploymentKey"], d["finishedAt"]) for d in site.summary(app)["lastDeployments"]}
        assert shown == {c: (d["deploymentKey"], d["finishedAt"]) for c, d in newest.items()}, app


def test_dora_counts_are_the_production_deployments_listed_for_the_period(site: Site) -> None:
    counted = 0
    for period in ("last_7d", "last_30d", "month"):
        for mode, failure in (("full", "isChangeFailureFull"), ("light", "isChangeFailureLight")):
            report = site.get("kpis/dora", groupBy="app", period=period, mode=mode)
            span = report["period"]
            apps = by_id(report)
            for app, row in apps.items():
                listed = site.items(f"applications/{app}/deployments", **{"from": span["start"], "to": span["end"]})
                succeeded = [d for d in listed if d["status"] == "succeeded"]
                assert row["deploymentFrequencyNumerator"] == len(succeeded), (period, app)
                assert row["deployDays"] == len({d["finishedAt"][:10] for d in succeeded}), (period, app)
                assert row["changeFailureDenominator"] == len(listed), (period, mode, app)
                assert row["changeFailureNumerator"] == sum(d[failure] for d in listed), (period, mode, app)
                assert row["reworkNumerator"] == sum(d["isRework"] for d in listed), (period, mode, app)
                counted += len(listed)
            for level in LEVELS:
                owned = members(site, level)
                for group in site.get("kpis/dora", groupBy=level, period=period, mode=mode)["items"]:
                    mine = [apps[a] for a in owned[group["id"]]]
                    for key in ("deploymentFrequencyNumerator", "changeFailureNumerator", "changeFailureDenominator"):
                        assert group[key] == sum(a[key] for a in mine), (period, mode, level, group["id"], key)
    assert counted > 0


# --- changes ------------------------------------------------------------------------------------------------------
def test_the_change_report_counts_the_changes_its_period_lists(site: Site) -> None:
    for period in ("last_30d", "month"):
        report = site.get("kpis/changes", groupBy="app", period=period)
        span = report["period"]
        for row in report["items"]:
            app = row["id"]
            recent = site.items(f"applications/{app}/changes", status="recent", **{"from": span["start"]})
            closed = [c for c in recent if c["isClosed"] and c["closeCode"] is not None]
            assert row["implemented"] == len(closed), (period, app)
            assert row["closedWithCode"] == len(closed), (period, app)
            assert row["unsuccessful"] == sum(c["closeCode"] == "unsuccessful" for c in closed), (period, app)
            assert row["emergency"] == sum(c["type"] == "emergency" for c in recent), (period, app)
            assert sum(d["implemented"] or 0 for d in row["days"]) == row["implemented"], (period, app)
            if closed:
                assert row["changeFailureRate"] == pytest.approx(row["unsuccessful"] / len(closed))


def test_a_team_group_or_domain_day_report_is_its_applications_rows_summed(site: Site) -> None:
    fields = {
        "incidents": ("opened", "openedP1P2", "restored", "slaBreaches", "openEndOfPeriod", "openP1P2EndOfPeriod"),
        "changes": ("planned", "canceled", "emergency", "implemented", "successful", "unsuccessful", "closedWithCode"),
    }
    for report, keys in fields.items():
        apps = by_id(site.get(f"kpis/{report}", groupBy="app", period="last_30d"))
        for level in LEVELS:
            owned = members(site, level)
            for row in site.get(f"kpis/{report}", groupBy=level, period="last_30d")["items"]:
                for key in keys:
                    assert row[key] == sum(apps[a][key] for a in owned[row["id"]]), (report, level, row["id"], key)


# --- overview and risk --------------------------------------------------------------------------------------------
def test_overview_health_counts_are_the_applications_own_health(site: Site) -> None:
    overview = site.get("overview")
    risk = {a: site.summary(a)["risk"] for a in site.apps()}
    assert overview["applicationsByHealth"] == dict(Counter(r["health"] for r in risk.values()))
    for row in overview["health"] + [overview["estateHealth"]]:
        mine = (
            [risk[a] for a in members(site, row["level"])[row["levelId"]]]
            if row["level"] in LEVELS
            else list(risk.values())
        )
        health = Counter(r["health"] for r in mine)
        assert (row["applications"], row["red"], row["orange"], row["green"], row["noData"]) == (
            len(mine),
            health["red"],
            health["orange"],
            health["green"],
            health["no data"],
        ), row["levelId"]
        assert row["maxRiskScore"] == max(r["riskScore"] for r in mine)


def test_overview_top_risks_and_each_summary_risk_are_the_risk_report(site: Site) -> None:
    ranked = site.get("risk/top", limit=100)["items"]
    assert site.get("overview")["topRisks"] == ranked[:10]
    for row in ranked:
        risk = site.summary(row["appId"])["risk"]
        assert risk == {k: row[k] for k in ("rank", "riskScore", "health", "reasons")}


def test_a_risk_row_is_its_weeks_series_incidents_and_deployments(site: Site) -> None:
    slo = by_id(site.get("kpis/slo", groupBy="app", period="last_7d"))
    report = site.get("risk/top", limit=100)
    start, end = report["period"]["start"], report["period"]["end"]
    assert (start, end) == (iso(site.as_of - timedelta(days=7)), iso(site.as_of))
    for row in report["items"]:
        app = row["appId"]
        requests = sum(site.series(f"applications/{app}", "requests", start, end).values())
        errors = sum(site.series(f"applications/{app}", "errors", start, end).values())
        incidents = site.items(f"applications/{app}/incidents", status="all", period="last_7d")
        deployments = site.items(f"applications/{app}/deployments", period="last_7d")
        assert row["requests"] == pytest.approx(requests)
        assert row["errorRate"] == pytest.approx(errors / requests, abs=1e-12)
        assert row["availability7D"] == pytest.approx(slo[app]["availability"], abs=1e-12)
        assert row["incidents"] == sum(
            in_period(i["openedAt"], report["period"]) and not i["isCanceled"] for i in incidents
        )
        assert row["openP1P2"] == site.summary(app)["incidents"]["openP1P2"]
        assert row["failedChanges7D"] == sum(d["isChangeFailureFull"] for d in deployments), app


def test_a_ranking_by_error_rate_or_incidents_is_the_series_and_list_of_its_days(site: Site) -> None:
    for period in ("last_24h", "last_30d"):
        for metric in ("error_rate", "incidents"):
            floor = {"minRequests": 0} if metric == "error_rate" else {}
            report = site.get("risk/top", metric=metric, period=period, limit=100, **floor)
            span = report["period"]
            for row in report["items"]:
                entity = f"applications/{row['appId']}"
                requests = sum(site.series(entity, "requests", span["start"], span["end"]).values())
                errors = sum(site.series(entity, "errors", span["start"], span["end"]).values())
                listed = site.items(f"{entity}/incidents", status="all", **{"from": span["start"], "to": span["end"]})
                assert row["requests"] == pytest.approx(requests), (period, metric, row["appId"])
                assert row["errorRate"] == pytest.approx(errors / requests, abs=1e-12)
                assert row["incidents"] == sum(in_period(i["openedAt"], span) and not i["isCanceled"] for i in listed)


def test_an_overview_trend_day_is_its_applications_day_summed(site: Site) -> None:
    overview = site.get("overview")
    start, end = overview["trend"][0]["day"], overview["trend"][-1]["day"]
    day_end = iso(datetime.fromisoformat(end).replace(tzinfo=UTC) + timedelta(days=1))
    expected: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for app in site.apps():
        entity = f"applications/{app}"
        for metric, key in (("requests", "requests"), ("errors", "errors")):
            for hour, value in site.series(entity, metric, start, day_end).items():
                expected[hour[:10]][key] += value
        for d in site.items(f"{entity}/deployments", **{"from": start, "to": day_end}):
            day = expected[d["finishedAt"][:10]]
            day["deployments"] += d["status"] == "succeeded"
            day["deploymentChangeFailures"] += d["isChangeFailureFull"]
    for row in site.get("kpis/incidents", groupBy="app", **{"from": start, "to": day_end})["items"]:
        for d in row["days"]:
            expected[d["day"]]["incidentsOpened"] += d["opened"] or 0
    for row in site.get("kpis/changes", groupBy="app", **{"from": start, "to": day_end})["items"]:
        for d in row["days"]:
            expected[d["day"]]["changesImplemented"] += d["implemented"] or 0
    keys = ("requests", "errors", "incidentsOpened", "deployments", "deploymentChangeFailures", "changesImplemented")
    for t in overview["trend"]:
        assert {k: t[k] or 0 for k in keys} == pytest.approx({k: expected[t["day"]][k] for k in keys}), t["day"]


# --- periods ------------------------------------------------------------------------------------------------------
def test_a_named_period_and_the_same_from_to_range_give_the_same_report(site: Site) -> None:
    month = iso(site.as_of.replace(day=1, hour=0))
    for report in ("slo", "dora", "incidents", "changes"):
        for group_by in ("app", "team"):
            named = site.get(f"kpis/{report}", groupBy=group_by, period="month")
            ranged = site.get(f"kpis/{report}", groupBy=group_by, **{"from": month})
            assert (named["period"]["start"], named["period"]["end"]) == (month, iso(site.as_of))
            assert ranged["period"] | {"name": "month"} == named["period"]
            assert ranged["items"] == named["items"], (report, group_by)


def test_nothing_after_the_as_of_hour_is_listed_or_counted_on_its_day(site: Site) -> None:
    day = site.as_of - timedelta(hours=1)
    start = iso(day.replace(hour=0))
    end = iso(day.replace(hour=0) + timedelta(days=1))
    as_of = iso(site.as_of)
    for app in site.apps():
        entity = f"applications/{app}"
        assert all(t < as_of for t in site.series(entity, "requests", start, end)), app
        assert all(
            i["openedAt"] < as_of for i in site.items(f"{entity}/incidents", status="all", **{"from": start, "to": end})
        )
        assert all(d["finishedAt"] < as_of for d in site.items(f"{entity}/deployments", **{"from": start, "to": end}))
        assert all(
            c["changeStart"] < as_of
            for c in site.items(f"{entity}/changes", status="recent", **{"from": start, "to": end})
        )
