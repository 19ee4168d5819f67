"""ServiceNow tables as views over the estate: field lists, types, choices and each record's stored values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from simulators import hashing
from simulators.estate import Estate
from simulators.model import Change, Incident, TaskSla
from simulators.web import iso_seconds

REFERENCES = {
    "location": "cmn_location",
    "sys_domain": "sys_user_group",
    "business_service": "cmdb_ci_service",
    "closed_by": "sys_user",
    "assignment_group": "sys_user_group",
    "caller_id": "sys_user",
    "rfc": "change_request",
    "resolved_by": "sys_user",
    "problem_id": "problem",
    "caused_by": "change_request",
    "assigned_to": "sys_user",
    "cmdb_ci": "cmdb_ci",
    "opened_by": "sys_user",
    "parent": "task",
    "parent_incident": "incident",
    "requested_by": "sys_user",
    "company": "core_company",
    "std_change_producer_version": "std_change_producer_version",
    "task": "task",
    "sla": "contract_sla",
    "user": "sys_user",
    "role": "sys_user_role",
    "department": "cmn_department",
    "support_group": "sys_user_group",
    "managed_by_group": "sys_user_group",
    "manager": "sys_user",
    "chg_model": "chg_model",
    "service_offering": "service_offering",
    "contract": "ast_contract",
    "on_hold_task": "task",
    "delivery_plan": "sc_cat_item_delivery_plan",
    "delivery_task": "sc_cat_item_delivery_task",
    "owned_by": "sys_user",
    "universal_request": "universal_request",
    "reopened_by": "sys_user",
}
BOOLEANS = {
    "active",
    "knowledge",
    "made_sla",
    "is_bulk",
    "production_system",
    "outside_maintenance_schedule",
    "cab_required",
    "on_hold",
    "unauthorized",
    "has_breached",
    "inherited",
    "known_error",
}
INTEGERS = {
    "impact",
    "urgency",
    "priority",
    "state",
    "incident_state",
    "problem_state",
    "reassignment_count",
    "sys_mod_count",
    "escalation",
    "risk",
    "scope",
    "reopen_count",
    "severity",
    "notify",
    "operational_status",
    "install_status",
}
DATES = {
    "expected_start",
    "closed_at",
    "sla_due",
    "sys_updated_on",
    "work_end",
    "work_start",
    "activity_due",
    "due_date",
    "sys_created_on",
    "approval_set",
    "opened_at",
    "resolved_at",
    "follow_up",
    "requested_by_date",
    "review_date",
    "end_date",
    "start_date",
    "cab_date",
    "conflict_last_run",
    "start_time",
    "end_time",
    "planned_end_time",
    "original_breach_time",
    "pause_time",
}

_PRIORITY = {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"}
_IMPACT = {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"}
_INCIDENT_STATE = {"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}
_COMMON_CHOICES = {
    "priority": _PRIORITY,
    "impact": _IMPACT,
    "urgency": _IMPACT,
    "severity": _IMPACT,
    "escalation": {"0": "Normal", "1": "Moderate", "2": "High", "3": "Overdue"},
    "contact_type": {"phone": "Phone", "email": "Email", "self-service": "Self-service", "monitoring": "Monitoring"},
    "approval": {"not requested": "Not Yet Requested", "requested": "Requested", "approved": "Approved"},
    "upon_approval": {"proceed": "Proceed to Next Task"},
    "upon_reject": {"cancel": "Cancel all future Tasks"},
    "notify": {"1": "Do Not Notify", "2": "Send Email"},
}
CHOICES: dict[str, dict[str, dict[str, str]]] = {
    "incident": {"state": _INCIDENT_STATE, "incident_state": _INCIDENT_STATE},
    "change_request": {
        "state": {
            "-5": "New",
            "-4": "Assess",
            "-3": "Authorize",
            "-2": "Scheduled",
            "-1": "Implement",
            "0": "Review",
            "3": "Closed",
            "4": "Canceled",
        },
        "type": {"standard": "Standard", "normal": "Normal", "emergency": "Emergency"},
        "risk": {"1": "Very High", "2": "High", "3": "Moderate", "4": "Low"},
        "close_code": {
            "successful": "Successful",
            "successful_issues": "Successful with issues",
            "unsuccessful": "Unsuccessful",
        },
        "phase": {"requested": "Requested"},
        "phase_state": {"open": "Open"},
        "scope": {"3": "Medium"},
    },
    "problem": {
        "state": {"1": "Open", "2": "Known Error", "3": "Pending Change", "4": "Closed/Resolved"},
        "problem_state": {"1": "Open", "2": "Known Error", "3": "Pending Change", "4": "Closed/Resolved"},
    },
    "task_sla": {
        "stage": {"in_progress": "In progress", "completed": "Completed", "cancelled": "Cancelled", "paused": "Paused"}
    },
}

_TASK_FIELDS = [
    "parent",
    "made_sla",
    "watch_list",
    "upon_reject",
    "sys_updated_on",
    "approval_history",
    "number",
    "sys_updated_by",
    "opened_by",
    "user_input",
    "sys_created_on",
    "sys_domain",
    "state",
    "sys_created_by",
    "knowledge",
    "order",
    "closed_at",
    "cmdb_ci",
    "delivery_plan",
    "impact",
    "active",
    "work_notes_list",
    "business_service",
    "priority",
    "sys_domain_path",
    "time_worked",
    "expected_start",
    "rejection_goto",
    "opened_at",
    "business_duration",
    "group_list",
    "work_end",
    "approval_set",
    "wf_activity",
    "work_notes",
    "short_description",
    "correlation_display",
    "delivery_task",
    "work_start",
    "assignment_group",
    "additional_assignee_list",
    "description",
    "calendar_duration",
    "close_notes",
    "sys_class_name",
    "closed_by",
    "follow_up",
    "sys_id",
    "contact_type",
    "urgency",
    "company",
    "reassignment_count",
    "activity_due",
    "assigned_to",
    "comments",
    "approval",
    "sla_due",
    "comments_and_work_notes",
    "due_date",
    "sys_mod_count",
    "sys_tags",
    "escalation",
    "upon_approval",
    "correlation_id",
    "location",
]
INCIDENT_FIELDS = [
    *_TASK_FIELDS,
    "reopen_count",
    "calendar_stc",
    "incident_state",
    "caller_id",
    "parent_incident",
    "rfc",
    "child_incidents",
    "resolved_by",
    "notify",
    "problem_id",
    "close_code",
    "caused_by",
    "severity",
    "resolved_at",
    "business_stc",
    "subcategory",
    "category",
]
PROBLEM_FIELDS = [*_TASK_FIELDS, "problem_state", "known_error", "related_incidents"]
CHANGE_FIELDS = [
    *_TASK_FIELDS,
    "reason",
    "proposed_change",
    "type",
    "skills",
    "test_plan",
    "is_bulk",
    "cab_delegate",
    "requested_by_date",
    "ci_class",
    "phase",
    "contract",
    "cab_recommendation",
    "production_system",
    "review_date",
    "requested_by",
    "change_plan",
    "implementation_plan",
    "universal_request",
    "end_date",
    "outside_maintenance_schedule",
    "std_change_producer_version",
    "service_offering",
    "review_status",
    "start_date",
    "variables",
    "backout_plan",
    "conflict_status",
    "task_effective_number",
    "on_hold_task",
    "route_reason",
    "review_comments",
    "chg_model",
    "phase_state",
    "cab_date",
    "close_code",
    "on_hold_reason",
    "cab_required",
    "scope",
    "justification",
    "on_hold",
    "conflict_last_run",
    "risk_value",
    "unauthorized",
    "risk",
    "category",
    "risk_impact_analysis",
]
TASK_SLA_FIELDS = [
    "sys_id",
    "task",
    "sla",
    "stage",
    "has_breached",
    "start_time",
    "end_time",
    "planned_end_time",
    "original_breach_time",
    "percentage",
    "business_percentage",
    "duration",
    "business_duration",
    "time_left",
    "business_time_left",
    "pause_duration",
    "business_pause_duration",
    "pause_time",
    "active",
    "schedule",
    "timezone",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
    "sys_tags",
]
CI_FIELDS = [
    "sys_id",
    "name",
    "sys_class_name",
    "short_description",
    "operational_status",
    "install_status",
    "environment",
    "used_for",
    "category",
    "support_group",
    "managed_by_group",
    "owned_by",
    "company",
    "sys_domain",
    "sys_created_on",
    "sys_updated_on",
    "sys_created_by",
    "sys_updated_by",
    "sys_mod_count",
]
GROUP_FIELDS = [
    "sys_id",
    "name",
    "description",
    "active",
    "type",
    "parent",
    "manager",
    "email",
    "sys_created_on",
    "sys_updated_on",
]
USER_FIELDS = [
    "sys_id",
    "user_name",
    "name",
    "first_name",
    "last_name",
    "email",
    "active",
    "department",
    "sys_created_on",
    "sys_updated_on",
]
ROLE_FIELDS = ["sys_id", "name", "description"]
HAS_ROLE_FIELDS = ["sys_id", "user", "role", "state", "inherited"]
DEPARTMENT_FIELDS = ["sys_id", "name"]
CONTRACT_SLA_FIELDS = ["sys_id", "name", "type", "target", "duration", "collection", "active"]


def sn_datetime(epoch_s: int | None) -> str:
    """ServiceNow's stored date form: 'yyyy-MM-dd HH:mm:ss' in UTC, no zone marker."""
    return "" if epoch_s is None else iso_seconds(epoch_s).replace("T", " ").rstrip("Z")


