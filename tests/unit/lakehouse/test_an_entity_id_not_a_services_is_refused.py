"""Backstage's `dynatrace.com/dynatrace-entity-id` often names the web application (APPLICATION-...) or a host
rather than a service. Signals are read from service metrics, so such an id never carries any: the entry was kept,
its signals null for ever, and nothing said why. It is refused at import naming the id, as `type(HOST)` is."""

from __future__ import annotations

from pathlib import Path

from lakehouse.mappings import load_file, validate_entries

COMPONENT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-web
  annotations:
    dynatrace.com/dynatrace-entity-id: {ids}
spec: {{type: website, lifecycle: production, owner: group:default/payments-team, system: checkout}}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: checkout
spec: {{owner: group:default/payments-team}}
"""


def test_an_application_id_in_a_selector_is_refused_naming_it() -> None:
    selector = 'entityId("SERVICE-00AA11BB22CC33DD","APPLICATION-EA7C4B59F27D43EB")'
    entries, problems = validate_entries(
        [{"entity_id": "checkout", "kind": "application", "dynatrace_entity_selector": selector}]
    )
    assert entries == [] and len(problems) == 1
    assert problems[0].startswith("entry 1 (checkout): dynatrace_entity_selector: ")
    assert "entityId 'APPLICATION-EA7C4B59F27D43EB' is not a service's" in problems[0]


def test_a_catalog_component_annotated_with_an_application_id_is_refused_and_a_service_id_kept(tmp_path: Path) -> None:
    path = tmp_path / "catalog-info.yaml"
    path.write_text(COMPONENT.format(ids="APPLICATION-EA7C4B59F27D43EB"), encoding="utf-8")
    entries, problems = load_file(path)
    assert [e.entity_id for e in entries] == ["checkout"]
    assert len(problems) == 1 and "checkout-web" in problems[0] and "APPLICATION-EA7C4B59F27D43EB" in problems[0]

    path.write_text(COMPONENT.format(ids="SERVICE-00AA11BB22CC33DD"), encoding="utf-8")
    entries, problems = load_file(path)
    assert problems == [] and sorted(e.entity_id for e in entries) == ["checkout", "checkout-web"]
