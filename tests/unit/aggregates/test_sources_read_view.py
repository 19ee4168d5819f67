"""An analyst summing a day table (mv_incidents_app_day, say) over days ServiceNow was not read gets 0 for them, where
the API answers null: the views give how far the last build had read each source, to leave those days out likewise.

The hand-made estate built as of the 20th at 10:00, with incidents read up to the 18th (ServiceNow down since),
ArgoCD's history to the 19th and GitLab's deployments to the 20th at 08:00 (deployments: the earlier), Dynatrace up
to as-of; change requests and task SLAs have no watermark (never advanced), nor have the log counts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from lakehouse.aggregates.build import build
from lakehouse.runlog import Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.views import render_views
from tests.unit.aggregates.estate import AS_OF, estate_lake, t
from tests.unit.aggregates.test_views import load_static_views

MARKS = {
    "servicenow/incidents": t(18),
    "argocd/deployment_history": t(19),
    "gitlab/deployments": t(20, 8),
    "dynatrace/service_metrics_hourly": t(20, 10),
}


@pytest.mark.parametrize("per_lake", [False, True])
def test_sources_read_gives_each_watermark_and_leaves_unread_days_out_of_a_sum(tmp_path: Path, per_lake: bool) -> None:
    lake, settings = estate_lake(tmp_path)
    marks = Watermarks(lake)
    for dataset_id, mark in MARKS.items():
        dataset = get_dataset(dataset_id)
        marks.advance(dataset.source, dataset.name, mark, run_id="by-hand")
    build(lake, settings, mode="full", as_of=AS_OF)
    con = duckdb.connect()
    # An analyst away from UTC: the days read are UTC days all the same.
    con.execute("set TimeZone = 'Asia/Tokyo'")
    if per_lake:
        con.execute(render_views(lake))
    else:
        load_static_views(con, lake)
    utc = "strftime(timezone('UTC', {}), '%Y-%m-%d %H:%M')"
    read = con.execute(
        f"select dataset, {utc.format('read_until')}, {utc.format('as_of')}, cast(last_day_read as varchar), "
        "never_read from sources_read"
    )
    as_of = "2026-11-20 10:00"
    assert read.fetchall() == [
        ("deploys/deployment_events", "2026-11-19 00:00", as_of, "2026-11-18", False),
        ("dynatrace/service_metrics_hourly", "2026-11-20 10:00", as_of, "2026-11-20", False),
        ("elasticsearch/log_counts_hourly", None, as_of, None, False),
        ("servicenow/changes", None, as_of, None, False),
        ("servicenow/incidents", "2026-11-18 00:00", as_of, "2026-11-17", False),
        # The estate holds no task SLA and no run read any: never read, every day of them unknown.
        ("servicenow/task_slas", None, as_of, None, True),
    ]
    # shop's incidents: INC3 opened on the 10th, INC2 on the 18th, INC1 on the 19th. The day table has the three;
    # the days read, before the watermark's day, INC3 alone.
    opened = "select sum(opened) from mv_incidents_app_day where app_id = 'shop'"
    read_days = " and day <= (select last_day_read from sources_read where dataset = 'servicenow/incidents')"
    assert con.execute(opened).fetchone() == (3,)
    assert con.execute(opened + read_days).fetchone() == (1,)
