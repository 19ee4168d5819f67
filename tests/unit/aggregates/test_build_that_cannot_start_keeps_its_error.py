"""A build that cannot start because the lake cannot be read usually cannot write its run record either: the error
that reaches the operator must be the first one, which says why, not the run log's."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakehouse.aggregates import build as build_module
from lakehouse.aggregates.build import build
from lakehouse.errors import LakeAccessError
from lakehouse.runlog import RunLog
from tests.unit.aggregates.estate import AS_OF, estate_lake


def test_the_first_error_is_raised_when_the_run_record_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake, settings = estate_lake(tmp_path)

    def unreadable(self: object) -> None:
        raise LakeAccessError("S3 store s3://lake did not answer in time getting ref/mappings/current.json")

    def unwritable(self: object, *args: object, **kwargs: object) -> None:
        raise LakeAccessError("S3 store s3://lake did not answer in time putting runs/day=2026-11-20/x.json")

    monkeypatch.setattr(build_module.MappingStore, "current", unreadable)
    monkeypatch.setattr(RunLog, "start", unwritable)
    with pytest.raises(LakeAccessError, match=r"getting ref/mappings/current\.json"):
        build(lake, settings, mode="hourly", as_of=AS_OF)
