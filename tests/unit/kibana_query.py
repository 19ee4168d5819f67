"""A component's Kibana query as its mapping entry fills it from a template: checkout-api of the checkout
application, in production, with the display name under test."""

from __future__ import annotations

from lakehouse.mappings import MappingEntry

# The display name bare, then the component's own id quoted.
TEMPLATE = 'labels.app:{name} and service.name:"{component}"'


def filled(name: str, template: str = TEMPLATE) -> str | None:
    entry = MappingEntry(
        entity_id="checkout-api",
        kind="component",
        name=name,
        application_id="checkout",
        environment="production",
        kibana_query_template=template,
    )
    return entry.kibana_query()
