-- Series = (scenario, merchant, tzid, channel group), components of several countries merged
-- before any draw. Each series joins one latent group: series of one stratum are split into
-- groups by a keyed draw per merchant, so a merchant's series of a stratum share a path.
with zones as (
    select
        p.merchant_id,
        p.tzid,
        p.channel_group,
        p.demand_class,
        v.virtual_mode
    from {{ ref('merchant_zone_profile_5A') }} as p
    inner join {{ ref('world_virtual_classification') }} as v using (merchant_id)
),

series as (
    select
        s.scenario_id,
        s.is_stress,
        z.merchant_id,
        z.tzid,
        z.channel_group,
        min(z.demand_class) as demand_class,
        count(distinct z.demand_class) as n_classes,
        min(z.virtual_mode) as virtual_mode
    from zones as z
    cross join {{ ref('scenario_manifest_5A') }} as s
    group by all
),

strata as (
    select
        *,
        case when is_stress then 'stress' else 'baseline' end as scenario_band,
        case when virtual_mode = 'NON_VIRTUAL' then 'physical' else 'virtual' end as virtual_band,
        -- zone groups are a fixed partition of tz names (md5, not a run draw)
        ('0x' || substr(md5(tzid), 1, 8))::ubigint
            % {{ pval('arrivals.grouping.zone_group_buckets') }}::ubigint as zone_group
    from series
),

bucketed as (
    select
        *,
        concat_ws('|', scenario_id, scenario_band, demand_class, channel_group, virtual_band,
                  'zg' || lpad(zone_group::varchar, 2, '0')) as stratum,
        floor(
            rng_u01(
                {{ stream('s1_grouping.bucket', "rng_combine(('0x' || substr(md5(concat_ws('|', scenario_id, scenario_band, demand_class, channel_group, virtual_band, zone_group::varchar)), 1, 16))::ubigint, merchant_id)") }},
                0
            ) * {{ pval('arrivals.grouping.in_stratum_buckets') }}
        )::integer as stratum_bucket
    from strata
)

select
    scenario_id,
    merchant_id,
    tzid,
    channel_group,
    demand_class,
    n_classes,
    virtual_mode,
    scenario_band,
    virtual_band,
    zone_group,
    stratum || '|b' || lpad(stratum_bucket::varchar, 2, '0') as group_id,
    ('0x' || substr(md5(stratum || '|b' || lpad(stratum_bucket::varchar, 2, '0')), 1, 16))::ubigint as group_key
from bucketed
