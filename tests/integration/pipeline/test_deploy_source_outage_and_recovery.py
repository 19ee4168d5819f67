"""GitLab down for most of two days of scheduled runs while ArgoCD still answers, then back: what an SRE reads
meanwhile and after.

The estate (seed 5: reporting, claims and kyc) is served for six days ending at END; kyc deploys with GitLab alone,
reporting with both tools. The deploy ingestion reads both up to OUTAGE_START (three days looked back); then GitLab's
port answers nothing for the runs of the next 44 hours while ArgoCD's answers, each run followed by the build the
scheduler runs then (daily at midnight, hourly otherwise); then GitLab comes back. Meanwhile deployments are read as
far as the earlier watermark, GitLab's: the DORA rows, the overview's trend and the deployments list say so rather
than count the days after it as days without a deployment. Once GitLab is back, the scheduled runs catch up and the
counts are the simulator's own.

ArgoCD only shows its last ten syncs; polled at every run here, it never has more than that between two polls in
these six days, so every sync it made is knowable (see test_truth.py for the general case)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from simulators.estate import Estate, generate_estate
from simulators.model import Deployment
from simulators.serve import RunningSimulators
from tests.integration.api.conftest import api_settings, by_id, closed_port, down_sources, get_json
from tests.integration.pipeline.servicenow_outage import END, FAST_RETRIES, OUTAGE_START
from tests.integration.pipeline.simulated import simulated_lake

LOOKBACK = timedelta(hours=72)
FIRST_READ = OUTAGE_START - LOOKBACK
# Each within a catch-up step (48 h) of GitLab's watermark less the overlap (2 h): every run's window reaches the
# run's own time, so ArgoCD, read whole at each, is read up to it.
DOWN_RUNS = (OUTAGE_START + timedelta(hours=12), OUTAGE_START + timedelta(days=1), OUTAGE_START + timedelta(hours=44))
# GitLab back: the first run catches up 48 hours, the next one the rest.
BACK_RUNS = (END, END + timedelta(minutes=15))
GITLAB = ("gitlab/deployments", "gitlab/pipelines", "gitlab/merge_requests")
ARGOCD_HISTORY, EVENTS = "argocd/deployment_history", "deploys/deployment_events"
DORA = "/monitoring/kpis/dora?groupBy=app&period=last_7d"
OVERVIEW = "/monitoring/overview?period=last_7d"


@dataclass
class DownRun:
    at: datetime
    errors: dict[str, str]  # the datasets that failed, and why
    marks: dict[str, datetime | None]  # the watermarks once it ran


@dataclass
class Story:
    estate: Estate
    gitlab_app: str
    down_runs: list[DownRun]
    during: dict[str, dict]  # the answers as of the last run GitLab was down, by URL
    after: dict[str, dict]  # the answers once the runs caught up, by URL
    marks_after: dict[str, datetime | None]


def watermarks(lake: Lake) -> dict[str, datetime | None]:
    marks = Watermarks(lake)
    found = {d: marks.get(get_dataset(d).source, get_dataset(d).name) for d in (*GITLAB, ARGOCD_HISTORY, EVENTS)}
    return {d: mark.value if mark else None for d, mark in found.items()}


def scheduled_run(sims: RunningSimulators, lake: Lake, at: datetime) -> dict[str, str]:
    """One scheduled deploy ingestion at `at`, ArgoCD answering as it did then; the datasets that failed, and why."""
    sims.set_argocd_clock(at)
    outcome = ingest("deploys", lake, IngestSettings().resolved(), now=at)
    return {o.dataset: o.record.error or "" for o in outcome.failed}


def scheduled_build(lake: Lake, settings: Settings, at: datetime) -> None:
    """The build the scheduler runs after the ingestion: the day's first one (at midnight here) is daily."""
    build(lake, settings, mode="daily" if at.hour == 0 else "hourly", as_of=at)


def answers(root: Path, settings: Settings, urls: list[str]) -> dict[str, dict]:
    with TestClient(create_app(api_settings(root), settings, down_sources())) as client:
        return {url: get_json(client, url) for url in urls}


