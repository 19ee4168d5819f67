"""Every answer's freshness says how far the build had read each source, so that a Backstage page can say "ServiceNow
read 2 days ago" while the figures' as-of keeps up: a source down is otherwise seen only through the answers that
happen to carry its readUntil.

The hand-made estate built as of the 20th at 10:00, each source's watermark set by hand: Dynatrace up to as-of,
change requests an hour behind, log counts three, ArgoCD's history to the 19th and GitLab's deployments to the 20th at
08:00 (deployments: the earlier), incidents to the 18th; task SLAs never read (no watermark, not listed).
"""

from __future__ import annotations

from tests.integration.api.conftest import estate_read_until, get_json
from tests.unit.aggregates.estate import t

MARKS = {
    "dynatrace/service_metrics_hourly": t(20, 10),
    "servicenow/changes": t(20, 9),
    "elasticsearch/log_counts_hourly": t(20, 7),
    "argocd/deployment_history": t(19),
    "gitlab/deployments": t(20, 8),
    "servicenow/incidents": t(18),
}


def test_each_source_read_is_listed_with_how_far_behind_the_figures_it_is(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with estate_read_until(tmp_path, MARKS) as client:
        for url in ("/monitoring/applications/shop/summary", "/monitoring/kpis/dora?groupBy=team"):
            sources = get_json(client, url)["freshness"]["sources"]
            assert sources == [
                {
                    "dataset": "deploys/deployment_events",
                    "readUntil": "2026-11-19T00:00:00Z",
                    "behindSeconds": 34 * 3600,
                },
                {
                    "dataset": "dynatrace/service_metrics_hourly",
                    "readUntil": "2026-11-20T10:00:00Z",
                    "behindSeconds": 0,
                },
                {
                    "dataset": "elasticsearch/log_counts_hourly",
                    "readUntil": "2026-11-20T07:00:00Z",
                    "behindSeconds": 3 * 3600,
                },
                {"dataset": "servicenow/changes", "readUntil": "2026-11-20T09:00:00Z", "behindSeconds": 3600},
                {"dataset": "servicenow/incidents", "readUntil": "2026-11-18T00:00:00Z", "behindSeconds": 58 * 3600},
            ]
