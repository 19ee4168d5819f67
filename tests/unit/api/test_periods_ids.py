"""Period parsing (named, explicit, capped, UTC) and Backstage entity refs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.api import periods
from functions.api.ids import Directory, parse_ref
from functions.api.problems import Problem
from lakehouse.mappings import MappingEntry

ANCHOR = datetime(2026, 11, 20, 10, tzinfo=UTC)


def test_named_periods_end_at_the_anchor() -> None:
    p = periods.resolve("last_7d", None, None, anchor=ANCHOR, default="last_30d", max_days=400)
    assert (p.start, p.end, p.name) == (datetime(2026, 11, 13, 10, tzinfo=UTC), ANCHOR, "last_7d")
    q = periods.named_period("quarter", ANCHOR)
    assert q.start == datetime(2026, 10, 1, tzinfo=UTC)
    pq = periods.named_period("previous_quarter", ANCHOR)
    assert (pq.start, pq.end) == (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    assert periods.named_period("previous_month", datetime(2026, 1, 5, tzinfo=UTC)).start == datetime(
        2025, 12, 1, tzinfo=UTC
    )


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("anchor", "quarter_start", "previous_quarter_start"),
    [
        # The last hour of the first quarter: still Q1, and Q4 of the year before is the previous one.
        (utc(2026, 3, 31, 23), utc(2026, 1, 1), utc(2025, 10, 1)),
        # Midnight of 1 April: Q2 has begun (nothing of it yet), Q1 is the previous one.
        (utc(2026, 4, 1), utc(2026, 4, 1), utc(2026, 1, 1)),
        (utc(2026, 12, 5, 10), utc(2026, 10, 1), utc(2026, 7, 1)),
        # New Year's Day: Q1 of the new year, the old year's Q4 before it.
        (utc(2027, 1, 1, 10), utc(2027, 1, 1), utc(2026, 10, 1)),
    ],
    ids=["31-march-23h", "1-april-0h", "5-december", "1-january"],
)
def test_a_quarter_starts_on_the_first_of_january_april_july_or_october(
    anchor: datetime, quarter_start: datetime, previous_quarter_start: datetime
) -> None:
    quarter = periods.named_period("quarter", anchor)
    assert (quarter.start, quarter.end) == (quarter_start, anchor)
    previous = periods.named_period("previous_quarter", anchor)
    assert (previous.start, previous.end) == (previous_quarter_start, quarter_start)


def test_explicit_range_is_utc_and_capped() -> None:
    p = periods.resolve(None, "2026-11-01", "2026-11-02T12:00:00+02:00", anchor=ANCHOR, default="x", max_days=400)
    assert p.start == datetime(2026, 11, 1, tzinfo=UTC) and p.end == datetime(2026, 11, 2, 10, tzinfo=UTC)
    with pytest.raises(Problem) as too_long:
        periods.resolve(None, "2020-01-01", "2026-01-01", anchor=ANCHOR, default="x", max_days=400)
    assert too_long.value.status == 422 and "400 days" in too_long.value.detail


def test_an_offset_after_a_space_is_the_plus_a_query_string_decoded() -> None:
    """'2026-11-19T00:00:00 02:00' is 2026-11-19T00:00:00+02:00 with its `+` decoded as a space: the 18th 22:00
    in UTC; 00:00 at 05:30 ahead is the 18th 18:30. A space between the date and the time stays that separator."""
    assert periods.parse_instant("from", "2026-11-19T00:00:00 02:00") == datetime(2026, 11, 18, 22, tzinfo=UTC)
    assert periods.parse_instant("from", "2026-11-19 00:00 0530") == datetime(2026, 11, 18, 18, 30, tzinfo=UTC)
    assert periods.parse_instant("from", "2026-11-19 02:00") == datetime(2026, 11, 19, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("last_1000d", None, None),
        ("last_7d", "2026-11-01", None),
        (None, "2026-11-02", "2026-11-01"),
        (None, "yesterday", None),
        (None, "1' or 1=1 --", None),
        (None, "9999-01-01", None),
        # Out of datetime's range once the offset is applied (years 10000 and 0 in UTC).
        (None, "9999-12-31T23:59:59-23:59", None),
        (None, "0001-01-01T00:00:00+23:59", None),
        (None, None, "2026-11-01"),
    ],
)
def test_bad_periods_are_422_naming_the_parameter(period: str | None, start: str | None, end: str | None) -> None:
    with pytest.raises(Problem) as err:
        periods.resolve(period, start, end, anchor=ANCHOR, default="last_30d", max_days=400)
    assert err.value.status == 422 and err.value.extra["errors"][0]["parameter"] in ("period", "from", "to")


@pytest.mark.parametrize(
    ("start", "why"),
    [
        # The data ends at 2026-11-20 10:00: a range from the 21st has nothing before its end.
        ("2026-11-21", "before 2026-11-20T10:00"),
        # From 2025-01-01 to the data's end is 688 days, over the 400 allowed.
        ("2025-01-01", "400 days"),
    ],
)
def test_a_from_alone_that_cannot_start_a_range_is_named(start: str, why: str) -> None:
    """With from alone the range ends at the data's last hour: a from after it, or too far before it, is the
    parameter the caller gave and must change, so the problem names from, not the to it never sent."""
    with pytest.raises(Problem) as err:
        periods.resolve(None, start, None, anchor=ANCHOR, default="last_30d", max_days=400)
    assert err.value.status == 422 and err.value.extra["errors"][0]["parameter"] == "from"
    assert why in err.value.detail


def test_a_range_ending_where_it_starts_says_that_to_is_excluded() -> None:
    """from=2026-11-19&to=2026-11-19, meant as the 19th, was refused as "to must be after from", which does not say
    why: to is excluded, so the 19th alone is from=2026-11-19&to=2026-11-20."""
    with pytest.raises(Problem) as err:
        periods.resolve(None, "2026-11-19", "2026-11-19", anchor=ANCHOR, default="last_30d", max_days=400)
    assert err.value.status == 422 and err.value.extra["errors"][0]["parameter"] == "to"
    assert "to is excluded, so one day D is from=D&to=(D + 1 day)" in err.value.detail


def test_period_error_lists_the_allowed_values() -> None:
    with pytest.raises(Problem) as err:
        periods.resolve("fortnight", None, None, anchor=ANCHOR, default="last_30d", max_days=400)
    assert err.value.extra["errors"][0]["allowed"] == list(periods.NAMED_PERIODS)


def test_kibana_ranges() -> None:
    assert periods.kibana_range("now-1h", None, None, now=ANCHOR, max_days=400) == ("now-1h", "now")
    assert periods.kibana_range("last_24h", None, None, now=ANCHOR, max_days=400) == ("now-24h", "now")
    assert periods.kibana_range(None, "2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", now=ANCHOR, max_days=400) == (
        "2026-11-01T00:00:00.000Z",
        "2026-11-01T01:00:00.000Z",
    )
    for bad in ("now-99999d", "now+1h", "1h", "now-1y"):
        with pytest.raises(Problem):
            periods.kibana_range(bad, None, None, now=ANCHOR, max_days=400)


def test_a_month_in_kibana_is_the_utc_month_the_figures_have() -> None:
    """The figures' months are UTC ones: on 2026-11-20 10:00, month is from November 1st 00:00 UTC and
    previous_month October. Kibana rounds now/M in the browser's time zone (November 1st 00:00 in New York is
    05:00 UTC), so the link gives the instants, as it does for a quarter."""
    assert periods.kibana_range("month", None, None, now=ANCHOR, max_days=400) == (
        "2026-11-01T00:00:00.000Z",
        "2026-11-20T10:00:00.000Z",
    )
    assert periods.kibana_range("previous_month", None, None, now=ANCHOR, max_days=400) == (
        "2026-10-01T00:00:00.000Z",
        "2026-11-01T00:00:00.000Z",
    )


def test_refs() -> None:
    assert parse_ref("component:default/payments-api", "x").name == "payments-api"
    assert parse_ref("component:default/payments-api", "x").kind == "component"
    assert parse_ref("system:default/payments", "x").kind == "application"
    assert parse_ref("Payments-API", "x").name == "payments-api"
    assert parse_ref("payments", "x").kind is None
    for bad in ("", "../etc/passwd", "user:default/bob", "a" * 300, "x'; drop table y; --", "pay ments", "ñame"):
        with pytest.raises(Problem) as err:
            parse_ref(bad, "appId")
        assert err.value.status == 422


def test_a_component_resolves_to_its_application() -> None:
    directory = Directory.of(
        3,
        [
            MappingEntry(entity_id="payments", kind="application"),
            MappingEntry(entity_id="payments-api", kind="component", application_id="payments"),
        ],
    )
    assert directory.resolve_application("component:default/payments-api") == "payments"
    assert directory.resolve_application("system:default/payments") == "payments"
    assert directory.resolve_component("payments-api") == ("payments-api", "payments")
    for call, arg in ((directory.resolve_application, "nope"), (directory.resolve_component, "payments")):
        with pytest.raises(Problem) as err:
            call(arg)
        assert err.value.status == 404


def test_a_ref_names_the_entity_of_its_namespace() -> None:
    """checkout is mapped as team-a's: component:team-a/checkout (any case) is it, component:team-b/checkout and
    component:default/checkout (a kind without a namespace is the default namespace, as in Backstage) are not; the
    plain id is the mapping's own name for it."""
    directory = Directory.of(
        1,
        [
            MappingEntry(entity_id="shop", kind="application", namespace="team-a"),
            MappingEntry(entity_id="checkout", kind="component", application_id="shop", namespace="team-a"),
        ],
    )
    assert directory.resolve_component("component:team-a/checkout") == ("checkout", "shop")
    assert directory.resolve_component("Component:Team-A/Checkout") == ("checkout", "shop")
    assert directory.resolve_component("checkout") == ("checkout", "shop")
    assert directory.resolve_application("system:team-a/shop") == "shop"
    for call, ref in (
        (directory.resolve_component, "component:team-b/checkout"),
        (directory.resolve_component, "component:checkout"),
        (directory.resolve_application, "system:default/shop"),
        (directory.resolve_application, "component:team-b/checkout"),
    ):
        with pytest.raises(Problem) as err:
            call(ref)
        assert err.value.status == 404 and "namespace team-a" in err.value.detail, ref


def test_an_empty_kibana_range_is_not_called_too_long() -> None:
    """now-0m reaches back 0 minutes: an empty range, which the problem says, instead of that it is longer than the
    400 days allowed."""
    with pytest.raises(Problem) as err:
        periods.kibana_range("now-0m", None, None, now=ANCHOR, max_days=400)
    assert err.value.extra["errors"][0]["parameter"] == "timeRange"
    assert "400 days" not in err.value.detail and "empty" in err.value.detail
