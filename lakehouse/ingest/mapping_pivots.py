"""Which source objects to fetch, read from the current mapping's pivots."""

from __future__ import annotations

import re

from lakehouse.ingest.errors import NoMappingError
from lakehouse.mappings import MappingEntry, MappingStore, selector_entity_ids
from lakehouse.storage import Lake

# Selectors that only list service ids can be merged into a few batched selectors.
_ENTITY_IDS_ONLY = re.compile(r'^(type\(\s*"?SERVICE"?\s*\)\s*,\s*)?entityId\([^()]*\)$')


def current_entries(lake: Lake) -> tuple[MappingEntry, ...]:
    current = MappingStore(lake).current()
    if current is None or not current.entries:
        raise NoMappingError()
    return current.entries


def dynatrace_service_selectors(entries: tuple[MappingEntry, ...], batch: int) -> list[str]:
    """entitySelectors covering every mapped service: plain entityId lists merged in batches, others as given,
    and a tag selector for entries that only name a tag."""
    ids: list[str] = []
    others: list[str] = []
    for e in entries:
        selector = e.dynatrace_entity_selector
        if selector:
            if _ENTITY_IDS_ONLY.match(selector.strip()):
                ids.extend(selector_entity_ids(selector))
            else:
                others.append(selector)
        elif e.dynatrace_tag:
            others.append(f'type(SERVICE),tag("{e.dynatrace_tag}")')
    unique_ids = sorted(set(ids))
    batches = [unique_ids[i : i + batch] for i in range(0, len(unique_ids), batch)]
    merged = ["type(SERVICE),entityId(" + ",".join(f'"{i}"' for i in b) + ")" for b in batches]
    return merged + sorted(set(others))


def argocd_apps(entries: tuple[MappingEntry, ...]) -> dict[str, str | None]:
    """Mapped ArgoCD application names -> the namespace the mapping gives (None: ArgoCD's own, see the parser).
    The mapping names an application once, so each name has one namespace."""
    return {e.argocd_app_name: e.argocd_app_namespace for e in entries if e.argocd_app_name}


def gitlab_projects(entries: tuple[MappingEntry, ...]) -> list[int]:
    return sorted({e.gitlab_project_id for e in entries if e.gitlab_project_id})


def elasticsearch_indices(entries: tuple[MappingEntry, ...]) -> list[str]:
    return sorted({e.elisa_index for e in entries if e.elisa_index})
