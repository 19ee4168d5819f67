"""Mapping validation: every rejected entry comes with its reason; files and catalogs load the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.refs import pivots_table
from lakehouse.ingest.mapping_pivots import dynatrace_service_selectors
from lakehouse.mappings import (
    MappingEntry,
    from_catalog,
    load_file,
    selector_entity_ids,
    selector_tags,
    selector_zones,
    validate_entries,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "lakehouse" / "examples" / "mappings.yaml"
CI_A = "3c1e8a8f1b2a4c5d9e0f1a2b3c4d5e6f"
CI_B = "0f9e8d7c6b5a49382716a5b4c3d2e1f0"


def app(entity_id: str = "payments", **extra: object) -> dict[str, object]:
    return {"entity_id": entity_id, "kind": "application", **extra}


def comp(entity_id: str, **extra: object) -> dict[str, object]:
    return {"entity_id": entity_id, "kind": "component", "application_id": "payments", **extra}


def test_example_file_loads_with_dotted_pivot_names() -> None:
    entries, problems = load_file(EXAMPLE)
    assert problems == []
    assert [(e.entity_id, e.environment) for e in entries] == [
        ("payments", "production"),
        ("payments-api", "production"),
        ("payments-api", "staging"),
        ("ledger", "production"),
    ]
    api = entries[1]
    assert api.argocd_app_name == "payments-api-prod"
    assert api.gitlab_project_id == 4211
    assert api.dynatrace_entity_selector == 'type(SERVICE),entityId("SERVICE-5A1C2D3E4F506172")'
    assert api.kibana_query() == 'service.name:"payments-api" and deployment.environment:"production"'


def test_unknown_key_is_rejected_with_its_name() -> None:
    entries, problems = validate_entries([app(), comp("api", argocd_app="api-prod")])
    assert [e.entity_id for e in entries] == ["payments"]
    assert problems == ["entry 2 (api): argocd_app: unknown key"]


@pytest.mark.parametrize(
    ("entity_id", "why"),
    [("Payments", "should match pattern"), ("pay ments", "should match pattern"), ("-api", "should match pattern")],
)
def test_bad_ids_are_rejected(entity_id: str, why: str) -> None:
    entries, problems = validate_entries([app(entity_id)])
    assert entries == []
    assert len(problems) == 1 and "entity_id" in problems[0] and why in problems[0]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("servicenow_ci_id", "INC0001", "32 lowercase hexadecimal"),
        ("dynatrace_entity_selector", "SERVICE-123", "not a Dynatrace entitySelector"),
        ("dynatrace_entity_selector", 'type(SERVICE),entityId("SERVICE-1"', "not a Dynatrace entitySelector"),
        ("argocd_app_name", "Payments_API", "DNS-1123"),
        ("gitlab_project_id", "-4", "greater than 0"),
        ("elisa_index", "Logs Payments", "index pattern"),
        ("kibana_query_template", "service.name:{service}", "unknown placeholder"),
        ("dynatrace_tag", 'app:"x"', "without quotes"),
    ],
)
def test_malformed_pivots_are_rejected_with_a_reason(field: str, value: str, reason: str) -> None:
    entries, problems = validate_entries([app(), comp("api", **{field: value})])
    assert [e.entity_id for e in entries] == ["payments"]
    assert len(problems) == 1
    assert problems[0].startswith(f"entry 2 (api): {field}: ") and reason in problems[0]


@pytest.mark.parametrize(
    "template",
    [
        'service.name:"{component:d}"',
        'service.name:"{component:>{width}}"',
        'service.name:"{component!r}"',
        'service.name:"{component:>100000000}"',
        "{entity:" * 1000 + "}" * 1000,
    ],
)
def test_a_placeholder_with_a_format_is_refused(template: str) -> None:
    """A number format on a name cannot be filled and failed every build and the logs link; a width of a hundred
    million made each filling a 100 MB text; a template nested a thousand formats deep exhausted the interpreter's
    recursion while it was checked (the API's 500). A placeholder is a bare name: the application stays alone."""
    entries, problems = validate_entries([app(), comp("api", kibana_query_template=template)])
    assert [e.entity_id for e in entries] == ["payments"]
    (problem,) = problems
    assert problem.startswith("entry 2 (api): kibana_query_template: bad template: {")
    assert problem.endswith("} carries a format or conversion: a placeholder is a bare name")


def test_an_entity_selector_dynatrace_would_refuse_is_refused_at_import() -> None:
    """Dynatrace takes an entitySelector of at most 2,000 characters. A longer one was accepted, and every
    Dynatrace ingestion then failed on its 400. A selector listing services by id alone is split by ingestion."""
    head, tail = 'type(SERVICE),tag("app:', '")'  # 23 and 2 characters
    at_limit = head + "x" * (2000 - 25) + tail
    past_limit = head + "x" * (2001 - 25) + tail
    # 80 ids of 24 characters, quoted (26) and comma-separated: 24 + 80 * 26 + 79 = 2,183 characters.
    ids = ",".join(f'"SERVICE-{n:016X}"' for n in range(80))
    by_ids = f"type(SERVICE),entityId({ids})"
    assert (len(at_limit), len(past_limit), len(by_ids)) == (2000, 2001, 2183)
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector=at_limit),
            comp("web", dynatrace_entity_selector=past_limit),
            comp("worker", dynatrace_entity_selector=by_ids),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "api", "worker"]
    assert len(problems) == 1
    assert problems[0].startswith("entry 3 (web): dynatrace_entity_selector: ") and "2001 characters" in problems[0]


