"""With the estate's environments set (ROSETTA_ENVIRONMENTS), a mapping entry in a misspelt one is refused before
anything is written, naming the environment it most likely meant; without the setting any environment is taken,
as before. An estate's engineer checks this by importing a file with `prodution` in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.cli import main
from lakehouse.errors import MappingValidationError, SettingsError
from lakehouse.mappings import MappingStore
from lakehouse.settings import Settings
from lakehouse.storage import Lake

ESTATE = ["production", "qa", "staging"]


def entry(entity_id: str, environment: str | None = None) -> dict[str, object]:
    given: dict[str, object] = {"entity_id": entity_id, "kind": "application", "team": "t1"}
    return given if environment is None else given | {"environment": environment}


def store(root: Path, environments: list[str]) -> MappingStore:
    return MappingStore(Lake.from_settings(Settings(lake_url=str(root / "lake"))), "production", environments)


def test_a_misspelt_environment_is_refused_with_the_one_meant_and_nothing_is_written(tmp_path: Path) -> None:
    mappings = store(tmp_path, ESTATE)
    with pytest.raises(MappingValidationError) as refused:
        mappings.apply([entry("payments"), entry("payments", "prodution")], actor="test")
    assert refused.value.problems == [
        "entry 2 (payments): environment: 'prodution' is not one of the estate's environments (production, qa, "
        "staging; ROSETTA_ENVIRONMENTS): an entry in another environment would make one of its own, which no page "
        "reads; did you mean 'production'?"
    ]
    assert mappings.versions() == []


def test_an_environment_like_none_of_the_estates_is_refused_without_a_guess(tmp_path: Path) -> None:
    with pytest.raises(MappingValidationError) as refused:
        store(tmp_path, ESTATE).apply([entry("payments", "sandbox")], actor="test")
    (problem,) = refused.value.problems
    assert "'sandbox' is not one of the estate's environments" in problem
    assert "did you mean" not in problem


def test_entries_in_the_estates_environments_and_entries_naming_none_are_taken(tmp_path: Path) -> None:
    mappings = store(tmp_path, ESTATE)
    version = mappings.apply([entry("payments"), entry("payments", "staging"), entry("ledger", "qa")], actor="test")
    assert sorted(e.key for e in version.entries) == [
        ("ledger", "qa"),
        ("payments", "production"),
        ("payments", "staging"),
    ]


def test_without_the_setting_any_environment_is_taken(tmp_path: Path) -> None:
    version = store(tmp_path, []).apply([entry("payments", "prodution")], actor="test")
    assert [e.key for e in version.entries] == [("payments", "prodution")]


def test_an_entry_stored_before_the_setting_neither_blocks_other_changes_nor_its_own_removal(tmp_path: Path) -> None:
    """Stored in `prodution` while any environment was taken; the setting given since: another entry still changes,
    and the stray one is removed (it can be corrected by giving it again in production)."""
    store(tmp_path, []).apply([entry("payments", "prodution")], actor="before")
    mappings = store(tmp_path, ESTATE)
    changed = mappings.apply([entry("ledger")], actor="after")
    assert sorted(e.key for e in changed.entries) == [("ledger", "production"), ("payments", "prodution")]
    corrected = mappings.apply([entry("payments")], actor="after", remove=[("payments", "prodution")])
    assert sorted(e.key for e in corrected.entries) == [("ledger", "production"), ("payments", "production")]


def test_the_setting_must_hold_the_production_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROSETTA_PRODUCTION_ENVIRONMENT", "prod")
    monkeypatch.setenv("ROSETTA_ENVIRONMENTS", '["production", "staging"]')
    with pytest.raises(SettingsError, match=r"^ROSETTA_ENVIRONMENTS: .*\('prod', ROSETTA_PRODUCTION_ENVIRONMENT\)"):
        Settings()
    monkeypatch.setenv("ROSETTA_ENVIRONMENTS", '["prod", "Staging"]')
    with pytest.raises(SettingsError, match=r"^ROSETTA_ENVIRONMENTS \(1\): String should match pattern"):
        Settings()


def test_mappings_validate_and_import_refuse_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROSETTA_ENVIRONMENTS", '["production", "staging"]')
    lake = str(tmp_path / "lake")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "- {entity_id: payments, kind: application, team: t1}\n"
        "- {entity_id: payments, kind: application, team: t1, environment: stagging}\n",
        encoding="utf-8",
    )
    assert main(["--lake-url", lake, "mappings", "validate", str(mapping)]) == 2
    out, err = capsys.readouterr()
    assert "1 problem(s): importing this file would write nothing" in out
    assert "'stagging' is not one of the estate's environments (production, staging" in err
    assert "did you mean 'staging'?" in err
    assert main(["--lake-url", lake, "mappings", "import", str(mapping)]) != 0
    capsys.readouterr()
    assert MappingStore(Lake.from_settings(Settings(lake_url=lake))).versions() == []
