"""A top risk's reason quotes the application's target as the mapping wrote it, however many nines it has.

Over the hand-made estate (estate.py): quiet has no traffic of its own; as_of is 20 Nov 10:00.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from lakehouse.aggregates.build import build
from lakehouse.mappings import MappingStore
from tests.unit.aggregates.estate import AS_OF, estate_lake, mapping
from tests.unit.aggregates.test_kpis import mart, one, reading, served_by_quiet


def test_a_six_nines_target_reads_as_six_nines_not_as_a_hundred_percent(tmp_path: Path) -> None:
    """quiet asks for 99.9999 %. quiet-svc served 100,000 requests an hour over the 168 hours of the last 7 days,
    1 of them failed each hour: 168 of 16,800,000, 99.999 %, under the target: +30. The sentence reads the target
    as 99.9999 %; at the third decimal it would read 100.000 %, a target nothing under it could reach."""
    lake, settings = estate_lake(tmp_path)
    entries = [e | {"slo_availability_target": 0.999999} if e["entity_id"] == "quiet" else e for e in mapping()]
    MappingStore(lake).apply(entries, actor="test", replace=True)
    served_by_quiet(lake, [(AS_OF - timedelta(hours=h), 100_000.0, 1.0) for h in range(1, 169)])
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        quiet = one(mart(built, "mv_monitoring_top_risks", "app_id = 'quiet'"))
    assert (quiet["requests_7d"], quiet["errors_7d"], quiet["score_slo"]) == (16_800_000, 168, 30)
    assert quiet["reasons"][0] == "availability 99.999% over 7 days is below the 99.9999% target"
