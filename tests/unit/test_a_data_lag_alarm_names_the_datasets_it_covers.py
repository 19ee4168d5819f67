"""An SRE paged by an ingestion's data-lag alarm reads its description to know what is stale. LagSeconds comes only from
a run whose datasets all loaded, so one dataset failing every run keeps the alarm in ALARM while the function's other
datasets are fresh; the description said that no run had reported data newer than 3 h, naming no dataset. It now
names the datasets the metric covers (every lake source of the function's datasets, from the code that ingests them),
the metric with its dimension, and that a single failing dataset is enough. Read from functions.tf, the description
rendered for each function as Terraform renders it."""

from __future__ import annotations

import importlib
import re

import pytest

from lakehouse.ingest.sources import SOURCE_MODULES
from tests.unit.lakehouse.test_terraform_functions import attribute, locals_map

# Function key -> the source its handler runs (the handlers' SOURCE).
INGESTIONS = {
    "ingest_dynatrace": "dynatrace",
    "ingest_servicenow": "servicenow",
    "ingest_deploys": "deploys",
    "ingest_logs": "logs",
}


def lake_sources(key: str) -> list[str]:
    """local.ingest's lake sources of a function."""
    found = re.search(rf"^    {key}\s+= \{{ lake_sources = \[([^\]]*)\]", locals_map("ingest"), re.M)
    assert found is not None, key
    return re.findall(r'"(\w+)"', found.group(1))


def rendered_description(key: str) -> str:
    """The data-lag alarm's description for `key`, its interpolations filled in as Terraform fills them."""
    found = re.search(r'^\s+description\s*=\s*"(.*)"$', locals_map("ingest_freshness"), re.M)
    assert found is not None, "local.ingest_freshness has no description"

    def value(interpolation: re.Match[str]) -> str:
        expression = interpolation.group(1)
        if expression == "key":
            return key
        if expression == "local.functions[key].max_lag_hours":
            return str(attribute(key, "max_lag_hours"))
        joined = re.fullmatch(r'join\("([^"]*)", spec\.lake_sources\)', expression)
        if joined:
            return joined.group(1).join(lake_sources(key))
        raise AssertionError(f"an interpolation this test does not render: {expression}")

    return re.sub(r"\$\{(.+?)\}", value, found.group(1))


def covered_prefixes(source: str) -> set[str]:
    """raw/<lake source>/ of every dataset the source's code ingests."""
    module = importlib.import_module(SOURCE_MODULES[source])
    return {f"raw/{dataset.split('/')[0]}/" for dataset in module.DATASETS}


@pytest.mark.parametrize("key", sorted(INGESTIONS))
def test_a_data_lag_alarm_names_the_datasets_it_covers(key: str) -> None:
    text = rendered_description(key)
    named = set(re.findall(r"raw/\w+/", text))
    assert named == covered_prefixes(INGESTIONS[key]), text
    assert f"LagSeconds (service = {key})" in text, text
    assert f"for {attribute(key, 'max_lag_hours')} h " in text, text
    assert "one dataset failing" in text, text