def test_an_entity_selector_without_a_type_or_an_entity_id_is_refused() -> None:
    """Dynatrace requires an entity type or entity ids in every entitySelector: tag("app:pay") alone was accepted,
    then refused by Dynatrace on every ingestion run. With a type, or by id, it is a selector Dynatrace takes."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector='tag("app:pay")'),
            comp("web", dynatrace_entity_selector='mzName("Payments"),not(type(HOST))'),
            comp("worker", dynatrace_entity_selector='type(SERVICE),tag("app:worker")'),
            comp("batch", dynatrace_entity_selector='entityId("SERVICE-B")'),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "worker", "batch"]
    assert [p.split(": ")[:2] for p in problems] == [
        ["entry 2 (api)", "dynatrace_entity_selector"],
        ["entry 3 (web)", "dynatrace_entity_selector"],
    ]
    assert all("type(...) or an entityId(...)" in p for p in problems)


def test_an_entity_selector_whose_criteria_are_not_joined_by_commas_is_refused() -> None:
    """type(SERVICE) AND tag("app:pay") was accepted as one criterion: the build read no tag from it, and the
    services ingestion fetched for it belonged to no entity. Criteria are joined by commas, as
    type(SERVICE),tag("app:pay") and tag("a","b") are; a comma inside quotes joins nothing."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector='type(SERVICE) AND tag("app:pay")'),
            comp("web", dynatrace_entity_selector='type(SERVICE),tag("a") tag("b")'),
            comp("worker", dynatrace_entity_selector='type(SERVICE),tag("app:pay")'),
            comp("batch", dynatrace_entity_selector='type(SERVICE),tag("a","b"),tag("x,y")'),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "worker", "batch"]
    assert [p.split(": ")[:2] for p in problems] == [
        ["entry 2 (api)", "dynatrace_entity_selector"],
        ["entry 3 (web)", "dynatrace_entity_selector"],
    ]
    assert "'type(SERVICE) AND tag(\"app:pay\")' is more than one criterion" in problems[0]
    assert '\'tag("a") tag("b")\' is more than one criterion' in problems[1]


def test_an_entity_selector_the_build_finds_no_service_by_is_refused() -> None:
    """type(SERVICE),mzId(7) was accepted: ingestion fetched the zone's services, but the build gives a service to
    an entry by the entityId, tag or mzName its selector names (else by its dynatrace_tag), so they went to no
    entity and the entry showed no signals. With a tag, a zone name, an id or a dynatrace_tag, it is accepted."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector="type(SERVICE),mzId(7)"),
            comp("web", dynatrace_entity_selector='type(SERVICE),entityName.equals("web")'),
            comp("worker", dynatrace_entity_selector="type(SERVICE),mzId(7)", dynatrace_tag="app:worker"),
            comp("batch", dynatrace_entity_selector='type(SERVICE),mzName("Batch")'),
            comp("cron", dynatrace_entity_selector='type(SERVICE),entityId("SERVICE-C"),healthState("HEALTHY")'),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "worker", "batch", "cron"]
    assert [p.split(": ")[0] for p in problems] == ["entry 2 (api)", "entry 3 (web)"]
    assert "dynatrace_entity_selector 'type(SERVICE),mzId(7)' names no entityId, tag or mzName" in problems[0]


def test_two_selectors_finding_services_by_the_same_criteria_are_refused_to_the_second() -> None:
    """type(SERVICE),tag("app:pay") and tag("app:pay"), type(SERVICE) differ only in how they are written: both were
    accepted, and every service tagged app:pay went to api, the first by id, web silently getting none. In another
    environment, or with one more tag (a more specific selector), they are distinct."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector='type(SERVICE),tag("app:pay")'),
            comp("web", dynatrace_entity_selector='tag("app:pay"), type(SERVICE)'),
            comp("api", environment="staging", dynatrace_entity_selector='type(SERVICE),tag("app:pay")'),
            comp("db", dynatrace_entity_selector='type(SERVICE),tag("app:pay"),tag("tier:db")'),
        ]
    )
    assert [e.key for e in entries] == [
        ("payments", "production"),
        ("api", "production"),
        ("api", "staging"),
        ("db", "production"),
    ]
    assert problems == [
        'web [production]: dynatrace_entity_selector selecting by tag("app:pay") is already mapped to api'
    ]


def test_an_entity_selector_of_another_type_than_services_is_refused() -> None:
    """Signals come from service metrics: type(HOST),tag("app:pay") was accepted, its hosts listed and attributed
    to api, and no metric ever reached it. type(SERVICE), quoted or in another case as Dynatrace reads it, is taken."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector='type(HOST),tag("app:pay")'),
            comp(
                "web", dynatrace_entity_selector='type("PROCESS_GROUP_INSTANCE"),entityId("PROCESS_GROUP_INSTANCE-1")'
            ),
            comp("worker", dynatrace_entity_selector='type("service"),tag("app:worker")'),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "worker"]
    assert [p.split(": ", 2)[:2] for p in problems] == [
        ["entry 2 (api)", "dynatrace_entity_selector"],
        ["entry 3 (web)", "dynatrace_entity_selector"],
    ]
    assert "selects type HOST" in problems[0] and "selects type PROCESS_GROUP_INSTANCE" in problems[1]


def test_an_index_pattern_may_exclude_indices_after_the_first() -> None:
    """logs-payments-*,-logs-payments-debug-* is Elasticsearch's multi-target syntax for the payments logs without
    the debug ones: it was refused as not an index pattern. An exclusion alone, or a space, still is refused."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", elisa_index="logs-payments-*,-logs-payments-debug-*"),
            comp("web", elisa_index="-logs-payments-*"),
            comp("db", elisa_index="logs-payments-*, -logs-payments-debug-*"),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "api"]
    assert [p.split(": ")[:2] for p in problems] == [["entry 3 (web)", "elisa_index"], ["entry 4 (db)", "elisa_index"]]


def test_a_pivot_claimed_twice_is_rejected_for_the_second_entity() -> None:
    entries, problems = validate_entries(
        [app(), comp("api", servicenow_ci_id=CI_A), comp("worker", servicenow_ci_id=CI_A, argocd_app_name="w")]
    )
    assert [e.entity_id for e in entries] == ["payments", "api"]
    assert problems == [f"worker [production]: servicenow_ci_id '{CI_A}' is already mapped to api"]


