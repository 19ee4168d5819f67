"""Dynatrace down for some hours of scheduled runs, then back: what an SRE reads meanwhile and after.

The estate (seed 16: orders and analytics) is served for six days ending on 22 November. Dynatrace is read up to
READ_UNTIL (three days looked back); then its port answers nothing for the runs of the next six hours, each followed
by the build the scheduler runs then (the daily one at midnight, hourly ones otherwise); then it comes back. When
Dynatrace went down, orders was burning its error budget (a bad release), and it still was when it came back.

An hour Dynatrace was not read is an hour without a measurement: left out of both sides of the availability, of the
latency's good and bad hours, and of the coverage (measured / expected hours), never counted as a good hour or an
hour without errors. Once Dynatrace is back, the next run re-reads from its watermark less the overlap and the
figures are those of every hour the simulator served, as if it had never been down. Expected figures come from the
simulator's own traffic model (simulators.timeseries), hour by hour."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.aggregates.build_types import BuildParams
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.runlog import Watermarks
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate, generate_estate
from simulators.model import PRODUCTION
from simulators.timeseries import Telemetry
from tests.integration.api.conftest import api_settings, by_id, closed_port, down_sources, get_json
from tests.integration.pipeline.servicenow_outage import FAST_RETRIES
from tests.integration.pipeline.simulated import simulated_lake

HOUR = timedelta(hours=1)
LOOKBACK = 72 * HOUR
READ_UNTIL = datetime(2026, 11, 19, 20, tzinfo=UTC)
FIRST_HOUR = READ_UNTIL - LOOKBACK
# The runs that find Dynatrace down: the last one's as-of is the mart's during the outage.
DOWN_RUNS = (READ_UNTIL + HOUR, datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 20, 2, tzinfo=UTC))
DURING = DOWN_RUNS[-1]
BACK = DURING + HOUR
NEXT_MIDNIGHT = datetime(2026, 11, 21, tzinfo=UTC)
OVERLAP = timedelta(hours=IngestSettings.model_fields["overlap_hours"].default)
# The build's SLO settings, which the estate's mapping leaves as they are.
DEFAULTS = BuildParams(as_of=READ_UNTIL, day_from=READ_UNTIL.date(), day_to=READ_UNTIL.date(), mode="hourly")
BUDGET = 1 - DEFAULTS.availability_target
P95_THRESHOLD_MS = DEFAULTS.latency_p95_threshold_ms
PAGES_OVER = 14.4  # the 1-hour burn rate that pages (Google SRE workbook)
SLO_WEEK = "/monitoring/kpis/slo?groupBy=app&period=last_7d"
SLO_DAY = f"/monitoring/kpis/slo?groupBy=app&from={READ_UNTIL.date()}&to={READ_UNTIL.date() + timedelta(days=1)}"


@dataclass(frozen=True)
class Hour:
    """An application's production hour with traffic, as the simulator serves it."""

    requests: float
    errors: float
    p95_ms: float


@dataclass
class Story:
    estate: Estate
    telemetry: Telemetry
    burning: str  # the application burning its budget when Dynatrace went down
    down_errors: list[dict[str, str]]
    down_marks: list[datetime | None]
    back_window: Window
    before: dict[str, dict]  # the answers as of READ_UNTIL, by URL
    during: dict[str, dict]  # as of the last run Dynatrace was down
    back: dict[str, dict]  # as of the run that found it back, an hourly build
    next_day: dict[str, dict]  # as of the next daily build


def app_hours(telemetry: Telemetry, estate: Estate, app: str, since: datetime, until: datetime) -> list[Hour]:
    """The hours in [since, until) the application had traffic: its components' requests and errors summed, its
    worst component's p95 (microseconds in Dynatrace, milliseconds in the API)."""
    components = estate.application(app).components
    hours = []
    for start in range(int(since.timestamp()), int(until.timestamp()), 3600):
        served = [s for c in components if (s := telemetry.hour_stats(c, PRODUCTION, start)) is not None]
        if served:
            p95 = max(s.response_p95_us for s in served) / 1000
            hours.append(Hour(sum(s.requests for s in served), sum(s.errors for s in served), p95))
    return hours


def burn_rate(hours: list[Hour]) -> float:
    return sum(h.errors for h in hours) / (BUDGET * sum(h.requests for h in hours))


def scheduled_run(lake: Lake, at: datetime) -> tuple[Window, dict[str, str]]:
    outcome = ingest("dynatrace", lake, IngestSettings().resolved(), now=at)
    return outcome.window, {o.dataset: o.record.error or "" for o in outcome.failed}


def scheduled_build(lake: Lake, settings: Settings, at: datetime) -> None:
    """The build the scheduler runs after the ingestion: the day's first one (at midnight here) is daily."""
    build(lake, settings, mode="daily" if at.hour == 0 else "hourly", as_of=at)


def metrics_mark(lake: Lake) -> datetime | None:
    mark = Watermarks(lake).get("dynatrace", "service_metrics_hourly")
    return mark.value if mark else None


def summary(app: str) -> str:
    return f"/monitoring/applications/{app}/summary"


