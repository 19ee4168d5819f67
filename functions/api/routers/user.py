"""User routes: the overview and the application and component tabs (summary, timeseries, events, logs link)."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from functions.api import kibana, periods, queries, source_links
from functions.api.deps import (
    NOT_MODIFIED,
    ContextDep,
    CursorParam,
    Environment,
    FromParam,
    Limit,
    Mart,
    MartDep,
    RevalidatedRoute,
    SummaryMartDep,
    ToParam,
    anchor,
    decode_build_cursor,
    envelope,
    historized,
    historized_unless_live,
    next_cursor,
    no_misnamed_parameters,
    one_value_each,
    reader,
)
from functions.api.ids import MAX_REF
from functions.api.models import (
    ChangeList,
    DeploymentList,
    EntityInfo,
    GoldenSignals,
    IncidentList,
    LastDeployment,
    LeadTimeList,
    LiveComponent,
    LiveComponentSources,
    LiveSourceState,
    LogsLink,
    OpenIncidents,
    Overview,
    Page,
    PeriodOut,
    RecordsState,
    RiskInfo,
    SloStatus,
    Summary,
    Timeseries,
    problem_responses,
)
from functions.api.problems import Problem
from functions.api.queries import Scope
from lakehouse.aggregates.build import CHANGES, DEPLOYMENT_EVENTS, INCIDENTS, READ_FROM_DATASETS, TASK_SLAS
from lakehouse.mappings import MappingEntry

router = APIRouter(
    prefix="/monitoring",
    tags=["user"],
    responses=problem_responses(401, 403, 404, 422, 503),
    # Checked after the credential: a caller without one gets its 401 whatever the query holds.
    dependencies=[Depends(reader), Depends(one_value_each), Depends(no_misnamed_parameters)],
    # The historized routes' 200 is revalidated by its ETag.
    route_class=RevalidatedRoute,
)

PeriodParam = Annotated[str | None, periods.period_parameter(periods.NAMED_PERIODS)]
# A lead-time list is a DORA report's evidence: the periods the report has.
DoraPeriodParam = Annotated[str | None, periods.period_parameter(periods.BUILT_PERIODS)]
AppId = Annotated[str, Path(max_length=MAX_REF, description="Application id or Backstage ref (system:default/x).")]
ComponentId = Annotated[
    str, Path(max_length=MAX_REF, description="Component id or Backstage ref (component:default/x).")
]
Metric = Literal[
    "latency_p95",
    "latency_p99",
    "latency_p50",
    "error_rate",
    "requests",
    "errors",
    "cpu",
    "memory",
    "log_errors",
    "log_exceptions",
]


def _period_out(p: periods.Period) -> PeriodOut:
    return PeriodOut(name=p.name, start=p.start, end=p.end)


def _period(
    ctx: ContextDep, mart: Mart, period: str | None, start: str | None, end: str | None, default: str
) -> periods.Period:
    return periods.resolve(period, start, end, anchor=anchor(mart), default=default, max_days=ctx.api.max_period_days)


# --- overview ---------------------------------------------------------------------------------------------------
@router.get(
    "/overview",
    response_model=Overview,
    summary="Global health, top risks and daily trends",
    responses=NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def overview(
    ctx: ContextDep,
    mart: MartDep,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    environment: Environment = None,
) -> Overview:
    directory = mart.directory
    environment = directory.resolve_environment(environment)
    p = _period(ctx, mart, period, start, end, "last_30d")
    con = mart.con
    # The trend's days: those the period touches, up to the build's as-of (the days after have not come yet).
    days = p.whole_days(anchor(mart))
    # The top risks are production's: their incident counts are known where a ServiceNow CI is mapped there.
    measured = directory.servicenow_applications(directory.production)
    return Overview(
        **envelope(mart.snap, mart.directory),
        period=_period_out(p),
        environment=environment,
        environments=directory.environments,
        production_environment=directory.production,
        applications_by_health=queries.health_counts(con),
        estate_health=queries.estate_health(con),  # type: ignore[arg-type]
        health=queries.health_levels(con),  # type: ignore[arg-type]
        top_risks=queries.top_risks(  # type: ignore[arg-type]
            con, limit=10, measured=measured, as_of=anchor(mart), incidents_read=mart.snap.days_read(INCIDENTS.id)
        ),
        trend=queries.daily_trend(  # type: ignore[arg-type]
            con,
            environment=environment,
            first_day=days.first_day,
            last_day=days.last_day,
            days_read={d.id: mart.snap.days_read(d.id) for d in READ_FROM_DATASETS},
        ),
    )


# --- one entity -------------------------------------------------------------------------------------------------
def _app_scope(mart: Mart, app_id: str, environment: str | None) -> Scope:
    app = mart.directory.resolve_application(app_id)
    environment = mart.directory.resolve_environment(environment)
    scope = Scope(app, environment)
    _mapped_entry(mart, scope)
    return scope


def _component_scope(mart: Mart, component_id: str, environment: str | None) -> Scope:
    component, app = mart.directory.resolve_component(component_id)
    environment = mart.directory.resolve_environment(environment)
    scope = Scope(app, environment, component)
    _mapped_entry(mart, scope)
    return scope


def _mapped_entry(mart: Mart, scope: Scope) -> MappingEntry:
    """The entity's entry in the scope's environment, or a 404 on every route of the entity: in an environment it is
    not mapped in, its series, events and deployments would be empty lists, read as none having happened."""
    directory = mart.directory
    entity_id = scope.component_id or scope.app_id
    entry = directory.entry(entity_id, scope.environment)
    # An application is in every environment one of its components is mapped in: the build gives it rows there.
    if entry is None and scope.component_id is None and directory.components_of(scope.app_id, scope.environment):
        entry = directory.entry_anywhere(scope.app_id, scope.environment)
    if entry is None:
        raise Problem(404, f"{entity_id!r} is not mapped in environment {scope.environment!r}", title="Unknown entity")
    return entry


def _entity(mart: Mart, scope: Scope) -> EntityInfo:
    directory = mart.directory
    entity_id = scope.component_id or scope.app_id
    app = directory.entry_anywhere(scope.app_id, scope.environment)
    components = (
        []
        if scope.component_id
        else sorted(c.entity_id for c in directory.components_of(scope.app_id, scope.environment))
    )
    entry = _mapped_entry(mart, scope)
    return EntityInfo(
        id=entity_id,
        kind=entry.kind,
        name=entry.name,
        application_id=scope.app_id,
        team=entry.team or (app.team if app else None),
        group=entry.group or (app.group if app else None),
        domain=entry.domain or (app.domain if app else None),
        environment=scope.environment,
        components=components,
    )


def _summary(mart: Mart, scope: Scope) -> Summary:
    info = _entity(mart, scope)
    end = anchor(mart)
    start = end - timedelta(hours=24)
    index = mart.snap.summary
    # The window is the build's last day: indexed once the recent hours are in memory, read from the month before.
    signals = index.last_day_signals(scope)
    if signals is None:
        files = mart.snap.month_files(start, end)
        signals = queries.golden_signals(mart.con, files=files, scope=scope, start=start, end=end)
    slo = None
    risk = None
    if scope.component_id is None:
        row = index.slo_last_30d(scope)
        slo = SloStatus.model_validate(row) if row else None
        risk_row = index.app_risk(scope.app_id) if scope.environment == mart.directory.production else None
        risk = RiskInfo.model_validate(risk_row) if risk_row else None
    return Summary(
        **envelope(mart.snap, mart.directory),
        entity=info,
        golden_signals=GoldenSignals(
            window_start=start, window_end=end, **{k: v for k, v in signals.items() if v is not None}
        ),
        incidents=_open_incidents(mart, scope, index.open_incidents(scope)),
        slo=slo,
        last_deployments=[LastDeployment.model_validate(r) for r in index.latest_deployments(scope)],
        risk=risk,
    )


def _source_state(mart: Mart, scope: Scope, maps: Callable[[MappingEntry], object]) -> Literal["ok", "not mapped"]:
    """Whether some mapping entry of the entity in the environment (an application's own or one of its components')
    names what the build attributes a kind of record by (`maps`): without one, none could be found, and an empty
    list or a 0 would read as none there."""
    directory = mart.directory
    entries = [directory.entry(scope.component_id or scope.app_id, scope.environment)]
    if scope.component_id is None:
        entries += directory.components_of(scope.app_id, scope.environment)
    return "ok" if any(e is not None and maps(e) for e in entries) else "not mapped"


def _servicenow_state(mart: Mart, scope: Scope, dataset: str) -> RecordsState:
    """Incidents and change requests are attributed by ServiceNow CI alone; `dataset`: the one the answer lists."""
    state = _source_state(mart, scope, mart.directory.ties_servicenow_ci)
    return "not read" if state == "ok" and mart.snap.never_read(dataset) else state


def _deploy_state(mart: Mart, scope: Scope) -> RecordsState:
    """Deployments are attributed by ArgoCD application or GitLab project alone."""
    state = _source_state(mart, scope, lambda e: e.argocd_app_name or _gitlab_project(e))
    return "not read" if state == "ok" and mart.snap.never_read(DEPLOYMENT_EVENTS.id) else state


def _open_incidents(mart: Mart, scope: Scope, open_now: dict[str, Any]) -> OpenIncidents:
    """The incidents open at as-of; null counts for an entity tied to no ServiceNow CI, when the lake never read
    ServiceNow's incidents, or when it had read them only up to more than an hour before it (the backlog then is
    unknown: ServiceNow is read every 15 minutes, and a day read in part can hide hours of P1s)."""
    state = _servicenow_state(mart, scope, INCIDENTS.id)
    if state != "ok":
        return OpenIncidents(state=state, open=None, open_p1_p2=None, sla_breached=None)
    read_until = mart.snap.unread_at(INCIDENTS.id, anchor(mart))
    if read_until is not None:
        return OpenIncidents(state="ok", open=None, open_p1_p2=None, sla_breached=None, read_until=read_until)
    sla_breached = open_now.get("sla_breached", 0)
    if open_now.get("open") and mart.snap.unread_at(TASK_SLAS.id, anchor(mart)) is not None:
        # Task SLAs not read to within the hour: an open incident's breach since is unknown, not none.
        sla_breached = None
    return OpenIncidents(
        state="ok",
        open=open_now.get("open") or 0,
        open_p1_p2=open_now.get("open_p1_p2") or 0,
        # No open incident: none breached. Null from the index: unknown (task SLAs not read back far enough).
        sla_breached=sla_breached,
    )


def _list_end(status: str, p: periods.Period, as_of: datetime, within: tuple[str, ...]) -> datetime:
    """The end of what a list of `status` shows: its period's, up to as-of (nothing after it has happened), for the
    statuses `within` it; as-of for the others, which show what is open (or upcoming) at it."""
    return min(p.end, as_of) if status in within else as_of


def _timeseries(
    ctx: ContextDep, mart: Mart, scope: Scope, metric: str, period: str | None, start: str | None, end: str | None
) -> Timeseries:
    p = _period(ctx, mart, period, start, end, "last_24h")
    recent = mart.snap.recent
    if recent is not None and recent.covers(p.start):
        points = recent.series(scope, metric, p.start, p.end)
    else:
        files = mart.snap.month_files(p.start, p.end)
        points = queries.timeseries(mart.con, files=files, scope=scope, metric=metric, start=p.start, end=p.end)
    return Timeseries(
        **envelope(mart.snap, mart.directory),
        entity_id=scope.component_id or scope.app_id,
        level=scope.level,  # type: ignore[arg-type]
        metric=metric,
        unit=queries.TIMESERIES_UNITS[metric],
        period=_period_out(p),
        points=[{"t": t, "v": v} for t, v in points],  # type: ignore[misc]
    )


def _listed(kind: str, scope: Scope, status: str, p: periods.Period) -> tuple[Any, ...]:
    """What an entity's list is, as its cursor names it: a cursor of another list is refused, not read after."""
    return (kind, scope.app_id, scope.component_id, scope.environment, status, p.start, p.end)