def test_one_dynatrace_service_selected_by_two_entities_is_refused_to_the_second() -> None:
    """Written two ways, selectors naming one service were both accepted: its metrics went to two entities."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_entity_selector='entityId("SERVICE-A")'),
            comp("web", dynatrace_entity_selector='type(SERVICE),entityId("SERVICE-B","SERVICE-A")'),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "api"]
    assert problems == ["web [production]: dynatrace_entity_selector's entity 'SERVICE-A' is already mapped to api"]


def test_an_argocd_application_is_mapped_in_one_environment_only() -> None:
    """Its deployments are matched on its name alone: mapped in staging too, each would count twice."""
    entries, problems = validate_entries(
        [app(), comp("api", argocd_app_name="api"), comp("api", environment="staging", argocd_app_name="api")]
    )
    assert [(e.entity_id, e.environment) for e in entries] == [("payments", "production"), ("api", "production")]
    assert problems == [
        "api [staging]: argocd_app_name 'api' is already mapped in production: "
        "an ArgoCD application deploys to one environment"
    ]


def test_same_pivot_in_two_environments_of_one_entity_is_fine() -> None:
    entries, problems = validate_entries(
        [app(), comp("api", gitlab_project_id=7), comp("api", environment="staging", gitlab_project_id=7)]
    )
    assert problems == [] and len(entries) == 3


def test_shared_tags_are_allowed_but_duplicate_entities_are_not() -> None:
    """Components found by id may all carry their application's tag, which then finds nothing of theirs."""
    entries, problems = validate_entries(
        [
            app(dynatrace_tag="app:payments"),
            comp("api", dynatrace_tag="app:payments", dynatrace_entity_selector='entityId("SERVICE-A")'),
            comp("db", dynatrace_tag="app:payments", dynatrace_entity_selector='entityId("SERVICE-D")'),
            comp("api"),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments", "api", "db"]
    assert problems == ["api [production]: duplicate entity for this environment"]


def test_two_entries_found_by_the_same_tag_alone_are_refused_to_the_second() -> None:
    """api and db, with no selector, are both found by the tag app:payments: the build gives every service
    tagged so to api (the first by id), and db never had any. In staging, db is found by it alone."""
    entries, problems = validate_entries(
        [
            app(),
            comp("api", dynatrace_tag="app:payments"),
            comp("db", dynatrace_tag="app:payments"),
            comp("db", environment="staging", dynatrace_tag="app:payments"),
            comp("cache", dynatrace_entity_selector='type(SERVICE),tag("app:payments")'),
        ]
    )
    assert [e.key for e in entries] == [("payments", "production"), ("api", "production"), ("db", "staging")]
    assert problems == [
        "db [production]: dynatrace_tag 'app:payments' is already mapped to api",
        'cache [production]: dynatrace_entity_selector selecting by tag("app:payments") is already mapped to api',
    ]


def test_component_of_an_unknown_application_is_rejected() -> None:
    entries, problems = validate_entries([comp("api", application_id="billing")])
    assert entries == []
    assert problems == ["api [production]: application_id 'billing' is not a known application"]


def test_an_entity_is_an_application_or_a_component_in_every_environment() -> None:
    """api is a component of payments in production; mapped as an application in staging too, the API (which asks
    an entity's kind once) sent /applications/api to payments, and staging's application api could not be read."""
    entries, problems = validate_entries([app(), comp("api"), app("api", environment="staging")])
    assert [(e.entity_id, e.environment) for e in entries] == [("payments", "production"), ("api", "production")]
    assert problems == [
        "api [staging]: api is a component in production: an entity is of one kind in every environment"
    ]


@pytest.mark.parametrize(
    ("staging_application", "said"),
    [("billing", "application_id 'billing'"), (None, "no application_id")],
)
def test_a_component_belongs_to_one_application_in_every_environment(
    staging_application: str | None, said: str
) -> None:
    """api is a component of payments in production; mapped under billing in staging (or under no application, when
    it stands for itself), the build filed staging's hours under billing (or api) while the API, which asks a
    component's application once, looked for them under payments: /components/api in staging showed nothing. The
    staging entry is refused, naming both environments and both applications."""
    entries, problems = validate_entries(
        [app(), app("billing"), comp("api"), comp("api", environment="staging", application_id=staging_application)]
    )
    assert [e.key for e in entries] == [("payments", "production"), ("billing", "production"), ("api", "production")]
    assert problems == [
        f"api [staging]: {said}, but api belongs to 'payments' in production: "
        "a component belongs to one application in every environment"
    ]


def test_csv_with_dotted_headers(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "entity_id,kind,application_id,team,argocd.appName,gitlab.projectId,servicenow.ciId\n"
        "payments,application,,payments-team,,,\n"
        f"api,component,payments,payments-team,api-prod,12,{CI_B}\n",
        encoding="utf-8",
    )
    entries, problems = load_file(path)
    assert problems == []
    assert entries[1] == MappingEntry(
        entity_id="api",
        kind="component",
        application_id="payments",
        team="payments-team",
        argocd_app_name="api-prod",
        gitlab_project_id=12,
        servicenow_ci_id=CI_B,
    )


def test_csv_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    """A spreadsheet's "CSV UTF-8" starts with a byte order mark: its first header read as an unknown key and every
    row lacked its entity_id. The one row loads as payments, team pay."""
    path = tmp_path / "map.csv"
    path.write_text("entity_id,kind,team\npayments,application,pay\n", encoding="utf-8-sig")
    entries, problems = load_file(path)
    assert problems == []
    assert entries == [MappingEntry(entity_id="payments", kind="application", team="pay")]


def test_csv_with_rows_of_empty_cells_below_the_table_loads_the_table(tmp_path: Path) -> None:
    """A spreadsheet saves the formatted rows below its table as rows of empty cells (",,"): each was refused as an
    entry without an entity_id ("Input should be a valid string"), and the file with it. The table loads; a row with
    one cell filled is still an entry, and refused when it lacks its id."""
    path = tmp_path / "map.csv"
    path.write_text("entity_id,kind,team\npayments,application,pay\n,,\n , ,\n,,\n", encoding="utf-8")
    entries, problems = load_file(path)
    assert problems == []
    assert entries == [MappingEntry(entity_id="payments", kind="application", team="pay")]
    path.write_text("entity_id,kind,team\npayments,application,pay\n,,ops\n", encoding="utf-8")
    entries, problems = load_file(path)
    assert problems[0] == "entry 2: entity_id: Input should be a valid string"


def test_a_blank_environment_is_production(tmp_path: Path) -> None:
    """A blank cell is an unset field, and an unset environment is production: payments' first row (environment left
    blank) was refused as "Input should be a valid string". The file maps payments in production and in staging."""
    path = tmp_path / "map.csv"
    path.write_text("entity_id,kind,environment\npayments,application,\npayments,application,staging\n")
    entries, problems = load_file(path)
    assert problems == []
    assert [e.key for e in entries] == [("payments", "production"), ("payments", "staging")]


def test_an_entry_without_an_environment_is_in_the_estates_production(tmp_path: Path) -> None:
    """With ROSETTA_PRODUCTION_ENVIRONMENT=prod, an entry that names no environment (the key left out, a blank cell,
    a catalog entity without rosetta.io/environment) is in prod; one naming staging stays there."""
    from lakehouse.mappings import MappingStore, read_file
    from lakehouse.settings import Settings
    from lakehouse.storage import Lake

    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text(CATALOG)
    from_catalog_file, problems = read_file(catalog)
    assert problems == []
    store = MappingStore(Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))), "prod")
    store.apply([*from_catalog_file, app(), app(environment="staging"), app("ledger", environment=" ")], actor="test")
    current = store.current()
    assert current is not None
    assert sorted(e.key for e in current.entries) == [
        ("checkout", "prod"),
        ("checkout-api", "prod"),
        ("ledger", "prod"),
        ("payments", "prod"),
        ("payments", "staging"),
    ]


