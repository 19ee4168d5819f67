"""The summary index: each key's rows are one slice of a table sorted by the key, found without a query."""

from __future__ import annotations

import pyarrow as pa
import pytest

from functions.api.entity_index import Keyed


def test_each_key_gets_its_own_rows_in_table_order() -> None:
    table = pa.table(
        {
            "app_id": ["billing", "billing", "billing", "shop"],
            "environment": ["production", "production", "staging", "production"],
            "component_id": ["billing-api", None, "billing-api", "shop-api"],
            "revision": ["r1", "r2", "r3", "r4"],
        }
    )
    by_app = Keyed.of(table, ("app_id", "environment"), ("component_id", "revision"))
    assert by_app.rows("billing", "production") == [
        {"component_id": "billing-api", "revision": "r1"},
        {"component_id": None, "revision": "r2"},
    ]
    assert by_app.row("billing", "staging") == {"component_id": "billing-api", "revision": "r3"}
    assert by_app.rows("shop", "staging") == [] and by_app.row("nobody", "production") is None
    # A null is a key value like any other: an application's own row has no component.
    by_component = Keyed.of(table, ("app_id", "environment", "component_id"), ("revision",))
    assert by_component.row("billing", "production", None) == {"revision": "r2"}


def test_rows_out_of_key_order_are_refused() -> None:
    table = pa.table({"app_id": ["shop", "billing", "shop"], "revision": ["r1", "r2", "r3"]})
    with pytest.raises(ValueError, match="not sorted by app_id"):
        Keyed.of(table, ("app_id",), ("revision",))


def test_a_table_without_rows_finds_nothing() -> None:
    """No incident open anywhere: the open-incident counts are an empty table, and every lookup finds nothing."""
    table = pa.table({"app_id": pa.array([], pa.string()), "open": pa.array([], pa.int64())})
    open_by_app = Keyed.of(table, ("app_id",), ("open",))
    assert open_by_app.rows("shop") == [] and open_by_app.row("shop") is None
