"""SRE and management routes: SLO, DORA and incident KPIs by application, team, group or domain, and the top risks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from functions.api import periods, queries
from functions.api.deps import (
    MAX_LIMIT,
    NOT_MODIFIED,
    ContextDep,
    CursorParam,
    Digits,
    Environment,
    FromParam,
    Limit,
    Mart,
    MartDep,
    RevalidatedRoute,
    ToParam,
    anchor,
    build_cursor,
    decode_build_cursor,
    envelope,
    historized,
    no_misnamed_parameters,
    one_value_each,
    reader,
)
from functions.api.ids import MAX_REF
from functions.api.models import (
    ChangesReport,
    DoraReport,
    DoraRow,
    IncidentsReport,
    PeriodOut,
    ReportPage,
    RiskReport,
    RiskRow,
    SloReport,
    SloRow,
    problem_responses,
)
from functions.api.problems import Problem, invalid, not_found
from lakehouse.aggregates.build import CHANGES, DEPLOYMENT_EVENTS, INCIDENTS, TASK_SLAS

router = APIRouter(
    prefix="/monitoring",
    tags=["sre"],
    responses=problem_responses(401, 403, 422, 503) | NOT_MODIFIED,
    # Every report is the mart's alone: cacheable, and a 304 once it answers 200 (RevalidatedRoute).
    dependencies=[Depends(reader), Depends(one_value_each), Depends(no_misnamed_parameters), Depends(historized)],
    route_class=RevalidatedRoute,
)

GroupBy = Annotated[Literal["app", "team", "group", "domain"], Query(alias="groupBy")]
PeriodParam = Annotated[str | None, periods.period_parameter(periods.BUILT_PERIODS)]
# The ranking computes its period from the hourly signals: last_24h too.
RankedPeriodParam = Annotated[str | None, periods.period_parameter(periods.NAMED_PERIODS)]
# Every row of the day reports carries each day of the period (the heatmap, the calendar). A page holds at most this
# many days of rows, so that a year's page of 500 applications (some 15 MB) stays within the 6 MB a Lambda answers.
MAX_PAGE_DAYS = 40_000
DayReportLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Rows per page, at most {MAX_PAGE_DAYS:,} days of rows (over a year, 109 rows): page.limit "
        "says how many the page holds.",
    ),
    Digits,
]
# The most places a ranking can have: a risk/top cursor carries the place of its page's last row.
MOST_RANKED = 10**9
# A team, group or domain id of the mapping, compared ignoring case as Backstage compares names.
ESTATE_ID = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$"


def _under_param(level: str) -> Any:
    return Query(
        max_length=63,
        pattern=ESTATE_ID,
        description=f"Only the rows holding an application of this {level} (its id in the mapping): with groupBy, "
        f"each row whole, as without it.",
    )


def under(
    mart: MartDep,
    team: Annotated[str | None, _under_param("team")] = None,
    group: Annotated[str | None, _under_param("group")] = None,
    domain: Annotated[str | None, _under_param("domain")] = None,
    app: Annotated[
        str | None,
        Query(
            max_length=MAX_REF,
            description="Only the rows holding this application (its id in the mapping, or its Backstage ref, "
            "system:default/x, as the application routes take it; a component mapped without an application is its "
            "own): with groupBy=app, its own row, so that a page about one application need not read the estate's "
            "report. A 404 in an environment it is not mapped in, as on its routes.",
        ),
    ] = None,
) -> queries.Under:
    """The part of the estate a report is restricted to; a 404 for an id no entry of the mapping has."""
    given = {"team": team, "group": group, "domain": domain}
    ids = {level: value.lower() for level, value in given.items() if value is not None}
    for level, level_id in ids.items():
        if not mart.directory.names_level(level, level_id):
            raise not_found(level, level_id)
    if app is not None:
        ids["app"] = mart.directory.resolve_application_only(app, "app")
    return queries.Under(**ids)


UnderDep = Annotated[queries.Under, Depends(under)]


def mapped_under(mart: Mart, under: queries.Under, environment: str) -> None:
    """A 404 for an application filter naming one not mapped in the environment asked for, as on the application's
    own routes: an empty report would read as an application with nothing to report there."""
    if under.app is not None and not mart.directory.maps_in(under.app, environment):
        raise Problem(404, f"{under.app!r} is not mapped in environment {environment!r}", title="Unknown entity")


def _report_period(
    ctx: ContextDep, mart: Mart, period: str | None, start: str | None, end: str | None, default: str
) -> periods.Period:
    """The period of a KPI report: a period the build keeps tables for, or a from/to range."""
    return periods.resolve(
        period,
        start,
        end,
        anchor=anchor(mart),
        default=default,
        max_days=ctx.api.max_period_days,
        allowed=periods.BUILT_PERIODS,
    )


def _after_id(mart: Mart, listed: tuple[Any, ...], cursor: str | None) -> str | None:
    """The id a report's page starts after. `listed`: what the report is (its route, grouping, filters and period),
    which the cursor names: a cursor of another report is refused, not read after."""
    after = decode_build_cursor(mart, listed, cursor, (str,))
    return after[0] if after else None


@router.get(
    "/kpis/slo",
    response_model=SloReport,
    summary="SLO attainment and error budgets",
    responses=problem_responses(404, 409),
)
def kpis_slo(
    ctx: ContextDep,
    mart: MartDep,
    under: UnderDep,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group_by: GroupBy = "app",
    environment: Environment = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> SloReport:
    environment = mart.directory.resolve_environment(environment)
    mapped_under(mart, under, environment)
    p = _report_period(ctx, mart, period, start, end, default="last_30d")
    listed = ("slo", group_by, environment, p.name, p.start, p.end, under)
    after_id = _after_id(mart, listed, cursor)
    if p.name is not None:
        name = p.name
        # The days the daily build's figures cover, though an hourly build has run since.
        p = queries.named_period(mart.con, "slo", p)
        found = queries.slo_named(
            mart.con,
            group_by=group_by,
            period=name,
            environment=environment,
            limit=limit + 1,
            after=after_id,
            under=under,
        )
    else:
        # A range is summed from day rows: over the whole days it touches, which the report says.
        p = p.whole_days(anchor(mart))
        found = queries.slo_range(
            mart.con, group_by=group_by, period=p, environment=environment, limit=limit + 1, after=after_id, under=under
        )
    return SloReport(
        **envelope(mart.snap, mart.directory),
        group_by=group_by,
        environment=environment,
        period=PeriodOut(name=p.name, start=p.start, end=p.end),
        items=[SloRow.model_validate(r) for r in found.rows[:limit]],
        page=report_page(mart, listed, found, limit),
    )


def report_page(
    mart: Mart, listed: tuple[Any, ...], found: queries.ReportRows, limit: int, key: str = "id"
) -> ReportPage:
    """A report's page: its cursor (the page holds one row more than `limit` when there is a next one), carrying the
    `key` of its last row, and total."""
    rows = found.rows
    nxt = build_cursor(mart, listed, rows[limit - 1][key]) if len(rows) > limit else None
    return ReportPage(limit=limit, next_cursor=nxt, total=found.total)


@router.get(
    "/kpis/dora",
    response_model=DoraReport,
    summary="DORA metrics and performance levels",
    responses=problem_responses(404, 409),
)
def kpis_dora(
    ctx: ContextDep,
    mart: MartDep,
    under: UnderDep,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group_by: GroupBy = "app",
    mode: Annotated[Literal["full", "light"], Query(description="Incident correlation mode.")] = "full",
    band_set: Annotated[Literal["2023", "2024"], Query(alias="bandSet")] = "2023",
    environment: Environment = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> DoraReport:
    environment = mart.directory.resolve_environment(environment)
    mapped_under(mart, under, environment)
    p = _report_period(ctx, mart, period, start, end, default="last_90d")
    # A range is counted up to as_of, as a named period is (the report says where it stopped); a named period
    # says the days the daily build's figures cover, though an hourly build has run since.
    p = p.up_to(anchor(mart)) if p.name is None else queries.named_period(mart.con, "dora", p)
    listed = ("dora", group_by, environment, mode, band_set, p.name, p.start, p.end, under)
    after_id = _after_id(mart, listed, cursor)
    ranged = p.name is None
    found = queries.dora(
        mart.con,
        group_by=group_by,
        period=p,
        environment=environment,
        mode=mode,
        band_set=band_set,
        limit=limit + 1,
        after=after_id,
        under=under,
        deployments_read_from=mart.snap.read_from("deploys/deployment_events"),
        incidents_read_from=mart.snap.read_from("servicenow/incidents"),
        changes_read_from=mart.snap.read_from("servicenow/changes"),
        # For a range; a named period's rows say it as the daily build found it.
        incidents_read_until=mart.snap.unread_after(INCIDENTS.id, p.end),
        changes_read_until=mart.snap.unread_after(CHANGES.id, p.end),
        deployments_read_until=mart.snap.unread_after(DEPLOYMENT_EVENTS.id, p.end),
        # A range reads only the month objects its deployments and lead times can be in.
        deployment_files=mart.snap.table_months("mv_deployments", p.start, p.end) if ranged else None,
        lead_time_files=mart.snap.months_up_to("mv_lead_times", p.end) if ranged else None,
    )
    return DoraReport(
        **envelope(mart.snap, mart.directory),
        group_by=group_by,
        environment=environment,
        mode=mode,
        band_set=band_set,
        period=PeriodOut(name=p.name, start=p.start, end=p.end),
        items=[DoraRow.model_validate(r) for r in found.rows[:limit]],
        page=report_page(mart, listed, found, limit),
    )


@router.get(
    "/kpis/incidents",
    response_model=IncidentsReport,
    summary="Incident backlog, SLA breaches and heatmap",
    responses=problem_responses(404, 409),
)
def kpis_incidents(
    ctx: ContextDep,
    mart: MartDep,
    under: UnderDep,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group_by: GroupBy = "app",
    environment: Environment = None,
    limit: DayReportLimit = 100,
    cursor: CursorParam = None,
) -> IncidentsReport:
    """Incidents opened, restored and breaching an SLA in the period, the backlog at its end and the mean and median
    time to restore, with the incidents opened per day, by application or summed over a team's, group's or
    domain's."""
    report = _day_report(ctx, mart, "incidents", (period, start, end), group_by, environment, (limit, cursor), under)
    return IncidentsReport.model_validate(report)


