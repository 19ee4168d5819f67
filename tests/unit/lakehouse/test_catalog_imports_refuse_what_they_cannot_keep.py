"""A Backstage catalog import refuses what the mapping could not keep as written, naming it as the catalog's author
wrote it: an entity whose id another namespace's entity already holds (it replaced that one, unseen), a Dynatrace
id written otherwise than Dynatrace writes it (it never matched a service), a selector's not(...) (ignored by the
build), each problem naming the document, the entity's ref and the annotation, not the mapping's field."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.errors import MappingValidationError
from lakehouse.mappings import MappingStore, read_file, validate_entries
from lakehouse.settings import Settings
from lakehouse.storage import Lake

SHOP = """\
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {{name: shop-team, namespace: {namespace}}}
spec: {{type: team, children: []}}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {{name: shop, namespace: {namespace}}}
spec: {{owner: shop-team}}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  namespace: {namespace}
  annotations:
{annotations}
spec: {{type: service, lifecycle: production, owner: shop-team, system: shop}}
"""
ID_FORM = "is not an id as Dynatrace writes it, upper case and without spaces, e.g. SERVICE-1234ABCD5678EF90"
SELECTOR_FORMS = (
    "type, entityId, tag, mzId, mzName, entityName, healthState, databaseName, fromRelationships, toRelationships"
)


def catalog(tmp_path: Path, name: str, namespace: str = "default", **annotations: str) -> Path:
    notes = {"dynatrace.com/dynatrace-entity-id": "SERVICE-1234ABCD5678EF90"} | annotations
    path = tmp_path / name
    written = "\n".join(f"    {key}: '{value}'" for key, value in notes.items())
    path.write_text(SHOP.format(namespace=namespace, annotations=written), encoding="utf-8")
    return path


def problems_of(path: Path, environments: tuple[str, ...] = ()) -> list[str]:
    """What importing the file alone into an empty lake says: its problems, none if it imports."""
    raw, problems = read_file(path)
    if problems:
        return problems
    store = MappingStore(Lake.from_settings(Settings(lake_url=str(path.parent / "empty"))), "production", environments)
    try:
        store.check(raw)
    except MappingValidationError as exc:
        return exc.problems
    return []


def import_file(store: MappingStore, path: Path) -> None:
    raw, problems = read_file(path)
    assert problems == []
    store.change(raw, actor="alice")


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_another_namespaces_entity_of_a_mapped_name_is_refused_naming_both(tmp_path: Path, environment: str) -> None:
    """Team b's catalog, imported after team a's, replaced team a's checkout (or made one entity of the two, in
    another environment) and wrote a version each time; refused now, with both refs, and nothing is written."""
    store = MappingStore(Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))))
    import_file(store, catalog(tmp_path, "team-a.yaml", "team-a"))
    team_b = catalog(tmp_path, "team-b.yaml", "team-b", **{"rosetta.io/environment": environment})
    raw, _ = read_file(team_b)

    with pytest.raises(MappingValidationError) as refused:
        store.change(raw, actor="bob")

    assert refused.value.problems == [
        f"{name} [{where}]: {kind}:team-b/{name} and {kind}:team-a/{name}, already mapped, would take one id, "
        f"{name}: an id names one entity, whatever its namespace. Give one of them another id with rosetta.io/app-id; "
        f"if {name} moved to team-b, remove its entries first, or set their namespace in a mapping file"
        # The annotation is the component's: the System is in production.
        for kind, name, where in (("system", "shop", "production"), ("component", "checkout", environment))
    ]
    assert store.versions() == [1]
    current = store.current()
    assert current is not None
    assert sorted((e.key, e.namespace) for e in current.entries) == [
        (("checkout", "production"), "team-a"),
        (("shop", "production"), "team-a"),
    ]


def test_another_namespaces_entity_given_its_own_id_is_mapped_beside(tmp_path: Path) -> None:
    store = MappingStore(Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))))
    import_file(store, catalog(tmp_path, "team-a.yaml", "team-a"))
    team_b = catalog(
        tmp_path,
        "team-b.yaml",
        "team-b",
        **{"rosetta.io/app-id": "checkout-b", "dynatrace.com/dynatrace-entity-id": "SERVICE-00AA11BB22CC33DD"},
    )
    raw, _ = read_file(team_b)
    # Team b's System shop has team a's shop's id too: only its component is imported here.
    store.change([r for r in raw if r["kind"] == "component"], actor="bob")
    current = store.current()
    assert current is not None and current.version == 2
    assert sorted((e.entity_id, e.namespace) for e in current.entries if e.kind == "component") == [
        ("checkout", "team-a"),
        ("checkout-b", "team-b"),
    ]


def test_a_mapping_files_entry_setting_another_namespace_moves_the_entity(tmp_path: Path) -> None:
    """What the API's 404 for a ref of another namespace advises (set namespace: team-b on its entries) still
    works: an entry written for the entity, not another catalog's, moves it."""
    store = MappingStore(Lake.from_settings(Settings(lake_url=str(tmp_path / "lake"))))
    import_file(store, catalog(tmp_path, "team-a.yaml", "team-a"))
    store.change([{"entity_id": "shop", "kind": "application", "namespace": "team-b"}], actor="alice")
    current = store.current()
    assert current is not None and current.version == 2
    assert [(e.entity_id, e.namespace) for e in current.entries if e.entity_id == "shop"] == [("shop", "team-b")]


