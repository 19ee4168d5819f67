"""Rejected records keep what the sources sent (people's usernames, free text): the deployed lake deletes them after
rejects_expiration_days, as it deletes landing/ pages after landing_expiration_days. They used to be kept for as long as
the bucket lasts. Read from infra/terraform as the deployment reads it, and from the keys the lake writes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from lakehouse.schemas import REGISTRY, rejects_dataset
from lakehouse.settings import Settings
from lakehouse.storage import Lake

TERRAFORM = Path(__file__).resolve().parents[3] / "infra" / "terraform"
LAKE_MODULE = TERRAFORM / "modules" / "lake"
# The sources whose records are set aside, by hand: every source but the derived deployment events.
SOURCES_WITH_REJECTS = ["argocd", "dynatrace", "elasticsearch", "gitlab", "servicenow"]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def variable_default(path: Path, name: str) -> int:
    body = text(path).split(f'variable "{name}"', 1)[1]
    default = re.search(r"^\s*default\s*=\s*(\d+)", body, re.M)
    assert default is not None, f"{path.name}: {name} has no default"
    return int(default.group(1))


def test_the_lifecycle_deletes_each_sources_rejects_after_the_days_a_variable_gives() -> None:
    """By hand: one rule per source with rejects, on raw/<source>/rejects/ under the lake root, deleting after
    var.rejects_expiration_days; the root variable (default 90, the landing pages' replay window) is passed to the
    lake module."""
    sources = re.search(r"reject_sources\s*=\s*\[([^\]]*)\]", text(LAKE_MODULE / "main.tf"))
    assert sources is not None, "modules/lake: no local.reject_sources"
    assert sorted(re.findall(r'"([a-z]+)"', sources.group(1))) == SOURCES_WITH_REJECTS
    assert sorted(d.source for d in REGISTRY.values() if d.name == "rejects") == SOURCES_WITH_REJECTS

    rule = text(LAKE_MODULE / "lifecycle.tf").split('dynamic "rule"', 1)
    assert len(rule) == 2, "modules/lake: no lifecycle rule per source"
    body = rule[1].split("\n  }\n", 1)[0]
    assert "for_each = toset(local.reject_sources)" in body
    assert 'prefix = "${var.lake_root}raw/${rule.value}/rejects/"' in body
    assert re.search(r"expiration \{\s*days = var\.rejects_expiration_days\s*\}", body)
    assert 'status = "Enabled"' in body

    given = r"^\s*rejects_expiration_days\s*=\s*var\.rejects_expiration_days$"
    passed = re.search(given, text(TERRAFORM / "main.tf"), re.M)
    assert passed, "main.tf: the lake module is not given rejects_expiration_days"
    assert variable_default(TERRAFORM / "variables.tf", "rejects_expiration_days") == 90
    assert variable_default(LAKE_MODULE / "variables.tf", "rejects_expiration_days") == 90


def test_the_rejects_the_lake_writes_lie_under_the_prefix_the_rule_deletes(tmp_path: Path) -> None:
    """One GitLab reject written on 2024-03-05: by hand, its object is raw/gitlab/rejects/day=2024-03-05/data.parquet,
    under the rule's raw/gitlab/rejects/."""
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    dataset = rejects_dataset("gitlab")
    row = {
        "dataset": "gitlab/deployments",
        "run_id": "run-1",
        "location": "page 1 record 0",
        "reason": "created_at without a time zone",
        "raw_text": '{"id": 41}',
        "rejected_at": datetime(2024, 3, 5, 8, tzinfo=UTC),
    }
    lake.write_days(dataset, pa.Table.from_pylist([row], schema=dataset.schema))

    written = sorted(p.relative_to(tmp_path / "lake").as_posix() for p in (tmp_path / "lake").rglob("*.parquet"))
    assert written == ["raw/gitlab/rejects/day=2024-03-05/data.parquet"]
