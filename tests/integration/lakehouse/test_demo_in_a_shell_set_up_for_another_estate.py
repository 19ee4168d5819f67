"""The demo run from a shell set up for a real estate. The deploy steps export ROSETTA_PRODUCTION_ENVIRONMENT (prod,
say): the demo mapped its estate in `production`, as its catalog says, while its build judged health in `prod` and
its API read `prod` by default: "applications: 0". It now runs in its own estate's environment. A setting of the
API that cannot be read (an HS256 secret too short) was told after the whole pipeline: it is now refused before the
mapping is written, as a source's setting is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.api.conftest import closed_port
from tests.integration.lakehouse.test_errors_and_cli import run_cli


def test_the_demo_shows_its_applications_whatever_production_the_shell_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROSETTA_PRODUCTION_ENVIRONMENT", "prod")
    monkeypatch.setenv("ROSETTA_ENVIRONMENTS", '["prod", "staging"]')
    lake = tmp_path / "lake"
    code, out, err = run_cli(capsys, "--lake-url", str(lake), "demo", "--no-serve", "--apps", "2", "--days", "2")
    assert code == 0, err
    summary = next(line for line in out.splitlines() if line.strip().startswith("applications:"))
    assert summary.strip().startswith("applications: 2;"), summary


def test_an_api_setting_that_cannot_be_read_is_refused_before_the_mapping_is_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ROSETTA_API_JWT_SECRET", "short")
    lake = tmp_path / "lake"
    port = str(closed_port())
    code, out, err = run_cli(capsys, "--lake-url", str(lake), "demo", "--port", port, "--apps", "1", "--days", "1")
    assert code == 2
    assert err.startswith("error: ROSETTA_API_JWT_SECRET:") and "short" not in err  # the value is never told
    assert "[3/6]" not in out
    assert [path for path in lake.rglob("*") if path.is_file()] == []
