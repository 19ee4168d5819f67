"""The committed data dictionary is exactly what the registry and the mart tables generate."""

from __future__ import annotations

from pathlib import Path

from lakehouse.dictionary import render_markdown
from lakehouse.schemas import REGISTRY

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-dictionary.md"


def test_committed_dictionary_is_generated_from_the_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-dictionary.md is stale: run `rosetta-monitoring dictionary > docs/data-dictionary.md`"
    )


def test_dictionary_documents_every_dataset_column_and_unit() -> None:
    text = render_markdown()
    for dataset in REGISTRY.values():
        assert f"## `{dataset.id}`" in text
        for column in dataset.columns:
            assert f"| `{column.name}` |" in text
    assert "| `latency_p95_ms` | double | ms |" in text
    assert "`ref/mappings`" in text
    # The mapping's latency thresholds are milliseconds too, as their names say.
    assert "| `slo_latency_p95_ms` | double | ms |" in text and "| `slo_latency_p99_ms` | double | ms |" in text
