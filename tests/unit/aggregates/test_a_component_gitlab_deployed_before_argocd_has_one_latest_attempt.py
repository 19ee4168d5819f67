"""What runs in production after a component moved from GitLab deployments to ArgoCD: ArgoCD's last attempt, one
row. GitLab's deployments to its `production` environment (named as the mapping's) and ArgoCD's syncs are one
sequence in the build (a sync recovers GitLab's failed attempt); the latest attempt is that sequence's last, not,
beside it, GitLab's last of weeks before, failed, read as running in production still. Regions of an environment
folder (production/eu) stay rows of their own."""

from __future__ import annotations

from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.unit.aggregates.estate import AS_OF, SOLO, deployment, estate_lake, mapping, t, write
from tests.unit.aggregates.test_kpis import mart, reading


def test_the_latest_attempt_is_the_sequence_s_last_whichever_tool_made_it(tmp_path: Path) -> None:
    """solo: GitLab deployed it to production on the 2nd (succeeded) and the 3rd (failed); ArgoCD synced it on the
    10th and the 12th (both succeeded); GitLab deployed to production/eu on the 4th (succeeded). Built on the 20th:
    production's latest is ArgoCD's sync of the 12th, and production/eu's the 4th's; the failed attempt of the 3rd,
    recovered by the sync of the 10th, is no one's latest."""
    lake, settings = estate_lake(tmp_path)
    MappingStore(lake).apply([*mapping(), SOLO], actor="test", replace=True)
    write(
        lake,
        "deploys/deployment_events",
        deployment("gitlab:1", "gitlab", "21", t(2, 12), "succeeded", "g1") | {"source_environment": "production"},
        deployment("gitlab:2", "gitlab", "21", t(3, 12), "failed", "g2") | {"source_environment": "production"},
        deployment("gitlab:3", "gitlab", "21", t(4, 12), "succeeded", "g3") | {"source_environment": "production/eu"},
        deployment("argocd:solo-prod:1", "argocd", "solo-prod", t(10, 12), "succeeded", "r1"),
        deployment("argocd:solo-prod:2", "argocd", "solo-prod", t(12, 12), "succeeded", "r2"),
    )
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        latest = mart(built, "mv_deployments_latest", "app_id = 'solo' order by deployment_key")
        failed = mart(built, "mv_deployments", "deployment_key = 'gitlab:2'")
    assert [(r["deployment_key"], r["status"], r["source_environment"]) for r in latest] == [
        ("argocd:solo-prod:2", "succeeded", None),
        ("gitlab:3", "succeeded", "production/eu"),
    ]
    # The same sequence in mv_deployments: the sync of the 10th recovers GitLab's failed attempt.
    assert [r["recovered_at_full"] for r in failed] == [t(10, 12)]
