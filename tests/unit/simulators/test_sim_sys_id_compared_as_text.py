"""ServiceNow compares sys_ids as text, as it orders them (ORDERBYsys_id): a sys_id whose hex digits happen to read
as a number is no number. The collector pages the CMDB snapshot by `sys_id>` the last one read."""

import pytest

from simulators.encoded_query import matcher, parse_encoded_query

# In text order "…1e5" < "…200" and "…1111" < "…1112"; read as numbers, 1e5 > 200, and the two 32-digit numbers are
# the same float.
PAIRS = [("0" * 29 + "1e5", "0" * 29 + "200"), ("1" * 32, "1" * 31 + "2")]


@pytest.mark.parametrize(("before", "after"), PAIRS)
def test_sys_id_greater_than_follows_text_order(before: str, after: str) -> None:
    assert before < after
    accept = matcher(parse_encoded_query(f"sys_id>{before}^ORDERBYsys_id"), lambda name: True)
    assert accept(lambda name: after)
    assert not accept(lambda name: before)


def test_other_fields_still_compare_numbers_as_numbers() -> None:
    accept = matcher(parse_encoded_query("priority>9"), lambda name: True)
    assert accept(lambda name: "10")
