-- Local clock of every (scenario, hourly UTC bucket, tzid), from world_tz_transitions only:
-- local = UTC start + the offset of the interval holding it, then plain calendar arithmetic
-- on the naive wall clock (no ICU), so DST gaps skip a local hour and folds repeat one.
with buckets as (
    select
        scenario_id,
        bucket_seconds,
        horizon_start_utc,
        unnest(range(n_buckets)) as bucket_index
    from {{ ref('scenario_manifest_5A') }}
),

grid as (
    select
        scenario_id,
        bucket_index,
        horizon_start_utc + to_seconds(bucket_index * bucket_seconds) as bucket_start_utc
    from buckets
),

mapped as (
    select
        g.scenario_id,
        t.tzid,
        t.tzid_idx,
        g.bucket_index,
        g.bucket_start_utc,
        t.offset_minutes,
        g.bucket_start_utc + to_minutes(t.offset_minutes) as local_start
    from grid as g
    inner join {{ ref('world_tz_transitions') }} as t
        on g.bucket_start_utc >= t.valid_from_utc and g.bucket_start_utc < t.valid_to_utc
)

select
    scenario_id,
    tzid,
    tzid_idx,
    bucket_index,
    bucket_start_utc,
    offset_minutes,
    local_start,
    local_start::date as local_date,
    isodow(local_start)::integer as local_dow,
    hour(local_start)::integer as local_hour,
    ((isodow(local_start) - 1) * 24 + hour(local_start))::integer as week_bucket
from mapped
order by scenario_id, tzid, bucket_index
