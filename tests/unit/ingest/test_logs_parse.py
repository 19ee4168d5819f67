"""Elasticsearch log counts: bucket keys are hour starts; exceptions summed into their own level."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from functions.ingest_logs import parse
from functions.ingest_logs.client import ElasticsearchClient
from lakehouse.ingest.client import RetryPolicy
from lakehouse.ingest.errors import SourceRefused
from tests.conftest import FIXTURES


def bucket(service: str, level: str, hour: int, count: int, exceptions: int) -> dict[str, object]:
    return {
        "key": {"service": service, "environment": "production", "level": level, "hour": hour},
        "doc_count": count,
        "exceptions": {"doc_count": exceptions},
    }


def page_of(*buckets: dict[str, object]) -> dict[str, object]:
    """A whole answer (no shard failed, not timed out) of the logs aggregation holding `buckets`."""
    return {"timed_out": False, "_shards": {"failed": 0}, "aggregations": {"logs": {"buckets": list(buckets)}}}


def test_bucket_keys_are_hour_starts() -> None:
    # The docs' UTC day bucket: key 1443657600000 is 2015-10-01T00:00:00Z, the START of its bucket.
    text = (FIXTURES / "elasticsearch" / "date_histogram__time_zone_docs_example.txt").read_text()
    assert '"key":           1443657600000' in text
    page = page_of(
        bucket("checkout-api", "ERROR", 1443657600000, 12, 12),
        bucket("checkout-api", "WARN", 1443657600000, 3, 1),
    )
    rows = parse.parse_log_counts_page(page, {"index_pattern": "logs-checkout-*"}).tables[parse.DATASET].to_pylist()
    by_level = {r["level"]: r for r in rows}
    assert by_level["ERROR"]["hour"] == datetime(2015, 10, 1, tzinfo=UTC) and by_level["ERROR"]["count"] == 12
    assert by_level["EXCEPTION"]["count"] == 13  # 12 on ERROR lines + 1 on a WARN line
    assert by_level["WARN"]["index_pattern"] == "logs-checkout-*"


def test_grafana_response_keys_read_as_starts() -> None:
    response = json.loads(
        (FIXTURES / "elasticsearch" / "msearch_response__date_histogram_avg__grafana.json").read_text()
    )
    first = response["responses"][0]["aggregations"]["2"]["buckets"][0]
    page = {"aggregations": {"logs": {"buckets": [bucket("svc", "ERROR", first["key"], first["doc_count"], 0)]}}}
    (row,) = parse.parse_log_counts_page(page, {"index_pattern": "x"}).tables[parse.DATASET].to_pylist()
    assert row["hour"] == datetime(2023, 3, 17, 13, 53, 0, 123000, tzinfo=UTC) and row["count"] == 12


def test_partial_answers_and_bad_buckets_are_rejected() -> None:
    partial = parse.parse_log_counts_page({"timed_out": True, "aggregations": {}}, {"index_pattern": "x"})
    assert partial.rows == 0 and "timed out" in partial.rejects[0].reason
    page = {"aggregations": {"logs": {"buckets": [bucket("svc", "ERROR", 1, 2, 0), {"key": {"service": "svc"}}]}}}
    result = parse.parse_log_counts_page(page, {"index_pattern": "x"})
    assert result.rows == 1 and result.rejects[0].index == 1


def test_a_bucket_whose_exceptions_count_is_not_an_object_is_rejected_alone() -> None:
    """Two buckets of one hour, the second's exceptions sub-aggregation a bare number instead of {"doc_count": n}:
    the first counts (ERROR 5, EXCEPTION 5), the second is one reject at index 1."""
    spoiled = {**bucket("svc", "WARN", 3_600_000, 2, 0), "exceptions": 1}
    page = {"aggregations": {"logs": {"buckets": [bucket("svc", "ERROR", 3_600_000, 5, 5), spoiled]}}}
    result = parse.parse_log_counts_page(page, {"index_pattern": "x"})
    counts = {r["level"]: r["count"] for r in result.tables[parse.DATASET].to_pylist()}
    assert counts == {"ERROR": 5, "EXCEPTION": 5}
    assert [r.index for r in result.rejects] == [1]


def test_a_bucket_whose_hour_or_count_is_out_of_range_is_rejected_alone() -> None:
    """A bucket keyed on an hour no date holds, or counting more lines than a 64-bit integer, failed the page and
    the run, and a negative count was stored; each is a reject, the good bucket of the page counts (ERROR 5,
    EXCEPTION 5 at 01:00)."""
    huge, far = 2**70, 2**62  # past a 64-bit integer; an int64 of ms some million years on
    page = {
        "aggregations": {
            "logs": {
                "buckets": [
                    bucket("svc", "ERROR", far, 1, 0),
                    bucket("svc", "ERROR", 3_600_000, 5, 5),
                    bucket("svc", "WARN", 3_600_000, huge, 0),
                    bucket("svc", "WARN", 3_600_000, 3, -2),
                ]
            }
        }
    }
    result = parse.parse_log_counts_page(page, {"index_pattern": "x"})
    rows = result.tables[parse.DATASET].to_pylist()
    assert sorted((r["level"], r["hour"], r["count"]) for r in rows) == [
        ("ERROR", datetime(1970, 1, 1, 1, tzinfo=UTC), 5),
        ("EXCEPTION", datetime(1970, 1, 1, 1, tzinfo=UTC), 5),
    ]
    assert [(r.index, r.reason) for r in result.rejects] == [
        (0, f"hour {far} is no time in epoch milliseconds"),
        (2, f"doc_count {huge} is out of range"),
        (3, "exceptions -2 is no count of lines"),
    ]


def test_counts_that_add_up_past_a_64_bit_integer_are_rejected_not_a_failed_page() -> None:
    """Each bucket fits a 64-bit count, but buckets of one level's spellings ("error", "ERROR") add up, and so do
    the exceptions of every level: past 2**63 - 1 the sum failed the page and the run. A bucket that would push a
    sum past it is a reject, whole (the WARN bucket's 4 lines with its exceptions); the first bucket counts."""
    half = 2**62
    page = page_of(
        bucket("svc", "ERROR", 3_600_000, half, half),
        bucket("svc", "error", 3_600_000, half, 0),
        bucket("svc", "WARN", 3_600_000, 4, half),
    )
    result = parse.parse_log_counts_page(page, {"index_pattern": "x"})
    counts = {r["level"]: r["count"] for r in result.tables[parse.DATASET].to_pylist()}
    assert counts == {"ERROR": half, "EXCEPTION": half}
    assert [(r.index, r.reason) for r in result.rejects] == [
        (1, "ERROR lines of the hour add up past a 64-bit count"),
        (2, "EXCEPTION lines of the hour add up past a 64-bit count"),
    ]


def test_an_answer_whose_shards_are_not_counted_is_set_aside_whole() -> None:
    """A `_shards` that is a list, or whose failed count is a text, cannot tell whether the answer is whole: the
    client asked about it and failed the run (AttributeError). The page is now one reject naming `_shards`; the
    client passes it on rather than asking again, since a second answer would be the same."""
    for shards in ([{"failed": 0}], {"failed": "none"}):
        page = {**page_of(bucket("svc", "ERROR", 3_600_000, 5, 0)), "_shards": shards}
        result = parse.parse_log_counts_page(page, {"index_pattern": "x"})
        assert result.rows == 0 and [r.reason[:7] for r in result.rejects] == ["_shards"]
        assert parse.partial_answer(page) is None


def test_counts_combined_across_pages_keep_the_declared_schema() -> None:
    import pyarrow as pa

    pages = [
        {"aggregations": {"logs": {"buckets": [bucket("svc", "ERROR", 3_600_000, 5, 5)]}}},
        {"aggregations": {"logs": {"buckets": [bucket("svc", "WARN", 3_600_000, 2, 1)]}}},
    ]
    tables = [parse.parse_log_counts_page(p, {"index_pattern": "x"}).tables[parse.DATASET] for p in pages]
    combined = parse.combine_counts(pa.concat_tables(tables))
    assert combined.schema == tables[0].schema
    counts = {r["level"]: r["count"] for r in combined.to_pylist()}
    assert counts == {"ERROR": 5, "WARN": 2, "EXCEPTION": 6}
    pa.concat_tables([combined, tables[0]])  # a later page appends to a combined buffer


class NoSleep:
    def now(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        pass


def test_a_search_answered_by_only_some_shards_is_asked_again() -> None:
    """Elasticsearch answers 200 when a shard fails, with `_shards.failed` set and the buckets of the shards that
    answered. That page was set aside as a reject and the next page followed, so the run ended as done (watermark
    moved) without the counts of that hour, which no later run re-read. By hand: asked again, the cluster answers
    whole, 12 ERROR and 3 WARN lines of checkout-api in the hour 2015-10-01T00:00Z."""
    hour = 1443657600000
    whole = [bucket("checkout-api", "ERROR", hour, 12, 0), bucket("checkout-api", "WARN", hour, 3, 0)]
    shards = {"total": 5, "successful": 5, "skipped": 0, "failed": 0}
    partial_shards = {"total": 5, "successful": 4, "skipped": 0, "failed": 1, "failures": [{"shard": 2}]}
    answers = [
        {"timed_out": False, "_shards": partial_shards, "aggregations": {"logs": {"buckets": whole[:1]}}},
        {"timed_out": False, "_shards": shards, "aggregations": {"logs": {"buckets": whole}}},
    ]

    def handle(request: httpx.Request) -> httpx.Response:
        if "after" in json.loads(request.content)["aggs"]["logs"]["composite"]:
            return httpx.Response(
                200, json={"timed_out": False, "_shards": shards, "aggregations": {"logs": {"buckets": []}}}
            )
        body = answers.pop(0)
        body["aggregations"]["logs"]["after_key"] = body["aggregations"]["logs"]["buckets"][-1]["key"]
        return httpx.Response(200, json=body)

    client = ElasticsearchClient(
        "https://es.example",
        user="reader",
        password=SecretStr("pw"),
        transport=httpx.MockTransport(handle),
        clock=NoSleep(),
        policy=RetryPolicy(attempts=3),
    )
    results = [
        parse.parse_log_counts_page(p.body, {"index_pattern": "logs-*"}) for p in client.log_counts("logs-*", 0, 1, 10)
    ]
    assert [r.rejects for r in results if r.rejects] == []
    counts = {row["level"]: row["count"] for r in results for row in r.tables[parse.DATASET].to_pylist()}
    assert counts == {"ERROR": 12, "WARN": 3}


def test_a_search_every_shard_refused_says_why_not_only_that_all_shards_failed() -> None:
    """Elasticsearch's error body: {"error": {"root_cause": [...], "type", "reason", ...}, "status"}. When every
    shard fails the query, the top reason is only "all shards failed"; why is in root_cause (here the environment
    field mapped as text, which cannot be aggregated). The refusal carries the root cause's type and reason."""
    why = (
        "Text fields are not optimised for operations that require per-document field data like aggregations and "
        "sorting, so these operations are disabled by default. Please use a keyword field instead."
    )
    cause = {"type": "illegal_argument_exception", "reason": why}
    body = {
        "error": {
            "root_cause": [cause],
            "type": "search_phase_execution_exception",
            "reason": "all shards failed",
            "phase": "query",
            "grouped": True,
            "caused_by": cause,
        },
        "status": 400,
    }
    client = ElasticsearchClient(
        "https://es.example",
        user="reader",
        password=SecretStr("pw"),
        transport=httpx.MockTransport(lambda request: httpx.Response(400, json=body)),
    )
    with pytest.raises(SourceRefused) as refused:
        list(client.log_counts("logs-*", 0, 1, 10))
    assert str(refused.value).endswith(
        f"HTTP 400 on POST /logs-*/_search: all shards failed (illegal_argument_exception: {why})"
    )


def test_levels_count_however_the_logger_spells_them() -> None:
    """ECS loggers for Python, Go and Node write log.level "error" and "warn"; others "warning" or "ERROR". The
    search asks for each spelling (log.level is matched exactly), and each counts on its level: in this hour 5 error
    lines (4 "error" + 1 "ERROR") and 9 warnings (2 "warn" + 3 "warning" + 4 "WARN")."""
    from functions.ingest_logs.client import log_counts_query

    (levels,) = [f["bool"] for f in log_counts_query(0, 1, 10)["query"]["bool"]["filter"] if "bool" in f]
    asked = {field: spellings for clause in levels["should"] for field, spellings in clause["terms"].items()}
    assert set(asked) == {"log.level", "severity_text"} and levels["minimum_should_match"] == 1
    for spellings in asked.values():
        assert {"error", "ERROR", "warn", "warning", "WARN"} <= set(spellings) and "info" not in spellings
    hour = 1443657600000
    page = page_of(
        bucket("checkout-api", "error", hour, 4, 1),
        bucket("checkout-api", "ERROR", hour, 1, 0),
        bucket("checkout-api", "warn", hour, 2, 0),
        bucket("checkout-api", "warning", hour, 3, 0),
        bucket("checkout-api", "WARN", hour, 4, 0),
    )
    rows = parse.parse_log_counts_page(page, {"index_pattern": "logs-checkout-*"}).tables[parse.DATASET].to_pylist()
    assert {r["level"]: r["count"] for r in rows} == {"ERROR": 5, "WARN": 9, "EXCEPTION": 1}


def test_fatal_and_critical_lines_count_as_errors() -> None:
    """Log4j and OpenTelemetry write FATAL, Python's loggers CRITICAL, Go's fatal: the most severe lines were neither
    asked for nor counted, so a service dying with fatal lines showed no error at all. They count as ERROR: in this
    hour 2 "ERROR" + 3 "FATAL" + 1 "critical" + 4 "fatal" = 10 error lines, 1 of them with an exception."""
    from functions.ingest_logs.client import log_counts_query

    (levels,) = [f["bool"] for f in log_counts_query(0, 1, 10)["query"]["bool"]["filter"] if "bool" in f]
    for clause in levels["should"]:
        (spellings,) = clause["terms"].values()
        assert {"FATAL", "fatal", "CRITICAL", "critical"} <= set(spellings)
    hour = 1443657600000
    page = page_of(
        bucket("checkout-api", "ERROR", hour, 2, 0),
        bucket("checkout-api", "FATAL", hour, 3, 1),
        bucket("checkout-api", "critical", hour, 1, 0),
        bucket("checkout-api", "fatal", hour, 4, 0),
    )
    rows = parse.parse_log_counts_page(page, {"index_pattern": "logs-checkout-*"}).tables[parse.DATASET].to_pylist()
    assert {r["level"]: r["count"] for r in rows} == {"ERROR": 10, "EXCEPTION": 1}


def test_severe_and_syslog_error_levels_count_as_errors() -> None:
    """Elastic's own ECS formatter for java.util.logging writes the JUL level name, SEVERE, in log.level; syslog
    sources write err, crit, alert and emerg (ECS gives "err" as an example of log.level), PHP's Monolog ALERT and
    EMERGENCY, Go's zap and logrus panic. None was asked for, so those lines, and the exceptions they carry, never
    reached the counts. They count as ERROR: in this hour 2 "SEVERE" (1 with an exception) + 1 "err" + 1 "crit" +
    1 "alert" + 1 "emerg" + 1 "EMERGENCY" + 1 "panic" = 8 error lines, 1 exception."""
    from functions.ingest_logs.client import log_counts_query

    spellings = ("SEVERE", "err", "crit", "alert", "emerg", "EMERGENCY", "panic")
    (levels,) = [f["bool"] for f in log_counts_query(0, 1, 10)["query"]["bool"]["filter"] if "bool" in f]
    for clause in levels["should"]:
        (asked,) = clause["terms"].values()
        assert set(spellings) <= set(asked)
    hour = 1443657600000
    page = page_of(
        bucket("billing-api", "SEVERE", hour, 2, 1),
        *(bucket("billing-api", spelling, hour, 1, 0) for spelling in spellings[1:]),
    )
    rows = parse.parse_log_counts_page(page, {"index_pattern": "logs-billing-*"}).tables[parse.DATASET].to_pylist()
    assert {r["level"]: r["count"] for r in rows} == {"ERROR": 8, "EXCEPTION": 1}


@pytest.mark.parametrize(
    ("key", "field", "count"), [("environment", "deployment.environment", 7), ("service", "service.name", 5)]
)
def test_lines_without_a_service_or_an_environment_are_set_aside_not_lost(key: str, field: str, count: int) -> None:
    """The search keeps lines that lack service.name or deployment.environment as a bucket with a null key (composite
    missing_bucket), not dropped; they cannot be attributed to an application or an environment, so they are a reject
    saying how many lines it holds, counted in the run, and the page's other buckets are read."""
    from functions.ingest_logs.client import log_counts_query

    sources = log_counts_query(0, 1, 10)["aggs"]["logs"]["composite"]["sources"]
    (source,) = [s[key] for s in sources if key in s]
    assert source["terms"] == {"field": field, "missing_bucket": True}
    hour = 1443657600000
    orphan = bucket("checkout-api", "ERROR", hour, count, 0)
    orphan["key"][key] = None
    page = page_of(orphan, bucket("checkout-api", "ERROR", hour, 2, 0))
    result = parse.parse_log_counts_page(page, {"index_pattern": "logs-checkout-*"})
    counted = [(r["service_name"], r["environment"], r["count"]) for r in result.tables[parse.DATASET].to_pylist()]
    assert counted == [("checkout-api", "production", 2)]
    (reject,) = result.rejects
    assert f"{count} log lines without {field}" in reject.reason
