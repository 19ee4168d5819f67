"""Reference tables the SQL joins on: entities with their hierarchy, and one row per source pivot.

The mapping's pivots are flattened here (an entity selector becomes its entity ids) so the SQL only does
equality joins: `ref_pivots(pivot_kind, value, entity_id, environment)`.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

from lakehouse.mappings import MappingEntry, selector_entity_ids, selector_tags, selector_zones

ENTITIES_SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("environment", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("app_id", pa.string()),
        ("component_id", pa.string()),
        ("team", pa.string()),
        ("group_id", pa.string()),
        ("domain", pa.string()),
        ("kibana_query", pa.string()),
        ("elisa_index", pa.string()),
        # An application's SLO targets where its mapping sets them, on its components too (else null: the build's
        # defaults apply).
        ("availability_target", pa.float64()),
        ("latency_p95_threshold_ms", pa.float64()),
        ("latency_p99_threshold_ms", pa.float64()),
        ("latency_target", pa.float64()),
    ]
)
PIVOTS_SCHEMA = pa.schema(
    [("pivot_kind", pa.string()), ("value", pa.string()), ("entity_id", pa.string()), ("environment", pa.string())]
)


class RefTables(NamedTuple):
    """The mapping as the SQL joins on it, made once per build."""

    entities: pa.Table
    pivots: pa.Table


def ref_tables(entries: tuple[MappingEntry, ...] | list[MappingEntry], production_environment: str) -> RefTables:
    return RefTables(entities_table(entries, production_environment), pivots_table(entries))


def entities_table(entries: tuple[MappingEntry, ...] | list[MappingEntry], production_environment: str) -> pa.Table:
    """One row per entity and environment; a component inherits team, group and domain from its application. An
    application's SLO targets are its entry's, else its production entry's (targets are the application's in every
    environment unless an environment sets its own; without a production entry, the build's defaults, never another
    environment's); a component carries its application's production targets."""
    production = {
        e.entity_id: e for e in entries if e.kind == "application" and e.environment == production_environment
    }
    apps = production | {e.entity_id: e for e in entries if e.kind == "application" and e.entity_id not in production}
    rows = []
    for e in entries:
        app_id = e.entity_id if e.kind == "application" else (e.application_id or e.entity_id)
        parent = apps.get(app_id)
        rows.append(
            {
                "entity_id": e.entity_id,
                "environment": e.environment,
                "kind": e.kind,
                "name": e.name or (parent.name if parent and e.kind == "application" else None) or e.entity_id,
                "app_id": app_id,
                "component_id": e.entity_id if e.kind == "component" else None,
                "team": e.team or (parent.team if parent else None),
                "group_id": e.group or (parent.group if parent else None),
                "domain": e.domain or (parent.domain if parent else None),
                "kibana_query": e.kibana_query(),
                "elisa_index": e.elisa_index,
                **_slo_targets(e, production.get(app_id)),
            }
        )
    return pa.Table.from_pylist(rows, schema=ENTITIES_SCHEMA)


def _slo_targets(e: MappingEntry, production: MappingEntry | None) -> dict[str, float | None]:
    # A component carries its application's production targets: where only components are mapped, the application
    # is held to them too. Only production's are the application's everywhere: staging's targets are staging's.
    own = e if e.kind == "application" else None

    def target(field: str) -> float | None:
        value = getattr(own, field) if own else None
        return value if value is not None else (getattr(production, field) if production else None)

    return {
        "availability_target": target("slo_availability_target"),
        "latency_p95_threshold_ms": target("slo_latency_p95_ms"),
        "latency_p99_threshold_ms": target("slo_latency_p99_ms"),
        "latency_target": target("slo_latency_target"),
    }


def pivots_table(entries: tuple[MappingEntry, ...] | list[MappingEntry]) -> pa.Table:
    rows: list[dict[str, str]] = []

    def add(pivot: str, value: object, e: MappingEntry) -> None:
        rows.append({"pivot_kind": pivot, "value": str(value), "entity_id": e.entity_id, "environment": e.environment})

    for e in entries:
        entity_ids = selector_entity_ids(e.dynatrace_entity_selector or "")
        for entity in entity_ids:
            add("dynatrace_entity", entity, e)
        # Tags and management zones only identify services when the entry names none: an application tag
        # shared by its components (and by their staging twins) must not pull every tagged service into one
        # entity. They are criteria a service must meet all of, as Dynatrace reads a selector: the selector's
        # own, or else the entry's tag pivot (ingestion fetches by the selector when there is one).
        if not entity_ids:
            selector = e.dynatrace_entity_selector or ""
            tags, zones = set(selector_tags(selector)), set(selector_zones(selector))
            if not tags and not zones and e.dynatrace_tag:
                tags = {e.dynatrace_tag}
            for tag in sorted(tags):
                add("dynatrace_tag", tag, e)
            for zone in sorted(zones):
                add("dynatrace_zone", zone, e)
        if e.servicenow_ci_id:
            add("servicenow_ci", e.servicenow_ci_id, e)
        if e.cmdb_ci_name:
            add("servicenow_ci_name", e.cmdb_ci_name, e)
        if e.argocd_app_name:
            add("argocd_app", e.argocd_app_name, e)
        if e.gitlab_project_id:
            add("gitlab_project", e.gitlab_project_id, e)
        if e.elisa_index:
            # Log lines carry service.name = the entity's id (the query template's {component}): a component's, or
            # an application's mapped directly.
            add("elisa_service", f"{e.elisa_index}|{e.entity_id}", e)
    return pa.Table.from_pylist(rows, schema=PIVOTS_SCHEMA)