CATALOG = f"""
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{name: retail}}
spec: {{type: group, children: [payments-team]}}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{name: payments-team}}
spec: {{type: team, parent: group:default/retail, children: []}}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {{name: payments}}
spec: {{owner: group:default/retail}}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: checkout
  annotations:
    rosetta.io/servicenow-ci-id: {CI_A}
    rosetta.io/cmdb-ci-name: Checkout
spec: {{owner: group:default/payments-team, domain: payments}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-api
  title: Checkout API
  annotations:
    dynatrace.com/dynatrace-entity-id: SERVICE-00AA11BB22CC33DD, SERVICE-44EE55FF66007788
    rosetta.io/dynatrace-tag: app:checkout
    rosetta.io/servicenow-ci-id: {CI_B}
    argocd/app-name: checkout-api-prod
    gitlab.com/project-id: '31'
    rosetta.io/elisa-index: logs-checkout-*
    rosetta.io/kibana-query-template: 'service.name:"{{component}}"'
spec:
  type: service
  lifecycle: production
  owner: group:default/payments-team
  system: checkout
"""


def test_catalog_annotations_become_entries(tmp_path: Path) -> None:
    path = tmp_path / "catalog-info.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    entries, problems = load_file(path)
    assert problems == []
    system, component = entries
    assert (system.entity_id, system.kind, system.team, system.group, system.domain) == (
        "checkout",
        "application",
        "payments-team",
        "retail",
        "payments",
    )
    assert system.servicenow_ci_id == CI_A and system.cmdb_ci_name == "Checkout"
    assert component.kind == "component" and component.application_id == "checkout"
    assert component.name == "Checkout API" and component.domain == "payments" and component.group == "retail"
    assert component.dynatrace_entity_selector == 'entityId("SERVICE-00AA11BB22CC33DD","SERVICE-44EE55FF66007788")'
    assert component.gitlab_project_id == 31 and component.argocd_app_name == "checkout-api-prod"
    assert component.kibana_query() == 'service.name:"checkout-api"'


def test_a_component_belongs_to_the_id_its_system_is_mapped_under() -> None:
    """A System given another id by rosetta.io/app-id lost its components: they named an unknown application."""
    import yaml

    renamed = CATALOG.replace("    rosetta.io/cmdb-ci-name: Checkout\n", "    rosetta.io/app-id: checkout-app\n", 1)
    entries, problems = from_catalog(list(yaml.safe_load_all(renamed)))
    assert problems == []
    assert [(e.entity_id, e.application_id) for e in entries] == [
        ("checkout-app", None),
        ("checkout-api", "checkout-app"),
    ]


def test_catalog_with_bad_annotation_reports_the_entity() -> None:
    import yaml

    docs = list(yaml.safe_load_all(CATALOG.replace("checkout-api-prod", "Checkout_API")))
    entries, problems = from_catalog(docs)
    assert [e.entity_id for e in entries] == ["checkout"]
    assert len(problems) == 1 and problems[0].startswith(
        "document 5 (component:default/checkout-api): annotation argocd/app-name:"
    )


def test_a_selectors_criteria_are_read_at_its_top_level_only() -> None:
    """A tag or an id inside a relationship criterion is the related entity's, not the service's."""
    selector = (
        'type(SERVICE),tag("app:pay","tier:db"),mzName("Payments"),'
        'fromRelationships.runsOnHost(tag("dc:east")),toRelationships.calls(entityId("SERVICE-X"))'
    )
    assert selector_tags(selector) == ["app:pay", "tier:db"]
    assert selector_zones(selector) == ["Payments"]
    assert selector_entity_ids(selector) == []
    assert selector_entity_ids('type(SERVICE),entityId("SERVICE-A","SERVICE-B")') == ["SERVICE-A", "SERVICE-B"]


