"""A setting read under two names (the API's Kibana URL: ROSETTA_API_KIBANA_URL, or ROSETTA_KIBANA_URL as
.env.example writes it) was refused naming the first, which the user never set. It is named as it was set."""

from __future__ import annotations

import pytest

from functions.api.settings import ApiSettings
from lakehouse.errors import SettingsError


@pytest.mark.parametrize("variable", ["ROSETTA_KIBANA_URL", "ROSETTA_API_KIBANA_URL"])
def test_the_kibana_url_is_refused_under_the_name_it_was_set(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.delenv("ROSETTA_KIBANA_URL", raising=False)
    monkeypatch.delenv("ROSETTA_API_KIBANA_URL", raising=False)
    monkeypatch.setenv(variable, "kibana.local")
    with pytest.raises(SettingsError) as refused:
        ApiSettings()
    assert str(refused.value).startswith(f"{variable}: ") and "give the whole base URL" in str(refused.value)
    assert "kibana.local" not in str(refused.value)