def _incidents(
    ctx: ContextDep,
    mart: Mart,
    scope: Scope,
    status: str,
    period: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> IncidentList:
    # The whole UTC days the period touches, as kpis/incidents counts them: its incidents are all listed.
    p = _period(ctx, mart, period, start, end, "last_30d").whole_days(anchor(mart))
    listed = _listed("incidents", scope, status, p)
    after = decode_build_cursor(mart, listed, cursor, (datetime, str))
    rows = queries.incidents(
        mart.con,
        scope=scope,
        status=status,
        as_of=anchor(mart),
        start=p.start,
        end=p.end,
        limit=limit + 1,
        after=after,
        slas_from=mart.snap.read_from(TASK_SLAS.id),  # as the summary's index has it (mart.py)
        slas_until=mart.snap.unread_at(TASK_SLAS.id, anchor(mart)),
    )
    return IncidentList(
        **envelope(mart.snap, mart.directory),
        entity_id=scope.component_id or scope.app_id,
        status=status,
        period=_period_out(p),
        state=_servicenow_state(mart, scope, INCIDENTS.id),
        read_until=mart.snap.unread_at(INCIDENTS.id, _list_end(status, p, anchor(mart), ("closed", "all"))),
        items=_in_servicenow(ctx, "incident", rows[:limit]),  # type: ignore[arg-type]
        page=Page(limit=limit, next_cursor=next_cursor(mart, listed, rows, limit, "opened_at", "sys_id")),
    )


def _changes(
    ctx: ContextDep,
    mart: Mart,
    scope: Scope,
    status: str,
    period: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> ChangeList:
    # The whole UTC days the period touches, as kpis/changes counts them: its changes are all listed.
    p = _period(ctx, mart, period, start, end, "last_30d").whole_days(anchor(mart))
    listed = _listed("changes", scope, status, p)
    after = decode_build_cursor(mart, listed, cursor, (datetime, str))
    rows = queries.changes(
        mart.con,
        scope=scope,
        status=status,
        as_of=anchor(mart),
        start=p.start,
        end=p.end,
        limit=limit + 1,
        after=after,
    )
    return ChangeList(
        **envelope(mart.snap, mart.directory),
        entity_id=scope.component_id or scope.app_id,
        status=status,
        period=_period_out(p),
        state=_servicenow_state(mart, scope, CHANGES.id),
        read_until=mart.snap.unread_at(CHANGES.id, _list_end(status, p, anchor(mart), ("recent",))),
        items=_in_servicenow(ctx, "change_request", rows[:limit]),  # type: ignore[arg-type]
        page=Page(limit=limit, next_cursor=next_cursor(mart, listed, rows, limit, "change_start", "sys_id")),
    )


def _deployments(
    ctx: ContextDep,
    mart: Mart,
    scope: Scope,
    mode: str,
    period: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> DeploymentList:
    entity_id = scope.component_id or scope.app_id
    if mode == "live":
        # Live mode reads no period nor page, but a value no route could read is still a 422, not silence.
        p = _period(ctx, mart, period, start, end, "last_30d")
        decode_build_cursor(mart, _listed("deployments", scope, "history", p), cursor, (datetime, str))
        return DeploymentList(
            **envelope(mart.snap, mart.directory),
            entity_id=entity_id,
            mode="live",
            period=None,
            state=_deploy_state(mart, scope),
            live=_live(ctx, mart, scope),
        )
    # Up to the build's as-of, as the other lists: no deployment after it is listed, and none has happened yet.
    p = _period(ctx, mart, period, start, end, "last_30d").up_to(anchor(mart))
    listed = _listed("deployments", scope, mode, p)
    after = decode_build_cursor(mart, listed, cursor, (datetime, str))
    files = mart.snap.table_months("mv_deployments", p.start, p.end)
    rows = queries.deployments(
        mart.con, scope=scope, as_of=anchor(mart), start=p.start, end=p.end, limit=limit + 1, after=after, files=files
    )
    return DeploymentList(
        **envelope(mart.snap, mart.directory),
        entity_id=entity_id,
        mode="history",
        period=_period_out(p),
        state=_deploy_state(mart, scope),
        read_until=mart.snap.unread_at(DEPLOYMENT_EVENTS.id, min(p.end, anchor(mart))),
        items=[row | {"url": _deployment_url(ctx, mart, row)} for row in rows[:limit]],  # type: ignore[misc]
        page=Page(limit=limit, next_cursor=next_cursor(mart, listed, rows, limit, "finished_at", "deployment_key")),
    )


def _lead_times(
    ctx: ContextDep,
    mart: Mart,
    scope: Scope,
    period: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    cursor: str | None,
) -> LeadTimeList:
    """The requests the DORA report's lead time of the entity is taken over: those whose shipping deployment finished
    in the period, as the report bounds it (a named period the daily build's, a range up to as-of), from the first
    instant the lake read deployments from when that is later (its deploymentsFrom)."""
    p = periods.resolve(
        period,
        start,
        end,
        anchor=anchor(mart),
        default="last_90d",
        max_days=ctx.api.max_period_days,
        allowed=periods.BUILT_PERIODS,
    )
    p = p.up_to(anchor(mart)) if p.name is None else queries.named_period(mart.con, "dora", p)
    read_from = mart.snap.read_from(DEPLOYMENT_EVENTS.id)
    counted_from = min(p.end, max(p.start, read_from)) if read_from else p.start
    listed = _listed("lead-times", scope, "shipped", p)
    after = decode_build_cursor(mart, listed, cursor, (datetime, int))
    rows = queries.lead_times(
        mart.con,
        scope=scope,
        counted_from=counted_from,
        end=p.end,
        limit=limit + 1,
        after=after,
        files=mart.snap.months_up_to("mv_lead_times", p.end),
    )
    state = _source_state(mart, scope, _gitlab_project)
    return LeadTimeList(
        **envelope(mart.snap, mart.directory),
        entity_id=scope.component_id or scope.app_id,
        period=_period_out(p),
        counted_from=counted_from,
        state="not read" if state == "ok" and mart.snap.never_read(DEPLOYMENT_EVENTS.id) else state,
        read_until=mart.snap.unread_after(DEPLOYMENT_EVENTS.id, p.end),
        items=rows[:limit],  # type: ignore[arg-type]
        page=Page(limit=limit, next_cursor=next_cursor(mart, listed, rows, limit, "merged_at", "mr_id")),
    )


def _in_servicenow(ctx: ContextDep, table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each record of the ServiceNow `table` with its `url`, its form in the instance."""
    return [row | {"url": source_links.servicenow_record(ctx.api.servicenow_url, table, row["sys_id"])} for row in rows]


def _deployment_url(ctx: ContextDep, mart: Mart, row: dict[str, Any]) -> str | None:
    """An ArgoCD deployment's application in ArgoCD's UI, in the namespace the mapping names for it; a GitLab
    deployment's pipeline page, as GitLab gave it (null in a mart built before it was kept)."""
    if row["origin"] == "gitlab":
        return source_links.gitlab_pipeline(row["web_url"])
    if row["origin"] != "argocd" or not row["source_ref"]:
        return None
    entry = mart.directory.entry(row["component_id"] or row["app_id"], row["environment"])
    # The mapping's namespace is the deployed application's when the entry names that application.
    namespace = entry.argocd_app_namespace if entry and entry.argocd_app_name == row["source_ref"] else None
    return source_links.argocd_application(ctx.api.argocd_url, row["source_ref"], namespace)


def _deployed(mart: Mart, scope: Scope) -> list[MappingEntry]:
    """The component, or the application's components; an application without any is its own component, as the
    build counts it (its own ArgoCD application and GitLab project)."""
    directory = mart.directory
    if scope.component_id:
        entry = directory.entry(scope.component_id, scope.environment)
        return [entry] if entry else []
    components = sorted(directory.components_of(scope.app_id, scope.environment), key=lambda e: e.entity_id)
    app = directory.entry(scope.app_id, scope.environment)
    return components or ([app] if app else [])


def _live(ctx: ContextDep, mart: Mart, scope: Scope) -> list[LiveComponent]:
    """Each component's ArgoCD status and last GitLab pipeline; a failing source falls back to history."""
    # An application's own deployments are historized without a component. A component deployed to several regions
    # (GitLab's production/eu and production/us) has a latest attempt in each: its last deployment is the latest.
    history: dict[str, dict[str, Any]] = {}
    for row in mart.snap.summary.latest_deployments(scope):
        deployed = row["component_id"] or scope.app_id
        if deployed not in history or row["finished_at"] > history[deployed]["finished_at"]:
            history[deployed] = row
    statuses = {r["component_id"] or scope.app_id: r for r in mart.snap.summary.last_statuses(scope)}
    components = _deployed(mart, scope)
    asks = {
        ("argocd", c.entity_id): ctx.live.ask_argocd_app(c.argocd_app_name, c.argocd_app_namespace)
        for c in components
        if c.argocd_app_name
    }
    asks |= {
        ("gitlab", c.entity_id): ctx.live.ask_gitlab_last_pipeline(project)
        for c in components
        if (project := _gitlab_project(c))
    }
    answers = dict(zip(asks, ctx.live.side_by_side(list(asks.values())), strict=True))
    out = []
    for comp in components:
        sources = {"argocd": NOT_MAPPED, "gitlab": NOT_MAPPED}
        item = LiveComponent(
            component_id=comp.entity_id,
            stale=False,
            sources=LiveComponentSources.model_validate(sources),
            argocd_app=comp.argocd_app_name,
            argocd_app_namespace=comp.argocd_app_namespace,
            gitlab_project_id=comp.gitlab_project_id,
        )
        # What history gives in place of a source that failed: the last values read of it, with when they were.
        read: dict[str, object] = {}
        status = statuses.get(comp.entity_id) or {}
        if comp.argocd_app_name:
            argo = answers[("argocd", comp.entity_id)]
            if argo.error is None and isinstance(argo.value, dict):
                sources["argocd"] = LiveSourceState(state="live", fetched_at=argo.fetched_at)
                fetched = {"fetched_at": argo.fetched_at, "status_observed_at": argo.fetched_at}
                item = item.model_copy(update={k: v for k, v in argo.value.items()} | fetched)
                item = LiveComponent.model_validate(item.model_dump())
            else:
                sources["argocd"] = _not_live(ctx, "argocd", argo.error)
                read |= {k: status.get(k) for k in ARGOCD_READ}
        if _gitlab_project(comp):
            gitlab = answers[("gitlab", comp.entity_id)]
            if gitlab.error is None:
                sources["gitlab"] = LiveSourceState(state="live", fetched_at=gitlab.fetched_at)
                pipeline = gitlab.value or {}
                item = LiveComponent.model_validate(
                    item.model_dump()
                    | {
                        "last_pipeline_status": pipeline.get("status"),
                        "last_pipeline_ref": pipeline.get("ref"),
                        "last_pipeline_at": pipeline.get("updated_at") or pipeline.get("created_at"),
                        "last_pipeline_url": pipeline.get("web_url"),
                        # The older of the two reads: one served from the cache is not said to be read now.
                        "fetched_at": min(t for t in (item.fetched_at, gitlab.fetched_at) if t),
                    }
                )
            else:
                sources["gitlab"] = _not_live(ctx, "gitlab", gitlab.error)
                read |= {k: status.get(k) for k in GITLAB_READ}
        item = item.model_copy(update={"sources": LiveComponentSources.model_validate(sources)})
        # stale and staleReason, kept for the clients reading them, say what `sources` says.
        reasons = [f"{name}: {s.reason}" for name, s in sources.items() if s.state in HISTORIZED]
        fallback: dict[str, object] = {"stale": True, "stale_reason": "; ".join(reasons)} | read if reasons else {}
        # The last deployment is history's where ArgoCD does not give it live: failing, or not deploying the component
        # (GitLab's deployments are read by ingestion alone; live mode reads its last pipeline). Its time goes with its
        # revision: beside a revision ArgoCD gives live, another's would date it wrongly.
        last = history.get(comp.entity_id)
        from_history = sources["argocd"].state in HISTORIZED or not comp.argocd_app_name
        if from_history and last and item.last_deployed_at is None and item.revision in (None, last["revision"]):
            fallback |= {"revision": item.revision or last["revision"], "last_deployed_at": last["finished_at"]}
        if fallback:
            item = LiveComponent.model_validate(item.model_dump() | fallback)
        out.append(item)
    return out


# A source's state whose figures are history's: the item is stale.
HISTORIZED = ("fallback", "not configured")
NOT_MAPPED = LiveSourceState(state="not mapped")


def _not_live(ctx: ContextDep, source: str, error: str | None) -> LiveSourceState:
    """A source whose figures fall back to history: not configured, or failing for `error`."""
    return LiveSourceState(state="fallback" if ctx.live.can_ask(source) else "not configured", reason=error)


def _gitlab_project(entry: MappingEntry) -> int | str | None:
    """The GitLab project an entry names: its id, else its path (GitLab takes either, the path URL-encoded)."""
    return entry.gitlab_project_id or entry.gitlab_project_slug


# What the fallback takes from mv_live_status_latest for each source that failed (the names LiveComponent gives).
ARGOCD_READ = ("sync_status", "health_status", "operation_phase", "status_observed_at")
GITLAB_READ = ("last_pipeline_status", "last_pipeline_ref", "last_pipeline_at", "last_pipeline_url")


# The placeholders by which a query template names the entity it is filled for.
ENTITY_PLACEHOLDERS = {"entity", "component", "name"}


def _logs_query(
    scope: Scope,
    entry: MappingEntry | None,
    app_entry: MappingEntry | None,
    environment_field: str,
    services: list[str],
) -> str:
    """The entity's own template; else, on a component's link, its application's filled for the component; else
    a filter on the services counted for the entity (`services`, its log lines' service.name) and its environment,
    read from the field the log counts are read from (a link without it would show the lines of every
    environment)."""
    own = entry.kibana_query() if entry else None
    if own:
        return own
    named = " or ".join(f'"{s}"' for s in services)
    default = f"service.name:{named if len(services) == 1 else f'({named})'}"
    default += f" and {environment_field}:{_environment_spellings(scope.environment)}"
    template = app_entry.kibana_query_template if app_entry else None
    if scope.component_id is None or not template:
        return default
    component = MappingEntry(
        entity_id=scope.component_id,
        kind="component",
        name=entry.name if entry else None,
        application_id=scope.app_id,
        environment=scope.environment,
        kibana_query_template=template,
    )
    query = component.kibana_query() or default
    # A template naming no entity filters on the whole application: the component's link narrows it.
    placeholders = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return query if placeholders & ENTITY_PLACEHOLDERS else f"{default} and ({query})"


def _environment_spellings(environment: str) -> str:
    """The environment as loggers write it, lower, capitalised, each word capitalised or upper case ("Production"
    from .NET's ASPNETCORE_ENVIRONMENT, "Pre-Prod"): the log counts take every case, and KQL matches a keyword's case
    exactly. A spelling breaking words the mapping's name runs together ("PreProd" for preprod) is not found."""
    spellings = dict.fromkeys((environment, environment.capitalize(), environment.title(), environment.upper()))
    named = " or ".join(f'"{s}"' for s in spellings)
    return named if len(spellings) == 1 else f"({named})"


def _logs_link(
    ctx: ContextDep, mart: Mart, scope: Scope, time_range: str | None, start: str | None, end: str | None
) -> LogsLink:
    if not ctx.api.kibana_url:
        raise Problem(503, "no Kibana URL is configured (ROSETTA_API_KIBANA_URL)", title="Kibana not configured")
    directory = mart.directory
    entity_id = scope.component_id or scope.app_id
    entry = directory.entry(entity_id, scope.environment)
    app_entry = directory.entry(scope.app_id, scope.environment)
    index = (entry.elisa_index if entry else None) or (app_entry.elisa_index if app_entry else None)
    if index is None and scope.component_id is None:
        # An application's logs are in its components' index; a component's are not in its siblings'.
        for comp in directory.components_of(scope.app_id, scope.environment):
            index = index or comp.elisa_index
    if index is None:
        raise Problem(404, f"{entity_id!r} has no elisa.index in the mapping", title="No log index mapped")
    # Log lines name their entity in service.name (the log counts read them so): a component's link shows the
    # component's, an application's those of the application and of its components whose logs are in the index the
    # link opens (their own index, else the application's, as their own links read).
    if scope.component_id is not None:
        services = [scope.component_id]
    else:
        own_index = app_entry.elisa_index if app_entry else None
        services = sorted(
            ({scope.app_id} if own_index == index else set())
            | {
                c.entity_id
                for c in directory.components_of(scope.app_id, scope.environment)
                if (c.elisa_index or own_index) == index
            }
        )
    query = _logs_query(scope, entry, app_entry, ctx.sources.elasticsearch_environment_field, services)
    time_from, time_to = periods.kibana_range(
        time_range, start, end, now=datetime.now(UTC), max_days=ctx.api.max_period_days
    )
    view = ctx.live.data_view(index)
    url = kibana.discover_url(
        ctx.api.kibana_url,
        data_view_id=view.id,
        query=query,
        time_from=time_from,
        time_to=kibana.last_included(time_to),
        space=ctx.api.kibana_space,
    )
    return LogsLink(
        **envelope(mart.snap, mart.directory),
        entity_id=entity_id,
        url=url,
        data_view_id=view.id,
        data_view_from=view.found_by,
        data_view_reason=view.reason,
        index_pattern=index,
        query=query,
        time_from=time_from,
        time_to=time_to,
    )


# --- routes: applications and components share the handlers above -----------------------------------------------
IncidentStatus = Annotated[
    Literal["open", "closed", "all"],
    Query(
        description="open: open at the build's as-of, whenever opened (the period does not apply); closed: closed by "
        "the as-of and opened or restored in the period's whole UTC days, as kpis/incidents counts them, canceled ones "
        "included (flagged isCanceled, counted in no KPI); all: every one open at some time in those days, up to the "
        "as-of (opened before their end and not restored before their start), or restored in them. So every incident "
        "kpis/incidents counts opened or restored is in all, and every one of them closed by the as-of in closed, "
        "those opened before the period's first hour included."
    ),
]
ChangeStatus = Annotated[
    Literal["upcoming", "recent", "all"],
    Query(
        description="upcoming: starting at or after the build's as-of, however far ahead (the period does not apply), "
        "those canceled left out; recent: started before the as-of, its time (start to end, to the as-of while under "
        "way) overlapping the period's whole UTC days, as kpis/changes counts them: every change it counts implemented "
        "or unsuccessful is listed, those started before the period included; all: both. A change starts at its "
        "actual start, else its planned one; it ends at its actual end, else its planned one."
    ),
]
DeployMode = Annotated[Literal["live", "history"], Query()]
TimeRange = Annotated[str | None, Query(alias="timeRange", max_length=40, description="now-1h, now-24h, last_7d, ...")]


@router.get(
    "/applications/{app_id:path}/summary",
    response_model=Summary,
    summary="Application summary",
    responses=NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def app_summary(mart: SummaryMartDep, app_id: AppId, environment: Environment = None) -> Summary:
    return _summary(mart, _app_scope(mart, app_id, environment))


@router.get(
    "/applications/{app_id:path}/timeseries",
    response_model=Timeseries,
    summary="Application series",
    responses=NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def app_timeseries(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    metric: Metric = "latency_p95",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    environment: Environment = None,
) -> Timeseries:
    return _timeseries(ctx, mart, _app_scope(mart, app_id, environment), metric, period, start, end)


@router.get(
    "/applications/{app_id:path}/incidents",
    response_model=IncidentList,
    summary="Application incidents",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def app_incidents(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    status: IncidentStatus = "open",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> IncidentList:
    return _incidents(ctx, mart, _app_scope(mart, app_id, environment), status, period, start, end, limit, cursor)


@router.get(
    "/applications/{app_id:path}/changes",
    response_model=ChangeList,
    summary="Application changes",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def app_changes(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    status: ChangeStatus = "all",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> ChangeList:
    return _changes(ctx, mart, _app_scope(mart, app_id, environment), status, period, start, end, limit, cursor)


@router.get(
    "/applications/{app_id:path}/deployments",
    response_model=DeploymentList,
    summary="Application deployments",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized_unless_live)],
)
def app_deployments(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    mode: DeployMode = "history",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> DeploymentList:
    return _deployments(ctx, mart, _app_scope(mart, app_id, environment), mode, period, start, end, limit, cursor)


@router.get(
    "/applications/{app_id:path}/lead-times",
    response_model=LeadTimeList,
    summary="Application lead times: the merge requests behind its DORA lead time",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def app_lead_times(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    period: DoraPeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> LeadTimeList:
    """Its own requests and its components', as DORA counts them."""
    return _lead_times(ctx, mart, _app_scope(mart, app_id, environment), period, start, end, limit, cursor)


@router.get("/applications/{app_id:path}/logs/link", response_model=LogsLink, summary="Application Kibana link")
def app_logs_link(
    ctx: ContextDep,
    mart: MartDep,
    app_id: AppId,
    time_range: TimeRange = None,
    start: FromParam = None,
    end: ToParam = None,
    environment: Environment = None,
) -> LogsLink:
    return _logs_link(ctx, mart, _app_scope(mart, app_id, environment), time_range, start, end)


@router.get(
    "/components/{component_id:path}/summary",
    response_model=Summary,
    summary="Component summary",
    responses=NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def component_summary(mart: SummaryMartDep, component_id: ComponentId, environment: Environment = None) -> Summary:
    return _summary(mart, _component_scope(mart, component_id, environment))


@router.get(
    "/components/{component_id:path}/timeseries",
    response_model=Timeseries,
    summary="Component series",
    responses=NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def component_timeseries(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    metric: Metric = "latency_p95",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    environment: Environment = None,
) -> Timeseries:
    return _timeseries(ctx, mart, _component_scope(mart, component_id, environment), metric, period, start, end)


@router.get(
    "/components/{component_id:path}/incidents",
    response_model=IncidentList,
    summary="Component incidents",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def component_incidents(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    status: IncidentStatus = "open",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> IncidentList:
    scope = _component_scope(mart, component_id, environment)
    return _incidents(ctx, mart, scope, status, period, start, end, limit, cursor)


@router.get(
    "/components/{component_id:path}/changes",
    response_model=ChangeList,
    summary="Component changes",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def component_changes(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    status: ChangeStatus = "all",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> ChangeList:
    scope = _component_scope(mart, component_id, environment)
    return _changes(ctx, mart, scope, status, period, start, end, limit, cursor)


@router.get(
    "/components/{component_id:path}/deployments",
    response_model=DeploymentList,
    summary="Component deploys",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized_unless_live)],
)
def component_deployments(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    mode: DeployMode = "history",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> DeploymentList:
    scope = _component_scope(mart, component_id, environment)
    return _deployments(ctx, mart, scope, mode, period, start, end, limit, cursor)


@router.get(
    "/components/{component_id:path}/lead-times",
    response_model=LeadTimeList,
    summary="Component lead times: the merge requests behind its DORA lead time",
    responses=problem_responses(409) | NOT_MODIFIED,
    dependencies=[Depends(historized)],
)
def component_lead_times(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    period: DoraPeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
    environment: Environment = None,
) -> LeadTimeList:
    scope = _component_scope(mart, component_id, environment)
    return _lead_times(ctx, mart, scope, period, start, end, limit, cursor)


@router.get("/components/{component_id:path}/logs/link", response_model=LogsLink, summary="Component Kibana link")
def component_logs_link(
    ctx: ContextDep,
    mart: MartDep,
    component_id: ComponentId,
    time_range: TimeRange = None,
    start: FromParam = None,
    end: ToParam = None,
    environment: Environment = None,
) -> LogsLink:
    return _logs_link(ctx, mart, _component_scope(mart, component_id, environment), time_range, start, end)