def test_a_selectors_quoted_criteria_may_hold_parentheses() -> None:
    """A zone or a tag may be named with parentheses: mzName("Payments (EU)") was read as no zone, so the entry's
    services went to no entity, and tag("owner:Team (EU)") as no tag, so services with app:pay alone were taken."""
    zone = 'type(SERVICE),mzName("Payments (EU)")'
    tags = 'type(SERVICE),tag("owner:Team (EU)"),tag("app:pay")'
    assert selector_zones(zone) == ["Payments (EU)"]
    assert selector_tags(tags) == ["owner:Team (EU)", "app:pay"]
    assert selector_entity_ids('type(SERVICE),entityId("SERVICE-A")') == ["SERVICE-A"]
    entries, problems = validate_entries(
        [app(), comp("api", dynatrace_entity_selector=zone), comp("web", dynatrace_entity_selector=tags)]
    )
    assert problems == []
    assert sorted((r["pivot_kind"], r["value"], r["entity_id"]) for r in pivots_table(entries).to_pylist()) == [
        ("dynatrace_tag", "app:pay", "web"),
        ("dynatrace_tag", "owner:Team (EU)", "web"),
        ("dynatrace_zone", "Payments (EU)", "api"),
    ]


def test_a_tilde_in_a_tag_is_the_escape_dynatrace_writes_inside_quotes() -> None:
    """Dynatrace escapes a quote or a tilde inside a quoted argument with a tilde: tag("team:a~~b") is the tag
    team:a~b and tag("say:~"hi~"") the tag say:"hi". Read as tildes dropped, team:ab named no service, and the
    entry's signals went missing without a word; a dynatrace_tag team:a~b is asked for as tag("team:a~~b")."""
    assert selector_tags('type(SERVICE),tag("team:a~~b")') == ["team:a~b"]
    assert selector_tags('type(SERVICE),tag("say:~"hi~"")') == ['say:"hi"']
    entries, problems = validate_entries([app(dynatrace_tag="team:a~b")])
    assert problems == []
    assert dynatrace_service_selectors(entries, 100) == ['type(SERVICE),tag("team:a~~b")']
    assert [(r["pivot_kind"], r["value"]) for r in pivots_table(entries).to_pylist()] == [("dynatrace_tag", "team:a~b")]


def test_a_systems_slo_annotations_set_its_targets() -> None:
    import yaml

    annotated = CATALOG.replace(
        "    rosetta.io/cmdb-ci-name: Checkout\n",
        "    rosetta.io/cmdb-ci-name: Checkout\n"
        "    rosetta.io/slo-availability-target: '0.999'\n"
        "    rosetta.io/slo-latency-p95-ms: '300'\n"
        "    rosetta.io/slo-latency-target: '0.9'\n",
    )
    entries, problems = from_catalog(list(yaml.safe_load_all(annotated)))
    assert problems == []
    system = entries[0]
    assert (system.slo_availability_target, system.slo_latency_p95_ms, system.slo_latency_target) == (0.999, 300, 0.9)
    assert system.slo_latency_p99_ms is None  # the build's default applies


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("slo_availability_target", 1, "less than 1"),  # no budget to spend: every error would breach it
        ("slo_availability_target", 99.9, "less than 1"),  # a percentage where a fraction is meant
        ("slo_latency_p95_ms", 0, "greater than 0"),
        ("slo_latency_target", 1.5, "less than or equal to 1"),
        # Not a number: it was refused as "should be less than 1", which sends the reader to the wrong fix.
        ("slo_availability_target", float("nan"), "a finite number"),
        ("slo_latency_target", float("nan"), "a finite number"),
    ],
)
def test_slo_targets_out_of_range_are_rejected_with_a_reason(field: str, value: float, reason: str) -> None:
    entries, problems = validate_entries([app(**{field: value})])
    assert entries == [] and len(problems) == 1
    assert problems[0].startswith(f"entry 1 (payments): {field}: ") and reason in problems[0]


def test_slo_targets_are_set_on_the_application_not_on_a_component() -> None:
    entries, problems = validate_entries([app(), comp("api", slo_availability_target=0.999)])
    assert [e.entity_id for e in entries] == ["payments"]
    assert len(problems) == 1 and "SLO targets are an application's" in problems[0]


def test_a_version_stored_before_the_slo_fields_reads_them_as_unset(tmp_path: Path) -> None:
    from lakehouse.mappings import MAPPING_SCHEMA, SLO_FIELDS, MappingStore
    from lakehouse.settings import Settings
    from lakehouse.storage import Lake

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    store = MappingStore(lake)
    store.apply([app(team="payments-team")], actor="test")
    key = lake.mapping_version_key(1)
    stored = lake.get_table(key)
    assert stored is not None and set(SLO_FIELDS) <= set(stored.column_names)
    # The same version as an earlier release wrote it: without the SLO columns.
    older = stored.select([f.name for f in MAPPING_SCHEMA if f.name not in SLO_FIELDS])
    lake.put_table(key, older)
    current = store.current()
    assert current is not None and current.entries[0].team == "payments-team"
    assert all(getattr(current.entries[0], name) is None for name in SLO_FIELDS)


def test_catalog_names_and_refs_are_read_as_backstage_compares_them_lower_cased() -> None:
    """Backstage names may hold capitals and compares refs ignoring case; the plugin sends an entity's ref lower-cased
    (component:default/checkout-api). A catalog writing Checkout-API, owned by Payments-Team and part of
    System:default/Checkout, was refused for its capitals: it maps as checkout-api under checkout, team
    payments-team (whose parent group is retail)."""
    import yaml

    shouting = (
        CATALOG.replace("name: payments-team}", "name: Payments-Team}")
        .replace("name: checkout-api\n", "name: Checkout-API\n")
        .replace(
            "  owner: group:default/payments-team\n  system: checkout",
            "  owner: Payments-Team\n  system: System:default/Checkout",
        )
    )
    entries, problems = from_catalog(list(yaml.safe_load_all(shouting)))
    assert problems == []
    assert [(e.entity_id, e.kind, e.application_id, e.team, e.group) for e in entries] == [
        ("checkout", "application", None, "payments-team", "retail"),
        ("checkout-api", "component", "checkout", "payments-team", "retail"),
    ]