def sn_duration(seconds: int | None) -> str:
    """Durations are stored as a date since the epoch: 137 s is '1970-01-01 00:02:17'."""
    return "" if seconds is None else sn_datetime(max(0, seconds))


Getter = Callable[[Any], str]


@dataclass
class Table:
    """One table: its rows (estate records) and how to read each field's stored string."""

    name: str
    label: str
    fields: list[str]
    rows: Sequence[Any]
    getters: dict[str, Getter]
    constants: dict[str, str]
    sys_id: Callable[[Any], str]
    display: Callable[[Any], str]
    class_name: Callable[[Any], str] | None = None
    drift: dict[str, tuple[str, int]] = field(default_factory=dict)
    version: int = 0

    def knows(self, name: str) -> bool:
        return name in self.fields or name in self.getters

    def value(self, record: Any, name: str) -> str:
        if name in ("sys_updated_on", "sys_mod_count") and self.drift:
            moved = self.drift.get(self.sys_id(record))
            if moved is not None:
                return moved[0] if name == "sys_updated_on" else str(int(self.getters[name](record)) + moved[1])
        getter = self.getters.get(name)
        if getter is not None:
            return getter(record)
        return self.constants.get(name, "")

    def choices(self, name: str) -> dict[str, str] | None:
        return CHOICES.get(self.name, {}).get(name) or _COMMON_CHOICES.get(name)

    def kind(self, name: str) -> str:
        if name in REFERENCES and name != "sys_domain":
            return "reference"
        if name == "sys_domain":
            return "reference"
        if name in BOOLEANS:
            return "boolean"
        if name in DATES:
            return "datetime"
        if name in INTEGERS:
            return "integer"
        return "string"