def answers(root: Path, settings: Settings, urls: list[str]) -> dict[str, dict]:
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        return {url: get_json(client, url) for url in urls}


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("dynatrace-outage")
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAST_RETRIES.items():
            env.setenv(name, value)
        env.setenv("ROSETTA_INITIAL_LOOKBACK_HOURS", str(int(LOOKBACK / HOUR)))
        estate = generate_estate(seed=16, apps=2, days=6, end=datetime(2026, 11, 22, tzinfo=UTC))
        telemetry = Telemetry(estate)
        last_hour_read = READ_UNTIL - HOUR
        burning = next(
            a.id
            for a in estate.applications
            if burn_rate(app_hours(telemetry, estate, a.id, last_hour_read, READ_UNTIL)) > PAGES_OVER
        )
        urls = [summary(burning), SLO_WEEK, SLO_DAY]
        # The outage is patched within the simulators' block (see the deploy source's outage test).
        with simulated_lake(root, estate) as (_, settings, lake), pytest.MonkeyPatch.context() as outage:
            assert scheduled_run(lake, READ_UNTIL)[1] == {}
            build(lake, settings, mode="full", as_of=READ_UNTIL)
            before = answers(root, settings, urls)
            outage.setenv("ROSETTA_DYNATRACE_URL", f"http://127.0.0.1:{closed_port()}")
            down_errors, down_marks = [], []
            for at in DOWN_RUNS:
                down_errors.append(scheduled_run(lake, at)[1])
                down_marks.append(metrics_mark(lake))
                scheduled_build(lake, settings, at)
            during = answers(root, settings, urls)

            outage.undo()  # Dynatrace back, at the simulator's URL
            back_window, failed = scheduled_run(lake, BACK)
            assert failed == {} and metrics_mark(lake) == BACK
            scheduled_build(lake, settings, BACK)
            back = answers(root, settings, urls)
            assert scheduled_run(lake, NEXT_MIDNIGHT)[1] == {}
            scheduled_build(lake, settings, NEXT_MIDNIGHT)
            next_day = answers(root, settings, urls)
        yield Story(estate, telemetry, burning, down_errors, down_marks, back_window, before, during, back, next_day)


def hours_of(story: Story, app: str, since: datetime, until: datetime) -> list[Hour]:
    return app_hours(story.telemetry, story.estate, app, since, until)


def assert_slo_row_counts(row: dict, hours: list[Hour], expected_hours: float) -> None:
    """An SLO row's figures are those of `hours`, the hours read with traffic, over `expected_hours`."""
    requests, errors = sum(h.requests for h in hours), sum(h.errors for h in hours)
    assert row["measuredHours"] == len(hours)
    assert row["expectedHours"] == expected_hours
    assert row["coverage"] == pytest.approx(len(hours) / expected_hours)
    assert row["availabilityDenominator"] == pytest.approx(requests, rel=1e-9)
    assert row["badRequests"] == pytest.approx(errors, rel=1e-9)
    assert row["availability"] == pytest.approx((requests - errors) / requests, rel=1e-9)
    assert row["latencyCoverage"] == pytest.approx(len(hours) / expected_hours)
    assert row["latencyP95BadHours"] == sum(h.p95_ms > P95_THRESHOLD_MS for h in hours)


def test_each_run_while_dynatrace_is_down_fails_saying_why_and_keeps_the_watermark(story: Story) -> None:
    """The runs log why they failed, and the metrics' watermark stays where the last read left it."""
    for errors in story.down_errors:
        assert "connection failed (ConnectError) on GET /api/v2/" in errors["dynatrace/service_metrics_hourly"]
    assert story.down_marks == [READ_UNTIL] * len(DOWN_RUNS)


def test_the_summary_counts_only_the_hours_read_while_dynatrace_is_down(story: Story) -> None:
    """An application's last 24 hours: the hours measured and the requests and errors are those read, and the last
    hour read says where the figures stop; its SLO of the last 30 days (the midnight build's) covers the hours read."""
    answer = story.during[summary(story.burning)]
    signals = answer["goldenSignals"]
    read = hours_of(story, story.burning, DURING - 24 * HOUR, READ_UNTIL)
    assert len(read) < 24  # hours after READ_UNTIL had traffic the lake did not read
    assert signals["measuredHours"] == len(read)
    assert datetime.fromisoformat(signals["lastHour"]) == READ_UNTIL - HOUR
    assert signals["requests"] == pytest.approx(sum(h.requests for h in read), rel=1e-9)
    assert signals["errors"] == pytest.approx(sum(h.errors for h in read), rel=1e-9)
    month = hours_of(story, story.burning, FIRST_HOUR, READ_UNTIL)
    assert answer["slo"]["coverage"] == pytest.approx(len(month) / (30 * 24))


