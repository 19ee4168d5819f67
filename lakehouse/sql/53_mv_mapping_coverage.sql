-- table: mv_mapping_coverage
-- grain: one row per kind of record (incident, change, deployment): how much of it the mapping attributes
-- reads: stg_attribution, build_params
-- refresh: daily
--
-- Over the 30 days before as_of (window_start, window_end; see stg_attribution for what is counted and when).
-- records = attributed + unattributed; attributed_share = attributed / records, null without records (nothing to
-- attribute is not 100 %). Every kind has its row, with 0 records when none came in the window.
with kinds as (
    select * from (values ('incident'), ('change'), ('deployment')) as k (record_kind)
)

select
    k.record_kind,
    count(a.record) as records,
    count(a.record) filter (where a.attributed) as attributed,
    count(a.record) filter (where not a.attributed) as unattributed,
    case when count(a.record) > 0 then (count(a.record) filter (where a.attributed)) / count(a.record) end
        as attributed_share,
    any_value(p.as_of - interval 30 day) as window_start,
    any_value(p.as_of) as window_end
from kinds as k
cross join build_params as p
left join stg_attribution as a on k.record_kind = a.record_kind
group by k.record_kind
