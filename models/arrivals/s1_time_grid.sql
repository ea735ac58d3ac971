-- Hourly UTC buckets over each scenario's horizon: bucket b covers [start + b·D, start + (b+1)·D).
with scenarios as (
    select
        scenario_id,
        horizon_start_utc,
        horizon_end_utc,
        is_baseline,
        is_stress,
        {{ pval('arrivals.time_grid.bucket_seconds') }}::bigint as bucket_seconds
    from {{ ref('scenario_manifest_5A') }}
),

buckets as (
    select
        scenario_id,
        is_baseline,
        is_stress,
        bucket_seconds,
        horizon_start_utc,
        unnest(range(epoch(horizon_end_utc - horizon_start_utc)::bigint // bucket_seconds)) as bucket_index
    from scenarios
)

select
    scenario_id,
    bucket_index,
    horizon_start_utc + to_seconds(bucket_index * bucket_seconds) as bucket_start_utc,
    horizon_start_utc + to_seconds((bucket_index + 1) * bucket_seconds) as bucket_end_utc,
    bucket_seconds as bucket_duration_seconds,
    is_baseline as scenario_is_baseline,
    is_stress as scenario_is_stress
from buckets
