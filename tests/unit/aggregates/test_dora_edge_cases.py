"""DORA on the edge cases a user checks by hand, over the hand-made lake in estate.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from functions.api.main import create_app
from lakehouse.aggregates.build import build
from lakehouse.runlog import FirstReads
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.conftest import READER, api_settings, down_sources
from tests.unit.aggregates.estate import AS_OF, CI_Q, deployment, estate_lake, incident, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


def quiet_dora(
    lake: Lake, settings: Settings, mode: str = "full", period: str = "last_30d", as_of: datetime = AS_OF
) -> dict[str, Any]:
    """quiet's production DORA row over `period`, in `mode`, graded on the 2023 bands, after a full build at `as_of`."""
    build(lake, settings, mode="full", as_of=as_of)
    where = (
        "app_id = 'quiet' and environment = 'production' and period = $period and correlation_mode = $mode "
        "and band_set = '2023'"
    )
    with reading(lake, settings) as built:
        return one(mart(built, "mv_dora_app_period", where, period=period, mode=mode))


def quiet_on_working_days(tmp_path: Path, instants: list[datetime], as_of: datetime) -> dict[str, Any]:
    """quiet's last 30 days built at `as_of`, quiet-prod having deployed successfully at each of `instants` that falls
    on a working day before it, each a revision of its own."""
    lake, settings = estate_lake(tmp_path)
    working = [at for at in instants if at.weekday() < 5 and at < as_of]
    write(
        lake,
        "deploys/deployment_events",
        *[
            deployment(f"argocd:quiet-prod:{n}", "argocd", "quiet-prod", at, "succeeded", f"q{n}")
            for n, at in enumerate(working)
        ],
    )
    return quiet_dora(lake, settings, as_of=as_of)


def test_an_incident_restored_before_it_opened_is_no_mttr_sample(tmp_path: Path) -> None:
    """INC40's record says it opened on the 5th at 09:00 and was resolved on the 4th at 09:00 (an imported or edited
    record): restored, but with no duration, so it stays out of MTTR. It is quiet's only incident restored in the last
    30 days: MTTR has no value to give, which is too little data, not 'ok' over a sample of 1 with no median. With
    INC41 too (opened on the 6th at 09:00, resolved at 21:00: 12 hours), the median is 12 hours, over 1 incident."""
    lake, settings = estate_lake(tmp_path)
    write(lake, "servicenow/incidents", incident("i40" * 10 + "ab", "INC40", CI_Q, t(5, 9), 3, 6, resolved=t(4, 9)))
    alone = quiet_dora(lake, settings)
    assert (alone["mttr_sample"], alone["mttr_median_hours"], alone["mttr_level"]) == (0, None, None)
    assert alone["mttr_state"] == "insufficient data"
    write(lake, "servicenow/incidents", incident("i41" * 10 + "ab", "INC41", CI_Q, t(6, 9), 3, 6, resolved=t(6, 21)))
    both = quiet_dora(lake, settings)
    assert (both["mttr_sample"], both["mttr_median_hours"], both["mttr_state"]) == (1, 12.0, "ok")
    assert both["mttr_level"] == "high"  # 12 h: under a day, not under an hour


