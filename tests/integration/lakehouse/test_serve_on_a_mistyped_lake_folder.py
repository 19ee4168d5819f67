"""`serve` on a lake folder that does not exist (a typo in --lake-url or ROSETTA_LAKE_URL) made the folder and served
an empty lake: every route answered 503 "No data yet" for as long as it ran. It is refused as every command that
reads the lake refuses it, and nothing is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.lakehouse.test_errors_and_cli import run_cli


def test_serve_on_a_mistyped_lake_folder_says_there_is_no_lake(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    typo = tmp_path / "lakke"
    code, out, err = run_cli(capsys, "--lake-url", str(typo), "serve", "--port", "1")
    assert (code, out) == (2, "")
    assert err == f"error: no lake at {typo}: the folder does not exist; check --lake-url or ROSETTA_LAKE_URL\n"
    assert not typo.exists()
