"""Entity ids: plain ids or Backstage refs (`component:default/payments-api`), resolved through the mapping."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from functions.api.problems import Problem, invalid, not_found, too_long
from lakehouse.mappings import MappingEntry

NAME = re.compile(r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$")
REF = re.compile(
    r"^(?:(?P<kind>[a-z][a-z0-9-]{0,62}):)?(?:(?P<namespace>[a-z0-9][a-z0-9._-]{0,62})/)?(?P<name>[^:/]+)$"
)
# Backstage kinds and what they are here: a System is an application, a Component a component.
KINDS = {"component": "component", "system": "application", "application": "application"}
# The longest id or ref taken, in a path, a query or a body: a Backstage ref is at most 255 characters.
MAX_REF = 255


@dataclass(frozen=True)
class EntityRef:
    kind: str | None  # "application", "component" or None for a plain id
    name: str
    # The Backstage namespace a ref names (`default` when it gives a kind but none, as Backstage reads it); None for
    # a plain id, the mapping's own name for an entity.
    namespace: str | None = None
    text: str = ""


def parse_ref(text: str, parameter: str, location: str = "query") -> EntityRef:
    """`payments-api`, `component:payments-api`, `component:default/payments-api`, `system:default/payments`, given
    as `parameter` in the query or the path (`location`)."""
    value = text.strip().lower()
    if len(value) > MAX_REF:
        raise invalid(parameter, too_long(parameter, MAX_REF), location=location)
    match = REF.match(value)
    if not match or not NAME.match(match.group("name")):
        raise invalid(
            parameter,
            f"{parameter} is not an entity id or ref like payments-api or component:default/payments-api",
            location=location,
        )
    kind = match.group("kind")
    if kind is not None and kind not in KINDS:
        raise invalid(parameter, f"entity kind {kind!r} is not served here", sorted(KINDS), location=location)
    namespace = match.group("namespace") or ("default" if kind else None)
    return EntityRef(KINDS[kind] if kind else None, match.group("name"), namespace, value)


def _ci_keys(entry: MappingEntry) -> list[tuple[str, str]]:
    """The entry's ServiceNow CI pivots, as the build matches them: by id, by name."""
    keys = [("id", entry.servicenow_ci_id)] if entry.servicenow_ci_id else []
    return keys + ([("name", entry.cmdb_ci_name)] if entry.cmdb_ci_name else [])


