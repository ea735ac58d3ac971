-- The local week of the 5A shapes: 168 hourly buckets, k = (ISO weekday − 1)·24 + hour.
-- is_weekend is the nominal Sat/Sun week; countries with another weekend rotate their shapes.
with hours as (
    select unnest(range(168)) as bucket_index
)

select
    s.scenario_id,
    h.bucket_index::integer as bucket_index,
    (h.bucket_index // 24 + 1)::integer as local_day_of_week,
    ((h.bucket_index % 24) * 60)::integer as local_minutes_since_midnight,
    60 as bucket_duration_minutes,
    h.bucket_index // 24 + 1 in (6, 7) as is_weekend,
    h.bucket_index // 24 + 1 <= 5 and h.bucket_index % 24 between 9 and 16 as is_nominal_open_hours
from {{ ref('scenario_manifest_5A') }} as s
cross join hours as h
order by s.scenario_id, h.bucket_index
