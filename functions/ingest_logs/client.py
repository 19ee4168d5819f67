"""Elasticsearch `_search` with a composite aggregation paged by `after_key`; basic auth or an API key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from pydantic import SecretStr

from functions.ingest_logs.parse import AGGREGATION, LEVEL_SPELLINGS, partial_answer
from lakehouse.ingest.client import ApiResponse, PageRequest, SourceClient
from lakehouse.ingest.config import DEFAULT_ENVIRONMENT_FIELD
from lakehouse.ingest.errors import Retriable, SourceUnavailable
from lakehouse.ingest.paginators import CompositeAfterKeyPaginator

# log.level is a keyword, matched exactly, and loggers spell levels their own way: ECS loggers for Python, Go and
# Node write "error" and "warn", Log4j "ERROR" and "WARN", others "warning". Every spelling the parser folds is asked.
LEVELS = tuple(sorted(LEVEL_SPELLINGS))
# An OpenTelemetry exporter in its own mapping writes the level in severity_text, not log.level, and an exception's
# type in exception.type, not error.type: lines of either kind are counted.
LEVEL_FIELDS = ("log.level", "severity_text")
EXCEPTION_FIELDS = ("error.type", "exception.type")


def _any_of(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def log_counts_query(
    since_ms: int, until_ms: int, page_size: int, environment_field: str = DEFAULT_ENVIRONMENT_FIELD
) -> dict[str, Any]:
    """Counts per service, environment, level (log.level or severity_text) and hour; `filter` (not `must`): no
    scoring, cacheable. The environment is read from `environment_field`: deployment.environment (OpenTelemetry) or
    service.environment (Elastic Common Schema), as the estate's loggers write it."""
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {
            "bool": {
                "filter": [
                    {"range": {"@timestamp": {"gte": since_ms, "lt": until_ms, "format": "epoch_millis"}}},
                    _any_of([{"terms": {field: list(LEVELS)}} for field in LEVEL_FIELDS]),
                ]
            }
        },
        "aggs": {
            AGGREGATION: {
                "composite": {
                    "size": page_size,
                    "sources": [
                        # Lines without a field come as a null key, which the parser sets aside as rejects,
                        # rather than vanishing from the counts.
                        {"service": {"terms": {"field": "service.name", "missing_bucket": True}}},
                        {"environment": {"terms": {"field": environment_field, "missing_bucket": True}}},
                        # One of the two is null for a line that has only the other.
                        {"level": {"terms": {"field": "log.level", "missing_bucket": True}}},
                        {"severity": {"terms": {"field": "severity_text", "missing_bucket": True}}},
                        {"hour": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1h"}}},
                    ],
                },
                "aggs": {"exceptions": {"filter": _any_of([{"exists": {"field": f}} for f in EXCEPTION_FIELDS])}},
            }
        },
    }


class PartialAnswer(SourceUnavailable):
    """A search answered in part on every attempt: the cluster is up, and this index pattern's indices do not all
    answer the search (a legacy index mapping a field otherwise, say, or a remote cluster unavailable)."""


class ElasticsearchClient(SourceClient):
    source = "elasticsearch"
    credential_settings = "ROSETTA_ELASTICSEARCH_API_KEY (or ROSETTA_ELASTICSEARCH_USER and _PASSWORD)"

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        password: SecretStr | None = None,
        api_key: SecretStr | None = None,
        **options: Any,
    ) -> None:
        if api_key is not None:
            header = SecretStr(f"ApiKey {api_key.get_secret_value()}")
            super().__init__(base_url, headers={"Authorization": header}, **options)
        else:
            auth = (user, password) if user and password else None
            super().__init__(base_url, auth=auth, **options)
        self._partial = False  # whether the last attempt was answered in part

    def send(self, request: PageRequest) -> ApiResponse:
        try:
            return super().send(request)
        except SourceUnavailable as exc:
            if self._partial:
                raise PartialAnswer(self.source, str(exc).removeprefix(f"{self.source}: ")) from None
            raise

    def _attempt(self, request: PageRequest) -> ApiResponse:
        """A 200 from only some shards (a shard failed, the search timed out, a remote cluster was skipped) holds part
        of the buckets: it is asked again like a 5xx, and is a PartialAnswer if it stays partial, rather than be read
        as the hours' whole count."""
        self._partial = False
        response = super()._attempt(request)
        body = response.body if isinstance(response.body, dict) else {}
        partial = partial_answer(body)
        if partial is not None:
            self._partial = True
            raise Retriable(f"search answered in part ({partial})")
        return response

    def listing_keys(self, request: PageRequest, body: Any) -> tuple[str, ...]:
        """A search for the counts always lists its buckets, [] at least; except when it searched no shard (a
        wildcard matching no index), which Elasticsearch answers without aggregations: no buckets to read."""
        asked = request.json.get("aggs") if isinstance(request.json, dict) else None
        shards = body.get("_shards") if isinstance(body, dict) else None
        searched = shards.get("total") if isinstance(shards, dict) else None
        if not isinstance(asked, dict) or AGGREGATION not in asked or searched == 0:
            return ()
        return ("aggregations", AGGREGATION, "buckets")

    def log_counts(
        self,
        index_pattern: str,
        since_ms: int,
        until_ms: int,
        page_size: int,
        environment_field: str = DEFAULT_ENVIRONMENT_FIELD,
    ) -> Iterator[ApiResponse]:
        request = PageRequest(
            f"/{quote(index_pattern, safe='*,-_.')}/_search",
            json=log_counts_query(since_ms, until_ms, page_size, environment_field),
            method="POST",
        )
        return self.pages(request, CompositeAfterKeyPaginator(AGGREGATION, self.source))