@dataclass
class Directory:
    """The mapping's entities by id, for resolving refs and finding pivots (one entry per environment)."""

    version: int = 0
    entries: dict[str, list[MappingEntry]] = field(default_factory=dict)
    # The estate's production environment (ROSETTA_PRODUCTION_ENVIRONMENT): what a request naming none reads.
    production: str = "production"

    @classmethod
    def of(cls, version: int, entries: Iterable[MappingEntry], production: str = "production") -> Directory:
        out: dict[str, list[MappingEntry]] = {}
        for e in entries:
            out.setdefault(e.entity_id, []).append(e)
        return cls(version, out, production)

    def kind_of(self, entity_id: str) -> str | None:
        found = self.entries.get(entity_id)
        return found[0].kind if found else None

    def _check_namespace(self, ref: EntityRef, what: str) -> None:
        """A ref names the entity of its namespace: team-b's checkout is not the checkout mapped in team-a."""
        found = self.entries.get(ref.name)
        if ref.namespace is None or not found or found[0].namespace == ref.namespace:
            return
        raise Problem(
            404,
            f"no {what} {ref.text!r} in the mapping ({ref.name} is mapped in namespace {found[0].namespace}; "
            f"if that is this entity, set namespace: {ref.namespace} on its mapping entries)",
            title=f"Unknown {what}",
        )

    def entry(self, entity_id: str, environment: str) -> MappingEntry | None:
        found = self.entries.get(entity_id, [])
        return next((e for e in found if e.environment == environment), None)

    def entry_or_production(self, entity_id: str, environment: str) -> MappingEntry | None:
        """The entity's entry in the environment, else its production one."""
        return self.entry(entity_id, environment) or self.entry(entity_id, self.production)

    def entry_anywhere(self, entity_id: str, environment: str) -> MappingEntry | None:
        """The entity's entry in the environment, else its production one, else its first: an application mapped
        only in staging is still the application of its components mapped in production."""
        found = self.entries.get(entity_id, [])
        return self.entry_or_production(entity_id, environment) or (found[0] if found else None)

    @cached_property
    def environments(self) -> list[str]:
        """The environments the mapping's entries are in, sorted (found once: every request checks its own)."""
        return sorted({e.environment for found in self.entries.values() for e in found})

    def resolve_environment(self, environment: str | None) -> str:
        """The environment a request reads: the one it names, compared without case (mapping environments are
        lower case: PRODUCTION is production), else production. A 404 for an environment no entry is mapped in: a
        typo (prod for production) would otherwise answer empty lists and reports, as if the estate had no data
        there."""
        if not environment:
            return self.production
        named = environment.lower()
        mapped = self.environments
        if mapped and named not in mapped:
            raise Problem(
                404,
                f"no entity is mapped in environment {environment!r}; the mapping's environments are "
                f"{', '.join(mapped)}",
                title="Unknown environment",
            )
        return named

    def maps_in(self, app_id: str, environment: str) -> bool:
        """Whether the application (or a component mapped without one) is mapped in the environment: on its own entry,
        or on one of its components' (the build gives it rows in every environment a component of it is in)."""
        return self.entry(app_id, environment) is not None or bool(self.components_of(app_id, environment))

    def names_level(self, level: str, level_id: str) -> bool:
        """Whether an entry, in any environment, has `level_id` as its team, group or domain (`level`)."""
        return any(getattr(e, level) == level_id for found in self.entries.values() for e in found)

    @cached_property
    def _components(self) -> dict[str, list[MappingEntry]]:
        """The component entries by application, found once: a page looks its entity's components up several times,
        and scanning every entry each time grows with the estate."""
        found: dict[str, list[MappingEntry]] = {}
        for group in self.entries.values():
            for e in group:
                if e.kind == "component" and e.application_id is not None:
                    found.setdefault(e.application_id, []).append(e)
        return found

    @cached_property
    def _ci_owners(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Each CI id and name the mapping names, with the entry (entity, environment) the build gives its records to
        (the SQL macro servicenow_owner, which stg_incidents and stg_changes apply): production's first, then the
        first entity, then the first environment by name. Found once."""
        owners: dict[tuple[str, str], tuple[bool, str, str]] = {}
        for found in self.entries.values():
            for e in found:
                rank = (e.environment != self.production, e.entity_id, e.environment)
                for key in _ci_keys(e):
                    owners[key] = min(owners.get(key, rank), rank)
        return {key: (entity, environment) for key, (_, entity, environment) in owners.items()}

    def ties_servicenow_ci(self, entry: MappingEntry) -> bool:
        """Whether incidents and change requests can be attributed through the entry: it names a CI id or name the
        build gives to it (see _ci_owners). A CI mapped in several environments goes to one entry: the others, their
        CIs all given elsewhere, would read 0 incidents whatever the CI has."""
        owners = self._ci_owners
        return any(owners[key] == (entry.entity_id, entry.environment) for key in _ci_keys(entry))

    def components_of(self, app_id: str, environment: str | None = None) -> list[MappingEntry]:
        return [e for e in self._components.get(app_id, []) if environment is None or e.environment == environment]

    def servicenow_applications(self, environment: str) -> list[str]:
        """The applications whose incidents and change requests can be found in the environment: tied to a
        ServiceNow CI there, on their own entry or one of their components'. A component without an application is
        its own, as the build attributes its records (refs.entities_table)."""
        tied = {
            e.application_id or e.entity_id
            for found in self.entries.values()
            for e in found
            if e.environment == environment and self.ties_servicenow_ci(e)
        }
        return sorted(tied)

    def application_of(self, component_id: str) -> str:
        found = self.entries.get(component_id, [])
        return next((e.application_id for e in found if e.application_id), component_id)

    def resolve_application(self, text: str) -> str:
        """An application id; a component (or its ref) stands for its application."""
        ref = parse_ref(text, "app_id", "path")
        self._check_namespace(ref, "application")
        kind = self.kind_of(ref.name)
        if kind is None or (ref.kind == "application" and kind != "application"):
            raise Problem(404, f"no application {ref.name!r} in the mapping", title="Unknown application")
        if kind == "component":
            if ref.kind == "application":
                raise Problem(404, f"{ref.name!r} is a component, not an application", title="Unknown application")
            return self.application_of(ref.name)
        return ref.name

    def resolve_application_only(self, text: str, parameter: str) -> str:
        """An application id from an id or ref given as `parameter`. A component is not one (a 404), unless it is
        mapped without an application: it is then its own, as the build counts it and the application routes take
        it (resolve_application), so its report rows are found by its id or its component ref."""
        ref = parse_ref(text, parameter)
        self._check_namespace(ref, "application")
        kind = self.kind_of(ref.name)
        if kind == "component" and ref.kind != "application" and self.application_of(ref.name) == ref.name:
            return ref.name
        if ref.kind == "component" or kind != "application":
            raise not_found("application", ref.name)
        return ref.name

    def resolve_component(self, text: str) -> tuple[str, str]:
        """(component id, its application id)."""
        ref = parse_ref(text, "component_id", "path")
        self._check_namespace(ref, "component")
        kind = self.kind_of(ref.name)
        if kind != "component" or ref.kind == "application":
            hint = " (it is an application: use /monitoring/applications/...)" if kind == "application" else ""
            raise Problem(404, f"no component {ref.name!r} in the mapping{hint}", title="Unknown component")
        return ref.name, self.application_of(ref.name)
