"""The demo with a source setting that cannot be read: refused before anything is written to the lake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.lakehouse.test_errors_and_cli import run_cli


def test_a_setting_that_cannot_be_read_is_refused_before_the_mapping_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A word for the requests' total time: the demo wrote the estate's mapping (and a failed run) into the lake,
    then stopped at the first ingestion. It now names the variable before writing anything."""
    monkeypatch.setenv("ROSETTA_HTTP_TOTAL_TIMEOUT_S", "two minutes")
    lake = tmp_path / "lake"
    code, out, err = run_cli(capsys, "--lake-url", str(lake), "demo", "--no-serve", "--days", "1", "--apps", "1")
    assert code == 2
    assert err.startswith("error: ROSETTA_HTTP_TOTAL_TIMEOUT_S:") and "two minutes" not in err
    assert "[3/6]" not in out
    assert [path for path in lake.rglob("*") if path.is_file()] == []
