-- table: mv_health
-- grain: one row per level (application, team, group, domain, estate) and its id: red/orange/green with reasons
-- reads: mv_monitoring_top_risks
-- refresh: hourly
--
-- An application's health comes from mv_monitoring_top_risks. A team, group or domain is red when a
-- third or more of its applications with data are red, orange when any is red or orange, green otherwise,
-- 'no data' when none has data; its reasons name the red and orange applications, riskiest first (by their rank in
-- mv_monitoring_top_risks, which breaks a tie of scores as the overview's top risks do). A green one then says
-- which of its applications' SLOs were not judged (too few hours with traffic, or with latency, in the last 7 days,
-- or none measured: slos_judged_7d),
-- as each of those applications does: 'SLOs not judged for 2 of its 3 applications with data: a, b', the first five
-- by rank named ('... and 4 more'), so that a green team never passes for one whose SLOs are met when no one measured
-- them. The estate (level_id 'estate': every application of the top risks, all in production) is judged as a team
-- is: the overview's one health for the whole estate.
with apps as (
    select * from mv_monitoring_top_risks
),

levels as (
    select 'team' as level, team as level_id, * from apps where team is not null
    union all
    select 'group', group_id, * from apps where group_id is not null
    union all
    select 'domain', domain, * from apps where domain is not null
    union all
    select 'estate', 'estate', * from apps
),

rolled as (
    select
        level,
        level_id,
        count(*) as applications,
        count(*) filter (where health = 'red') as red,
        count(*) filter (where health = 'orange') as orange,
        count(*) filter (where health = 'green') as green,
        count(*) filter (where health = 'no data') as no_data,
        max(risk_score) as max_risk_score,
        -- By rank, not by score alone: the estate names ten, and a tie at the cut must keep the higher-ranked one.
        list(format('{} is {}', app_id, health) order by rank)
            filter (where health in ('red', 'orange')) as reasons,
        list(app_id order by rank) filter (where health = 'green' and not slos_judged_7d) as not_judged
    from levels
    group by level, level_id
),

judged as (
    select
        *,
        case
            when red + orange + green = 0 then 'no data'
            when red * 3 >= red + orange + green and red > 0 then 'red'
            when red + orange > 0 then 'orange'
            else 'green'
        end as health
    from rolled
)

select
    'application' as level,
    app_id as level_id,
    1 as applications,
    (health = 'red')::int as red,
    (health = 'orange')::int as orange,
    (health = 'green')::int as green,
    (health = 'no data')::int as no_data,
    risk_score as max_risk_score,
    health,
    reasons
from apps
union all
select
    level,
    level_id,
    applications,
    red,
    orange,
    green,
    no_data,
    max_risk_score,
    health,
    case
        when health = 'green' and len(not_judged) > 0 then [format(
            'SLOs not judged for {} of its {} application{} with data: {}{}',
            len(not_judged), green, case when green > 1 then 's' else '' end, array_to_string(not_judged[1:5], ', '),
            case when len(not_judged) > 5 then format(' and {} more', len(not_judged) - 5) else '' end
        )]
        else coalesce(reasons, [])
    end as reasons
from judged
