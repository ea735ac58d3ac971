-- Expected arrivals per (scenario, series, bucket): the 5A surface with the per-country
-- components of a (merchant, tzid, channel group) summed before any draw, in a fixed order.
with surface as (
    select
        scenario_id,
        merchant_id,
        tzid,
        channel_group,
        bucket_index,
        sum(lambda_local_scenario order by legal_country_iso) as lambda_baseline
    from {{ ref('merchant_zone_scenario_local_5A') }}
    group by all
)

select
    s.scenario_id,
    s.merchant_id,
    s.tzid,
    s.channel_group,
    s.bucket_index,
    s.lambda_baseline,
    g.group_id,
    g.group_key,
    g.demand_class,
    g.scenario_band,
    g.virtual_band,
    ('0x' || substr(md5(concat_ws('|', s.scenario_id, s.merchant_id::varchar, s.tzid, s.channel_group)), 1, 16))::ubigint
        as series_key
from surface as s
inner join {{ ref('s1_grouping') }} as g using (scenario_id, merchant_id, tzid, channel_group)
