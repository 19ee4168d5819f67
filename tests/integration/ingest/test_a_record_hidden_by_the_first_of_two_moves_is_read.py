"""Two change requests updated while ServiceNow pages them, in a window that ends after ServiceNow's clock (a window
given by hand that ends later, or a source whose clock is behind): each moves to the end of the order, and the first
mover's new version is itself skipped by the second move, so only the second is seen twice."""

from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from lakehouse.ingest.config import IngestSettings
from lakehouse.ingest.sources import ingest
from lakehouse.ingest.window import Window
from lakehouse.settings import Settings
from lakehouse.storage import Lake
from tests.integration.api.test_endpoints import serving

from .servicenow_table_api import FakeTableApi
from .test_a_malformed_servicenow_record_is_a_reject_not_a_failed_run import change
from .truth import rows


def test_a_record_hidden_by_the_first_of_two_moves_is_read(tmp_path: Path) -> None:
    """13 changes updated 12:01 to 12:13, three to a page. After the second page CHG1 is updated at 13:01: the others
    slide back one place and CHG7 falls before the third page's offset. After the fourth, CHG11 is updated at 13:02:
    CHG1's new version slides back in turn and is not met again. Only CHG11 was seen twice, so the window was read
    again from its old time, 12:11, and counted complete from there: CHG7 (12:07) was never read, and the run said
    "succeeded" with its watermark past it. Every change is read, the run succeeding."""
    changes = [change(n) for n in range(1, 14)]
    api = FakeTableApi("change_request", changes)
    moves = {2: (changes[0], "2024-03-01 13:01:00"), 4: (changes[10], "2024-03-01 13:02:00")}

    def after_page(served: int) -> None:
        if served in moves:
            record, stamp = moves[served]
            record["sys_updated_on"] = stamp

    api.after_page = after_page
    lake = Lake.from_settings(Settings(lake_url=str(tmp_path / "lake")))
    with serving(api.handler()) as url:
        settings = IngestSettings(
            servicenow_url=url,
            servicenow_user="svc",
            servicenow_password=SecretStr("s3cret-Pw-4711"),
            servicenow_page_size=3,
        )
        window = Window(datetime(2024, 3, 1, 12, tzinfo=UTC), datetime(2024, 3, 1, 14, tzinfo=UTC))
        outcome = ingest("servicenow", lake, settings, window=window, datasets=["servicenow/changes"])
    assert outcome.status == "succeeded"
    assert sorted({r["number"] for r in rows(lake, "servicenow/changes")}) == [f"CHG{n:07d}" for n in range(1, 14)]
