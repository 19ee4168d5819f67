"""The demo on a lake folder that already holds an estate: the same estate goes on, any other is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.lakehouse.test_errors_and_cli import run_cli


def test_a_demo_of_fewer_applications_on_a_lake_holding_more_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`demo --apps 1` on a lake of the same seed's 2 applications went on: its catalog is a part of the lake's
    mapping, so merged into it nothing changed, and the one application's sources were ingested into the lake of
    two. The README says a lake holding another estate's mapping is refused before anything is written."""
    lake = tmp_path / "lake"
    demo = ["--lake-url", str(lake), "demo", "--no-serve", "--days", "2", "--seed", "1"]
    assert run_cli(capsys, *demo, "--apps", "2")[0] == 0
    before = {path: path.read_bytes() for path in lake.rglob("*") if path.is_file()}
    code, out, err = run_cli(capsys, *demo, "--apps", "1")
    assert err.startswith(
        f"error: {lake} already holds a mapping that is not this demo's estate (seed 1, 1 applications): version 1 "
        "by demo, 'demo estate of seed 1 with 2 applications, from its Backstage catalog'."
    )
    assert code == 2 and "[4/6]" not in out
    assert {path: path.read_bytes() for path in lake.rglob("*") if path.is_file()} == before