@router.get(
    "/kpis/changes",
    response_model=ChangesReport,
    summary="Change calendar and change failure rate",
    responses=problem_responses(404, 409),
)
def kpis_changes(
    ctx: ContextDep,
    mart: MartDep,
    under: UnderDep,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    group_by: GroupBy = "app",
    environment: Environment = None,
    limit: DayReportLimit = 100,
    cursor: CursorParam = None,
) -> ChangesReport:
    """Changes planned, canceled, emergency and implemented in the period, by close code, with the change failure
    rate (failed, by a close code ROSETTA_FAILED_CLOSE_CODES lists, over closed with a close code) and the calendar
    of every day, by application or summed over a team's, group's or domain's."""
    report = _day_report(ctx, mart, "changes", (period, start, end), group_by, environment, (limit, cursor), under)
    return ChangesReport.model_validate(report)


def _day_report(
    ctx: ContextDep,
    mart: Mart,
    report: str,
    when: tuple[str | None, str | None, str | None],
    group_by: str,
    environment: str | None,
    page: tuple[int, str | None],
    under: queries.Under,
) -> dict[str, Any]:
    """A report summed from a day table (queries.DAY_REPORTS), its fields as the report's model takes them."""
    environment = mart.directory.resolve_environment(environment)
    mapped_under(mart, under, environment)
    # Summed from day rows, named period or range alike: over the whole days it touches, which the report says.
    p = _report_period(ctx, mart, *when, default="last_30d").whole_days(anchor(mart))
    limit, cursor = page
    limit = min(limit, max(1, MAX_PAGE_DAYS // max(1, (p.last_day - p.first_day).days + 1)))
    listed = (report, group_by, environment, p.name, p.start, p.end, under)
    found = queries.day_report(
        mart.con,
        report,
        group_by=group_by,
        period=p,
        environment=environment,
        limit=limit + 1,
        after=_after_id(mart, listed, cursor),
        # Incidents and change requests are attributed by ServiceNow CI alone: an application tied to none has no
        # row, rather than a row of zeros.
        measured=mart.directory.servicenow_applications(environment),
        under=under,
        days_read=mart.snap.days_read(f"servicenow/{report}"),
        # The incidents' SLA breaches are read from task SLAs, which ServiceNow may fail to give apart.
        slas_read=mart.snap.days_read(TASK_SLAS.id),
        backlog_at=min(p.end, anchor(mart)),
    )
    return {
        **envelope(mart.snap, mart.directory),
        "group_by": group_by,
        "environment": environment,
        "period": PeriodOut(name=p.name, start=p.start, end=p.end),
        "items": [
            r | {"name": _app_name(mart, r["id"], environment) if group_by == "app" else None}
            for r in found.rows[:limit]
        ],
        "page": report_page(mart, listed, found, limit),
    }


def _app_name(mart: Mart, app_id: str, environment: str) -> str:
    """An application's name in the mapping: its entry's in the environment, else its production entry's, else its id,
    as the build names it for the ranking (lakehouse/aggregates/refs.py): a row always says which application."""
    for entry in (mart.directory.entry(app_id, environment), mart.directory.entry(app_id, mart.directory.production)):
        if entry and entry.name:
            return entry.name
    return app_id


@router.get(
    "/risk/top",
    response_model=RiskReport,
    summary="The riskiest applications",
    description="With team, group or domain: the riskiest of their applications, each with its rank in the estate. "
    "Paged as the reports are: page.nextCursor, given as cursor, asks for the rows ranked after the page's.",
    responses=problem_responses(404, 409),
)
def risk_top(
    ctx: ContextDep,
    mart: MartDep,
    under: UnderDep,
    metric: Literal["risk", "error_rate", "incidents", "burn_rate"] = "risk",
    period: RankedPeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Rows per page."), Digits] = 10,
    cursor: CursorParam = None,
    environment: Environment = None,
    min_requests: Annotated[
        int | None,
        Query(
            alias="minRequests",
            ge=0,
            description=f"metric=error_rate only (default {queries.MIN_RANKED_REQUESTS}): applications with fewer "
            "requests in the period are left out, since a handful of requests gives a rate that says nothing (one "
            "failed request of one is 100 %).",
        ),
        Digits,
    ] = None,
) -> RiskReport:
    environment = mart.directory.resolve_environment(environment)
    mapped_under(mart, under, environment)
    p = periods.resolve(period, start, end, anchor=anchor(mart), default="last_7d", max_days=ctx.api.max_period_days)
    # The least traffic matters to a rate only: a ranking by incident count keeps every application, and a floor
    # given with it would be ignored, the answer looking like the one asked for.
    if metric != "error_rate" and min_requests is not None:
        raise invalid("minRequests", f"minRequests applies to metric=error_rate only, not metric={metric}")
    floor = (queries.MIN_RANKED_REQUESTS if min_requests is None else min_requests) if metric == "error_rate" else None
    if metric in ("risk", "burn_rate"):
        if p.name != "last_7d":
            # A from/to range is named as given, so the caller sees which parameter to drop.
            given = "period" if p.name else "from"
            # The risk score is judged over 7 days; the burn-rate ranking is the build's hour's (its 1-hour rate),
            # read from the same 7-day ranking rows.
            computed = (
                "is computed over the last 7 days only"
                if metric == "risk"
                else "ranks by the burn rate over the hour before the build's as-of, with no other period"
            )
            raise invalid(given, f"metric={metric} {computed}: give period=last_7d or none", ["last_7d"])
        production = mart.directory.production
        if environment != production:
            raise invalid("environment", f"metric={metric} is computed for {production} only", [production])
    else:
        # Ranked from day rows: the report says which days it summed.
        p = p.whole_days(anchor(mart))
    listed = ("risk", metric, environment, p.name, p.start, p.end, floor, under)
    # The cursor carries the place of the page's last row in the ranking.
    after = decode_build_cursor(mart, listed, cursor, (int,))
    after_place = after[0] if after else None
    # A place this API gave out is a row's, from 1 to MOST_RANKED; any other was written by hand (0 or less would
    # read as the first page).
    if after_place is not None and not 1 <= after_place <= MOST_RANKED:
        raise invalid("cursor", "cursor is not one this API gave out; start again without it")
    if metric in ("risk", "burn_rate"):
        found = queries.risk_ranking(
            mart.con,
            metric=metric,
            limit=limit + 1,
            after=after_place,
            measured=mart.directory.servicenow_applications(environment),
            as_of=anchor(mart),
            incidents_read=mart.snap.days_read(INCIDENTS.id),
            under=under,
        )
    else:
        found = queries.ranked(
            mart.con,
            metric=metric,
            environment=environment,
            production=mart.directory.production,
            first_day=p.first_day,
            last_day=p.last_day,
            limit=limit + 1,
            after=after_place,
            measured=mart.directory.servicenow_applications(environment),
            min_requests=floor,
            under=under,
            incidents_read=mart.snap.days_read(INCIDENTS.id),
        )
        # The name comes with production's ranking row: another environment's rows take it from the mapping, as
        # production's ranking names an application without one by its id.
        for r in found.rows:
            r["app_name"] = r["app_name"] or _app_name(mart, r["app_id"], environment)
    return RiskReport(
        **envelope(mart.snap, mart.directory),
        metric=metric,
        period=PeriodOut(name=p.name, start=p.start, end=p.end),
        min_requests=floor,
        items=[RiskRow.model_validate(r) for r in found.rows[:limit]],
        page=report_page(mart, listed, found, limit, key="place"),
    )
