"""`mappings import` into a lake folder not made yet: a refused file leaves no folder behind (an empty one would be
taken for a lake later, a mistyped --lake-url kept as if it were one); a valid file starts the lake there."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.cli import main

VALID = "- {entity_id: pay, kind: application, team: t1}\n"
REFUSED = {
    "a bad entity id": "- {entity_id: pay, kind: application}\n- {entity_id: Pay-API, kind: component}\n",
    "an environment the estate has not": "- {entity_id: pay, kind: application, environment: prodution}\n",
}


@pytest.fixture(autouse=True)
def estate_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_ENVIRONMENTS", '["production", "staging"]')
    monkeypatch.setenv("ROSETTA_PRODUCTION_ENVIRONMENT", "production")


def imported(tmp_path: Path, lake: Path, text: str) -> int:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    return main(["--lake-url", str(lake), "mappings", "import", str(mapping), "--actor", "ops"])


@pytest.mark.parametrize("refused", REFUSED.values(), ids=REFUSED.keys())
def test_a_refused_import_makes_no_lake_folder(tmp_path: Path, refused: str) -> None:
    lake = tmp_path / "lake"
    assert imported(tmp_path, lake, refused) == 2
    assert not lake.exists()


def test_a_valid_import_starts_the_lake_there(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    assert imported(tmp_path, lake, VALID) == 0
    assert "mapping version 1: 1 entries, by ops" in capsys.readouterr().out
    assert lake.is_dir()
