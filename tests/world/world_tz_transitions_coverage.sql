-- Every world tzid (and Etc/UTC) is in the time table, and each covers every scenario horizon
-- with at least a day to spare on both sides.
with wanted as (
    select tzid from {{ ref('world_country_tzids') }}
    union
    select 'Etc/UTC'
),

coverage as (
    select tzid, min(valid_from_utc) as covered_from, max(valid_to_utc) as covered_to
    from {{ ref('world_tz_transitions') }}
    group by tzid
),

horizon as (
    select min(horizon_start_utc) as h_start, max(horizon_end_utc) as h_end
    from {{ ref('scenario_manifest_5A') }}
)

select w.tzid, c.covered_from, c.covered_to
from wanted as w
left join coverage as c using (tzid)
cross join horizon as h
where c.tzid is null
   or c.covered_from > h.h_start - interval 1 day
   or c.covered_to < h.h_end + interval 1 day
