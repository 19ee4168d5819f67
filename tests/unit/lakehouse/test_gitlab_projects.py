"""The mapping read with the projects GitLab gave for the paths it names."""

from __future__ import annotations

from lakehouse.gitlab_projects import mapped_paths, with_ids
from lakehouse.mappings import MappingEntry


def entry(entity_id: str, environment: str = "production", **pivots: object) -> MappingEntry:
    return MappingEntry.model_validate(
        {"entity_id": entity_id, "kind": "application", "environment": environment, **pivots}
    )


def test_a_path_naming_a_project_another_entity_holds_leaves_it_to_that_entity() -> None:
    """shop holds project 41 by its id; web names it by its path in production, and in staging, where nobody else
    holds it. By hand: web in production gets no project and is one clash (web, 41, shop); web in staging gets 41;
    api's path GitLab gave no answer for stays without a project."""
    entries = [
        entry("shop", gitlab_project_id=41),
        entry("web", gitlab_project_slug="Retail/Web"),
        entry("web", "staging", gitlab_project_slug="retail/web"),
        entry("api", gitlab_project_slug="retail/api"),
    ]
    assert mapped_paths(entries) == ["Retail/Web", "retail/api"]  # one request a project, whatever the case
    resolved, clashes = with_ids(entries, {"retail/web": 41})
    assert [(e.entity_id, e.environment, e.gitlab_project_id) for e in resolved] == [
        ("shop", "production", 41),
        ("web", "production", None),
        ("web", "staging", 41),
        ("api", "production", None),
    ]
    assert [(e.entity_id, e.environment, project, holder) for e, project, holder in clashes] == [
        ("web", "production", 41, "shop")
    ]