TWO_CHECKOUTS = """
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop}
spec: {owner: shop-team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout, namespace: team-a}
spec: {type: service, lifecycle: production, owner: shop-team, system: system:default/shop}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: CHECKOUT
  namespace: team-b
  annotations: {rosetta.io/environment: staging}
spec: {type: service, lifecycle: production, owner: shop-team, system: system:default/shop}
"""


@pytest.mark.parametrize(
    ("second", "second_ref"),
    [
        ("namespace: team-b", "component:team-b/checkout"),  # same name in another namespace
        ("namespace: team-a", "component:team-a/checkout"),  # CHECKOUT: the same name once lower-cased
    ],
)
def test_two_catalog_entities_on_one_id_are_refused_naming_both(second: str, second_ref: str) -> None:
    """Two Backstage entities whose names are one id once the namespace is dropped or the case ignored were mapped as
    one component (here in production and staging: the second's staging figures would show on the first's page);
    the catalog is refused, naming both refs and how to keep them apart."""
    import yaml

    docs = list(yaml.safe_load_all(TWO_CHECKOUTS.replace("namespace: team-b", second)))
    entries, problems = from_catalog(docs)
    assert entries == []
    assert problems == [
        f"document 3 ({second_ref}): mapped as checkout, as document 2 (component:team-a/checkout) is: an id names "
        "one entity, whatever its namespace or case; give one of them another id with rosetta.io/app-id"
    ]


def test_two_catalog_entities_kept_apart_by_an_app_id_are_both_mapped() -> None:
    import yaml

    renamed = TWO_CHECKOUTS.replace("annotations: {", "annotations: {rosetta.io/app-id: checkout-b, ")
    entries, problems = from_catalog(list(yaml.safe_load_all(renamed)))
    assert problems == []
    assert [e.key for e in entries] == [("shop", "production"), ("checkout", "production"), ("checkout-b", "staging")]


def test_a_catalog_ref_without_namespace_is_read_in_the_entitys_own() -> None:
    """Backstage reads `system: shop` and `owner: shop-team` on an entity of namespace team-b as team-b's shop and
    shop-team. The import looked them up by name alone and took the last one of that name in the file: team-b's
    checkout went under team-a's shop (mapped as shop) and team-a's shop-team's parent group (retail-a)."""
    import yaml

    catalog = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: shop-team, namespace: team-b}
