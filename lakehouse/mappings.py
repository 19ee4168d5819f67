"""The mapping table: each Rosetta entity (application or component, per environment) and its source pivots.

Raw data keeps the sources' own ids; the mapping turns them into entities when aggregates are built, so
correcting a mapping re-attributes history. Entries come from YAML/CSV files, from Backstage
`catalog-info.yaml` annotations, or from the admin API, and every change is kept as a new version.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from lakehouse.errors import ConcurrentWriteError, MappingValidationError, RosettaError
from lakehouse.objectstore import ABSENT, PreconditionFailed
from lakehouse.schemas import UTC_MS, Column
from lakehouse.storage import Lake

SLUG = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
SYS_ID = re.compile(r"^[0-9a-f]{32}$")
K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
K8S_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# A GitLab project's path with its namespace (path_with_namespace): group[/subgroup...]/project, each part letters,
# digits, '_', '-' and '.', not starting with '-' or '.'.
GITLAB_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$")
# Elasticsearch's multi-target syntax: patterns joined by commas, any after the first may exclude (-logs-debug-*).
INDEX_PATTERN = re.compile(r"^[a-z0-9*][a-z0-9*._:-]*(,-?[a-z0-9*][a-z0-9*._:-]*)*$")
SELECTOR_PART = re.compile(
    r"^(type|entityId|tag|mzId|mzName|entityName(\.\w+)*|healthState|"
    r"(from|to)Relationships?\.\w+|databaseName|not)\(.*\)$"
)
# The criteria a selector may hold, as an error names them. Not not(...), which Dynatrace reads: the build finds an
# entry's services by its entityId, tag and mzName criteria alone, so the services not(...) leaves out would be
# given to the entry all the same.
SELECTOR_FORMS = (
    "type, entityId, tag, mzId, mzName, entityName, healthState, databaseName, fromRelationships, toRelationships"
)
# An entity id as Dynatrace writes it, e.g. SERVICE-1234ABCD5678EF90: ids are matched exactly, so a lower-case or
# space-padded one would never match the id of the service's metrics.
DYNATRACE_ID = re.compile(r"^[A-Z][A-Z0-9_]*-[0-9A-Z_-]+$")
# Dynatrace refuses a longer entitySelector (400 Constraints violated). Ingestion sends a selector as the mapping
# gives it, unless it only lists services by id: those it merges and splits into selectors of its own.
MAX_SELECTOR_CHARS = 2000
ENTITY_IDS_ONLY = re.compile(r'^(type\(\s*"?SERVICE"?\s*\)\s*,\s*)?entityId\([^()]*\)$')
# Matched against a whole criterion: a quoted argument may hold parentheses, mzName("Payments (EU)").
ENTITY_ID_CALL = re.compile(r"entityId\((.*)\)")
TAG_CALL = re.compile(r"tag\((.*)\)")
ZONE_CALL = re.compile(r"mzName\((.*)\)")
QUOTED_ARGUMENT = re.compile(r'"((?:[^"~]|~.)*)"')
# Inside a quoted argument Dynatrace escapes a quote or a tilde with a tilde: ~" is ", ~~ is ~.
TILDE_ESCAPE = re.compile(r"~(.)")
TEMPLATE_FIELDS = {"entity", "component", "application", "environment", "name"}

# The pivots as the design note names them, and the field each fills.
PIVOT_ALIASES = {
    "dynatrace.entitySelector": "dynatrace_entity_selector",
    "dynatrace.tag": "dynatrace_tag",
    "servicenow.ciId": "servicenow_ci_id",
    "cmdb.ciName": "cmdb_ci_name",
    "argocd.appName": "argocd_app_name",
    "argocd.appNamespace": "argocd_app_namespace",
    "gitlab.projectId": "gitlab_project_id",
    "gitlab.projectSlug": "gitlab_project_slug",
    "elisa.index": "elisa_index",
    "kibana.queryTemplate": "kibana_query_template",
}
PIVOTS = tuple(PIVOT_ALIASES.values())
# The highest availability target: its error budget, 1e-12 of the requests, is the smallest the build computes.
MOST_NINES = 0.999999999999
SLO_FIELDS = ("slo_availability_target", "slo_latency_p95_ms", "slo_latency_p99_ms", "slo_latency_target")
# Backstage annotations of a System that set its SLO targets.
SLO_ANNOTATIONS = {
    "rosetta.io/slo-availability-target": "slo_availability_target",
    "rosetta.io/slo-latency-p95-ms": "slo_latency_p95_ms",
    "rosetta.io/slo-latency-p99-ms": "slo_latency_p99_ms",
    "rosetta.io/slo-latency-target": "slo_latency_target",
}
# Pivots that identify one entity per environment: two entities claiming one value would make attribution
# ambiguous. Tags and index patterns may be shared (an application tag on all its components).
UNIQUE_PIVOTS = (
    "dynatrace_entity_selector",
    "servicenow_ci_id",
    "cmdb_ci_name",
    "argocd_app_name",
    "gitlab_project_id",
    "gitlab_project_slug",
)


class MappingEntry(BaseModel):
    """One entity in one environment and the ids that find it in each source."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    entity_id: str = Field(pattern=SLUG, description="Backstage-style name, e.g. payments-api")
    kind: Literal["application", "component"]
    name: str | None = None
    application_id: str | None = Field(
        default=None, pattern=SLUG, description="Parent application of a component, the same in every environment"
    )
    team: str | None = Field(default=None, pattern=SLUG)
    group: str | None = Field(default=None, pattern=SLUG)
    domain: str | None = Field(default=None, pattern=SLUG)
    environment: str = Field(default="production", pattern=SLUG)
    namespace: str = Field(
        default="default",
        pattern=SLUG,
        description="Backstage namespace of the entity (its metadata.namespace), the same in every environment",
    )
    dynatrace_entity_selector: str | None = None
    dynatrace_tag: str | None = None
    servicenow_ci_id: str | None = None
    cmdb_ci_name: str | None = None
    argocd_app_name: str | None = None
    argocd_app_namespace: str | None = Field(
        default=None,
        description="Namespace of the ArgoCD application (its metadata.namespace), for an application outside "
        "ArgoCD's own namespace that shares its name with another; unset, the one in ArgoCD's own namespace, else "
        "the only one of that name",
    )
    # Stored as a 64-bit integer: a larger id could not be written.
    gitlab_project_id: int | None = Field(default=None, gt=0, le=2**63 - 1)
    # Ingestion asks GitLab the id of the project at this path (GET /projects/<encoded path>) and records the answer
    # (raw gitlab/project_paths), which the build joins on: the sources' rows stay keyed by the id.
    gitlab_project_slug: str | None = Field(
        default=None,
        description="GitLab project path with its namespace (Backstage's gitlab.com/project-slug), e.g. "
        "group/subgroup/project, for an entity mapped without gitlab_project_id (given both, the id is kept)",
    )
    elisa_index: str | None = None
    kibana_query_template: str | None = None
    # SLO targets of an application; the build's defaults where not set.
    slo_availability_target: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="Availability SLO target of an application, e.g. 0.999",
    )
    slo_latency_p95_ms: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Latency SLO: an hour is good when its p95 is at or under this many ms",
    )
    slo_latency_p99_ms: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="Latency SLO: an hour is good when its p99 is at or under this many ms",
    )
    slo_latency_target: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Latency SLO target: the share of good hours, e.g. 0.95",
    )

    @property
    def key(self) -> tuple[str, str]:
        return (self.entity_id, self.environment)

    @model_validator(mode="before")
    @classmethod
    def _gitlab_id_over_path(cls, data: Any) -> Any:
        # The id names the project for good, a path only until the project is renamed or transferred: given both
        # (a Backstage catalog often is), the id is kept and the path left out, so one value names the project.
        if (
            isinstance(data, Mapping)
            and _given(data.get("gitlab_project_id"))
            and _given(data.get("gitlab_project_slug"))
        ):
            return {**data, "gitlab_project_slug": None}
        return data

    @model_validator(mode="after")
    def _slo_targets_are_an_applications(self) -> MappingEntry:
        if self.kind == "component" and any(getattr(self, name) is not None for name in SLO_FIELDS):
            raise ValueError("SLO targets are an application's: set them on the application's entry")
        return self

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any, info: ValidationInfo) -> Any:
        blank = value is None or (isinstance(value, str) and not value.strip())
        if blank and info.field_name == "environment":
            return "production"  # a blank cell is an unset field, as if the key were left out
        if blank and info.field_name == "namespace":
            return "default"
        return None if blank else value

    @field_validator("gitlab_project_id", *SLO_FIELDS, mode="before")
    @classmethod
    def _no_boolean(cls, value: Any) -> Any:
        # Pydantic would read true as 1: YAML's `slo_latency_target: yes` a target of 100 %, `gitlab_project_id: true`
        # project 1.
        if isinstance(value, bool):
            raise ValueError(f"{str(value).lower()} is no number")
        return value

    @field_validator("slo_availability_target")
    @classmethod
    def _leaves_a_budget(cls, value: float | None) -> float | None:
        # The build computes the budget 1 - T to twelve decimals (macros.sql): a target closer to 1 would round to
        # 1 there and leave no budget at all, its burn rates null and its alerts "no data" while it burns.
        if value is not None and value > MOST_NINES:
            raise ValueError(f"should be at most {MOST_NINES} (twelve nines): a budget is computed to twelve decimals")
        return value

    @field_validator("dynatrace_entity_selector")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = _split_selector(value)
        if parts is None or not all(SELECTOR_PART.match(p) for p in parts):
            raise ValueError(
                'not a Dynatrace entitySelector like type(SERVICE),entityId("SERVICE-..."); '
                f"the criteria read are {SELECTOR_FORMS}"
            )
        joined = next((p for p in parts if not _one_call(p)), None)
        if joined is not None:
            # type(SERVICE) AND tag("x") reads as one criterion: the build would find none of its tags, and the
            # services ingestion fetches for it would belong to no entity.
            raise ValueError(
                f'{joined[:80]!r} is more than one criterion: join them with commas, e.g. type(SERVICE),tag("app:x")'
            )
        types = {p[len("type(") : -1].strip().strip('"').upper() for p in parts if p.startswith("type(")}
        if types - {"SERVICE"}:
            # Signals are read from service metrics: hosts or processes selected here would never carry any.
            raise ValueError(
                f"selects type {sorted(types - {'SERVICE'})[0]}: the mapping finds services, type(SERVICE)"
            )
        unlike = next((i for i in selector_entity_ids(value) if not DYNATRACE_ID.match(i)), None)
        if unlike is not None:
            raise ValueError(
                f"entityId {unlike[:80]!r} is not an id as Dynatrace writes it, upper case and without spaces, "
                "e.g. SERVICE-1234ABCD5678EF90: ids are matched exactly"
            )
        other = next((i for i in selector_entity_ids(value) if not i.startswith("SERVICE-")), None)
        if other is not None:
            # An application's or a host's id (Backstage's dynatrace-entity-id often names the web application):
            # service metrics are read per service, and this id would never carry any.
            raise ValueError(
                f"entityId {other[:80]!r} is not a service's: the mapping finds services by their SERVICE-... ids, "
                "or by a tag"
            )
        if not any(p.startswith(("type(", "entityId(")) for p in parts):
            # Dynatrace refuses a selector without either (400): every ingestion run would fail on it.
            raise ValueError('an entitySelector needs a type(...) or an entityId(...), e.g. type(SERVICE),tag("app:x")')
        negation = next((p for p in parts if p.startswith("not(")), None)
        if negation is not None:
            raise ValueError(
                f"{negation[:80]!r}: not(...) is not supported, as the build would give this entry the services it "
                f"leaves out all the same; the criteria read are {SELECTOR_FORMS}"
            )
        if len(value) > MAX_SELECTOR_CHARS and not ENTITY_IDS_ONLY.match(value):
            # Accepted, it would fail every Dynatrace ingestion run, far from the entry that caused it.
            raise ValueError(
                f"{len(value)} characters: Dynatrace takes an entitySelector of at most {MAX_SELECTOR_CHARS}; "
                'list the services by id alone (type(SERVICE),entityId("SERVICE-...",...)), which has no limit, '
                "or select them by a tag"
            )
        return value

    @model_validator(mode="after")
    def _selector_finds_services(self) -> MappingEntry:
        # The build gives a service to an entry by the entity ids, tags and management zone names its selector names
        # (else by its dynatrace_tag): a selector with none of them, type(SERVICE),mzId(7) say, has its services
        # ingested, and then given to no entity.
        selector = self.dynatrace_entity_selector
        found_by = selector and (selector_entity_ids(selector) or selector_tags(selector) or selector_zones(selector))
        if selector and not found_by and not self.dynatrace_tag:
            raise ValueError(
                f"dynatrace_entity_selector {selector[:80]!r} names no entityId, tag or mzName, which is how "
                "a service is found to be this entity's: add one, or a dynatrace_tag"
            )
        return self

    @field_validator("dynatrace_tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and (any(c in value for c in '"(),') or value.startswith(":")):
            raise ValueError("a Dynatrace tag is [context:]key[:value] without quotes, commas or parentheses")
        return value

    @field_validator("servicenow_ci_id")
    @classmethod
    def _sys_id(cls, value: str | None) -> str | None:
        if value is not None and not SYS_ID.match(value):
            raise ValueError("a ServiceNow sys_id is 32 lowercase hexadecimal characters")
        return value

    @field_validator("argocd_app_name")
    @classmethod
    def _argo(cls, value: str | None) -> str | None:
        if value is not None and not K8S_NAME.match(value):
            raise ValueError("an ArgoCD application name is a lowercase DNS-1123 name")
        return value

    @field_validator("argocd_app_namespace")
    @classmethod
    def _argo_namespace(cls, value: str | None) -> str | None:
        if value is not None and not K8S_NAMESPACE.match(value):
            raise ValueError("an ArgoCD application's namespace is a lowercase DNS-1123 label")
        return value

    @model_validator(mode="after")
    def _argo_namespace_names_an_app(self) -> MappingEntry:
        if self.argocd_app_namespace and not self.argocd_app_name:
            raise ValueError("argocd_app_namespace is the namespace of argocd_app_name: give the application's name")
        return self

    @field_validator("gitlab_project_slug")
    @classmethod
    def _gitlab_path(cls, value: str | None) -> str | None:
        if value is not None and not GITLAB_PATH.match(value):
            raise ValueError(
                "a GitLab project's path with its namespace, as GitLab writes path_with_namespace: group/project "
                "or group/subgroup/project, not encoded nor a URL (a numeric id goes in gitlab_project_id)"
            )
        return value

    @field_validator("elisa_index")
    @classmethod
    def _index(cls, value: str | None) -> str | None:
        if value is not None and not INDEX_PATTERN.match(value):
            raise ValueError("an index pattern is lowercase, without spaces, e.g. logs-payments-*")
        return value

    @field_validator("kibana_query_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            fields = _template_fields(value)
        except ValueError as exc:
            raise ValueError(f"bad template: {exc}") from None
        unknown = fields - TEMPLATE_FIELDS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(TEMPLATE_FIELDS)}")
        return value

    def kibana_query(self) -> str | None:
        """The template filled for this entity, each value escaped as KQL reads it where it stands: a display name
        holding a quote or ` or *` must match itself, not end its string and widen the query."""
        if not self.kibana_query_template:
            return None
        values = {
            "entity": self.entity_id,
            "component": self.entity_id,
            "application": self.application_id or self.entity_id,
            "environment": self.environment,
            "name": self.name or self.entity_id,
        }
        filled, quoted, literals = [], False, []
        for literal, field, _, _ in string.Formatter().parse(self.kibana_query_template):
            filled.append(literal)
            quoted = _ends_inside_quotes(literal, quoted)
            if field is not None:
                value = values[field]
                if not quoted and value.strip() in KQL_LITERALS:
                    literals.append((len(filled), value))
                filled.append(kql_quoted(value) if quoted else kql_unquoted(value))
        # Judged on the query as filled, before any is quoted: quoting one must not change what ends another.
        alone = [(at, value) for at, value in literals if _whole_bare_value(filled, at)]
        for at, value in alone:
            filled[at] = f'"{kql_quoted(value)}"'
        return "".join(filled)


def _given(value: Any) -> bool:
    """Whether a field's raw value sets it: a blank cell or an empty string leaves it unset."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def kql_quoted(value: str) -> str:
    """A value for inside a KQL "..." string: its backslashes and quotes escaped, and its line breaks and tabs."""
    escaped = re.sub(r'[\\"]', r"\\\g<0>", value)
    return escaped.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


# Kibana's KQL grammar reads `or` and `and` as keywords between whitespace, and `not` before whitespace even at the
# end of a word ("Knot x"). A value's own ends count as whitespace: the template may put a space on either side.
KQL_KEYWORD = re.compile(r"(?<!\S)(?:and|or)(?!\S)|not(?!\S)", re.IGNORECASE)


def kql_unquoted(value: str) -> str:
    """A bare KQL value: its special characters (a * would match anything), and the keywords or, and and not that
    would join another clause, escaped. A blank value is quoted: bare, it leaves its field without a value, or the
    query empty, which Kibana reads as every line."""
    if not value.strip():
        return f'"{kql_quoted(value)}"'
    escaped = re.sub(r"[\\():<>\"*{}]", r"\\\g<0>", value)
    escaped = KQL_KEYWORD.sub(_escaped_keyword, escaped)
    return escaped.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


# Kibana's KQL grammar reads a bare value that is exactly null, true or false, once trimmed, as that literal, not as
# the text: `service.name:null` asks Elasticsearch for a null. Escaping a letter does not help (the grammar compares
# the value unescaped); quoted, it is text.
KQL_LITERALS = frozenset({"null", "true", "false"})
# What ends a bare value, before and after it: the query's ends, a special character not escaped, or a keyword.
# A wildcard or any other text beside it makes it part of a longer value, which KQL reads as text.
BARE_VALUE_STARTS = re.compile(r"(?:\A|(?<!\\)[():<>\"{}]|\s(?:and|or)\s|(?<!\\)not\s)\s*\Z", re.IGNORECASE)
BARE_VALUE_ENDS = re.compile(r"\s*(?:\Z|[():<>\"{}])|\s+(?:and|or)\s", re.IGNORECASE)


def _whole_bare_value(filled: list[str], at: int) -> bool:
    """Whether the bare text filled at `at` is a whole KQL value: only whitespace between it and what ends a value
    on either side."""
    before, after = "".join(filled[:at]), "".join(filled[at + 1 :])
    return BARE_VALUE_STARTS.search(before) is not None and BARE_VALUE_ENDS.match(after) is not None


def _escaped_keyword(keyword: re.Match[str]) -> str:
    # KQL reads \n as a line break, so a lowercase `not` is escaped by writing its n as \u006e.
    word = keyword.group()
    return "\\u006e" + word[1:] if word.startswith("n") else "\\" + word


def _ends_inside_quotes(text: str, quoted: bool) -> bool:
    """Whether a KQL string is open at the end of `text`, given whether one was open at its start."""
    escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
    return quoted


def _template_fields(template: str) -> set[str]:
    """The placeholders of a template, each a bare name. A format ({entity:>9}) or a conversion ({entity!r}) has
    no use in a query, and a width can make the filled template any size: both are refused."""
    fields: set[str] = set()
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if spec or conversion:
            raise ValueError(f"{{{field}}} carries a format or conversion: a placeholder is a bare name")
        fields.add(field)
    return fields


def _split_selector(selector: str) -> list[str] | None:
    """Split on top-level commas; None if parentheses or quotes are unbalanced."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(selector):
        if ch == '"' and (i == 0 or selector[i - 1] != "~"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth < 0:
                return None
        elif not quoted and depth == 0 and ch == ",":
            parts.append(selector[start:i].strip())
            start = i + 1
    if depth or quoted:
        return None
    parts.append(selector[start:].strip())
    return parts


def _one_call(part: str) -> bool:
    """Whether a selector's part is one criterion: the parenthesis after its name closes at its very end."""
    depth, quoted = 0, False
    for i, ch in enumerate(part):
        if ch == '"' and (i == 0 or part[i - 1] != "~"):
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
            if depth == 0:
                return i == len(part) - 1
    return False


def selector_entity_ids(selector: str) -> list[str]:
    """`type(SERVICE),entityId("A","B")` -> ["A", "B"]."""
    return _call_arguments(ENTITY_ID_CALL, selector)


def selector_tags(selector: str) -> list[str]:
    """`type(SERVICE),tag("app:pay")` -> ["app:pay"]."""
    return _call_arguments(TAG_CALL, selector)


def selector_zones(selector: str) -> list[str]:
    """`type(SERVICE),mzName("Payments")` -> ["Payments"]."""
    return _call_arguments(ZONE_CALL, selector)


def _call_arguments(call: re.Pattern[str], selector: str) -> list[str]:
    # Criteria at the top level only: inside a relationship, fromRelationships.runsOnHost(tag("dc:east")) say,
    # a tag or an id is the related entity's, not the service's.
    # Arguments are quoted (Dynatrace escapes a quote inside with ~) or, leniently, bare.
    values: list[str] = []
    for part in _split_selector(selector) or []:
        match = call.fullmatch(part)
        if match is None:
            continue
        arguments = match.group(1)
        quoted = [TILDE_ESCAPE.sub(r"\1", m) for m in QUOTED_ARGUMENT.findall(arguments)]
        values += quoted or [p.strip() for p in arguments.split(",") if p.strip()]
    return values


def validate_entries(
    raw: Iterable[Mapping[str, Any]], production: str = "production", environments: Iterable[str] = ()
) -> tuple[list[MappingEntry], list[str]]:
    """Check entries one by one and as a set. Returns the accepted entries and one reason per rejection. An entry
    without an environment is in `production` (the estate's production environment); `environments`, when given,
    are the only ones an entry may name (see Settings.environments)."""
    accepted, problems = _validate_each(raw, production, environments)
    return _validate_set(accepted, problems)


def _validate_each(
    raw: Iterable[Mapping[str, Any]], production: str, environments: Iterable[str] = ()
) -> tuple[list[MappingEntry], list[str]]:
    accepted: list[MappingEntry] = []
    problems: list[str] = []
    known = sorted(set(environments))
    for index, item in enumerate(raw, start=1):
        entity = item.get("entity_id") if isinstance(item, Mapping) else None
        # The id as sent, cut short: each of the entry's problems quotes it. A catalog's entry is named as written.
        label = f"entry {index}" + (f" ({str(entity)[:80]})" if entity else "")
        if isinstance(item, CatalogEntry):
            label = item.where
        try:
            entry = MappingEntry.model_validate(_in_production_unless_said(_normalise_keys(item), production))
            if known and entry.environment not in known:
                said = _written_as(item, "environment")
                problems.append(f"{label}: {said}: {unknown_environment(entry.environment, known)}")
                continue
            accepted.append(entry)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                # Our own checks' reasons as written, without the "Value error, " pydantic puts before them.
                reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
                problems.append(f"{label}: {_written_as(item, where) if where else 'entry'}: {reason}")
        except (TypeError, ValueError) as exc:
            problems.append(f"{label}: {exc}")
    return accepted, problems


def _written_as(item: Any, field: str) -> str:
    """How the entry's author wrote `field`: a catalog's annotation or entity field, else the field's own name."""
    return item.sources.get(field, field) if isinstance(item, CatalogEntry) else field


def unknown_environment(said: str, known: list[str]) -> str:
    """Why an environment outside the estate's is refused, with the one it most likely meant (prodution: production)."""
    meant = difflib.get_close_matches(said, known, n=1)
    hint = f"; did you mean {meant[0]!r}?" if meant else ""
    return (
        f"{said!r} is not one of the estate's environments ({', '.join(known)}; ROSETTA_ENVIRONMENTS): an entry "
        f"in another environment would make one of its own, which no page reads{hint}"
    )


def _in_production_unless_said(item: dict[str, Any], production: str) -> dict[str, Any]:
    """An entry that names no environment (the key left out, or a blank cell) is in the estate's production."""
    said = item.get("environment")
    if said is None or (isinstance(said, str) and not said.strip()):
        return item | {"environment": production}
    return item


def _normalise_keys(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise TypeError(f"expected a mapping of fields, got {type(item).__name__}")
    flat: dict[str, Any] = {}
    for key, value in item.items():
        if key == "pivots" and isinstance(value, Mapping):
            for pivot, pivot_value in value.items():
                name = PIVOT_ALIASES.get(str(pivot), str(pivot))
                if name not in PIVOTS:
                    # Under pivots an entity_id or a team would replace the entry's own, another entity's perhaps.
                    raise ValueError(f"pivots.{pivot}: not a pivot; pivots are {sorted(PIVOT_ALIASES)}")
                _set_once(flat, name, pivot_value, f"pivots.{pivot}")
        else:
            _set_once(flat, PIVOT_ALIASES.get(str(key), str(key)), value, str(key))
    return flat


def _set_once(flat: dict[str, Any], name: str, value: Any, given_as: str) -> None:
    """A field given twice (dynatrace_tag and dynatrace.tag, or beside pivots) is refused: neither is the one meant."""
    if name in flat:
        raise ValueError(f"{given_as}: {name} is given twice")
    flat[name] = value


def _validate_set(entries: list[MappingEntry], problems: list[str]) -> tuple[list[MappingEntry], list[str]]:
    accepted: list[MappingEntry] = []
    seen: dict[tuple[str, str], MappingEntry] = {}
    claimed: dict[tuple[str, str, str], str] = {}
    # An ArgoCD application deploys to one environment, and its deployments are matched on its name alone.
    argocd_environments: dict[str, str] = {}
    # An id names one Backstage entity, a System or a Component: the API asks an entity's kind once, whatever the
    # environment, and a component's application once too.
    kinds: dict[str, MappingEntry] = {}
    applications = {e.entity_id for e in entries if e.kind == "application"}
    for e in entries:
        label = f"{e.entity_id} [{e.environment}]"
        reasons = []
        if e.key in seen:
            reasons.append("duplicate entity for this environment")
        other = kinds.get(e.entity_id)
        if other is not None and other.kind != e.kind:
            article = "an" if other.kind == "application" else "a"
            reasons.append(
                f"{e.entity_id} is {article} {other.kind} in {other.environment}: "
                "an entity is of one kind in every environment"
            )
        if other is not None and other.kind == e.kind == "component" and other.application_id != e.application_id:
            # The API asks a component's application once, whatever the environment, as it asks its kind.
            said = f"application_id {e.application_id!r}" if e.application_id else "no application_id"
            parent = repr(other.application_id) if other.application_id else "no application"
            reasons.append(
                f"{said}, but {e.entity_id} belongs to {parent} in {other.environment}: "
                "a component belongs to one application in every environment"
            )
        if other is not None and other.namespace != e.namespace:
            # A Backstage ref names the entity of its namespace: the API checks the ref's against the entity's.
            reasons.append(
                f"{e.entity_id} is in namespace {other.namespace} in {other.environment}: "
                "an entity is in one namespace in every environment"
            )
        if e.kind == "application" and e.application_id not in (None, e.entity_id):
            reasons.append("an application cannot belong to another application")
        if e.kind == "component" and e.application_id and e.application_id not in applications:
            reasons.append(f"application_id {e.application_id!r} is not a known application")
        for (pivot, value), said in _claims(e):
            owner = claimed.get((e.environment, pivot, value))
            if owner is not None and owner != e.entity_id:
                reasons.append(f"{said} is already mapped to {owner}")
        mapped_in = argocd_environments.get(e.argocd_app_name or "", e.environment)
        if mapped_in != e.environment:
            reasons.append(
                f"argocd_app_name {e.argocd_app_name!r} is already mapped in {mapped_in}: "
                "an ArgoCD application deploys to one environment"
            )
        if reasons:
            problems.extend(f"{label}: {r}" for r in reasons)
            continue
        seen[e.key] = e
        kinds.setdefault(e.entity_id, e)
        for (pivot, value), _ in _claims(e):
            claimed[(e.environment, pivot, value)] = e.entity_id
        if e.argocd_app_name:
            argocd_environments[e.argocd_app_name] = e.environment
        accepted.append(e)
    return accepted, problems


def _claims(e: MappingEntry) -> list[tuple[tuple[str, str], str]]:
    """What the entry's unique pivots hold, each with how to name it in a clash. A selector holds the services
    it names, however it is written (entityId("A") and type(SERVICE),entityId("A") select one service). Without
    ids, the entry holds the tags and zones the build finds its services by (its selector's, else its tag),
    however written: two entries with the same ones meet every service alike, and the build would give every one
    to the same entry. A tag is shared freely where it finds nothing: beside a selector's ids or criteria."""
    claims = []
    for pivot in UNIQUE_PIVOTS:
        value = getattr(e, pivot)
        if pivot == "dynatrace_entity_selector":
            ids = selector_entity_ids(value) if value else []
            claims += [(("dynatrace_entity", i), f"{pivot}'s entity {i!r}") for i in ids]
            criteria, said = _criteria(e) if not ids else ("", "")
            if criteria:
                claims.append((("dynatrace_criteria", criteria), said))
        elif pivot == "gitlab_project_slug" and value is not None:
            # GitLab finds a path without regard to case: Group/App and group/app are one project.
            claims.append(((pivot, value.lower()), f"{pivot} {value!r}"))
        elif value is not None:
            claims.append(((pivot, str(value)), f"{pivot} {value!r}"))
    return claims


def _criteria(e: MappingEntry) -> tuple[str, str]:
    """The tags and zones the build finds an entry's services by, in one spelling (type(SERVICE),tag("a") and
    tag("a"),type(SERVICE) give tag("a")), and how to name them in a clash; ("", "") if none."""
    selector = e.dynatrace_entity_selector or ""
    tags = sorted(set(selector_tags(selector)))
    zones = sorted(set(selector_zones(selector)))
    if tags or zones:
        criteria = ",".join([f'tag("{t}")' for t in tags] + [f'mzName("{z}")' for z in zones])
        return criteria, f"dynatrace_entity_selector selecting by {criteria}"
    if e.dynatrace_tag:
        return f'tag("{e.dynatrace_tag}")', f"dynatrace_tag {e.dynatrace_tag!r}"
    return "", ""


# --- loading from files -------------------------------------------------------------------------
def load_file(path: Path) -> tuple[list[MappingEntry], list[str]]:
    """Read a mapping YAML/CSV file or a Backstage catalog-info.yaml as a whole mapping: (accepted, problems)."""
    raw, problems = read_file(path)
    return validate_entries(raw) if not problems else ([], problems)


def read_file(path: Path) -> tuple[list[Any], list[str]]:
    """The raw entries of a mapping YAML/CSV file or a Backstage catalog-info.yaml, or why the file holds none.

    Not validated: an upsert is checked merged with the current mapping (`MappingStore.apply`), not alone.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's "CSV UTF-8" opens with a byte order mark
    except OSError as exc:
        return [], [f"{path}: cannot be read: {exc.strerror}"]
    except UnicodeDecodeError as exc:
        return [], [f"{path}: is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start})"]
    if path.suffix.lower() == ".csv":
        return _rows_from_csv(path, text)
    try:
        documents = [d for d in yaml.load_all(text, Loader=_UniqueKeyLoader) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None)
        return [], [f"{path}: is not valid YAML{where}" + (f": {problem}" if problem else "")]
    except RecursionError:
        return [], [f"{path}: is not valid YAML: nested too deeply"]
    if documents and all(isinstance(d, Mapping) and "apiVersion" in d and "kind" in d for d in documents):
        problems = catalog_problems(documents)
        return (catalog_entries(documents), []) if not problems else ([], problems)
    if len(documents) == 1 and isinstance(documents[0], Mapping) and "mappings" in documents[0]:
        listed = documents[0]["mappings"]
        if listed is not None and not isinstance(listed, list):
            return [], [f"{path}: 'mappings:' should be a list of entries, got {type(listed).__name__}"]
        unread = _keys_no_entry_reads(text)
        if unread:
            return [], [
                f"{path}: {', '.join(map(repr, unread))} beside 'mappings:' {'is' if len(unread) == 1 else 'are'} "
                "read by no entry: only 'mappings:' is read, and a key beside it may only hold what entries merge in "
                "('<<: *anchor')"
            ]
        return list(listed or []), []
    if len(documents) == 1 and isinstance(documents[0], list):
        return documents[0], []
    return [], [f"{path}: expected a list of entries, a 'mappings:' list, or Backstage catalog entities"]


MERGE_TAG = "tag:yaml.org,2002:merge"


def _keys_no_entry_reads(text: str) -> list[str]:
    """The keys beside `mappings:` that hold nothing its entries refer to: a `remove:` or a `defaults:` the author
    meant to apply would be dropped unseen. A key holding an anchor the entries merge in (`<<: *defaults`) is read."""
    # The file's one document with content (an empty one before it is a null scalar here).
    root = next(node for node in yaml.compose_all(text, Loader=yaml.SafeLoader) if isinstance(node, yaml.MappingNode))
    under = {key.value: _nodes_under(value) for key, value in root.value}
    read = under.pop("mappings", set())
    return [str(key) for key, nodes in under.items() if not nodes & read]


def _nodes_under(node: yaml.Node) -> set[int]:
    """The identities of a YAML node and of every node under it (an alias is the node it names)."""
    found: set[int] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if id(current) in found:
            continue
        found.add(id(current))
        if isinstance(current, yaml.MappingNode):
            pending.extend(part for pair in current.value for part in pair)
        elif isinstance(current, yaml.SequenceNode):
            pending.extend(current.value)
    return found


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping: PyYAML would keep the last silently, and
    `entity_id` written twice would change another entity than the one the entry was written for."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                # `<<: *defaults` merges another mapping in (the loader below does it): a key written here over one
                # merged is an override, not a key written twice.
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is written twice", key_node.start_mark
                )
            if isinstance(key, str | int | float | bool):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _rows_from_csv(path: Path, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows of a CSV file as entries, or why the file cannot be read: a column named twice, a row with more
    cells than the header names (either would drop a value without a word), or a cell csv cannot read (a quote
    left open among them)."""
    # Strict: a quote left open is an error, not the rest of the file read as one cell.
    reader = csv.DictReader(io.StringIO(text), strict=True)
    try:
        header = reader.fieldnames or []
        twice = sorted({name for name in header if header.count(name) > 1})
        if twice:
            return [], [f"{path}: the column(s) {twice} are named twice in the header"]
        rows = []
        for row in reader:
            if None in row:
                return [], [f"{path}: line {reader.line_num} has more cells than the header names"]
            if not any((cell or "").strip() for cell in row.values()):
                continue  # a row of empty cells (",,,,"), as a spreadsheet saves the rows below its table
            rows.append(row)
    except csv.Error as exc:
        # csv counts the lines of the records it read whole: the one it could not read starts on the next.
        return [], [f"{path}: is not valid CSV (the record from line {reader.line_num + 1}): {exc}"]
    return rows, []


def from_catalog(documents: Iterable[Mapping[str, Any]]) -> tuple[list[MappingEntry], list[str]]:
    """Entries from Backstage entities, validated as a whole mapping; returns (accepted, problems)."""
    docs = list(documents)
    problems = catalog_problems(docs)
    return validate_entries(catalog_entries(docs)) if not problems else ([], problems)


# The kinds whose entities the mapping reads: a System, a Component, and a Group for a team's parent group.
CATALOG_KINDS = ("Group", "System", "Component")


def catalog_problems(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why entities the mapping reads cannot be read, one line per problem naming the entity by its position in the
    file and its kind: a catalog with such an entity is refused as a whole, as a file with a malformed entry is."""
    documents = list(documents)
    problems = []
    for position, d in enumerate(documents, start=1):
        kind = d.get("kind")
        if kind not in CATALOG_KINDS:
            continue
        meta, spec = d.get("metadata"), d.get("spec", {})
        name = meta.get("name") if isinstance(meta, Mapping) else None
        notes = meta.get("annotations") or {} if isinstance(meta, Mapping) else {}
        label = f"document {position} ({kind}{f' {name}' if name else ''})"
        if meta is not None and not isinstance(meta, Mapping):
            problems.append(f"{label}: metadata is a {type(meta).__name__}, not a mapping of fields")
        elif not name:
            problems.append(f"{label}: metadata.name is missing")
        elif not isinstance(name, str):
            problems.append(f"{label}: metadata.name is a {type(name).__name__}, not a name")
        elif not isinstance(notes, Mapping):
            problems.append(f"{label}: metadata.annotations is a {type(notes).__name__}, not a mapping")
        else:
            # Backstage's annotations are texts: a list read as one would become a bogus pivot ("['SERVICE-1'").
            problems += [
                f"{label}: metadata.annotations.{key} is a {type(value).__name__}, not a text"
                for key, value in notes.items()
                if isinstance(value, list | Mapping)
            ]
        if spec is None:
            problems.append(f"{label}: spec is empty: expected the entity's fields")
        elif not isinstance(spec, Mapping):
            problems.append(f"{label}: spec is a {type(spec).__name__}, not a mapping of fields")
    return problems or _id_clashes(documents) + _systems_of_another_namespace(documents)


def _systems_of_another_namespace(documents: list[Mapping[str, Any]]) -> list[str]:
    """A Component whose spec.system names a System this catalog does not have in that namespace (a ref without one
    names the Component's own), while it has one of that name in another: the component was mapped to the other
    namespace's application, its history, SLOs and team, where Backstage shows it without a system."""
    systems = {_self_ref(d) for d in documents if d.get("kind") == "System"}
    problems = []
    for position, d in enumerate(documents, start=1):
        spec = d.get("spec") or {}
        ref = _ref_key(spec.get("system"), _namespace(d)) if d.get("kind") == "Component" else None
        if ref is None or ref in systems:
            continue
        others = sorted(f"system:{ns}/{name}" for ns, name in systems if name == ref[1])
        if others:
            problems.append(
                f"document {position} (Component {d['metadata']['name']}): spec.system names system:{ref[0]}/{ref[1]},"
                f" which this catalog does not have; {', '.join(others)} is of another namespace: write its"
                " namespace in spec.system if the component is part of it"
            )
    return problems


def _id_clashes(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    """Two Systems or Components mapped under one id: ids leave out the namespace and the case, so
    component:team-a/checkout and component:team-b/checkout (or Checkout and checkout) would become one entity."""
    problems = []
    first: dict[str, tuple[int, str]] = {}
    for position, d in enumerate(documents, start=1):
        if d.get("kind") not in ("System", "Component"):
            continue
        entity_id, ref = _catalog_entity_id(d), _catalog_ref(d)
        if entity_id in first:
            where, other = first[entity_id]
            problems.append(
                f"document {position} ({ref}): mapped as {entity_id}, as document {where} ({other}) is: an id names "
                "one entity, whatever its namespace or case; give one of them another id with rosetta.io/app-id"
            )
        else:
            first[entity_id] = (position, ref)
    return problems


def _catalog_ref(doc: Mapping[str, Any]) -> str:
    """The entity's ref as Backstage writes it: component:team-a/checkout."""
    meta = doc.get("metadata", {}) or {}
    namespace = meta.get("namespace") or "default"
    return f"{doc.get('kind')}:{namespace}/{meta.get('name')}".lower()


class CatalogEntry(dict[str, Any]):
    """A raw entry read from a Backstage entity, which remembers where it was written: a problem with it names the
    document and the entity (`where`) and the annotation or entity field a mapping field was read from (`sources`),
    as the catalog's author wrote them, not the mapping's field and the entry's index."""

    def __init__(self, fields: Mapping[str, Any], where: str, sources: Mapping[str, str]) -> None:
        super().__init__(fields)
        self.where = where
        self.sources = dict(sources)


# Where a catalog gives the mapping fields other than the id, the name, the pivots and the SLO targets.
CATALOG_FIELDS = {
    "namespace": "metadata.namespace",
    "team": "spec.owner",
    "group": "spec.parent of spec.owner",
    "domain": "spec.domain of spec.system",
    "application_id": "spec.system",
    "environment": "annotation rosetta.io/environment",
}


def catalog_entries(documents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Raw entries from Backstage entities: System = application, Component = component.

    Team = the owner group, group = that team's parent group, domain = the system's domain. Pivots come
    from annotations (community keys where one exists, rosetta.io/* otherwise). The entities are well formed
    (`catalog_problems` finds nothing).
    """
    docs = list(documents)
    # Groups and Systems by (namespace, name): a ref without a namespace is read in the referring entity's own.
    parents = {
        _self_ref(d): _ref_key(d.get("spec", {}).get("parent"), _namespace(d))
        for d in docs
        if d.get("kind") == "Group" and d.get("metadata", {}).get("name")
    }
    systems = {_self_ref(d): d for d in docs if d.get("kind") == "System"}
    raw: list[dict[str, Any]] = []
    for position, d in enumerate(docs, start=1):
        kind = d.get("kind")
        if kind not in ("System", "Component"):
            continue
        meta, spec = d.get("metadata", {}), d.get("spec", {}) or {}
        notes: Mapping[str, Any] = meta.get("annotations", {}) or {}
        owner = _ref_key(spec.get("owner"), _namespace(d))
        system_ref = _ref_key(spec.get("system"), _namespace(d)) if kind == "Component" else None
        system = (systems.get(system_ref) if system_ref else None) if kind == "Component" else d
        domain = _ref_name((system or {}).get("spec", {}).get("domain")) if system else None
        parent = parents.get(owner) if owner else None
        fields = {
            "entity_id": _catalog_entity_id(d),
            "kind": "application" if kind == "System" else "component",
            "name": meta.get("title") or meta.get("name"),
            "application_id": _application_id(system, system_ref) if kind == "Component" else None,
            "team": owner[1] if owner else None,
            "group": parent[1] if parent else None,
            "domain": domain,
            # Without the annotation: the estate's production, given when the entries are validated.
            "environment": notes.get("rosetta.io/environment") or None,
            "namespace": _namespace(d),
            **_pivots_from_annotations(notes),
            **{field: notes[note] for note, field in SLO_ANNOTATIONS.items() if note in notes},
        }
        raw.append(CatalogEntry(fields, f"document {position} ({_catalog_ref(d)})", _catalog_sources(meta, notes)))
    return raw


def _catalog_sources(meta: Mapping[str, Any], notes: Mapping[str, Any]) -> dict[str, str]:
    """Each mapping field of an entity's entry, named as the catalog gives it."""
    selector = "rosetta.io/dynatrace-entity-selector"
    annotations = {
        **{field: note for note, field in SLO_ANNOTATIONS.items()},
        **{field: note for note, field in PIVOT_ANNOTATIONS.items()},
        "dynatrace_entity_selector": selector if notes.get(selector) else "dynatrace.com/dynatrace-entity-id",
    }
    return {
        **CATALOG_FIELDS,
        "entity_id": "annotation rosetta.io/app-id" if notes.get("rosetta.io/app-id") else "metadata.name",
        "name": "metadata.title" if meta.get("title") else "metadata.name",
        **{field: f"annotation {note}" for field, note in annotations.items()},
    }


def _catalog_entity_id(doc: Mapping[str, Any]) -> Any:
    """The entity's name, unless the `rosetta.io/app-id` annotation gives it another id; lower-cased, as Backstage
    compares names and as the plugin sends them."""
    meta = doc.get("metadata", {}) or {}
    found = (meta.get("annotations", {}) or {}).get("rosetta.io/app-id") or meta.get("name")
    return found.lower() if isinstance(found, str) else found


def _application_id(system: Mapping[str, Any] | None, system_ref: tuple[str, str] | None) -> Any:
    """A component's application: the id its System is mapped under, which the System's annotation may set."""
    return _catalog_entity_id(system) if system else (system_ref[1] if system_ref else None)


# The annotation each pivot is read from; the entity selector is read from either of two (_pivots_from_annotations).
PIVOT_ANNOTATIONS = {
    "rosetta.io/dynatrace-tag": "dynatrace_tag",
    "rosetta.io/servicenow-ci-id": "servicenow_ci_id",
    "rosetta.io/cmdb-ci-name": "cmdb_ci_name",
    "argocd/app-name": "argocd_app_name",
    "argocd/app-namespace": "argocd_app_namespace",
    "gitlab.com/project-id": "gitlab_project_id",
    # Backstage's GitLab plugins read either; the id is kept when both are given (see MappingEntry).
    "gitlab.com/project-slug": "gitlab_project_slug",
    "rosetta.io/elisa-index": "elisa_index",
    "rosetta.io/kibana-query-template": "kibana_query_template",
}


def _pivots_from_annotations(notes: Mapping[str, Any]) -> dict[str, Any]:
    selector = notes.get("rosetta.io/dynatrace-entity-selector")
    ids = [i.strip() for i in str(notes.get("dynatrace.com/dynatrace-entity-id", "")).split(",") if i.strip()]
    if not selector and ids:
        selector = "entityId(" + ",".join(f'"{i}"' for i in ids) + ")"
    pivots = {field: notes.get(note) for note, field in PIVOT_ANNOTATIONS.items()}
    # Backstage's ArgoCD plugins also read it beside argocd/app-selector, which names no application here.
    if not notes.get("argocd/app-name"):
        pivots["argocd_app_namespace"] = None
    return {"dynatrace_entity_selector": selector, **pivots}


def _namespace(doc: Mapping[str, Any]) -> str:
    return str((doc.get("metadata", {}) or {}).get("namespace") or "default").lower()


def _self_ref(doc: Mapping[str, Any]) -> tuple[str, str]:
    """(namespace, name) of an entity of the file."""
    return (_namespace(doc), str(doc["metadata"]["name"]).lower())


def _ref_key(ref: Any, namespace: str) -> tuple[str, str] | None:
    """'group:team-a/Shop-Team' -> ('team-a', 'shop-team'); without a namespace, the given one (the referring
    entity's, as Backstage reads spec.owner, spec.system and spec.parent)."""
    if not ref:
        return None
    path = str(ref).split(":", 1)[-1].lower()
    found, _, name = path.rpartition("/")
    return (found or namespace, name)


def _ref_name(ref: Any) -> str | None:
    """'group:default/Payments-Team' -> 'payments-team' (Backstage compares refs ignoring case)."""
    if not ref:
        return None
    return str(ref).split(":", 1)[-1].split("/")[-1].lower()


# --- versions in the lake -----------------------------------------------------------------------
VERSION_COLUMNS = (
    Column("version", pa.int64(), "Mapping version this row belongs to", nullable=False),
    Column("changed_by", pa.string(), "Who made the change that created this version", nullable=False),
    Column("changed_at", UTC_MS, "When that change was made", "UTC", nullable=False),
    Column("change_note", pa.string(), "Why, as the author wrote it"),
    Column("row_updated_by", pa.string(), "Who last changed this row", nullable=False),
    Column("row_updated_at", UTC_MS, "When this row last changed", "UTC", nullable=False),
)
ENTRY_COLUMNS = tuple(
    Column(
        name,
        pa.int64() if name == "gitlab_project_id" else pa.float64() if name in SLO_FIELDS else pa.string(),
        (MappingEntry.model_fields[name].description or name.replace("_", " ")),
        "ms" if name.endswith("_ms") else "",
        nullable=name not in ("entity_id", "kind", "environment"),
    )
    for name in MappingEntry.model_fields
)
MAPPING_SCHEMA = pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in ENTRY_COLUMNS + VERSION_COLUMNS])


class MappingChangedSince(RosettaError):
    """A change made from version `made_from` (what its author read) would undo a change made since: `changed`
    holds the keys (entity, environment) of the entries it writes that changed, none when that version is not one
    of the mapping's (or there is no mapping yet, `current` 0). Nothing was written."""

    def __init__(self, made_from: int | str, current: int, changed: list[tuple[str, str]] | None = None) -> None:
        self.made_from = made_from
        self.current = current
        self.changed = changed or []
        if not current:
            why = "there is no mapping yet"
        elif self.changed:
            shown = ", ".join(f"{k[0]} [{k[1]}]" for k in self.changed[:5])
            more = f" and {len(self.changed) - 5} more" if len(self.changed) > 5 else ""
            why = (
                f"{len(self.changed)} entr{'y' if len(self.changed) == 1 else 'ies'} this change writes changed "
                f"since version {made_from}, which it was made from: {shown}{more}"
            )
        else:
            why = f"version {made_from} is not one of this mapping's"
        now = f"; the current version is {current}: read it again and redo the change on it" if current else ""
        super().__init__(f"{why}{now}; nothing was written")


@dataclass(frozen=True)
class MappingVersion:
    version: int
    entries: tuple[MappingEntry, ...]
    changed_by: str
    changed_at: datetime
    change_note: str | None
    # The version's stored rows, for row_meta.
    table: pa.Table = dataclass_field(repr=False, compare=False)

    @cached_property
    def row_meta(self) -> Mapping[tuple[str, str], tuple[str, datetime]]:
        """Who last changed each entry (entity, environment), and when: made from the stored rows when a change to
        the mapping first asks, not by every read of a version (see MappingStore.read)."""
        stamps = self.table.select(["entity_id", "environment", "row_updated_by", "row_updated_at"]).to_pydict()
        return dict(
            zip(
                zip(stamps["entity_id"], stamps["environment"], strict=True),
                zip(stamps["row_updated_by"], stamps["row_updated_at"], strict=True),
                strict=True,
            )
        )


class MappingStore:
    """Versions of the mapping table in the lake; a change writes version n+1 and never rewrites n. An entry a
    change gives without an environment is in `production_environment` (ROSETTA_PRODUCTION_ENVIRONMENT); when
    `environments` (ROSETTA_ENVIRONMENTS) are given, a change's entries may name no other. Entries already stored
    are left as they are: they can still be corrected or removed."""

    def __init__(
        self, lake: Lake, production_environment: str = "production", environments: Iterable[str] = ()
    ) -> None:
        self.lake = lake
        self.production = production_environment
        self.environments = tuple(environments)

    def versions(self) -> list[int]:
        out = []
        for key in self.lake.list_keys("ref/mappings/"):
            match = re.match(r"ref/mappings/v(\d+)/mappings\.parquet$", key)
            if match:
                out.append(int(match.group(1)))
        return sorted(out)

    def current(self) -> MappingVersion | None:
        versions = self.versions()
        return self.read(versions[-1]) if versions else None

    def read(self, version: int) -> MappingVersion | None:
        table = self.lake.get_table(self.lake.mapping_version_key(version))
        if table is None:
            return None
        # Every entry was validated when its version was applied; reading it back (each API cold start) trusts it.
        # A version written before a field existed reads it as unset (its default: the namespace is Backstage's).
        # Column by column, and the timestamps only where they are used: made into datetimes for every row, the
        # version's two were a third of the read, each entry's own two a fifth of what was left (see row_meta).
        fields = [k for k in MappingEntry.model_fields if k in table.column_names]
        columns = table.select(fields).to_pydict()
        entries = tuple(
            MappingEntry.model_construct(**{k: v for k, v in zip(fields, values, strict=True) if v is not None})
            for values in zip(*(columns[k] for k in fields), strict=True)
        )
        if table.num_rows:
            first = table.slice(0, 1).select(["changed_by", "changed_at", "change_note"]).to_pylist()[0]
            changed_by, changed_at, note = first["changed_by"], first["changed_at"], first["change_note"]
        else:
            changed_by, changed_at, note = _change_of(table)
        return MappingVersion(version, entries, changed_by, changed_at, note, table)

    def apply(
        self,
        changes: Iterable[MappingEntry | Mapping[str, Any]],
        *,
        actor: str,
        note: str | None = None,
        replace: bool = False,
        remove: Iterable[tuple[str, str]] = (),
        now: datetime | None = None,
    ) -> MappingVersion:
        """The version `change` leaves current, written or not."""
        return self.change(changes, actor=actor, note=note, replace=replace, remove=remove, now=now)[0]

    def change(
        self,
        changes: Iterable[MappingEntry | Mapping[str, Any]],
        *,
        actor: str,
        note: str | None = None,
        replace: bool = False,
        remove: Iterable[tuple[str, str]] = (),
        now: datetime | None = None,
        made_from: int | Literal["*"] | None = None,
    ) -> tuple[MappingVersion, bool]:
        """Upsert (or replace all with) `changes`, remove keys, validate the whole set, write a new version: that
        version and True. A change that leaves every entry as it is writes nothing: the current version and False.

        `made_from`: the version the change was made from (what its author read), or "*" for any version. Given,
        the change is refused when there is no mapping yet, or when an entry it writes has changed since that
        version (every entry, for a replace): MappingChangedSince, nothing written.

        Raises MappingValidationError with every reason if anything is rejected; nothing is written then.
        """
        if not actor or not actor.strip():
            raise MappingValidationError(["a change needs the name of who makes it"])
        removed = set(remove)
        incoming, entry_problems, catalog = _change_entries(changes, removed, self.production, self.environments)
        written = None if replace else {e.key for e in incoming} | removed
        for _ in range(8):
            current = self.current()
            accepted = _merged(current, incoming, entry_problems, replace=replace, removed=removed, catalog=catalog)
            if current is not None and same_entries(accepted, current.entries):
                # No change, no version: a catalog imported again as it stands would otherwise make a new version,
                # and every new version makes the next build a full rebuild. A change sent again (its answer lost)
                # is in effect already, whatever version it was made from: nothing is undone.
                return current, False
            # Checked against the version this write follows: when another admin takes the next number first, the
            # loop reads theirs and checks again, so no change lands between the check and the write.
            self._require_unchanged_since(made_from, current, written)
            version = (current.version if current else 0) + 1
            stamp = now or datetime.now(UTC)
            table = self._table(accepted, current, version, actor, stamp, note)
            try:
                self.lake.put_table(self.lake.mapping_version_key(version), table, if_match=ABSENT)
            except PreconditionFailed:
                continue  # another admin wrote this version number first: rebase on theirs
            result = self.read(version)
            assert result is not None
            return result, True
        raise ConcurrentWriteError("the mapping table kept changing under this update; retry")

    def _require_unchanged_since(
        self, made_from: int | Literal["*"] | None, current: MappingVersion | None, written: set[tuple[str, str]] | None
    ) -> None:
        """Refuses a change made from version `made_from` when an entry it writes (`written`; None: every entry)
        differs between that version and `current`. By entry, not by version: a change another admin made to other
        entries meanwhile is kept by this write, as the merge starts from the current version."""
        if made_from is None:
            return
        if current is None:
            raise MappingChangedSince(made_from, 0)
        if made_from == "*" or made_from == current.version:
            return
        before = self.read(made_from) if 0 < made_from < current.version else None
        if before is None:
            raise MappingChangedSince(made_from, current.version)  # a version this mapping never had
        then = {e.key: e for e in before.entries}
        now = {e.key: e for e in current.entries}
        keys = then.keys() | now.keys() if written is None else written
        changed = sorted(k for k in keys if then.get(k) != now.get(k))
        if changed:
            raise MappingChangedSince(made_from, current.version, changed)

    def check(
        self,
        changes: Iterable[MappingEntry | Mapping[str, Any]],
        *,
        replace: bool = False,
        remove: Iterable[tuple[str, str]] = (),
    ) -> tuple[MappingVersion | None, list[MappingEntry]]:
        """What `apply` would make of this change, without writing: the current version and the entries of the next.

        Raises MappingValidationError with every reason `apply` would refuse the change for.
        """
        removed = set(remove)
        incoming, entry_problems, catalog = _change_entries(changes, removed, self.production, self.environments)
        current = self.current()
        return current, _merged(current, incoming, entry_problems, replace=replace, removed=removed, catalog=catalog)

    @staticmethod
    def _table(
        entries: list[MappingEntry],
        previous: MappingVersion | None,
        version: int,
        actor: str,
        stamp: datetime,
        note: str | None,
    ) -> pa.Table:
        before = {e.key: e for e in previous.entries} if previous else {}
        rows = []
        for e in sorted(entries, key=lambda x: x.key):
            unchanged = before.get(e.key) == e and previous is not None
            by, at = previous.row_meta[e.key] if unchanged and previous else (actor, stamp)
            rows.append(
                e.model_dump()
                | {
                    "version": version,
                    "changed_by": actor,
                    "changed_at": stamp,
                    "change_note": note,
                    "row_updated_by": by,
                    "row_updated_at": at,
                }
            )
        # The change is in the file's metadata too: a version that removed every entry has no row to carry it.
        change = {"changed_by": actor, "changed_at": stamp.isoformat(timespec="milliseconds")}
        schema = MAPPING_SCHEMA.with_metadata(change | ({"change_note": note} if note is not None else {}))
        return pa.Table.from_pylist(rows, schema=schema)


def _change_entries(
    changes: Iterable[MappingEntry | Mapping[str, Any]],
    removed: set[tuple[str, str]],
    production: str,
    environments: Iterable[str],
) -> tuple[list[MappingEntry], list[str], bool]:
    """A change's well-formed entries, the problems of the change alone, and whether it is a Backstage catalog's."""
    # Not dict(c): a malformed item (from a file) is reported by the validation, not raised here.
    given = [c.model_dump() if isinstance(c, MappingEntry) else c for c in changes]
    catalog = any(isinstance(c, CatalogEntry) for c in given)
    incoming, problems = _validate_each(given, production, environments)
    keys = [e.key for e in incoming]
    problems += [f"{k[0]} [{k[1]}]: given twice in one change" for k in sorted(set(keys)) if keys.count(k) > 1]
    # Upserted and removed at once, which was meant cannot be told: refused, as a key given twice is.
    problems += [f"{k[0]} [{k[1]}]: both upserted and removed in one change" for k in sorted(set(keys) & removed)]
    return incoming, problems, catalog


def same_entries(entries: Iterable[MappingEntry], others: Iterable[MappingEntry]) -> bool:
    def by_key(e: MappingEntry) -> tuple[str, str]:
        return e.key

    return sorted(entries, key=by_key) == sorted(others, key=by_key)


def _merged(
    current: MappingVersion | None,
    incoming: list[MappingEntry],
    entry_problems: list[str],
    *,
    replace: bool,
    removed: set[tuple[str, str]],
    catalog: bool = False,
) -> list[MappingEntry]:
    """The mapping a change makes of the current one, validated as a whole; MappingValidationError with every
    reason otherwise. A Backstage catalog's change may not take an id mapped in another namespace."""
    existing = {e.key: e for e in current.entries} if current else {}
    base = {} if replace else existing
    missing = [k for k in sorted(removed) if k not in existing]
    problems = entry_problems + [f"{k[0]} [{k[1]}]: not in the current mapping" for k in missing]
    # An entry refused here is left out of the set: its clash is named once.
    moved = _namespace_clashes(current, [v for k, v in base.items() if k not in removed], incoming) if catalog else {}
    problems += list(moved.values())
    # Well-formed entries are checked against the rest too: the admin hears of every problem at once.
    # The entries kept first, then the change's: a clash is reported on the entry the change gives.
    changed = {e.key: e for e in incoming if e.key not in moved}
    merged = {k: v for k, v in base.items() if k not in removed and k not in changed} | changed
    accepted, problems = _validate_set(list(merged.values()), problems)
    if problems:
        raise MappingValidationError(problems)
    return accepted


def _namespace_clashes(
    current: MappingVersion | None, kept: list[MappingEntry], incoming: list[MappingEntry]
) -> dict[tuple[str, str], str]:
    """Why each of a catalog's entries whose id a kept entry has in another Backstage namespace is refused, by key.
    Ids leave the namespace out, so another catalog's component:team-b/checkout would take the place of
    component:team-a/checkout unseen. An entry of a mapping file or of the admin API that sets another namespace
    moves the entity, as the API's 404 for a ref of another namespace advises. A version stored before the
    namespace was kept reads every entry's as default: it is not compared."""
    if current is None or "namespace" not in current.table.column_names:
        return {}
    namespaces = {e.entity_id: e for e in kept}
    moves = {}
    for e in incoming:
        old = namespaces.get(e.entity_id)
        if old is None or old.namespace == e.namespace:
            continue
        moves[e.key] = (
            f"{e.entity_id} [{e.environment}]: {_backstage_ref(e)} and {_backstage_ref(old)}, already mapped, "
            f"would take one id, {e.entity_id}: an id names one entity, whatever its namespace. Give one of them "
            f"another id with rosetta.io/app-id; if {e.entity_id} moved to {e.namespace}, remove its entries first, "
            "or set their namespace in a mapping file"
        )
    return moves


def _backstage_ref(e: MappingEntry) -> str:
    """The entry's entity as a Backstage ref: system:team-a/shop, component:team-a/checkout."""
    return f"{'system' if e.kind == 'application' else 'component'}:{e.namespace}/{e.entity_id}"


def _change_of(table: pa.Table) -> tuple[str, datetime, str | None]:
    """Who, when and why of a version without rows, from its file's metadata (unknown in a version written before
    the metadata was)."""
    found = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
    if "changed_by" not in found:
        return "", datetime.fromtimestamp(0, UTC), None
    return found["changed_by"], datetime.fromisoformat(found["changed_at"]), found.get("change_note")
