"""`rosetta-monitoring openapi` (what `make openapi` runs on a fresh checkout) only prints the contract: it must not
make a lake folder where ROSETTA_LAKE_URL points, nor the default one under the working folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.api.cli import main


def test_printing_the_openapi_document_makes_no_lake_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lake = tmp_path / "not-yet" / "lake"
    monkeypatch.setenv("ROSETTA_LAKE_URL", str(lake))
    monkeypatch.chdir(tmp_path)

    assert main(["openapi"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert "/monitoring/overview" in document["paths"]
    assert not (tmp_path / "not-yet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
