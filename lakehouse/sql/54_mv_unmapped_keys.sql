-- table: mv_unmapped_keys
-- grain: one row per kind of record and what an entry would need to claim its records (a CI, an ArgoCD application, a GitLab project in an environment, an index pattern and service.name in an environment as logged) that no entry claims
-- reads: stg_attribution, build_params
-- refresh: daily
--
-- The records of the 30 days before as_of that no entity was found for (see stg_attribution), by what would
-- claim them: records (for log_line, error and warning lines), the first and last of them (first_seen, last_seen,
-- when each opened, was created or finished, or the hour of the first and last lines), latest_record the last one
-- (its number or deployment key; null for log lines, which have no number), label the CI's name on it (the business
-- service's, for records without a CI, which their business service claims). A null key stands for the records that
-- name neither: no entry can claim those; the record must name its CI.
select
    record_kind,
    key_kind,
    key,
    environment,
    arg_max(label, {'seen_at': seen_at, 'record': record}) as label,
    -- A sum of BIGINTs is a HUGEINT: records stays BIGINT, as when every row was one record.
    cast(sum(records) as bigint) as records,
    min(seen_at) as first_seen,
    max(seen_at) as last_seen,
    arg_max(record, {'seen_at': seen_at, 'record': record}) as latest_record,
    any_value(p.as_of - interval 30 day) as window_start,
    any_value(p.as_of) as window_end
from stg_attribution
cross join build_params as p
where not attributed
group by record_kind, key_kind, key, environment