def test_a_day_s_mttr_names_its_sample_beside_the_incidents_restored(tmp_path: Path) -> None:
    """The same two incidents in the incident heatmap (mv_incidents_app_day): INC40 is restored on the 4th with no
    duration, INC41 on the 6th after 12 hours. Each day restored 1; the 4th's MTTR has no sample (none, not 0 hours),
    the 6th's is 12 hours over 1. An analyst weighing days' MTTRs by `restored` would count INC40 as an incident
    restored in 0 hours."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "servicenow/incidents",
        incident("i40" * 10 + "ab", "INC40", CI_Q, t(5, 9), 3, 6, resolved=t(4, 9)),
        incident("i41" * 10 + "ab", "INC41", CI_Q, t(6, 9), 3, 6, resolved=t(6, 21)),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    where = "app_id = 'quiet' and day between '2026-11-04' and '2026-11-06'"
    with reading(lake, settings) as built:
        days = {
            r["day"].day: (r["restored"], r["mttr_sample"], r["mttr_mean_hours"], r["mttr_median_hours"])
            for r in mart(built, "mv_incidents_app_day", where)
        }
    assert days == {4: (1, 0, None, None), 5: (0, 0, None, None), 6: (1, 1, 12.0, 12.0)}


def test_a_change_failure_recovered_by_an_incident_restored_before_it_opened_has_no_recovery_time(
    tmp_path: Path,
) -> None:
    """quiet-prod's Q1 succeeds on the 10th at 12:00. INC42 opens on quiet at 13:00, an hour later: light mode links
    it to Q1 (within 24 h), a change failure. Its record says it was resolved at 11:00, before it opened: restored,
    so Q1 recovered, but at no known time (11:00 - 12:00 would read -1 hour). Light mode: 1 change failure of 1,
    recovered with no time: the recovery time has no value, 'insufficient data', with a sample of 0, where it said
    'ok' over a sample of 1 with no median. Q1 is not among the failures not recovered, though: it recovered. Full
    mode does not count the same-component link (0.50): no failure."""
    lake, settings = estate_lake(tmp_path)
    write(
        lake,
        "deploys/deployment_events",
        deployment("argocd:quiet-prod:1", "argocd", "quiet-prod", t(10, 12), "succeeded", "q1"),
    )
    write(lake, "servicenow/incidents", incident("i42" * 10 + "ab", "INC42", CI_Q, t(10, 13), 3, 6, resolved=t(10, 11)))
    light = quiet_dora(lake, settings, mode="light")
    assert (light["change_failure_numerator"], light["change_failure_denominator"]) == (1, 1)
    assert (light["recovery_sample"], light["recovery_median_hours"], light["recovery_level"]) == (0, None, None)
    assert light["recovery_state"] == "insufficient data"
    assert light["change_failures_not_recovered"] == 0


def test_a_deployment_every_working_day_is_daily_in_30_days_starting_on_a_saturday(tmp_path: Path) -> None:
    """Built on Monday 23 November at 10:00: the last 30 days run from Saturday 24 October 10:00, 4 whole weeks and a
    weekend. quiet deploys at noon on every working day in them, Monday 26 October to Friday 20 November: 4 x 5 = 20
    deployments, each on a day of its own (days counted back from Monday 10:00). Those 30 days hold 20 working days,
    and every one has a deployment: daily, 'elite'. 5 / 7 of the 30 days, rounded down, asked for 21, which only a
    weekend deployment could give, and graded the team weekly ('high') from Sunday noon to Monday noon."""
    noons = [datetime(2026, 10, 24, 12, tzinfo=UTC) + timedelta(days=d) for d in range(30)]
    quiet = quiet_on_working_days(tmp_path, noons, as_of=datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert (quiet["deployment_frequency_numerator"], quiet["days_with_deployments"]) == (20, 20)
    assert quiet["deployment_frequency_level"] == "elite"


def test_a_deployment_every_working_day_is_daily_when_some_come_before_the_as_of_hour(tmp_path: Path) -> None:
    """quiet deploys on every working day from Monday 26 October to Tuesday 24 November, at noon, but at 01:30 on
    Tuesdays: 22 deployments, each on a UTC day of its own. Built on Tuesday 24 November at 02:40: the last 30 days
    (from Sunday 25 October 02:40) hold 20 working days at the fewest. Cut into 24 h back from 02:40, a Monday's noon
    and the next Tuesday's 01:30 share a day and Tuesday's own 24 h hold none: 17 such days, 'high' (weekly) for a
    team deploying every working day. Counted as UTC days, the part days at the two ends (the 25th from 02:40, the
    24th up to 02:40) together one: the 21 working days from the 26th to the 23rd, and the 24th's 01:30 in the part
    days, 22 days: daily, 'elite'."""
    days = [datetime(2026, 10, 26, tzinfo=UTC) + timedelta(days=d) for d in range(30)]
    deployed = [day.replace(hour=1, minute=30) if day.weekday() == 1 else day.replace(hour=12) for day in days]
    quiet = quiet_on_working_days(tmp_path, deployed, as_of=datetime(2026, 11, 24, 2, 40, tzinfo=UTC))
    assert (quiet["deployment_frequency_numerator"], quiet["days_with_deployments"]) == (22, 22)
    assert quiet["deployment_frequency_level"] == "elite"


def test_a_deployment_in_every_calendar_week_is_weekly_whatever_the_as_of_weekday(tmp_path: Path) -> None:
    """Built on Friday 20 November at 10:00: the last 30 days run from Wednesday 21 October 10:00. quiet deploys at
    noon once in each calendar week (from Monday) the period holds whole or ends in: Thursday 29 October, Friday
    6 November, Monday 9 November, Tuesday 17 November. Cut into 7 days back from Friday 10:00, the 6th's and the
    9th's share [6 Nov 10:00, 13 Nov 10:00), and [30 Oct 10:00, 6 Nov 10:00) holds none: 3 weeks of the 4 whole ones,
    monthly, 'medium'. Counted as calendar weeks, the part weeks at the two ends (from Wednesday 21 October, and the
    week of the 16th up to the 20th) together one: the weeks of 26 October, 2 November and 9 November, and the 17th
    in the part weeks, 4: weekly, 'high'."""
    deployed = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((10, 29), (11, 6), (11, 9), (11, 17))]
    quiet = quiet_on_working_days(tmp_path, deployed, as_of=AS_OF)
    assert (quiet["deployment_frequency_numerator"], quiet["weeks_with_deployments"]) == (4, 4)
    assert quiet["deployment_frequency_level"] == "high"


def test_the_part_weeks_at_the_two_ends_of_the_period_count_as_one_week(tmp_path: Path) -> None:
    """The same 30 days. quiet deploys at noon on Friday 23 October (the part week at the start), Monday 26 October,
    Friday 6 November and Monday 16 November (the part week at the end), and not in the week of 9 November. Four
    calendar weeks hold one, but the two part weeks are one between them: 3 of the 4 whole weeks, as the 7 days back
    from Friday 10:00 say too ([23 Oct 10:00, 30 Oct 10:00) holds two): monthly, 'medium'. Counted apart, the part
    weeks would make a team that skipped a week and went 10 days without deploying weekly."""
    deployed = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((10, 23), (10, 26), (11, 6), (11, 16))]
    quiet = quiet_on_working_days(tmp_path, deployed, as_of=AS_OF)
    assert (quiet["deployment_frequency_numerator"], quiet["weeks_with_deployments"]) == (4, 3)
    assert quiet["deployment_frequency_level"] == "medium"


def test_a_month_s_first_day_is_a_day_of_its_own(tmp_path: Path) -> None:
    """The month built on Friday 20 November at 10:00 runs from Sunday 1 November 00:00: 19 days and 10 hours, whose
    first day is whole. quiet deploys on 13 UTC days: at noon on the 1st to the 6th, the 9th to the 12th and the 16th,
    at 08:00 on the 13th and the 20th. The month holds 2 whole weeks (10 working days) and 5 days and 10 hours (3
    more, its two weekend days aside): 13 working days, and 13 days with a deployment: daily, 'elite'. Cut into 24 h
    back from 10:00, the 12th's noon and the 13th's 08:00 share a day: 12. The 20th's 08:00, in the part day at the
    end, was counted as the 1st's, as if the 1st were a part day too: 12 days again, 'high' for a team that deployed
    every working day."""
    lake, settings = estate_lake(tmp_path)
    noons = [datetime(2026, 11, d, 12, tzinfo=UTC) for d in (1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 16)]
    mornings = [datetime(2026, 11, d, 8, tzinfo=UTC) for d in (13, 20)]
    write(
        lake,
        "deploys/deployment_events",
        *[
            deployment(f"argocd:quiet-prod:{n}", "argocd", "quiet-prod", at, "succeeded", f"q{n}")
            for n, at in enumerate(noons + mornings)
        ],
    )
    quiet = quiet_dora(lake, settings, period="month")
    assert (quiet["deployment_frequency_numerator"], quiet["days_with_deployments"]) == (13, 13)
    assert quiet["deployment_frequency_level"] == "elite"


def test_a_period_from_a_monday_midnight_has_its_first_week_whole(tmp_path: Path) -> None:
    """The lake first read ArgoCD on Monday 26 October at 00:00, so the last 30 days built on Friday 20 November at
    10:00 count deployments from then: 3 whole calendar weeks (26 October, 2 and 9 November) and the week of the
    16th up to Friday 10:00. quiet deploys at noon on Monday 26 October, Friday 6 November, Monday 9 November and
    Monday 16 November: a deployment in each of those 4 weeks, weekly, 'high'. Counted back from Friday 10:00 in 7
    days, the 6th's and the 9th's share one and [30 Oct 10:00, 6 Nov 10:00) holds none: 3. The 16th, in the part
    week at the end, was counted as the first week's, as if it were a part week too: 3 again, 'medium'."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("deploys", "deployment_events", datetime(2026, 10, 26, tzinfo=UTC), run_id="first-read")
    deployed = [datetime(2026, m, d, 12, tzinfo=UTC) for m, d in ((10, 26), (11, 6), (11, 9), (11, 16))]
    write(
        lake,
        "deploys/deployment_events",
        *[
            deployment(f"argocd:quiet-prod:{n}", "argocd", "quiet-prod", at, "succeeded", f"q{n}")
            for n, at in enumerate(deployed)
        ],
    )
    quiet = quiet_dora(lake, settings)
    assert quiet["deployments_from"] == datetime(2026, 10, 26, tzinfo=UTC)
    assert (quiet["deployment_frequency_numerator"], quiet["weeks_with_deployments"]) == (4, 4)
    assert quiet["deployment_frequency_level"] == "high"


