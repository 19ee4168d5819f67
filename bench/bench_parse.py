"""Parse throughput per source on large synthetic pages shaped like the real payloads in ../shared/fixtures.

Run: .venv/bin/python bench/bench_parse.py   (one core: Arrow's thread pool is limited to one thread)
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa

from functions.ingest_deploys import parse as deploys
from functions.ingest_dynatrace import parse as dynatrace
from functions.ingest_logs import parse as logs
from functions.ingest_servicenow import parse as servicenow

HOUR_MS = 3_600_000
START_MS = 1_664_323_200_000


def dynatrace_page(entities: int, hours: int) -> dict[str, Any]:
    rng = random.Random(1)
    ends = [START_MS + (i + 1) * HOUR_MS for i in range(hours)]
    result = []
    for metric in dynatrace.SERVICE_METRICS:
        data = []
        for e in range(entities):
            dims = {"dt.entity.service": f"SERVICE-{e:016X}", "dt.entity.service.name": f"service-{e}"}
            values = [None if rng.random() < 0.05 else rng.uniform(100, 900_000) for _ in ends]
            data.append({"dimensions": list(dims.values()), "dimensionMap": dims, "timestamps": ends, "values": values})
        result.append({"metricId": metric, "dataPointCountRatio": 0.1, "dimensionCountRatio": 0.01, "data": data})
    return {"totalCount": entities * len(result), "nextPageKey": None, "resolution": "1h", "result": result}


def servicenow_page(records: int) -> dict[str, Any]:
    """display_value=all + exclude_reference_link, every value a string (the Table API's own shape)."""
    rng = random.Random(2)

    def pair(value: str, display: str | None = None) -> dict[str, str]:
        return {"display_value": display if display is not None else value, "value": value}

    result = []
    for i in range(records):
        opened = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 86400 * 60))
        stamp = opened.strftime("%Y-%m-%d %H:%M:%S")
        resolved = (opened + timedelta(hours=5)).strftime("%Y-%m-%d %H:%M:%S") if i % 3 else ""
        result.append(
            {
                "sys_id": pair(f"{i:032x}"),
                "number": pair(f"INC{i:07d}"),
                "state": pair("6", "Resolved"),
                "priority": pair("3", "3 - Moderate"),
                "impact": pair("2", "2 - Medium"),
                "urgency": pair("2", "2 - Medium"),
                "short_description": pair("checkout-api: user reported issue"),
                "opened_at": pair(stamp),
                "resolved_at": pair(resolved),
                "closed_at": pair(""),
                "cmdb_ci": pair(f"{i % 977:032x}", "checkout-api"),
                "business_service": pair(f"{i % 97:032x}", "Checkout"),
                "assignment_group": pair("a" * 32, "Service Desk"),
                "reassignment_count": pair("1"),
                "problem_id": pair("", ""),
                "caused_by": pair("", ""),
                "sys_updated_on": pair(stamp),
            }
        )
    return {"result": result}


def argocd_page(apps: int) -> dict[str, Any]:
    items = []
    for a in range(apps):
        history = [
            {
                "id": h,
                "revision": f"{h:040x}",
                "deployStartedAt": "2024-03-04T22:00:05Z",
                "deployedAt": "2024-03-04T22:00:06Z",
                "initiatedBy": {"username": "ann@example.org"},
                "source": {"repoURL": "https://gitlab.example.org/x.git"},
            }
            for h in range(10)
        ]
        items.append(
            {
                "metadata": {"name": f"app-{a}-prod"},
                "spec": {
                    "project": "team",
                    "destination": {"name": "prod", "namespace": "ns"},
                    "source": {"repoURL": "https://gitlab.example.org/x.git", "targetRevision": "main"},
                },
                "status": {
                    "sync": {"status": "Synced", "revision": "f" * 40},
                    "health": {"status": "Healthy"},
                    "reconciledAt": "2024-03-05T07:33:04Z",
                    "history": history,
                    "operationState": {
                        "phase": "Succeeded",
                        "startedAt": "2024-03-05T07:33:03Z",
                        "finishedAt": "2024-03-05T07:33:04Z",
                        "message": "ok",
                        "operation": {"initiatedBy": {"automated": True}, "sync": {}},
                        "syncResult": {"revision": "f" * 40},
                    },
                },
            }
        )
    return {"metadata": {"resourceVersion": "1"}, "items": items}


