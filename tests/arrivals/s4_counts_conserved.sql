-- Exactly N arrivals per (scenario, series, bucket): counts and arrivals agree key by key.
with counted as (
    select scenario_id, merchant_id, zone_tzid as tzid, channel_group, bucket_index, count(*) as n
    from {{ ref('s4_arrival_events') }}
    group by all
),

drawn as (
    select scenario_id, merchant_id, tzid, channel_group, bucket_index, count_n as n
    from {{ ref('s3_bucket_counts') }}
    where count_n > 0
)

select *
from drawn
full outer join counted using (scenario_id, merchant_id, tzid, channel_group, bucket_index)
where drawn.n is distinct from counted.n