def test_mttr_over_a_period_before_the_lake_read_any_incident_is_unknown(tmp_path: Path) -> None:
    """The ServiceNow ingest first read incidents from 10 November 10:00. quiet has no incident. The previous quarter
    (July to September) ended before that: the lake cannot know whether an incident was restored in it, so its MTTR
    is 'insufficient data', not 'no incidents restored' (deployments are already 'insufficient data' there). The
    last 30 days were read from the 10th: no incident restored in them, 'no incidents restored'. The API's range of
    August, computed at the request, says the same as the named quarter."""
    lake, settings = estate_lake(tmp_path)
    FirstReads(lake).record("servicenow", "incidents", t(10, 10), run_id="first-run")
    quarter = quiet_dora(lake, settings, period="previous_quarter")
    assert (quarter["mttr_sample"], quarter["mttr_state"]) == (0, "insufficient data")
    last_30d = quiet_dora(lake, settings)
    assert (last_30d["mttr_sample"], last_30d["mttr_state"]) == (0, "no incidents restored")
    with TestClient(create_app(api_settings(tmp_path), settings, down_sources())) as client:
        august = client.get("/monitoring/kpis/dora?groupBy=app&from=2026-08-01&to=2026-09-01", headers=READER)
        november = client.get("/monitoring/kpis/dora?groupBy=app&from=2026-11-11&to=2026-11-20", headers=READER)
    assert august.status_code == 200 and november.status_code == 200, (august.text, november.text)
    assert {r["id"]: r["mttrState"] for r in august.json()["items"]}["quiet"] == "insufficient data"
    assert {r["id"]: r["mttrState"] for r in november.json()["items"]}["quiet"] == "no incidents restored"