def gitlab_page(deployments: int) -> list[dict[str, Any]]:
    out = []
    for d in range(deployments):
        out.append(
            {
                "id": d,
                "iid": d,
                "ref": "main",
                "sha": "9" * 40,
                "status": "success",
                "created_at": "2016-08-11T07:36:40.222Z",
                "updated_at": "2016-08-11T07:38:12.414Z",
                "user": {"username": "root"},
                "environment": {"id": 9, "name": "production"},
                "deployable": {
                    "id": d,
                    "finished_at": "2016-08-11T07:36:39.851Z",
                    "pipeline": {"id": d, "created_at": "2016-08-11T02:12:10.222Z"},
                },
            }
        )
    return out


def elasticsearch_page(buckets: int) -> dict[str, Any]:
    rows = [
        {
            "key": {
                "service": f"svc-{i // 720}",
                "environment": "production",
                "level": "ERROR",
                "hour": START_MS + (i % 720) * HOUR_MS,
            },
            "doc_count": 12,
            "exceptions": {"doc_count": 12},
        }
        for i in range(buckets)
    ]
    return {"timed_out": False, "_shards": {"failed": 0}, "aggregations": {"logs": {"buckets": rows}}}


def measure(label: str, unit: str, amount: int, run: Callable[[], Any], repeat: int = 3) -> dict[str, Any]:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    rate = amount / best
    print(f"{label:<34} {amount:>10,} {unit:<12} {best * 1000:9.1f} ms  {rate:>14,.0f} {unit}/s")
    return {"label": label, "unit": unit, "amount": amount, "seconds": best, "rate": rate}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply page sizes")
    args = parser.parse_args(argv)
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    s = args.scale
    entities, hours = int(1000 * s), 240
    dt = dynatrace_page(entities, hours)
    points = entities * hours * len(dynatrace.SERVICE_METRICS)
    sn = servicenow_page(int(100_000 * s))
    sn_bytes = json.dumps(sn).encode()
    context = {"observed_at": datetime(2024, 3, 5, tzinfo=UTC)}
    argo = argocd_page(int(2000 * s))
    gitlab = gitlab_page(int(20_000 * s))
    es = elasticsearch_page(int(100_000 * s))
    results = [
        measure("dynatrace metrics (points)", "points", points, lambda: dynatrace.metric_points(dt)),
        measure("dynatrace hourly rows (points)", "points", points, lambda: dynatrace.parse_metrics_page(dt)),
        measure(
            "servicenow incidents",
            "records",
            len(sn["result"]),
            lambda: servicenow.parse_table_page("servicenow/incidents", sn),
        ),
        measure(
            "servicenow incidents + json.loads",
            "records",
            len(sn["result"]),
            lambda: servicenow.parse_table_page("servicenow/incidents", json.loads(sn_bytes)),
        ),
        measure(
            "argocd applications (rows out)",
            "rows",
            len(argo["items"]) * 12,
            lambda: deploys.parse_applications_page(argo, context),
        ),
        measure(
            "gitlab deployments", "rows", len(gitlab), lambda: deploys.parse_deployments_page(gitlab, {"project_id": 1})
        ),
        measure(
            "elasticsearch composite buckets",
            "buckets",
            len(es["aggregations"]["logs"]["buckets"]),
            lambda: logs.parse_log_counts_page(es, {"index_pattern": "x"}),
        ),
    ]
    return results


if __name__ == "__main__":
    main()
