"""Which source objects to fetch, read from the current mapping's pivots."""

from __future__ import annotations

from collections.abc import Iterable

from lakehouse.ingest.errors import NoMappingError
from lakehouse.mappings import (
    ENTITY_IDS_ONLY,
    MAX_SELECTOR_CHARS,
    MappingEntry,
    MappingStore,
    selector_entity_ids,
    selector_tags,
    selector_zones,
)
from lakehouse.storage import Lake


def current_entries(lake: Lake) -> tuple[MappingEntry, ...]:
    current = MappingStore(lake).current()
    if current is None or not current.entries:
        raise NoMappingError()
    return current.entries


def dynatrace_service_selectors(entries: tuple[MappingEntry, ...], batch: int) -> list[str]:
    """entitySelectors covering every mapped service: plain entityId lists (ENTITY_IDS_ONLY) merged in batches, each
    within MAX_SELECTOR_CHARS (73 service ids, 46 process instances), others as given, and a tag selector for
    entries that only name a tag."""
    ids: list[str] = []
    others: list[str] = []
    for e in entries:
        selector = e.dynatrace_entity_selector
        if selector:
            if ENTITY_IDS_ONLY.match(selector.strip()):
                ids.extend(selector_entity_ids(selector))
            else:
                others.append(selector)
        elif e.dynatrace_tag:
            # A tilde in the tag is written ~~, as Dynatrace reads one inside quotes (a quote is refused).
            others.append(f'type(SERVICE),tag("{e.dynatrace_tag.replace("~", "~~")}")')
    return entity_id_selectors("SERVICE", sorted(set(ids)), batch) + sorted(set(others))


def dynatrace_found_by_topology(entries: tuple[MappingEntry, ...]) -> bool:
    """Whether an entry finds its services by tag or management zone rather than by id: the build gives it a
    service by the tags and zones of the service's listing (dynatrace/entities), which must then be kept."""
    for e in entries:
        selector = e.dynatrace_entity_selector
        if selector and (selector_tags(selector) or selector_zones(selector)):
            return True
        if e.dynatrace_tag and not (selector and selector_entity_ids(selector)):
            return True
    return False


def entity_id_selectors(entity_type: str, ids: Iterable[str], batch: int) -> list[str]:
    """`type(<entity_type>),entityId("a","b",...)` selectors covering `ids`, each naming at most `batch` of them in at
    most MAX_SELECTOR_CHARS characters."""
    head, tail = f"type({entity_type}),entityId(", ")"
    selectors: list[str] = []
    quoted: list[str] = []
    length = 0
    for entity_id in ids:
        item = f'"{entity_id}"'
        if quoted and (len(quoted) == batch or length + 1 + len(item) > MAX_SELECTOR_CHARS):
            selectors.append(head + ",".join(quoted) + tail)
            quoted = []
        length = (length + 1 if quoted else len(head) + len(tail)) + len(item)
        quoted.append(item)
    if quoted:
        selectors.append(head + ",".join(quoted) + tail)
    return selectors


def argocd_apps(entries: tuple[MappingEntry, ...]) -> dict[str, str | None]:
    """Mapped ArgoCD application names -> the namespace the mapping gives (None: ArgoCD's own, see the parser).
    The mapping names an application once, so each name has one namespace."""
    return {e.argocd_app_name: e.argocd_app_namespace for e in entries if e.argocd_app_name}


def gitlab_projects(entries: tuple[MappingEntry, ...]) -> list[int]:
    return sorted({e.gitlab_project_id for e in entries if e.gitlab_project_id})


def elasticsearch_indices(entries: tuple[MappingEntry, ...]) -> list[str]:
    return sorted({e.elisa_index for e in entries if e.elisa_index})
