-- table: mv_mapping_coverage
-- grain: one row per kind of record (incident, change, deployment, log line): how much of it the mapping attributes
-- reads: stg_attribution, build_params
-- refresh: daily
--
-- Over the 30 days before as_of (window_start, window_end; see stg_attribution for what is counted and when).
-- records = attributed + unattributed, counted in records: incidents, change requests, deployment attempts, and for
-- log_line Elasticsearch's error and warning lines (a log count's lines, not its rows: a row is an hour of one
-- level). attributed_share = attributed / records, null without records (nothing to attribute is not 100 %). Every
-- kind has its row, with 0 records when none came in the window.
with kinds as (
    select * from (values ('incident'), ('change'), ('deployment'), ('log_line')) as k (record_kind)
),

counted as (
    select
        k.record_kind,
        -- A sum of BIGINTs is a HUGEINT: the counts stay BIGINT, as they were when every row was one record.
        cast(coalesce(sum(a.records), 0) as bigint) as records,
        cast(coalesce(sum(a.records) filter (where a.attributed), 0) as bigint) as attributed,
        any_value(p.as_of - interval 30 day) as window_start,
        any_value(p.as_of) as window_end
    from kinds as k
    cross join build_params as p
    left join stg_attribution as a on k.record_kind = a.record_kind
    group by k.record_kind
)

select
    record_kind,
    records,
    attributed,
    records - attributed as unattributed,
    case when records > 0 then attributed / records end as attributed_share,
    window_start,
    window_end
from counted