def test_the_slo_leaves_the_hours_not_read_out_of_both_sides_and_of_the_coverage(story: Story) -> None:
    """Over the day Dynatrace went down, and over the last 7 days of the daily build it missed the end of, every
    application's SLO counts the hours read alone: a coverage under the hours the period had, not 100 % over hours
    nobody measured."""
    day_start = datetime.combine(READ_UNTIL.date(), datetime.min.time(), UTC)
    day = by_id(story.during[SLO_DAY])
    week = by_id(story.during[SLO_WEEK])
    assert sorted(day) == sorted(week) == sorted(a.id for a in story.estate.applications)
    for app in day:
        assert_slo_row_counts(day[app], hours_of(story, app, day_start, READ_UNTIL), 24)
        # The daily build ran at midnight: the week up to it, read from FIRST_HOUR to READ_UNTIL.
        assert_slo_row_counts(week[app], hours_of(story, app, FIRST_HOUR, READ_UNTIL), 7 * 24)


def test_a_burn_rate_over_hours_not_read_has_no_rate_not_zero(story: Story) -> None:
    """The last hours were not read: their burn rates are unknown; a longer window counts the hours it read."""
    slo = story.during[summary(story.burning)]["slo"]
    assert slo["burnRate1H"] is None
    row = by_id(story.during[SLO_WEEK])[story.burning]
    assert [row["burnRate1H"], row["burnRate2H"], row["burnRate6H"]] == [None, None, None]
    read = hours_of(story, story.burning, DURING - 24 * HOUR, READ_UNTIL)
    assert row["burnRate24H"] == pytest.approx(burn_rate(read), rel=1e-9)


def test_before_the_outage_the_burning_application_pages(story: Story) -> None:
    """As of READ_UNTIL, the application burning its budget over the last hour pages and does not read green."""
    answer = story.before[summary(story.burning)]
    last_hour = hours_of(story, story.burning, READ_UNTIL - HOUR, READ_UNTIL)
    assert answer["slo"]["burnRate1H"] == pytest.approx(burn_rate(last_hour), rel=1e-9)
    assert answer["slo"]["burnRateAlert"] == "page"
    assert answer["risk"]["health"] in ("orange", "red")


def test_an_application_burning_its_budget_does_not_read_green_while_dynatrace_is_down(story: Story) -> None:
    """orders paged when Dynatrace went down and still burns its budget (the simulator's last hour before DURING):
    while its hours are not read, its summary must not say the burn stopped and all is well. The 1-hour rate is
    unknown, so the alert is 'no data', and the risk's reasons say since when the golden signals are unknown."""
    assert burn_rate(hours_of(story, story.burning, DURING - HOUR, DURING)) > PAGES_OVER
    during = story.during[summary(story.burning)]
    assert during["slo"]["burnRate1H"] is None
    assert during["slo"]["burnRateAlert"] == "no data"
    since = READ_UNTIL.strftime("%Y-%m-%d %H:%M")
    assert during["risk"]["reasons"][-1] == (
        f"golden signals unknown since {since} UTC: Dynatrace not read since (only hours read before count)"
    )


def test_once_dynatrace_is_back_the_next_run_rereads_the_missed_hours(story: Story) -> None:
    """The run that finds Dynatrace back starts at its watermark less the overlap and reads every hour missed: the
    summary, the day's SLO and the burn rates are those of every hour served, the alert pages again."""
    assert story.back_window == Window(READ_UNTIL - OVERLAP, BACK)
    answer = story.back[summary(story.burning)]
    served = hours_of(story, story.burning, BACK - 24 * HOUR, BACK)
    assert answer["goldenSignals"]["measuredHours"] == len(served)
    assert datetime.fromisoformat(answer["goldenSignals"]["lastHour"]) == BACK - HOUR
    assert answer["goldenSignals"]["requests"] == pytest.approx(sum(h.requests for h in served), rel=1e-9)
    assert answer["goldenSignals"]["errors"] == pytest.approx(sum(h.errors for h in served), rel=1e-9)
    last_hour = hours_of(story, story.burning, BACK - HOUR, BACK)
    assert answer["slo"]["burnRate1H"] == pytest.approx(burn_rate(last_hour), rel=1e-9)
    assert answer["slo"]["burnRateAlert"] == "page"
    assert answer["risk"]["health"] in ("orange", "red")
    day_start = datetime.combine(READ_UNTIL.date(), datetime.min.time(), UTC)
    for app, row in by_id(story.back[SLO_DAY]).items():
        assert_slo_row_counts(row, hours_of(story, app, day_start, day_start + 24 * HOUR), 24)


def test_the_next_daily_build_gives_the_periods_as_if_dynatrace_had_never_been_down(story: Story) -> None:
    """A named period is the daily build's: the one after Dynatrace came back counts every hour of the last 7 days
    the lake read, from its first read on, and so does the summary's 30 days."""
    for app, row in by_id(story.next_day[SLO_WEEK]).items():
        hours = hours_of(story, app, FIRST_HOUR, NEXT_MIDNIGHT)
        assert_slo_row_counts(row, hours, 7 * 24)
    slo = story.next_day[summary(story.burning)]["slo"]
    assert slo["coverage"] == pytest.approx(len(hours_of(story, story.burning, FIRST_HOUR, NEXT_MIDNIGHT)) / (30 * 24))
