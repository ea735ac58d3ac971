-- THE hourly expected-arrival surface: for every zone and UTC bucket of every scenario,
-- λ = weekly volume × shape(local week bucket of the zone's tzid at the bucket start)
--     × overlay factor × the arrivals scale of intensity_scale_5A.
with zones as (
    select merchant_id, legal_country_iso, tzid, demand_class, channel_group, weekly_volume_expected
    from {{ ref('merchant_zone_profile_5A') }}
),

clock as (
    select scenario_id, tzid, bucket_index, bucket_start_utc, local_dow, local_hour, week_bucket
    from {{ ref('int_tz_bucket_local_5A') }}
),

scale as (
    select arrivals_scale from {{ ref('intensity_scale_5A') }}
),

surface as (
    select
        c.scenario_id,
        z.merchant_id,
        z.legal_country_iso,
        z.tzid,
        z.channel_group,
        c.bucket_index,
        c.bucket_start_utc,
        {{ lambda_unscaled('z.weekly_volume_expected') }} as lambda_unscaled,
        coalesce(o.overlay_factor_total, 1.0) as overlay_factor_total,
        c.local_dow,
        c.local_hour
    from zones as z
    inner join clock as c on c.tzid = z.tzid
    {{ lambda_joins('z', 'c') }}
)

select
    s.scenario_id,
    s.merchant_id,
    s.legal_country_iso,
    s.tzid,
    s.channel_group,
    s.bucket_index,
    s.bucket_start_utc,
    s.lambda_unscaled * k.arrivals_scale as lambda_local_scenario,
    s.overlay_factor_total,
    s.local_dow,
    s.local_hour
from surface as s
cross join scale as k
order by s.scenario_id, s.merchant_id, s.legal_country_iso, s.tzid, s.bucket_index