def test_a_deployment_on_the_first_of_each_month_is_monthly_over_90_days(tmp_path: Path) -> None:
    """quiet deploys at noon on the 1st of each month. Built on 1 October at 00:00, the last 90 days run from 3 July:
    they hold the deployments of 1 August and 1 September only (1 July is before them, 1 October's has not happened),
    one in each calendar month they wholly hold. Months counted back from the end as 31 days, the longest: 31
    August to 1 October holds 1 September, 31 July to 31 August holds 1 August; 2 whole months fit in 90 days, and
    both hold one: monthly, 'medium'. As 30 days, the months 2 August to 1 September (empty) and 3 July to 2 August
    made 3 to fill and 2 filled: 'low', for a team that never missed a month."""
    lake, settings = estate_lake(tmp_path)
    monthly = [datetime(2026, month, 1, 12, tzinfo=UTC) for month in (6, 7, 8, 9)]
    write(
        lake,
        "deploys/deployment_events",
        *[
            deployment(f"argocd:quiet-prod:m{n}", "argocd", "quiet-prod", at, "succeeded", f"m{n}")
            for n, at in enumerate(monthly)
        ],
    )
    quiet = quiet_dora(lake, settings, period="last_90d", as_of=datetime(2026, 10, 1, tzinfo=UTC))
    assert (quiet["deployment_frequency_numerator"], quiet["months_with_deployments"]) == (2, 2)
    assert quiet["deployment_frequency_level"] == "medium"
