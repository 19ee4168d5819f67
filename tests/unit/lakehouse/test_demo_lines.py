"""What the demo prints of a source's ingestion: a failed or partial dataset is named, never read as '0 rows'."""

from __future__ import annotations

from typing import Any

from lakehouse.demo import ingested_lines


def dataset(status: str, rows: int, rejected: int = 0, error: str | None = None) -> dict[str, Any]:
    return {"status": status, "rows_out": rows, "rows_rejected": rejected, "requests": 2, "error": error}


def test_a_failed_dataset_and_a_partial_one_are_named_under_the_sources_totals() -> None:
    summary = {
        "runs": [
            {
                "datasets": {
                    "servicenow/incidents": dataset("failed", 0, error="servicenow: 401 Unauthorized"),
                    "servicenow/changes": dataset("partial", 40, rejected=3),
                    "servicenow/task_slas": dataset("succeeded", 12),
                }
            }
        ]
    }
    assert ingested_lines("servicenow", summary, 1.26) == [
        "[4/6] ingested servicenow: 52 rows, 3 rejected, 6 requests (1.3 s)",
        "      servicenow/changes partial: 3 record(s) set aside as rejects",
        "      servicenow/incidents FAILED: servicenow: 401 Unauthorized",
    ]


def test_a_clean_ingestion_is_one_line() -> None:
    summary = {"runs": [{"datasets": {"elasticsearch/log_counts_hourly": dataset("succeeded", 96)}}]}
    assert ingested_lines("logs", summary, 0.5) == ["[4/6] ingested logs: 96 rows, 0 rejected, 2 requests (0.5 s)"]
