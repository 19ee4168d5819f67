"""Benchmark: generate a 2,000-application, 90-day estate and page through large simulator answers.

Run: .venv/bin/python bench/bench_estate.py [--apps 2000] [--days 90]
Prints wall time and memory per step: the process's resident memory after each step and its peak so far.
The servers run in this process, so the paging steps show what serving pages adds on top of the world itself.
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import UTC, datetime

import httpx
from peak_memory import current_rss_mb, peak_rss_mb

from simulators.estate import generate_estate
from simulators.serve import start_simulators


def memory() -> str:
    return f"RSS {current_rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB"


def page_dynatrace(client: httpx.Client) -> str:
    """Every production and staging service, hourly, over the last 7 days, page by page."""
    params: dict[str, str] = {
        "metricSelector": 'builtin:service.requestCount.total:splitBy("dt.entity.service")',
        "entitySelector": "type(SERVICE)",
        "resolution": "1h",
        "from": "now-7d",
    }
    pages = series = points = 0
    while True:
        body = client.get("/api/v2/metrics/query", params=params).json()
        pages += 1
        for data in body["result"][0]["data"]:
            series += 1
            points += len(data["values"])
        if not body["nextPageKey"]:
            return f"{pages} pages, {series} series, {points} points"
        params = {"nextPageKey": body["nextPageKey"]}


def page_servicenow(client: httpx.Client) -> str:
    """The whole change_request table, ordered for a watermark, following the Link header."""
    fields = (
        "sys_id,number,type,state,risk,impact,start_date,end_date,work_start,work_end,close_code,cmdb_ci,"
        "assignment_group,sys_created_on,sys_updated_on"
    )
    offset = records = pages = 0
    while True:
        params = {
            "sysparm_query": "ORDERBYsys_updated_on^ORDERBYsys_id",
            "sysparm_fields": fields,
            "sysparm_limit": "1000",
            "sysparm_offset": str(offset),
        }
        response = client.get("/api/now/table/change_request", params=params)
        records += len(response.json()["result"])
        pages += 1
        if 'rel="next"' not in response.headers.get("Link", ""):
            return f"{pages} pages, {records} records"
        offset += 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rows: list[tuple[str, float, str, str]] = []

    started = time.perf_counter()
    estate = generate_estate(seed=args.seed, apps=args.apps, days=args.days, end=datetime(2025, 1, 1, tzinfo=UTC))
    details = (
        f"{len(estate.components)} components, {len(estate.deployments)} deployments, {len(estate.incidents)} "
        f"incidents, {len(estate.changes)} changes, {len(estate.pipelines)} pipelines"
    )
    rows.append(
        (f"generate estate ({args.apps} apps, {args.days} days)", time.perf_counter() - started, memory(), details)
    )

    started = time.perf_counter()
    sims = start_simulators(estate)
    rows.append(("start the 7 servers", time.perf_counter() - started, memory(), ""))
    gc.collect()
    credentials = sims.credentials
    try:
        dynatrace = httpx.Client(
            base_url=sims.urls["dynatrace"],
            timeout=300,
            headers={"Authorization": f"Api-Token {credentials['dynatrace']['api_token']}"},
        )
        started = time.perf_counter()
        details = page_dynatrace(dynatrace)
        rows.append(("Dynatrace metrics, all services, 7 d x 1 h", time.perf_counter() - started, memory(), details))

        servicenow = httpx.Client(
            base_url=sims.urls["servicenow"],
            timeout=300,
            auth=(credentials["servicenow"]["user"], credentials["servicenow"]["password"]),
        )
        started = time.perf_counter()
        details = page_servicenow(servicenow)
        rows.append(("ServiceNow change_request, 1000/page", time.perf_counter() - started, memory(), details))
    finally:
        sims.stop()

    width = max(len(r[0]) for r in rows)
    print(f"{'step':<{width}}  {'wall s':>8}  {'memory after the step':<26} details")
    for step, seconds, used, info in rows:
        print(f"{step:<{width}}  {seconds:8.1f}  {used:<26} {info}")


if __name__ == "__main__":
    main()