@pytest.mark.parametrize(
    ("annotation", "value", "reason"),
    [
        ("argocd/app-name", "Checkout_API", "an ArgoCD application name is a lowercase DNS-1123 name"),
        ("rosetta.io/servicenow-ci-id", "CI0001", "a ServiceNow sys_id is 32 lowercase hexadecimal characters"),
        ("rosetta.io/elisa-index", "Logs Checkout", "an index pattern is lowercase"),
        ("rosetta.io/app-id", "Checkout API", "String should match pattern"),
    ],
)
def test_a_catalog_problem_names_the_document_the_entity_and_the_annotation(
    tmp_path: Path, annotation: str, value: str, reason: str
) -> None:
    """The problem said `entry 2 (checkout): argocd_app_name: …`: the second System or Component, by the mapping's
    field name, where the author wrote the annotation argocd/app-name on the file's third document."""
    problems = problems_of(catalog(tmp_path, "catalog-info.yaml", "team-a", **{annotation: value}))
    assert len(problems) == 1
    assert problems[0].startswith(f"document 3 (component:team-a/checkout): annotation {annotation}: {reason}")


def test_an_environment_outside_the_estates_names_its_annotation(tmp_path: Path) -> None:
    path = catalog(tmp_path, "catalog-info.yaml", **{"rosetta.io/environment": "prod"})
    problems = problems_of(path, environments=("production", "staging"))
    assert len(problems) == 1
    assert problems[0].startswith(
        "document 3 (component:default/checkout): annotation rosetta.io/environment: 'prod' is not one of the "
        "estate's environments"
    )


@pytest.mark.parametrize(
    ("annotation", "value", "written"),
    [
        ("dynatrace.com/dynatrace-entity-id", "service-1234abcd5678ef90", "service-1234abcd5678ef90"),
        ("dynatrace.com/dynatrace-entity-id", " service-1234abcd", "service-1234abcd"),
        (
            "rosetta.io/dynatrace-entity-selector",
            'type(SERVICE),entityId(" SERVICE-1234ABCD5678EF90")',
            " SERVICE-1234ABCD5678EF90",
        ),
        ("rosetta.io/dynatrace-entity-selector", 'entityId("Service-1234ABCD5678EF90")', "Service-1234ABCD5678EF90"),
    ],
)
def test_a_dynatrace_id_written_otherwise_than_dynatrace_writes_it_is_refused(
    tmp_path: Path, annotation: str, value: str, written: str
) -> None:
    """Dynatrace's metrics name a service SERVICE-1234ABCD5678EF90, and the build matches ids exactly: a lower-case
    or space-padded id was accepted and the component never had a signal."""
    problems = problems_of(catalog(tmp_path, "catalog-info.yaml", **{annotation: value}))
    assert problems == [
        f"document 3 (component:default/checkout): annotation {annotation}: entityId {written!r} {ID_FORM}"
        ": ids are matched exactly"
    ]


def test_a_dynatrace_id_as_dynatrace_writes_it_is_kept_as_written(tmp_path: Path) -> None:
    raw, problems = read_file(catalog(tmp_path, "catalog-info.yaml"))
    entries, problems = validate_entries(raw)
    assert problems == []
    assert entries[1].dynatrace_entity_selector == 'entityId("SERVICE-1234ABCD5678EF90")'


def test_a_mapping_files_lower_case_dynatrace_id_is_refused_naming_it() -> None:
    selector = 'type(SERVICE),entityId("service-1234abcd5678ef90")'
    entries, problems = validate_entries(
        [{"entity_id": "checkout", "kind": "application", "dynatrace_entity_selector": selector}]
    )
    assert entries == []
    assert problems == [
        f"entry 1 (checkout): dynatrace_entity_selector: entityId 'service-1234abcd5678ef90' {ID_FORM}: ids are "
        "matched exactly"
    ]


def test_a_selectors_not_is_refused_saying_which_criteria_are_read(tmp_path: Path) -> None:
    """not(tag("env:test")) was accepted and ignored: the build found the entry's services by its tag alone, so the
    services it meant to leave out were the entry's all the same."""
    selector = 'type(SERVICE),tag("app:checkout"),not(tag("env:test"))'
    annotations = {"rosetta.io/dynatrace-entity-selector": selector}
    problems = problems_of(catalog(tmp_path, "catalog-info.yaml", "team-a", **annotations))
    assert problems == [
        "document 3 (component:team-a/checkout): annotation rosetta.io/dynatrace-entity-selector: "
        f"'not(tag(\"env:test\"))': not(...) is not supported, as the build would give this entry the services it "
        f"leaves out all the same; the criteria read are {SELECTOR_FORMS}"
    ]
