"""An incident the estate raises for a short spontaneous degradation is resolved after it opened, never before."""

from datetime import UTC, datetime, timedelta

import pytest

from simulators.estate import generate_estate

END = datetime(2024, 5, 1, tzinfo=UTC)


# Estates each holding a spontaneous incident opened up to 30 minutes into a degradation of 10 minutes or so: it
# opens after the degradation ended, so resolving it a few minutes after that end would come before it opened.
@pytest.mark.parametrize("seed", [4, 6, 8, 10])
def test_no_incident_is_resolved_before_it_opened(seed: int) -> None:
    estate = generate_estate(seed=seed, apps=6, days=60, end=END)
    resolved = [i for i in estate.incidents if i.resolved_at is not None]
    assert resolved
    assert [i.number for i in resolved if i.resolved_at < i.opened_at] == []


def test_the_same_seed_draws_the_same_estate_otherwise() -> None:
    """Seed 6's spontaneous incident INC0010060 opened at 05:05:22 on 2 March, after its degradation ended: it is
    resolved five minutes after it opened, and closed 4 days 20:49:28 after that, the draw it always had. The next
    incident drawn, INC0010061, keeps its times."""
    estate = generate_estate(seed=6, apps=6, days=60, end=END)
    incidents = {i.number: i for i in estate.incidents}
    first, second = incidents["INC0010060"], incidents["INC0010061"]
    assert first.opened_at == datetime(2024, 3, 2, 5, 5, 22, tzinfo=UTC)
    assert first.resolved_at == datetime(2024, 3, 2, 5, 10, 22, tzinfo=UTC)
    assert first.closed_at - first.resolved_at == timedelta(days=4, hours=20, minutes=49, seconds=28)
    assert (second.opened_at, second.resolved_at) == (
        datetime(2024, 3, 26, 20, 37, 43, tzinfo=UTC),
        datetime(2024, 3, 26, 21, 47, 13, tzinfo=UTC),
    )
