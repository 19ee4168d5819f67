"""Opening DuckDB: connections can be opened again and again, and bound parameters never look for pandas."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.metadata
import sys
from pathlib import Path

import pytest

from lakehouse.duckdb_session import open_duckdb
from lakehouse.errors import SettingsError
from lakehouse.settings import Settings


def test_connections_bind_parameters_without_searching_for_pandas(tmp_path: Path) -> None:
    settings = Settings(lake_url=str(tmp_path / "lake"), duckdb_temp_directory=tmp_path / "duckdb")
    searched: list[str] = []

    class Witness(importlib.abc.MetaPathFinder):
        """Sits behind whatever answers first, and notes every search for pandas that gets this far."""

        def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
            if fullname.split(".")[0] == "pandas":
                searched.append(fullname)

    open_duckdb(settings).close()  # the first connection checks once whether pandas is there
    sys.meta_path.append(Witness())
    try:
        for _ in range(3):
            con = open_duckdb(settings)
            assert con.execute("select $a + $b", {"a": 1, "b": 2}).fetchone() == (3,)
            con.close()
    finally:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, Witness)]
    try:
        importlib.metadata.distribution("pandas")
    except importlib.metadata.PackageNotFoundError:
        # Not installed, as in the pinned set: DuckDB's probes are answered before any search of sys.path,
        # and an import still fails as it should.
        assert searched == []
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module("pandas")
    else:
        pytest.fail("pandas is installed, which the pinned set does not do; this test checks the set as pinned")


@pytest.mark.parametrize("limit", ["1400MB", "2 GiB", "500kb"])
def test_a_memory_limit_duckdb_reads_is_taken_as_written(limit: str, tmp_path: Path) -> None:
    settings = Settings(duckdb_memory_limit=limit, duckdb_temp_directory=tmp_path / "duckdb")
    assert settings.duckdb_memory_limit == limit
    open_duckdb(settings).close()


@pytest.mark.parametrize("limit", ["", "lots", "1.5 GX", "glpat-Zq8sec7Tok3n"])
def test_a_memory_limit_duckdb_cannot_read_stops_the_start(limit: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """It was read only when DuckDB opened: the build ended in DuckDB's parser traceback, and the API answered
    every request 503 "retrying shortly". The value is never quoted (DuckDB's reason quotes its unit)."""
    monkeypatch.setenv("ROSETTA_DUCKDB_MEMORY_LIMIT", limit)
    with pytest.raises(SettingsError) as err:
        Settings()
    assert str(err.value) == "ROSETTA_DUCKDB_MEMORY_LIMIT: Value error, give a size DuckDB reads, like 1400MB or 2GiB"


@pytest.mark.parametrize(
    ("inside", "reason"),
    [("", "File exists"), ("duckdb", "Not a directory")],  # the file itself, a folder under the file
)
def test_a_temp_directory_that_cannot_be_made_is_named(inside: str, reason: str, tmp_path: Path) -> None:
    """A file where the folder belongs ended every build and query in a FileExistsError (or NotADirectoryError)
    traceback, and the API answered every request 503."""
    (tmp_path / "scratch").write_text("")
    folder = tmp_path / "scratch" / inside if inside else tmp_path / "scratch"
    with pytest.raises(SettingsError) as err:
        open_duckdb(Settings(duckdb_temp_directory=folder))
    assert str(err.value) == f"ROSETTA_DUCKDB_TEMP_DIRECTORY: cannot make the folder {folder}: {reason}"
