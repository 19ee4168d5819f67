"""The very first run of ServiceNow's incidents writes its days, then is stopped (an S3 error, a timeout, a kill)
before its run is wholly recorded. The next scheduled run reads from the watermark less the overlap. The lake's
first read must stay the start of the window whose days are in the lake, whatever step the first run was stopped
at: recorded later, the reports would say the incidents before it may be missing, and the DORA and incident
figures would leave out days the lake holds, for good (a first read only ever moves back with a backfill)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest

from lakehouse.errors import LakeAccessError
from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.runlog import FirstReads, Watermarks
from lakehouse.schemas import get_dataset
from lakehouse.storage import Lake
from tests.integration.ingest.conftest import END

INCIDENTS = "servicenow/incidents"
FIRST_WINDOW = Window(END - timedelta(days=2), END - timedelta(hours=1))
# The scheduled run after it: its watermark (END - 1 h) less an hour of overlap, to END.
NEXT_WINDOW = Window(END - timedelta(hours=2), END)


def _incidents(lake: Lake, window: Window) -> None:
    ingest("servicenow", lake, IngestSettings().resolved(), window=window, datasets=[INCIDENTS])


def _stopped_at(lake: Lake, monkeypatch: pytest.MonkeyPatch, state_key: str, nth: int) -> None:
    """The first run, stopped at its `nth` put of `state_key`: that put and every later one of the run are refused,
    as when its process is killed there."""
    real = Lake.put_json
    puts, stopped = 0, False

    def put_json(self: Lake, key: str, value: Any, **kw: Any) -> Any:
        nonlocal puts, stopped
        puts += key == state_key
        stopped = stopped or puts == nth
        if stopped:
            raise LakeAccessError(f"stopped before {key} was put")
        return real(self, key, value, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(Lake, "put_json", put_json)
        with contextlib.suppress(LakeAccessError):
            _incidents(lake, FIRST_WINDOW)
    assert stopped, f"the run never put {state_key}"


@pytest.mark.parametrize("stopped_before", ["first read", "watermark"])
def test_the_first_read_is_the_first_windows_start_whichever_step_the_first_run_was_stopped_at(
    sims_lake: Lake, monkeypatch: pytest.MonkeyPatch, stopped_before: str
) -> None:
    """By hand: the first window starts at END - 2 days; its days are in the lake however the run ended. Stopped
    before its first read is recorded, the watermark has not moved either, and the next run (the scheduler reads
    from the watermark, none yet here, so the window is given again) completes it; stopped before its watermark,
    the first read is already recorded."""
    # The first read's record is put twice: noted pending before the first day is written, then recorded.
    key, nth = {
        "first read": (sims_lake.read_from_key("servicenow", "incidents"), 2),
        "watermark": (sims_lake.state_key("servicenow", "incidents"), 1),
    }[stopped_before]
    _stopped_at(sims_lake, monkeypatch, key, nth)
    assert sims_lake.list_partitions(get_dataset(INCIDENTS)), "the first run wrote its days before it was stopped"
    if Watermarks(sims_lake).get("servicenow", "incidents") is None:
        # Nothing says the first window was read: the scheduler's next run reads it again.
        _incidents(sims_lake, FIRST_WINDOW)
    _incidents(sims_lake, NEXT_WINDOW)

    assert FirstReads(sims_lake).get("servicenow", "incidents") == FIRST_WINDOW.since