spec: {type: team, parent: retail-b, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: shop-team, namespace: team-a}
spec: {type: team, parent: retail-a, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop, namespace: team-b, annotations: {rosetta.io/app-id: shop-b}}
spec: {owner: shop-team}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop, namespace: team-a}
spec: {owner: shop-team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: checkout, namespace: team-b}
spec: {type: service, lifecycle: production, owner: shop-team, system: shop}
"""
    entries, problems = from_catalog(list(yaml.safe_load_all(catalog)))
    assert problems == []
    assert [(e.entity_id, e.application_id, e.group) for e in entries] == [
        ("shop-b", None, "retail-b"),
        ("shop", None, "retail-a"),
        ("checkout", "shop-b", "retail-b"),
    ]


def test_a_component_naming_a_system_only_another_namespace_has_is_refused() -> None:
    """checkout, of namespace team-a, says `system: shop`: Backstage reads system:team-a/shop, which the catalog does
    not have, and shows checkout without a system. The import looked the ref up, missed, and took the bare name:
    checkout was mapped under default's shop, its history, SLOs and team. It is refused, naming both; with
    system:team-a/shop in the catalog, or the namespace written in the ref, it is read as Backstage reads it."""
    import yaml

    # TWO_CHECKOUTS' default shop and team-a's checkout, whose ref leaves its namespace out.
    catalog = "---".join(TWO_CHECKOUTS.split("---")[:2]).replace("system: system:default/shop}", "system: shop}")
    entries, problems = from_catalog(list(yaml.safe_load_all(catalog)))
    assert problems == [
        "document 2 (Component checkout): spec.system names system:team-a/shop, which this catalog does not have; "
        "system:default/shop is of another namespace: write its namespace in spec.system if the component is part of it"
    ]
    written = catalog.replace("system: shop}", "system: default/shop}")
    entries, problems = from_catalog(list(yaml.safe_load_all(written)))
    assert problems == [] and [(e.entity_id, e.application_id) for e in entries] == [
        ("shop", None),
        ("checkout", "shop"),
    ]


def test_the_mapping_keeps_each_catalog_entitys_namespace() -> None:
    """The entity's Backstage namespace is kept, so that the API tells component:team-a/checkout from another
    namespace's checkout; an entry that names none is in Backstage's default namespace."""
    import yaml

    renamed = TWO_CHECKOUTS.replace("annotations: {", "annotations: {rosetta.io/app-id: checkout-b, ")
    entries, problems = from_catalog(list(yaml.safe_load_all(renamed)))
    assert problems == []
    assert [(e.entity_id, e.namespace) for e in entries] == [
        ("shop", "default"),
        ("checkout", "team-a"),
        ("checkout-b", "team-b"),
    ]
    assert validate_entries([app()])[0][0].namespace == "default"


def test_an_id_is_in_one_namespace_in_every_environment() -> None:
    entries, problems = validate_entries([app(namespace="team-a"), app(environment="staging", namespace="team-b")])
    assert [e.key for e in entries] == [("payments", "production")]
    assert problems == [
        "payments [staging]: payments is in namespace team-a in production: an entity is in one namespace in every "
        "environment"
    ]


def test_a_version_stored_before_the_namespace_reads_it_as_default(tmp_path: Path) -> None:
    from lakehouse.mappings import MAPPING_SCHEMA, MappingStore
    from lakehouse.settings import Settings
    from lakehouse.storage import Lake

    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    store = MappingStore(lake)
    store.apply([app(namespace="team-a")], actor="test")
    key = lake.mapping_version_key(1)
    stored = lake.get_table(key)
    assert stored is not None
    lake.put_table(key, stored.select([f.name for f in MAPPING_SCHEMA if f.name != "namespace"]))
    current = store.current()
    assert current is not None and current.entries[0].namespace == "default"


def test_the_argocd_app_namespace_annotation_names_the_applications_namespace() -> None:
    """argocd/app-namespace was ignored: an application of that name in another namespace was read as this one."""
    import yaml

    annotated = CATALOG.replace(
        "    argocd/app-name: checkout-api-prod\n",
        "    argocd/app-name: checkout-api-prod\n    argocd/app-namespace: team-payments\n",
        1,
    )
    entries, problems = from_catalog(list(yaml.safe_load_all(annotated)))
    assert problems == []
    assert [(e.argocd_app_name, e.argocd_app_namespace) for e in entries] == [
        (None, None),
        ("checkout-api-prod", "team-payments"),
    ]
    # Beside argocd/app-selector (no application named), the namespace alone says nothing.
    selected = annotated.replace("    argocd/app-name: checkout-api-prod\n", "    argocd/app-selector: app=x\n", 1)
    entries, problems = from_catalog(list(yaml.safe_load_all(selected)))
    assert problems == [] and [e.argocd_app_namespace for e in entries] == [None, None]


def test_an_argocd_namespace_without_an_application_name_is_refused() -> None:
    entries, problems = validate_entries(
        [
            app(),
            comp("api", argocd_app_namespace="team-b"),
            comp("web", argocd_app_name="web", argocd_app_namespace="Team-B"),
        ]
    )
    assert [e.entity_id for e in entries] == ["payments"]
    assert "argocd_app_namespace is the namespace of argocd_app_name" in problems[0]
    assert "lowercase DNS-1123 label" in problems[1]


def test_a_component_named_by_its_gitlab_path_alone_keeps_the_path(tmp_path: Path) -> None:
    """Backstage catalogs most often name a GitLab project by `gitlab.com/project-slug` (its path with namespace),
    not its id: the annotation was not read, and the component had no GitLab project. By hand: the catalog's
    component gives the slug only, so its entry holds that path and no id."""
    path = tmp_path / "catalog-info.yaml"
    path.write_text(
        CATALOG.replace("    gitlab.com/project-id: '31'\n", "    gitlab.com/project-slug: retail/Checkout-API\n"),
        encoding="utf-8",
    )
    entries, problems = load_file(path)
    assert problems == []
    component = entries[1]
    assert (component.gitlab_project_slug, component.gitlab_project_id) == ("retail/Checkout-API", None)


def test_a_component_with_both_gitlab_annotations_keeps_the_id() -> None:
    """The id names the project for good (a path moves when the project is renamed or transferred): given both, the
    id is kept and the path left out, whatever the source of the entry. By hand: 31 stays, the slug reads None."""
    import yaml

    both = CATALOG.replace(
        "    gitlab.com/project-id: '31'\n", "    gitlab.com/project-id: '31'\n    gitlab.com/project-slug: retail/x\n"
    )
    entries, problems = from_catalog(list(yaml.safe_load_all(both)))
    assert problems == []
    assert (entries[1].gitlab_project_id, entries[1].gitlab_project_slug) == (31, None)
    entries, problems = validate_entries([app(), comp("api", gitlab_project_id=7, gitlab_project_slug="a/b")])
    assert problems == [] and (entries[1].gitlab_project_id, entries[1].gitlab_project_slug) == (7, None)


@pytest.mark.parametrize(
    "slug",
    ["checkout", "retail/", "/retail/checkout", "retail//checkout", "retail%2Fcheckout", "https://gitlab.com/a/b"],
)
def test_a_gitlab_path_gitlab_could_not_name_is_refused(slug: str) -> None:
    """A project's path is its namespace and name joined by '/', as GitLab writes path_with_namespace: a name alone,
    an encoded path or a URL would be asked of GitLab and answered 404 on every run."""
    entries, problems = validate_entries([app(), comp("api", gitlab_project_slug=slug)])
    assert [e.entity_id for e in entries] == ["payments"]
    assert len(problems) == 1 and problems[0].startswith("entry 2 (api): gitlab_project_slug: ")
    assert "group/project" in problems[0]


def test_one_gitlab_path_claimed_twice_is_refused_to_the_second_whatever_its_case() -> None:
    """GitLab finds a project's path without regard to case: Retail/Checkout and retail/checkout are one project,
    and two entities claiming it in one environment would both get its deployments."""
    entries, problems = validate_entries(
        [app(), comp("api", gitlab_project_slug="Retail/Checkout"), comp("web", gitlab_project_slug="retail/checkout")]
    )
    assert [e.entity_id for e in entries] == ["payments", "api"]
    assert problems == ["web [production]: gitlab_project_slug 'retail/checkout' is already mapped to api"]


def test_csv_and_yaml_take_the_gitlab_path_by_its_dotted_name(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text(
        "entity_id,kind,application_id,gitlab.projectSlug\npayments,application,,\napi,component,payments,g/api\n",
        encoding="utf-8",
    )
    entries, problems = load_file(path)
    assert problems == [] and entries[1].gitlab_project_slug == "g/api"


def test_a_field_under_pivots_that_is_no_pivot_or_given_twice_is_refused() -> None:
    """Any key under `pivots` was flattened into the entry, the last one winning: an entry zzz whose pivots held
    entity_id payments and team evil replaced payments itself, and a tag given both as dynatrace_tag and under
    pivots as dynatrace.tag kept the second silently. Each entry is now refused, naming the key; payments stays."""
    sneaky = app("zzz", pivots={"entity_id": "payments", "team": "evil"})
    twice = app("ledger", dynatrace_tag="app:ledger", pivots={"dynatrace.tag": "app:other"})
    entries, problems = validate_entries([app(team="pay"), sneaky, twice])
    assert [(e.entity_id, e.team) for e in entries] == [("payments", "pay")]
    assert problems[0].startswith("entry 2 (zzz): pivots.entity_id: not a pivot; pivots are [")
    assert problems[1] == "entry 3 (ledger): pivots.dynatrace.tag: dynatrace_tag is given twice"


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("scalar.yaml", "mappings: 5\n", "'mappings:' should be a list of entries, got int"),
        (
            "twice.yaml",
            "mappings:\n  - entity_id: dupk\n    entity_id: payments\n    kind: application\n",
            "is not valid YAML (line 3, column 5): the key 'entity_id' is written twice",
        ),
        (
            "deep.yaml",
            "mappings:\n  - {entity_id: dp, kind: application, name: " + "[" * 5000 + "]" * 5000 + "}\n",
            "is not valid YAML: nested too deeply",
        ),
        (
            "columns.csv",
            "entity_id,kind,team,team\npayments,application,a,b\n",
            "the column(s) ['team'] are named twice",
        ),
        ("cells.csv", "entity_id,kind,team\npayments,application,pay,lost\n", "line 2 has more cells than the header"),
        (
            "quote.csv",
            'entity_id,kind\npayments,application\n"ledger,application\nrisk,application\n',
            "is not valid CSV (the record from line 3): unexpected end of data",
        ),
        (
            "huge.csv",
            "entity_id,kind,name\npayments,application," + "x" * 200_000 + "\n",
            "is not valid CSV (the record from line 2): field larger than field limit",
        ),
        (
            "catalog.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: [a]}\nspec: {}\n",
            "metadata.name is a list, not a name",
        ),
        (
            "annotations.yaml",
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: pay\n  annotations:\n"
            "    dynatrace.com/dynatrace-entity-id: [SERVICE-1, SERVICE-2]\nspec: {}\n",
            "document 1 (System pay): metadata.annotations.dynatrace.com/dynatrace-entity-id is a list, not a text",
        ),
    ],
)
def test_a_file_the_import_cannot_read_is_refused_with_a_reason_not_a_traceback(
    tmp_path: Path, name: str, text: str, why: str
) -> None:
    """Each of these files ended `mappings import` in a traceback (TypeError, RecursionError, csv.Error), or was
    read with a value silently lost (a key written twice, a column named twice, a cell past the header, the rest of
    the file in one cell after a quote never closed). Each is
    now refused as a whole, with one reason saying what is wrong in it."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    entries, problems = load_file(path)
    assert entries == []
    (problem,) = problems
    assert why in problem, problem