def _user_sys_id(estate: Estate, index: int | None) -> str:
    return "" if index is None else estate.users[index].sys_id


def _flag(value: bool) -> str:
    return "true" if value else "false"


def build_tables(estate: Estate) -> dict[str, Table]:
    """Every table the simulator serves, keyed by name."""
    users = estate.users
    task_constants = {
        "sys_domain": "global",
        "sys_domain_path": "/",
        "escalation": "0",
        "approval": "not requested",
        "upon_approval": "proceed",
        "upon_reject": "cancel",
        "knowledge": "false",
        "order": "",
        "sys_created_by": "rosetta.integration",
        "sys_updated_by": "system",
        "impact": "3",
        "urgency": "3",
    }
    sla_by_incident: dict[str, list[TaskSla]] = {}
    for sla in estate.task_slas:
        sla_by_incident.setdefault(sla.incident_sys_id, []).append(sla)

    def made_sla(incident: Incident) -> str:
        return _flag(not any(s.has_breached for s in sla_by_incident.get(incident.sys_id, [])))

    def resolution_due(incident: Incident) -> str:
        slas = [s for s in sla_by_incident.get(incident.sys_id, []) if s.definition.kind == "resolution"]
        return sn_datetime(slas[0].planned_end_s) if slas else ""

    def incident_duration(incident: Incident) -> str:
        if incident.resolved_s is None:
            return ""
        return sn_duration(incident.resolved_s - incident.opened_s)

    incident_getters: dict[str, Getter] = {
        "number": lambda r: r.number,
        "sys_id": lambda r: r.sys_id,
        "state": lambda r: str(r.state),
        "incident_state": lambda r: str(r.state),
        "impact": lambda r: str(r.impact),
        "urgency": lambda r: str(r.urgency),
        "priority": lambda r: str(r.priority),
        "severity": lambda r: str(min(3, r.impact)),
        "opened_at": lambda r: sn_datetime(r.opened_s),
        "resolved_at": lambda r: sn_datetime(r.resolved_s),
        "closed_at": lambda r: sn_datetime(r.closed_s),
        "sys_created_on": lambda r: sn_datetime(r.opened_s),
        "sys_updated_on": lambda r: sn_datetime(r.updated_s),
        "sys_mod_count": lambda r: str(len(r.update_times) - 1),
        "cmdb_ci": lambda r: r.ci_sys_id,
        "business_service": lambda r: r.business_service_sys_id,
        "assignment_group": lambda r: r.assignment_group_sys_id,
        "reassignment_count": lambda r: str(r.reassignment_count),
        "problem_id": lambda r: r.problem_sys_id or "",
        "caused_by": lambda r: r.caused_by_change_sys_id or "",
        "category": lambda r: r.category,
        "short_description": lambda r: r.short_description,
        "description": lambda r: r.short_description,
        "active": lambda r: _flag(r.state in (1, 2, 3)),
        "caller_id": lambda r: users[r.caller_index].sys_id,
        "opened_by": lambda r: users[r.caller_index].sys_id,
        "assigned_to": lambda r: _user_sys_id(estate, r.assignee_index),
        "resolved_by": lambda r: _user_sys_id(estate, r.assignee_index) if r.resolved_s else "",
        "closed_by": lambda r: _user_sys_id(estate, r.assignee_index) if r.closed_s and not r.canceled else "",
        "contact_type": lambda r: "monitoring" if r.priority <= 3 else "phone",
        "made_sla": made_sla,
        "sla_due": resolution_due,
        "close_code": lambda r: "Solved (Permanently)" if r.resolved_s else "",
        "close_notes": lambda r: "Service restored" if r.resolved_s else "",
        "business_duration": incident_duration,
        "calendar_duration": incident_duration,
        "sys_class_name": lambda r: "incident",
        "notify": lambda r: "1",
        "reopen_count": lambda r: "0",
    }

    def change_state(r: Change) -> str:
        return str(r.state)

    change_getters: dict[str, Getter] = {
        "number": lambda r: r.number,
        "sys_id": lambda r: r.sys_id,
        "type": lambda r: r.type,
        "state": change_state,
        "risk": lambda r: str(r.risk),
        "impact": lambda r: str(r.impact),
        "priority": lambda r: str(min(4, r.impact + 1)),
        "start_date": lambda r: sn_datetime(r.planned_start_s),
        "end_date": lambda r: sn_datetime(r.planned_end_s),
        "work_start": lambda r: sn_datetime(r.work_start_s),
        "work_end": lambda r: sn_datetime(r.work_end_s),
        "closed_at": lambda r: sn_datetime(r.closed_s),
        "opened_at": lambda r: sn_datetime(r.created_s),
        "sys_created_on": lambda r: sn_datetime(r.created_s),
        "sys_updated_on": lambda r: sn_datetime(r.updated_s),
        "sys_mod_count": lambda r: str(2 + (r.work_start_s is not None) + (r.closed_s is not None) * 3),
        "close_code": lambda r: r.close_code,
        "close_notes": lambda r: {
            "successful": "Completed without issues",
            "successful_issues": "Completed; an incident followed",
            "unsuccessful": "Deployment failed",
        }.get(r.close_code, ""),
        "cmdb_ci": lambda r: r.ci_sys_id,
        "assignment_group": lambda r: r.assignment_group_sys_id,
        "short_description": lambda r: r.short_description,
        "description": lambda r: r.short_description,
        "requested_by": lambda r: users[r.requested_by_index].sys_id,
        "opened_by": lambda r: users[r.requested_by_index].sys_id,
        "closed_by": lambda r: users[r.requested_by_index].sys_id if r.closed_s else "",
        "active": lambda r: _flag(r.closed_s is None),
        "approval": lambda r: "approved",
        "task_effective_number": lambda r: r.number,
        "sys_class_name": lambda r: "change_request",
        "phase": lambda r: "requested",
        "phase_state": lambda r: "open",
        "category": lambda r: "Software",
        "production_system": lambda r: "true",
        "reassignment_count": lambda r: "0",
        "scope": lambda r: "3",
        "conflict_status": lambda r: "Not Run",
        "ci_class": lambda r: "cmdb_ci_appl",
        "contact_type": lambda r: "self-service",
        "variables": lambda r: "variable_pool",
        "implementation_plan": lambda r: "Sync the release with the deployment pipeline",
        "backout_plan": lambda r: "Roll back to the previous revision",
        "test_plan": lambda r: "Smoke tests and error-rate watch for 30 minutes",
    }
    change_constants = {
        **task_constants,
        "is_bulk": "false",
        "cab_required": "false",
        "on_hold": "false",
        "unauthorized": "false",
        "outside_maintenance_schedule": "false",
        "made_sla": "true",
    }

    problem_getters: dict[str, Getter] = {
        "number": lambda r: r.number,
        "sys_id": lambda r: r.sys_id,
        "state": lambda r: str(r.state),
        "problem_state": lambda r: str(r.state),
        "priority": lambda r: str(r.priority),
        "opened_at": lambda r: sn_datetime(r.opened_s),
        "closed_at": lambda r: sn_datetime(r.closed_s),
        "sys_created_on": lambda r: sn_datetime(r.opened_s),
        "sys_updated_on": lambda r: sn_datetime(r.updated_s),
        "sys_mod_count": lambda r: str(1 + (r.closed_s is not None)),
        "cmdb_ci": lambda r: r.ci_sys_id,
        "assignment_group": lambda r: r.assignment_group_sys_id,
        "known_error": lambda r: _flag(r.known_error),
        "short_description": lambda r: r.short_description,
        "description": lambda r: r.short_description,
        "active": lambda r: _flag(r.closed_s is None),
        "made_sla": lambda r: "true",
        "related_incidents": lambda r: str(len(r.incident_numbers)),
        "close_notes": lambda r: "Root cause fixed" if r.closed_s else "",
        "business_duration": lambda r: sn_duration(r.closed_s - r.opened_s) if r.closed_s else "",
        "calendar_duration": lambda r: sn_duration(r.closed_s - r.opened_s) if r.closed_s else "",
        "sys_class_name": lambda r: "problem",
        "contact_type": lambda r: "monitoring",
    }

    def sla_left(r: TaskSla) -> str:
        return sn_duration(max(0, r.planned_end_s - (r.end_s or estate.end_s)))

    sla_getters: dict[str, Getter] = {
        "sys_id": lambda r: r.sys_id,
        "task": lambda r: r.incident_sys_id,
        "sla": lambda r: r.definition.sys_id,
        "stage": lambda r: r.stage,
        "has_breached": lambda r: _flag(r.has_breached),
        "start_time": lambda r: sn_datetime(r.start_s),
        "end_time": lambda r: sn_datetime(r.end_s),
        "planned_end_time": lambda r: sn_datetime(r.planned_end_s),
        "original_breach_time": lambda r: sn_datetime(r.planned_end_s),
        "percentage": lambda r: f"{r.percentage:.2f}",
        "business_percentage": lambda r: f"{r.percentage:.2f}",
        "duration": lambda r: sn_duration(r.elapsed_s),
        "business_duration": lambda r: sn_duration(r.elapsed_s),
        "time_left": sla_left,
        "business_time_left": sla_left,
        "pause_duration": lambda r: sn_duration(0),
        "business_pause_duration": lambda r: sn_duration(0),
        "active": lambda r: _flag(r.stage == "in_progress"),
        "sys_created_on": lambda r: sn_datetime(r.start_s),
        "sys_updated_on": lambda r: sn_datetime(r.updated_s),
        "sys_mod_count": lambda r: "1" if r.stage == "in_progress" else "2",
    }
    sla_constants = {"schedule": "", "timezone": "UTC", "sys_created_by": "system", "sys_updated_by": "system"}

    cis: list[dict[str, str]] = []
    created = sn_datetime(estate.start_s - 400 * 86400)
    for app in estate.applications:
        group = hashing.sys_id(estate.seed, "group", app.team)
        cis.append(
            {
                "sys_id": app.ci_sys_id,
                "name": app.ci_name,
                "sys_class_name": "cmdb_ci_business_app",
                "short_description": f"Business application {app.title}",
                "category": "Business Application",
                "support_group": group,
                "managed_by_group": group,
            }
        )
        for comp in app.components:
            cis.append(
                {
                    "sys_id": comp.ci_sys_id,
                    "name": comp.ci_name,
                    "sys_class_name": "cmdb_ci_appl",
                    "short_description": f"Microservice {comp.name} of {app.title}",
                    "category": "Software",
                    "support_group": group,
                    "managed_by_group": group,
                }
            )
    ci_constants = {
        "operational_status": "1",
        "install_status": "1",
        "environment": "Production",
        "used_for": "Production",
        "sys_domain": "global",
        "sys_created_on": created,
        "sys_updated_on": created,
        "sys_created_by": "discovery",
        "sys_updated_by": "discovery",
        "sys_mod_count": "3",
    }

    def dict_getters(names: list[str]) -> dict[str, Getter]:
        def getter(name: str) -> Getter:
            return lambda record: str(record.get(name, ""))

        return {n: getter(n) for n in names}

    groups = [
        {
            "sys_id": g.sys_id,
            "name": g.name,
            "description": g.title,
            "type": "",
            "parent": hashing.sys_id(estate.seed, "group", g.parent) if g.parent else "",
            "email": f"{g.name}@example.org",
            "manager": next((u.sys_id for u in users if g.members and u.username == g.members[0]), ""),
        }
        for g in estate.groups
    ]
    groups.append(
        {
            "sys_id": hashing.sys_id(estate.seed, "group", "Service Desk"),
            "name": "Service Desk",
            "description": "First line support",
            "type": "",
            "parent": "",
            "email": "servicedesk@example.org",
            "manager": "",
        }
    )
    departments = [{"sys_id": hashing.sys_id(estate.seed, "department", "IT"), "name": "IT"}]
    user_rows = [
        {
            "sys_id": u.sys_id,
            "user_name": u.username,
            "name": u.name,
            "first_name": u.name.split()[0],
            "last_name": u.name.split()[-1],
            "email": u.email,
            "department": departments[0]["sys_id"],
        }
        for u in users
    ]
    roles = [
        {"sys_id": hashing.sys_id(estate.seed, "role", name), "name": name, "description": name}
        for name in ("itil", "sn_change_write", "problem_manager")
    ]
    has_roles = [
        {
            "sys_id": hashing.sys_id(estate.seed, "has_role", u["sys_id"], r["sys_id"]),
            "user": u["sys_id"],
            "role": r["sys_id"],
        }
        for u in user_rows
        for r in roles[: 1 + hashing.int_hash(len(u["user_name"])) % 2]
    ]
    contract_slas = [
        {
            "sys_id": d.sys_id,
            "name": d.name,
            "type": "SLA",
            "target": d.kind,
            "duration": sn_duration(d.target_s),
            "collection": "incident",
        }
        for d in estate.sla_definitions
    ]
    user_constants = {"active": "true", "sys_created_on": created, "sys_updated_on": created}

    def table(
        name: str,
        label: str,
        fields: list[str],
        rows: Sequence[Any],
        getters: dict[str, Getter],
        constants: dict[str, str],
        display: Callable[[Any], str],
        class_name: Callable[[Any], str] | None = None,
    ) -> Table:
        sys_id: Callable[[Any], str] = getters["sys_id"]
        return Table(name, label, fields, rows, getters, constants, sys_id, display, class_name)

    # Fields the records do not carry (sys_updated_on, ...) come from the constants, not from an empty getter.
    ci_getters = dict_getters([f for f in CI_FIELDS if f not in ci_constants])
    business_apps = [c for c in cis if c["sys_class_name"] == "cmdb_ci_business_app"]
    tables = [
        table(
            "incident",
            "Incident",
            INCIDENT_FIELDS,
            estate.incidents,
            incident_getters,
            task_constants,
            lambda r: r.number,
        ),
        table(
            "change_request",
            "Change Request",
            CHANGE_FIELDS,
            estate.changes,
            change_getters,
            change_constants,
            lambda r: r.number,
        ),
        table(
            "problem", "Problem", PROBLEM_FIELDS, estate.problems, problem_getters, task_constants, lambda r: r.number
        ),
        table(
            "task_sla",
            "Task SLA",
            TASK_SLA_FIELDS,
            estate.task_slas,
            sla_getters,
            sla_constants,
            lambda r: r.definition.name,
        ),
        table("cmdb_ci", "Configuration Item", CI_FIELDS, cis, ci_getters, ci_constants, lambda r: r["name"]),
        table(
            "cmdb_ci_business_app",
            "Business Application",
            CI_FIELDS,
            business_apps,
            ci_getters,
            ci_constants,
            lambda r: r["name"],
        ),
        table(
            "cmdb_ci_service",
            "Business Service",
            CI_FIELDS,
            business_apps,
            ci_getters,
            ci_constants,
            lambda r: r["name"],
        ),
        table(
            "cmdb_ci_appl",
            "Application",
            CI_FIELDS,
            [c for c in cis if c["sys_class_name"] == "cmdb_ci_appl"],
            ci_getters,
            ci_constants,
            lambda r: r["name"],
        ),
        table(
            "sys_user_group",
            "Group",
            GROUP_FIELDS,
            groups,
            dict_getters(GROUP_FIELDS),
            user_constants,
            lambda r: r["name"],
        ),
        table(
            "sys_user", "User", USER_FIELDS, user_rows, dict_getters(USER_FIELDS), user_constants, lambda r: r["name"]
        ),
        table("sys_user_role", "Role", ROLE_FIELDS, roles, dict_getters(ROLE_FIELDS), {}, lambda r: r["name"]),
        table(
            "sys_user_has_role",
            "User Role",
            HAS_ROLE_FIELDS,
            has_roles,
            dict_getters(HAS_ROLE_FIELDS),
            {"state": "active", "inherited": "false"},
            lambda r: r["sys_id"],
        ),
        table(
            "cmn_department",
            "Department",
            DEPARTMENT_FIELDS,
            departments,
            dict_getters(DEPARTMENT_FIELDS),
            {},
            lambda r: r["name"],
        ),
        table(
            "contract_sla",
            "SLA Definition",
            CONTRACT_SLA_FIELDS,
            contract_slas,
            dict_getters(CONTRACT_SLA_FIELDS),
            {"active": "true"},
            lambda r: r["name"],
        ),
    ]
    return {t.name: t for t in tables}