def deployments_list(app: str) -> str:
    return f"/monitoring/applications/{app}/deployments?period=last_7d"


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("deploy-outage")
    with pytest.MonkeyPatch.context() as env:
        for name, value in FAST_RETRIES.items():
            env.setenv(name, value)
        env.setenv("ROSETTA_INITIAL_LOOKBACK_HOURS", str(int(LOOKBACK.total_seconds() // 3600)))
        estate = generate_estate(seed=5, apps=3, days=6, end=END)
        gitlab_app = next(a.id for a in estate.applications if {c.deploy_tool for c in a.components} == {"gitlab"})
        urls = [DORA, OVERVIEW, deployments_list(gitlab_app)]
        # The outage is patched within the simulators' block, which sets the sources' URLs and takes them back: patched
        # by the outer one, the URL would be put back to the simulator's once both ended, for every later test.
        with simulated_lake(root, estate) as (sims, settings, lake), pytest.MonkeyPatch.context() as outage:
            assert scheduled_run(sims, lake, OUTAGE_START) == {}
            build(lake, settings, mode="full", as_of=OUTAGE_START)
            outage.setenv("ROSETTA_GITLAB_URL", f"http://127.0.0.1:{closed_port()}")
            down_runs = []
            for at in DOWN_RUNS:
                errors = scheduled_run(sims, lake, at)
                down_runs.append(DownRun(at, errors, watermarks(lake)))
                scheduled_build(lake, settings, at)
            during = answers(root, settings, urls)

            outage.undo()  # GitLab back, at the simulator's URL
            for at in BACK_RUNS:
                assert scheduled_run(sims, lake, at) == {}
            marks_after = watermarks(lake)
            scheduled_build(lake, settings, END)
            after = answers(root, settings, urls)
        yield Story(estate, gitlab_app, down_runs, during, after, marks_after)


def succeeded(estate: Estate, since: datetime, until: datetime, app: str | None = None) -> list[Deployment]:
    """The estate's successful production deployments finished in [since, until), of `app` or every one."""
    return [
        d
        for d in estate.truth.deployments
        if not d.failed and since <= d.time < until and (app is None or d.app == app)
    ]


def per_day(deployments: list[Deployment]) -> Counter[date]:
    return Counter(d.time.date() for d in deployments)


def trend_deployments(overview: dict) -> dict[date, int | None]:
    return {date.fromisoformat(d["day"]): d["deployments"] for d in overview["trend"]}


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def test_a_run_while_gitlab_is_down_fails_for_gitlab_alone_and_moves_argocds_watermark(story: Story) -> None:
    """Each run fails for GitLab's datasets alone, saying why; ArgoCD's history is read on."""
    for run in story.down_runs:
        assert sorted(run.errors) == sorted(GITLAB), run.at
        assert all("connection failed (ConnectError) on GET /api/v4/projects/" in e for e in run.errors.values())
        # GitLab's stay where the read before left them; ArgoCD, read whole, is read up to the run's time, and the
        # events derived from both move with every run.
        assert [run.marks[d] for d in GITLAB] == [OUTAGE_START] * len(GITLAB), run.at
        assert (run.marks[ARGOCD_HISTORY], run.marks[EVENTS]) == (run.at, run.at)


def test_the_dora_rows_say_deployments_were_read_up_to_gitlabs_watermark(story: Story) -> None:
    """Every DORA row of the last 7 days says deployments were read up to GitLab's watermark."""
    gitlab_mark = story.down_runs[-1].marks["gitlab/deployments"]
    # A named period is the daily build's: the one at midnight, GitLab down since the day before.
    rows = by_id(story.during[DORA])
    assert sorted(rows) == sorted(a.id for a in story.estate.applications)
    assert {app: when(row["deploymentsReadUntil"]) for app, row in rows.items()} == dict.fromkeys(rows, gitlab_mark)
    # The application deploying with GitLab alone counts the deployments read, those before the watermark; it made
    # more since, which the row does not claim were none.
    app = story.gitlab_app
    assert rows[app]["deploymentFrequencyNumerator"] == len(succeeded(story.estate, FIRST_READ, OUTAGE_START, app))
    assert succeeded(story.estate, OUTAGE_START, DOWN_RUNS[1], app)


def test_the_trend_leaves_the_days_after_gitlabs_watermark_unknown_not_zero(story: Story) -> None:
    """The overview's trend counts the days read and leaves the others null: before the first read and after
    GitLab's watermark."""
    trend = trend_deployments(story.during[OVERVIEW])
    truth = per_day(succeeded(story.estate, FIRST_READ, OUTAGE_START))
    read = {day: truth[day] for day in trend if FIRST_READ.date() <= day < OUTAGE_START.date()}
    unknown = {day: None for day in trend if day < FIRST_READ.date() or day >= OUTAGE_START.date()}
    assert trend == read | unknown
    # Deployments did happen on the days not read: a 0 there would have been wrong.
    happened = per_day(succeeded(story.estate, OUTAGE_START, END))
    assert all(happened[day] for day in unknown if day >= OUTAGE_START.date())


def test_the_gitlab_applications_list_says_how_far_its_deployments_were_read(story: Story) -> None:
    """The deployments list of the application deploying with GitLab says how far they were read, and lists those."""
    app = story.gitlab_app
    listed = story.during[deployments_list(app)]
    assert when(listed["readUntil"]) == OUTAGE_START
    attempts = [d for d in story.estate.truth.deployments_of(app) if d.time < OUTAGE_START]
    assert len(listed["items"]) == len(attempts)


def test_once_gitlab_is_back_every_deployment_is_counted_and_nothing_is_unknown(story: Story) -> None:
    """Once the runs caught up and the day's build ran, every watermark is the last run's, nothing is unknown, and
    the counts are the estate's."""
    assert set(story.marks_after.values()) == {BACK_RUNS[-1]}
    estate = story.estate
    rows = by_id(story.after[DORA])
    assert [row["deploymentsReadUntil"] for row in rows.values()] == [None] * len(rows)
    week = END - timedelta(days=7)
    assert {app: row["deploymentFrequencyNumerator"] for app, row in rows.items()} == {
        app: len(succeeded(estate, week, END, app)) for app in rows
    }
    truth = per_day(succeeded(estate, FIRST_READ, END))
    trend = trend_deployments(story.after[OVERVIEW])
    assert trend == {day: truth[day] if day >= FIRST_READ.date() else None for day in trend}
    app = story.gitlab_app
    listed = story.after[deployments_list(app)]
    assert listed["readUntil"] is None
    assert len(listed["items"]) == len(estate.truth.deployments_of(app))
