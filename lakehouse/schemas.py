"""Dataset declarations: one Arrow schema, natural key and partition column per dataset.

A dataset is what a source gives us, typed: `raw/<source>/<name>/day=YYYY-MM-DD/data.parquet`. Writing a
table checks it against the declaration here; the analysts' data dictionary is generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from lakehouse.errors import SchemaMismatchError

UTC_MS = pa.timestamp("ms", tz="UTC")


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    unit: str = ""
    nullable: bool = True


@dataclass(frozen=True)
class Dataset:
    source: str
    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    partition_column: str
    # Among rows sharing a natural key the highest version wins; without one, the newest write wins (a dataset read
    # from a source without versions of its own has READ_AT as its version).
    version_column: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def keeps_versions(self) -> bool:
        """A row per version of a record (its version column is part of its natural key), not its latest alone."""
        return self.version_column is not None and self.version_column in self.natural_key

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def conform(self, table: pa.Table) -> pa.Table:
        """Return `table` with the declared columns, order and types, or fail naming the column."""
        declared = {c.name for c in self.columns}
        extra = [n for n in table.column_names if n not in declared]
        if extra:
            raise SchemaMismatchError(f"{self.id}: unexpected column {extra[0]!r} (not in the declared schema)")
        arrays = []
        for c in self.columns:
            if c.name == READ_AT and c.name not in table.column_names:
                # Stamped by the ingestion run as it writes, never by a parser: unknown until then.
                table = table.append_column(pa.field(c.name, c.type), pa.nulls(table.num_rows, c.type))
            if c.name not in table.column_names:
                raise SchemaMismatchError(f"{self.id}: missing column {c.name!r} ({c.type})")
            array = table.column(c.name)
            if not array.type.equals(c.type):
                array = self._cast(c, array)
            if not c.nullable and array.null_count:
                raise SchemaMismatchError(f"{self.id}: column {c.name!r} has {array.null_count} null value(s)")
            arrays.append(array)
        return pa.Table.from_arrays(arrays, schema=self.schema)

    def conform_stored(self, table: pa.Table) -> pa.Table:
        """A stored day's rows in the declared schema. A day an older release wrote lacks the nullable columns
        added since: they read as null, so the day can still be read and merged into."""
        for c in self.columns:
            if c.nullable and c.name not in table.column_names:
                table = table.append_column(pa.field(c.name, c.type), pa.nulls(table.num_rows, c.type))
        return self.conform(table)

    def _cast(self, c: Column, array: pa.ChunkedArray) -> pa.ChunkedArray:
        # Safe casts only (int32 -> int64, null -> any, timestamp units without loss); never string -> number.
        allowed = (
            pa.types.is_null(array.type)
            or (pa.types.is_integer(array.type) and (pa.types.is_integer(c.type) or pa.types.is_floating(c.type)))
            or (pa.types.is_floating(array.type) and pa.types.is_floating(c.type))
            or (pa.types.is_timestamp(array.type) and pa.types.is_timestamp(c.type))
            or (pa.types.is_string(array.type) and pa.types.is_large_string(c.type))
            or (pa.types.is_large_string(array.type) and pa.types.is_string(c.type))
            or (pa.types.is_list(array.type) and pa.types.is_list(c.type))
        )
        if pa.types.is_timestamp(array.type) and array.type.tz is None and array.null_count < len(array):
            raise SchemaMismatchError(f"{self.id}: column {c.name!r} holds naive timestamps; expected UTC")
        if allowed:
            try:
                return array.cast(c.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaMismatchError(f"{self.id}: column {c.name!r} cannot be cast to {c.type}: {exc}") from None
        raise SchemaMismatchError(f"{self.id}: column {c.name!r} is {array.type}, expected {c.type}")


def _c(name: str, type_: pa.DataType, description: str, unit: str = "", nullable: bool = True) -> Column:
    return Column(name, type_, description, unit, nullable)


def _key(name: str, type_: pa.DataType, description: str, unit: str = "") -> Column:
    return Column(name, type_, description, unit, nullable=False)


# The version of a row whose source gives none: two reads of one key may differ (an hour's counts still coming in, a
# problem closed since), and the one written last is not always the one read last (a backfill finishing after a
# scheduled run, two runs side by side).
READ_AT = "read_at"


def _read_at() -> Column:
    return _c(
        READ_AT,
        UTC_MS,
        "When ingestion received the answer this row was read from: of two reads of one key the later is kept. Null "
        "in rows stored before it was recorded, which any read carrying it replaces",
        "UTC",
    )


STR, INT, FLOAT, BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
# GitLab gives a pipeline's start, end and duration on its own page only, one request per pipeline.
_PIPELINE_LIST_LACKS = "empty, as GitLab's pipeline list (what is read) does not give it"
STRINGS = pa.list_(pa.string())
# A merge request's page, kept for the lead-time list's link to it.
_MR_WEB_URL = (
    "The merge request's page in GitLab, as GitLab gives it (web_url, <gitlab>/<project path>/-/merge_requests/<iid>); "
    "null when it is no http(s) address, or in rows stored before it was read"
)

_SN_REF = "sys_id of the referenced record (a 32-hex ServiceNow key)"

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        source="dynatrace",
        name="service_metrics_hourly",
        description="Golden signals per Dynatrace service entity and hour, from the Metrics API v2 at resolution 1h.",
        grain="one row per service entity and hour",
        columns=(
            _key("entity_id", STR, "Dynatrace entity id, e.g. SERVICE-1A2B3C4D5E6F7A8B"),
            _c("entity_name", STR, "Service display name as Dynatrace reports it"),
            _key(
                "hour",
                UTC_MS,
                "Start of the hour the values cover (Dynatrace reports slot ends; one hour is subtracted)",
                "UTC",
            ),
            _c(
                "request_count",
                FLOAT,
                "Requests served in the hour (builtin:service.requestCount.total)",
                "requests/hour",
            ),
            _c(
                "error_count",
                FLOAT,
                "Requests answered with a server error (builtin:service.errors.server.count)",
                "requests/hour",
            ),
            _c("latency_p50_ms", FLOAT, "Median response time", "ms"),
            _c("latency_p95_ms", FLOAT, "95th percentile response time", "ms"),
            _c("latency_p99_ms", FLOAT, "99th percentile response time", "ms"),
            _c(
                "cpu_usage_pct",
                FLOAT,
                "CPU usage of the containers running the service (builtin:containers.cpu.usagePercent); on several "
                "containers, the highest of them in the hour (the busiest container's), not their average",
                "percent 0-100",
            ),
            _c(
                "memory_usage_pct",
                FLOAT,
                "Memory usage of the containers running the service (builtin:containers.memory.usagePercent); on "
                "several containers, the highest of them in the hour (the busiest container's), not their average",
                "percent 0-100",
            ),
            _read_at(),
        ),
        natural_key=("entity_id", "hour"),
        partition_column="hour",
        version_column=READ_AT,
        notes=("Null means Dynatrace returned no data point for that slot, not zero.",),
    ),
    Dataset(
        source="dynatrace",
        name="problems",
        description="Dynatrace problems (Problems API v2), open and closed.",
        grain="one row per problem, latest state",
        columns=(
            _key("problem_id", STR, "Problem id, e.g. -6004362228644432354_1638271020000V2"),
            _c("display_id", STR, "Human id, e.g. P-211117376"),
            _c("title", STR, "Problem title"),
            _c("status", STR, "OPEN or CLOSED"),
            _c("severity_level", STR, "AVAILABILITY, ERROR, PERFORMANCE, RESOURCE_CONTENTION, CUSTOM_ALERT, ..."),
            _c("impact_level", STR, "APPLICATION, SERVICES, INFRASTRUCTURE or ENVIRONMENT"),
            _key("start_time", UTC_MS, "When the problem started", "UTC"),
            _c("end_time", UTC_MS, "When it ended; null while open (Dynatrace sends -1)", "UTC"),
            _c("root_cause_entity_id", STR, "Entity Dynatrace names as root cause, if any"),
            _c("affected_entity_ids", STRINGS, "Affected entity ids"),
            _c("impacted_entity_ids", STRINGS, "Impacted entity ids"),
            _c("management_zones", STRINGS, "Management zone names"),
            _c("entity_tags", STRINGS, "Tags of the affected entities, as stringRepresentation"),
            _read_at(),
        ),
        natural_key=("problem_id",),
        partition_column="start_time",
        version_column=READ_AT,
        notes=("A problem is re-fetched while open; the latest fetch replaces the row.",),
    ),
    Dataset(
        source="dynatrace",
        name="entities",
        description="Dynatrace service entities with their tags (Entities API v2), when enabled.",
        grain="one row per entity and day it was seen",
        columns=(
            _key("entity_id", STR, "Dynatrace entity id"),
            _c("entity_type", STR, "SERVICE, PROCESS_GROUP, HOST, ..."),
            _c("display_name", STR, "Display name"),
            _c("tags", STRINGS, "Tags as stringRepresentation (context:key:value)"),
            _c("management_zones", STRINGS, "Management zone names"),
            _key("seen_on", UTC_MS, "Midnight UTC of the day the entity was listed", "UTC"),
            _read_at(),
        ),
        natural_key=("entity_id", "seen_on"),
        partition_column="seen_on",
        version_column=READ_AT,
    ),
    Dataset(
        source="servicenow",
        name="incidents",
        description="ServiceNow incidents (Table API `incident`); every version seen is kept.",
        grain="one row per incident and sys_updated_on (a version)",
        columns=(
            _key("sys_id", STR, "Incident sys_id"),
            _c("number", STR, "INC number"),
            _c("state", INT, "State code (1 New, 2 In Progress, 3 On Hold, 6 Resolved, 7 Closed, 8 Canceled)"),
            _c("state_label", STR, "Decoded state"),
            _c("priority", INT, "Priority 1 (critical) to 5 (planning)"),
            _c("priority_label", STR, "Decoded priority, e.g. 1 - Critical"),
            _c("impact", INT, "Impact 1-3"),
            _c("urgency", INT, "Urgency 1-3"),
            _c("short_description", STR, "Short description"),
            _key("opened_at", UTC_MS, "When the incident was opened", "UTC"),
            _c("resolved_at", UTC_MS, "When it was resolved; null if not yet", "UTC"),
            _c("closed_at", UTC_MS, "When it was closed; null if not yet", "UTC"),
            _c("cmdb_ci_sys_id", STR, f"Configuration item: {_SN_REF}"),
            _c("cmdb_ci_name", STR, "Configuration item display value"),
            _c("business_service_sys_id", STR, f"Business service: {_SN_REF}"),
            _c("business_service_name", STR, "Business service display value"),
            _c("assignment_group_sys_id", STR, f"Assignment group: {_SN_REF}"),
            _c("assignment_group_name", STR, "Assignment group display value"),
            _c("reassignment_count", INT, "Times the incident changed assignment group"),
            _c("problem_sys_id", STR, f"Related problem: {_SN_REF}"),
            _c("caused_by_change_sys_id", STR, f"Change that caused the incident, when recorded: {_SN_REF}"),
            _key("sys_updated_on", UTC_MS, "Version time of this row", "UTC"),
        ),
        natural_key=("sys_id", "sys_updated_on"),
        partition_column="opened_at",
        version_column="sys_updated_on",
        notes=("The latest state of an incident is its row with the greatest sys_updated_on.",),
    ),
    Dataset(
        source="servicenow",
        name="changes",
        description="ServiceNow change requests (Table API `change_request`); every version seen is kept.",
        grain="one row per change request and sys_updated_on",
        columns=(
            _key("sys_id", STR, "Change sys_id"),
            _c("number", STR, "CHG number"),
            _c("type", STR, "standard, normal or emergency"),
            _c("state", INT, "State code (-5 New ... 0 Review, 3 Closed, 4 Canceled)"),
            _c("state_label", STR, "Decoded state"),
            _c("risk", STR, "Risk label"),
            _c("short_description", STR, "Short description"),
            _c("planned_start", UTC_MS, "Planned start (start_date)", "UTC"),
            _c("planned_end", UTC_MS, "Planned end (end_date)", "UTC"),
            _c("work_start", UTC_MS, "Actual start", "UTC"),
            _c("work_end", UTC_MS, "Actual end", "UTC"),
            _c(
                "close_code",
                STR,
                "successful, successful_issues or unsuccessful (ServiceNow's), else a code the instance added; empty "
                "while open",
            ),
            _c("cmdb_ci_sys_id", STR, f"Configuration item: {_SN_REF}"),
            _c("cmdb_ci_name", STR, "Configuration item display value"),
            _c("business_service_sys_id", STR, f"Business service: {_SN_REF}"),
            _c("business_service_name", STR, "Business service display value"),
            _c("assignment_group_sys_id", STR, f"Assignment group: {_SN_REF}"),
            _c("assignment_group_name", STR, "Assignment group display value"),
            _key("sys_created_on", UTC_MS, "When the change was created", "UTC"),
            _key("sys_updated_on", UTC_MS, "Version time of this row", "UTC"),
        ),
        natural_key=("sys_id", "sys_updated_on"),
        partition_column="sys_created_on",
        version_column="sys_updated_on",
    ),
    Dataset(
        source="servicenow",
        name="problems",
        description="ServiceNow problems (Table API `problem`); every version seen is kept.",
        grain="one row per problem and sys_updated_on",
        columns=(
            _key("sys_id", STR, "Problem sys_id"),
            _c("number", STR, "PRB number"),
            _c("state", INT, "State code"),
            _c("state_label", STR, "Decoded state"),
            _c("priority", INT, "Priority 1-5"),
            _c("short_description", STR, "Short description"),
            _c("known_error", BOOL, "Marked as a known error"),
            _key("opened_at", UTC_MS, "When the problem was opened", "UTC"),
            _c("resolved_at", UTC_MS, "When it was resolved", "UTC"),
            _c("closed_at", UTC_MS, "When it was closed", "UTC"),
            _c("cmdb_ci_sys_id", STR, f"Configuration item: {_SN_REF}"),
            _c("cmdb_ci_name", STR, "Configuration item display value"),
            _key("sys_updated_on", UTC_MS, "Version time of this row", "UTC"),
        ),
        natural_key=("sys_id", "sys_updated_on"),
        partition_column="opened_at",
        version_column="sys_updated_on",
    ),
    Dataset(
        source="servicenow",
        name="task_slas",
        description="ServiceNow task SLAs (Table API `task_sla`), with breach flags.",
        grain="one row per task SLA and sys_updated_on",
        columns=(
            _key("sys_id", STR, "Task SLA sys_id"),
            _c("task_sys_id", STR, f"Task (incident, change...): {_SN_REF}"),
            _c("task_number", STR, "Task display value, e.g. INC0010001"),
            _c("sla_sys_id", STR, f"SLA definition: {_SN_REF}"),
            _c("sla_name", STR, "SLA definition display value"),
            _c("stage", STR, "in_progress, completed, paused, cancelled, ..."),
            _c("has_breached", BOOL, "Whether the SLA is breached"),
            _key("start_time", UTC_MS, "SLA start", "UTC"),
            _c("end_time", UTC_MS, "SLA end", "UTC"),
            _c(
                "planned_end_time", UTC_MS, "Breach time (ServiceNow's label): when it breaches, moved by pauses", "UTC"
            ),
            _c("breach_time", UTC_MS, "The breach time first computed (original_breach_time), before any pause", "UTC"),
            _c("business_percentage", FLOAT, "Business time elapsed as a percentage of the SLA", "percent"),
            _key("sys_updated_on", UTC_MS, "Version time of this row", "UTC"),
        ),
        natural_key=("sys_id", "sys_updated_on"),
        partition_column="start_time",
        version_column="sys_updated_on",
        notes=("Cancelled SLAs are kept here and excluded from breach KPIs.",),
    ),
    Dataset(
        source="servicenow",
        name="cmdb_ci",
        description="ServiceNow configuration items (Table API `cmdb_ci`).",
        grain="one row per CI and sys_updated_on",
        columns=(
            _key("sys_id", STR, "CI sys_id"),
            _c("name", STR, "CI name"),
            _c("sys_class_name", STR, "CI class, e.g. cmdb_ci_service, cmdb_ci_appl"),
            _c("operational_status", INT, "Operational status code"),
            _key("sys_updated_on", UTC_MS, "Version time of this row", "UTC"),
        ),
        natural_key=("sys_id", "sys_updated_on"),
        partition_column="sys_updated_on",
        version_column="sys_updated_on",
    ),
    Dataset(
        source="argocd",
        name="app_status",
        description="ArgoCD application status snapshots: sync, health, revision, last operation.",
        grain="one row per application and poll",
        columns=(
            _key("app_name", STR, "ArgoCD application name"),
            _c("project", STR, "ArgoCD project"),
            _c("dest_server", STR, "Destination cluster"),
            _c("dest_namespace", STR, "Destination namespace"),
            _c("repo_url", STR, "Source repository"),
            _c("target_revision", STR, "Tracked revision (branch, tag or SHA)"),
            _c("sync_status", STR, "Synced, OutOfSync or Unknown"),
            _c("sync_revision", STR, "Revision currently synced"),
            _c("health_status", STR, "Healthy, Progressing, Degraded, Suspended, Missing or Unknown"),
            _c("operation_phase", STR, "Last operation: Running, Failed, Error, Succeeded, Terminating"),
            _c("operation_started_at", UTC_MS, "Last operation start", "UTC"),
            _c("operation_finished_at", UTC_MS, "Last operation end", "UTC"),
            _c("operation_message", STR, "Last operation message"),
            _c("reconciled_at", UTC_MS, "When ArgoCD last reconciled the app", "UTC"),
            _key("observed_at", UTC_MS, "When the snapshot was taken", "UTC"),
        ),
        natural_key=("app_name", "observed_at"),
        partition_column="observed_at",
    ),
    Dataset(
        source="argocd",
        name="sync_operations",
        description="ArgoCD sync operations from operationState, failed ones included (history keeps successes only).",
        grain="one row per application and operation start",
        columns=(
            _key("app_name", STR, "ArgoCD application name"),
            _key("started_at", UTC_MS, "Operation start", "UTC"),
            _c("finished_at", UTC_MS, "Operation end; null while running", "UTC"),
            _c("phase", STR, "Running, Failed, Error, Succeeded or Terminating"),
            _c("revision", STR, "Revision being synced"),
            _c("message", STR, "Operation message"),
            _c("initiated_by", STR, "User who started it; empty when automated, null when ArgoCD does not say"),
            _c("automated", BOOL, "Started by automated sync; null when ArgoCD does not say"),
        ),
        natural_key=("app_name", "started_at"),
        partition_column="started_at",
        # An operation's end, once read, stays: a listing taken before it ended and written after (two runs side by
        # side) would put it back to running, and ArgoCD shows only the last operation, so no later run mends that.
        version_column="finished_at",
    ),
    Dataset(
        source="argocd",
        name="deployment_history",
        description="ArgoCD deployment history entries (status.history), persisted beyond revisionHistoryLimit.",
        grain="one row per application, history id and deploy time (ids start again at 0 in a recreated application)",
        columns=(
            _key("app_name", STR, "ArgoCD application name"),
            _key("history_id", INT, "History id, monotonic per application; from 0 again when it is created again"),
            _c("revision", STR, "Deployed revision (one SHA; joined with ',' for multi-source apps)"),
            _c("deploy_started_at", UTC_MS, "Deploy start; missing on very old entries", "UTC"),
            _key("deployed_at", UTC_MS, "Deploy end", "UTC"),
            _c("initiated_by", STR, "User who started it; empty when automated, null when ArgoCD does not say"),
            _c("automated", BOOL, "Started by automated sync; null when ArgoCD does not say"),
            _c("repo_url", STR, "Source repository"),
            _c(
                "app_created_at",
                UTC_MS,
                "When the application was created (metadata.creationTimestamp); null in rows stored before it was read",
                "UTC",
            ),
            _read_at(),
        ),
        # A recreated application numbers its history from 0 again: an id alone may name two deployments.
        natural_key=("app_name", "history_id", "deployed_at"),
        partition_column="deployed_at",
        version_column=READ_AT,
    ),
    Dataset(
        source="gitlab",
        name="deployments",
        description="GitLab deployments per project and environment.",
        grain="one row per deployment, latest state",
        columns=(
            _key("deployment_id", INT, "Deployment id (instance-wide)"),
            _key("project_id", INT, "GitLab project id"),
            _c("iid", INT, "Deployment iid within the project"),
            _c("environment", STR, "Environment name"),
            _c("status", STR, "created, running, success, failed, canceled, skipped or blocked"),
            _c("ref", STR, "Git ref"),
            _c("sha", STR, "Commit SHA"),
            _key("created_at", UTC_MS, "When the deployment was created", "UTC"),
            _key("updated_at", UTC_MS, "Last update", "UTC"),
            _c("finished_at", UTC_MS, "deployable.finished_at, else updated_at once the deployment ended", "UTC"),
            _c(
                "user_username",
                STR,
                "Who deployed: the deploying job's user (who played a manual job), else the deployment's",
            ),
            _c("job_id", INT, "Deploying job (deployable) id"),
            _c("pipeline_id", INT, "Pipeline of the deploying job"),
            _c(
                "commit_created_at",
                UTC_MS,
                "When the deployed commit was made (deployable.commit.created_at); null without a job or in rows "
                "stored before it was read",
                "UTC",
            ),
            _c(
                "started_at",
                UTC_MS,
                "When the deploying job started (deployable.started_at); null without a job, before the job starts "
                "or in rows stored before it was read",
                "UTC",
            ),
            _c(
                "failure_reason",
                STR,
                "Why the deploying job failed (deployable.failure_reason: script_failure, "
                "failed_outdated_deployment_job, deployment_rejected...); null unless it failed, or in rows stored "
                "before it was read",
            ),
            _c(
                "pipeline_web_url",
                STR,
                "The deploying pipeline's page in GitLab, as GitLab gives it (deployable.pipeline.web_url); null "
                "without a job or in rows stored before it was read",
            ),
        ),
        natural_key=("deployment_id",),
        partition_column="created_at",
        version_column="updated_at",
    ),
    Dataset(
        source="gitlab",
        name="pipelines",
        description="GitLab pipelines (not all are deployments).",
        grain="one row per pipeline, latest state",
        columns=(
            _key("pipeline_id", INT, "Pipeline id"),
            _key("project_id", INT, "GitLab project id"),
            _c("ref", STR, "Git ref"),
            _c("sha", STR, "Commit SHA"),
            _c(
                "status",
                STR,
                "created, waiting_for_resource, preparing, pending, running, success, failed, canceling, canceled, "
                "skipped, manual or scheduled",
            ),
            _c("source", STR, "push, web, schedule, merge_request_event, ..."),
            _key("created_at", UTC_MS, "Creation", "UTC"),
            _key("updated_at", UTC_MS, "Last update", "UTC"),
            _c("started_at", UTC_MS, f"Start: {_PIPELINE_LIST_LACKS}", "UTC"),
            _c("finished_at", UTC_MS, f"End: {_PIPELINE_LIST_LACKS}", "UTC"),
            _c("duration_s", FLOAT, f"Duration: {_PIPELINE_LIST_LACKS}", "s"),
            _c("web_url", STR, "Link to the pipeline"),
        ),
        natural_key=("pipeline_id",),
        partition_column="created_at",
        version_column="updated_at",
    ),
    Dataset(
        source="gitlab",
        name="deployment_merge_requests",
        description="Merge requests shipped by each GitLab deployment (for lead time: merged_at to deploy).",
        grain="one row per deployment and merge request",
        columns=(
            _key("deployment_id", INT, "Deployment that shipped the merge request"),
            _key("project_id", INT, "GitLab project id"),
            _key("mr_id", INT, "Merge request id (instance-wide)"),
            _c("mr_iid", INT, "Merge request iid within the project"),
            _c("title", STR, "Title"),
            _c("target_branch", STR, "Target branch"),
            _c("created_at", UTC_MS, "When the merge request was opened", "UTC"),
            _key("merged_at", UTC_MS, "When it was merged", "UTC"),
            _c("merge_commit_sha", STR, "Merge commit SHA; the head commit when fast-forwarded (no merge commit)"),
            _c("web_url", STR, _MR_WEB_URL),
        ),
        natural_key=("deployment_id", "mr_id"),
        partition_column="merged_at",
    ),
    Dataset(
        source="gitlab",
        name="merge_requests",
        description="Merged GitLab merge requests per mapped project (lead time for deployments without an MR link).",
        grain="one row per merge request, latest state",
        columns=(
            _key("mr_id", INT, "Merge request id (instance-wide)"),
            _key("project_id", INT, "GitLab project id"),
            _c("mr_iid", INT, "Merge request iid within the project"),
            _c("title", STR, "Title"),
            _c("state", STR, "merged (only merged requests are collected)"),
            _c("target_branch", STR, "Target branch"),
            _c("created_at", UTC_MS, "When the merge request was opened", "UTC"),
            _key("merged_at", UTC_MS, "When it was merged", "UTC"),
            _c("merge_commit_sha", STR, "Merge commit SHA; the head commit when fast-forwarded (no merge commit)"),
            _c("squash_commit_sha", STR, "Squash commit SHA, when squashed"),
            _key("updated_at", UTC_MS, "Last update", "UTC"),
            _c("default_branch", STR, "The project's default branch when the request was read"),
            _c("web_url", STR, _MR_WEB_URL),
        ),
        natural_key=("mr_id",),
        partition_column="merged_at",
        version_column="updated_at",
    ),
    Dataset(
        source="gitlab",
        name="project_paths",
        description="The GitLab project each project path the mapping names (gitlab_project_slug, Backstage's "
        "gitlab.com/project-slug) is, as GitLab answered GET /projects/<encoded path>: the build joins the sources' "
        "rows, keyed by project id, to an entity mapped by its path through it.",
        grain="one row per project path asked, the latest answer (a path the latest answer of several days gives)",
        columns=(
            _key("project_path", STR, "The path as the mapping gives it (GitLab finds a path without regard to case)"),
            _key("project_id", INT, "GitLab project id"),
            _c("path_with_namespace", STR, "The project's path as GitLab writes it (a renamed project's new one)"),
            _key("created_at", UTC_MS, "When the project was created", "UTC"),
            _key("observed_at", UTC_MS, "When GitLab gave this answer", "UTC"),
        ),
        natural_key=("project_path",),
        partition_column="created_at",
        version_column="observed_at",
        notes=(
            "A path moved to another project is under that project's creation day: of the rows of one path, the one "
            "observed last is the answer.",
        ),
    ),
    Dataset(
        source="deploys",
        name="deployment_events",
        description="Deployment events unified across ArgoCD and GitLab, before mapping to applications.",
        grain="one row per deployment, whatever its origin",
        columns=(
            _key(
                "deployment_key",
                STR,
                "argocd:<app>:<history id> (argocd:<app>:<history id>@<creation time> in a recreated application), "
                "argocd:<app>:op:<operation start> or gitlab:<deployment id>",
            ),
            _key("origin", STR, "argocd or gitlab"),
            _key("source_ref", STR, "The pivot the mapping uses: ArgoCD app name or GitLab project id"),
            _c(
                "environment",
                STR,
                "The mapping's environment (GitLab's environment name, or its folder's, compared without case)",
            ),
            _c("revision", STR, "Deployed revision (SHA)"),
            _c("started_at", UTC_MS, "Start", "UTC"),
            _key("finished_at", UTC_MS, "End (the deployment time used by DORA)", "UTC"),
            _key("status", STR, "succeeded or failed"),
            _c("is_rollback", BOOL, "Redeploys a revision older than the one it replaces"),
            _c(
                "initiated_by",
                STR,
                "User or 'automated'; null when the source does not say (an ArgoCD entry without initiatedBy)",
            ),
            _c(
                "web_url",
                STR,
                "A GitLab deployment's pipeline page (gitlab/deployments' pipeline_web_url); null for ArgoCD, and "
                "in rows written before it was kept",
            ),
            _c(
                "source_environment",
                STR,
                "A GitLab deployment's environment as GitLab names it (production/eu), whose deployments are its "
                "sequence (see stg_deployments); null for ArgoCD, whose application deploys one environment, and in "
                "rows written before it was kept",
            ),
        ),
        natural_key=("deployment_key",),
        partition_column="finished_at",
    ),
    Dataset(
        source="elasticsearch",
        name="log_counts_hourly",
        description="Error, warning and exception log counts per service and hour from Elasticsearch aggregations.",
        grain="one row per index pattern, service, environment, level and hour",
        columns=(
            _key("index_pattern", STR, "Index pattern queried, e.g. logs-payments-*"),
            _key("service_name", STR, "service.name in the logs"),
            _key(
                "environment",
                STR,
                "The logs' environment field (ROSETTA_ELASTICSEARCH_ENVIRONMENT_FIELD: deployment.environment, "
                "or service.environment for Elastic Common Schema loggers)",
            ),
            _key(
                "level",
                STR,
                "ERROR (the levels above it too: FATAL, CRITICAL, SEVERE, syslog's crit, alert, emerg), WARN, or "
                "EXCEPTION for lines with an exception",
            ),
            _key("hour", UTC_MS, "Bucket start (Elasticsearch keys buckets by their start)", "UTC"),
            _key("count", INT, "Documents in the bucket", "log lines/hour"),
            _read_at(),
        ),
        natural_key=("index_pattern", "service_name", "environment", "level", "hour"),
        partition_column="hour",
        version_column=READ_AT,
    ),
)

_REJECT_COLUMNS = (
    _key("dataset", STR, "Dataset the record was meant for"),
    _key("run_id", STR, "Run that met it"),
    _key("location", STR, "Where in the run: page and record index, then #2, #3... for more rejects met there"),
    _key("reason", STR, "Why it was rejected"),
    _c(
        "raw_text",
        pa.large_string(),
        "The record as received (JSON text); of a GitLab record, the fields its parser reads (the deploying username, "
        "no names or e-mail addresses), and of a GitLab answer that is not a JSON object, its length only",
    ),
    _key("rejected_at", UTC_MS, "When it was rejected", "UTC"),
)


def rejects_dataset(source: str) -> Dataset:
    """Malformed records of one source, kept aside with their reason (never silently dropped)."""
    return Dataset(
        source=source,
        name="rejects",
        description=f"Records from {source} that could not be parsed, with the reason and the raw text.",
        grain="one row per rejected record and run",
        columns=_REJECT_COLUMNS,
        natural_key=("dataset", "run_id", "location"),
        partition_column="rejected_at",
    )


SOURCES = ("dynatrace", "servicenow", "argocd", "gitlab", "deploys", "elasticsearch")
REGISTRY: dict[str, Dataset] = {d.id: d for d in DATASETS} | {
    f"{s}/rejects": rejects_dataset(s) for s in SOURCES if s != "deploys"
}


def get_dataset(dataset_id: str) -> Dataset:
    try:
        return REGISTRY[dataset_id]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise SchemaMismatchError(f"unknown dataset {dataset_id!r}; known: {known}") from None