@pytest.mark.parametrize(
    ("field", "value"),
    [("slo_latency_target", True), ("gitlab_project_id", True), ("slo_latency_p95_ms", False)],
)
def test_true_or_false_is_no_number(field: str, value: bool) -> None:
    """YAML reads `slo_latency_target: yes` as true, which was taken as a target of 1, every hour to be good; `true`
    for a GitLab project was project 1. A boolean in a number's place is refused, the field named."""
    entries, problems = validate_entries([app(**{field: value})])
    assert entries == []
    assert problems == [f"entry 1 (payments): {field}: {str(value).lower()} is no number"]


def test_a_key_beside_mappings_that_no_entry_merges_in_is_refused_naming_it(tmp_path: Path) -> None:
    """A `remove:` list and a `defaults:` block beside `mappings:` were dropped without a word: `mappings validate`
    said the file was valid, and an import wrote quiet without the team meant for it and kept shop, which the file
    removes. The file is refused, naming both keys. A key beside `mappings:` holding an anchor the entries merge
    in, even one level down, is read (below, and in the test after this one)."""
    path = tmp_path / "beside.yaml"
    path.write_text(
        "defaults: {team: t7}\nremove:\n  - entity_id: shop\n"
        "mappings:\n  - {entity_id: quiet, kind: application, group: g1, domain: d1}\n"
    )
    entries, problems = load_file(path)
    assert entries == []
    assert problems == [
        f"{path}: 'defaults', 'remove' beside 'mappings:' are read by no entry: only 'mappings:' is read, and a key "
        "beside it may only hold what entries merge in ('<<: *anchor')"
    ]
    path.write_text(
        "shared:\n  placement: &d {kind: component, application_id: shop}\n"
        "mappings:\n  - {entity_id: shop, kind: application}\n  - {<<: *d, entity_id: shop-api}\n"
    )
    entries, problems = load_file(path)
    assert problems == []
    assert [(e.entity_id, e.kind, e.application_id) for e in entries] == [
        ("shop", "application", None),
        ("shop-api", "component", "shop"),
    ]
    # Empty documents before the one with the mapping are no keys beside it.
    path.write_text("---\n---\nmappings:\n  - {entity_id: shop, kind: application}\n")
    assert [e.entity_id for e in load_file(path)[0]] == ["shop"]


def test_a_yaml_file_sharing_defaults_through_merge_keys_is_read(tmp_path: Path) -> None:
    """`<<: *defaults` is YAML's way to share fields between entries (PyYAML's safe loader reads it): the file was
    refused as invalid YAML ("could not determine a constructor for the tag 'tag:yaml.org,2002:merge'"). A key
    written over a merged one overrides it; a key written twice in the entry itself is still refused."""
    path = tmp_path / "merged.yaml"
    path.write_text(
        "defaults: &d\n  kind: component\n  application_id: shop\n  team: t1\n"
        "mappings:\n  - entity_id: shop\n    kind: application\n"
        "  - <<: *d\n    entity_id: shop-api\n    team: t2\n"
        "  - <<: *d\n    entity_id: shop-web\n"
    )
    entries, problems = load_file(path)
    assert problems == []
    assert [(e.entity_id, e.kind, e.application_id, e.team) for e in entries] == [
        ("shop", "application", None, None),
        ("shop-api", "component", "shop", "t2"),
        ("shop-web", "component", "shop", "t1"),
    ]
    path.write_text("mappings:\n  - <<: {kind: application}\n    entity_id: a\n    entity_id: b\n")
    assert "the key 'entity_id' is written twice" in load_file(path)[1][0]
