"""A change closed (state 3) without a close code, its work done on the 15th: closed and not failed. Nothing says
it failed, so the change calendar shows it as not failed (false), never as unknown (null)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates.build import build
from tests.unit.aggregates.estate import AS_OF, CI_Q, change, estate_lake, t, write
from tests.unit.aggregates.test_kpis import mart, one, reading


@pytest.mark.parametrize("close_code", [None, ""], ids=["no close code", "an empty close code"])
def test_a_change_closed_without_a_code_is_closed_and_not_failed(tmp_path: Path, close_code: str | None) -> None:
    lake, settings = estate_lake(tmp_path)
    closed = change("f" * 31 + "9", "CHG95", CI_Q, (t(15, 10), t(15, 11)), close_code, t(14), t(15, 12))
    write(lake, "servicenow/changes", closed)
    build(lake, settings, mode="full", as_of=AS_OF)
    with reading(lake, settings) as built:
        listed = one(mart(built, "mv_changes", "number = 'CHG95'"))
    assert (listed["is_closed"], listed["is_failed"], listed["close_code"]) == (True, False, None)
