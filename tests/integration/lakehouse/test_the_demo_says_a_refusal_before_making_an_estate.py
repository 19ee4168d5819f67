"""The demo refused on a lake holding another estate says so before any line announcing the estate it makes.

Run again with another --days, it printed "[2/6] the lake's estate of 2 applications over 3 days ..." and only then
refused: nothing was written, but the line said it was making an estate it was not. Every refusal of the lake's
estate (another --seed or --apps, other days, an earlier demo's lake whose run log does not tell its window) now
comes before step 2's line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lakehouse.demo import DemoOptions, run_demo
from lakehouse.errors import RosettaError
from tests.integration.lakehouse.test_the_demo_started_again_later_keeps_one_estate import lake_files

ESTATE = {"seed": 3, "apps": 2, "days": 2}


def demo(lake: Path, said: list[str], **changed: int) -> int:
    """The demo on `lake` without the API, its lines kept in `said`."""
    options = DemoOptions(lake_url=str(lake), serve=False, **(ESTATE | changed))
    return run_demo(options, say=said.append)


@pytest.fixture(scope="module")
def recorded_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lake a first demo made: seed 3, 2 applications over 2 days, its estate recorded."""
    lake = tmp_path_factory.mktemp("demo") / "lake"
    said: list[str] = []
    assert demo(lake, said) == 0
    assert any(line.startswith("[2/6] estate of 2 applications over 2 days") for line in said), said
    return lake


def refused(lake: Path, **changed: int) -> tuple[str, list[str]]:
    """The refusal of a demo on `lake` and the lines said before it; the lake is as it was."""
    before = lake_files(lake)
    said: list[str] = []
    with pytest.raises(RosettaError) as refusal:
        demo(lake, said, **changed)
    assert lake_files(lake) == before
    return str(refusal.value), said


def steps(said: list[str]) -> list[str]:
    return [line.split(" ")[0] for line in said if line.startswith("[")]


def test_other_days_are_refused_before_the_estate_is_announced(recorded_lake: Path) -> None:
    message, said = refused(recorded_lake, days=3)
    assert message.startswith(f"{recorded_lake} already holds the demo estate of seed 3 with 2 applications over 2 ")
    assert steps(said) == ["[1/6]"]


def test_another_seed_is_refused_before_the_estate_is_announced(recorded_lake: Path) -> None:
    message, said = refused(recorded_lake, seed=4)
    assert message.startswith(f"{recorded_lake} already holds a mapping that is not this demo's estate (seed 4, ")
    assert steps(said) == ["[1/6]"]


def test_an_earlier_demos_lake_without_a_window_is_refused_before_the_estate_is_announced(
    recorded_lake: Path, tmp_path: Path
) -> None:
    """The lake as an earlier release's demo left it (no record), its run records expired: the hour its estate ends
    is not known."""
    lake = tmp_path / "lake"
    shutil.copytree(recorded_lake, lake)
    (lake / "state" / "demo" / "estate.json").unlink()
    for day in (lake / "runs").glob("day=*"):
        shutil.rmtree(day)
    message, said = refused(lake)
    assert message.startswith(f"{lake} holds the mapping of an earlier demo (version 1 by demo) but no record of ")
    assert steps(said) == ["[1/6]"]
