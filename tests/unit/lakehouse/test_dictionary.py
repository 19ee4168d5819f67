"""The committed data dictionary is exactly what the registry and the mart tables generate."""

from __future__ import annotations

import re
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


def test_the_readme_names_the_instant_types_the_dictionary_lists() -> None:
    """The README says which type every instant has: the raw datasets and the mapping store milliseconds, the mart
    tables (DuckDB's timestamptz) microseconds, all of them UTC."""
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    line = next(line for line in readme.splitlines() if line.startswith("- Every instant is UTC"))
    text = render_markdown()
    assert all(t.endswith(", UTC]") for t in re.findall(r"timestamp\[[^\]]*\]", text)), "an instant without UTC"
    sources, mart = text.split("\n## `mart/", 1)
    for part, where in ((sources, "raw/"), (mart, "mart/")):
        for instant in sorted(set(re.findall(r"timestamp\[\w+, UTC\]", part))):
            assert f"`{instant}` in {where}" in line, f"the README does not say {where} holds {instant}"
