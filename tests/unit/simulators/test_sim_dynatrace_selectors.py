"""Dynatrace selectors and resolution rules."""

import pytest

from simulators.dynatrace_metrics import (
    BinaryNode,
    MetricNode,
    SelectorError,
    parse_metric_selector,
    resolve_resolution,
)

DAY = 86_400_000


def test_metric_ids_echo_each_selector_with_its_transformations() -> None:
    parsed = parse_metric_selector(
        'builtin:service.response.time:percentile(95):splitBy("dt.entity.service"):names,'
        "builtin:service.requestCount.total:splitBy():fold"
    )
    assert [text for text, _ in parsed] == [
        'builtin:service.response.time:percentile(95):splitBy("dt.entity.service"):names',
        "builtin:service.requestCount.total:splitBy():fold",
    ]
    node = parsed[0][1]
    assert isinstance(node, MetricNode)
    assert [t.name for t in node.transforms] == ["percentile", "splitBy", "names"]
    assert node.transforms[1].args == ['"dt.entity.service"']


def test_expressions_parse_with_precedence() -> None:
    ((_, node),) = parse_metric_selector(
        "builtin:service.errors.total.count/(builtin:service.errors.total.count+builtin:service.errors.total.successCount)"
    )
    assert isinstance(node, BinaryNode) and node.op == "/"
    assert isinstance(node.right, BinaryNode) and node.right.op == "+"


@pytest.mark.parametrize("bad", ["", "builtin:service.response.time:percentile(95", "builtin:x:filter(eq(a,b))"])
def test_invalid_selectors_are_refused(bad: str) -> None:
    with pytest.raises(SelectorError):
        parse_metric_selector(bad)


def test_resolution_defaults_and_coarsening() -> None:
    now = 100 * DAY
    assert resolve_resolution("Inf", now - DAY, now, now) == ("Inf", None)
    assert resolve_resolution(None, now - 2 * 3_600_000, now, now) == ("1m", 60_000)
    assert resolve_resolution(None, now - DAY, now, now)[0] == "15m"
    # One-minute data is not kept for frames older than 14 days, nor more than 10,080 points per series.
    assert resolve_resolution("1m", now - 20 * DAY, now - 19 * DAY, now)[0] == "5m"
    assert resolve_resolution("1m", now - 60 * DAY, now - 59 * DAY, now)[0] == "1h"
    assert resolve_resolution("1h", now - 90 * DAY, now, now) == ("1h", 3_600_000)
