-- Each 5A zone with its merchant's demand class (class tree on virtual mode, channel group and
-- MCC sector), the class's per-site volume law and the zone's deterministic multipliers.
with zones as (
    select * from {{ ref('world_zone_alloc') }}
),

merchants as (
    select
        m.merchant_id,
        m.mcc_sector,
        v.virtual_mode,
        v.channel_group
    from {{ ref('world_merchants') }} as m
    inner join {{ ref('world_virtual_classification') }} as v on v.merchant_id = m.merchant_id
),

classed as (
    select
        m.*,
        t.demand_class
    from merchants as m
    left join {{ ref('world_class_tree') }} as t
        on t.virtual_branch = m.virtual_mode
        and t.channel_group = m.channel_group
        and t.mcc_sector = m.mcc_sector
)

select
    z.merchant_id,
    z.legal_country_iso,
    z.tzid,
    z.zone_role,
    z.zone_site_count,
    z.zone_site_count_sum,
    c.virtual_mode,
    c.channel_group,
    c.mcc_sector,
    -- a merchant kind the tree does not list falls back to the reference default class
    coalesce(c.demand_class, 'consumer_daytime') as demand_class,
    c.demand_class is null as class_defaulted,
    d.median_per_site_weekly,
    d.pareto_alpha,
    d.clip_max_per_site_weekly,
    d.high_variability_flag,
    case z.zone_role
        when 'primary_zone' then {{ pval('intensity.demand_scale.role_mult.primary_zone') }}
        when 'secondary_zone' then {{ pval('intensity.demand_scale.role_mult.secondary_zone') }}
        when 'tail_zone' then {{ pval('intensity.demand_scale.role_mult.tail_zone') }}
    end
    * case c.virtual_mode
        when 'NON_VIRTUAL' then {{ pval('intensity.demand_scale.virtual_mult.NON_VIRTUAL') }}
        when 'HYBRID' then {{ pval('intensity.demand_scale.virtual_mult.HYBRID') }}
        when 'VIRTUAL_ONLY' then {{ pval('intensity.demand_scale.virtual_mult.VIRTUAL_ONLY') }}
    end
    * case c.channel_group
        when 'card_present' then {{ pval('intensity.demand_scale.channel_mult.card_present') }}
        when 'card_not_present' then {{ pval('intensity.demand_scale.channel_mult.card_not_present') }}
        when 'mixed' then {{ pval('intensity.demand_scale.channel_mult.mixed') }}
    end
    * pow(z.zone_site_count_sum::double, {{ pval('intensity.demand_scale.brand_size_exponent') }}) as scale_factor,
    -- 64-bit key of the zone inside its merchant (keys the zone's jitter stream)
    ('0x' || substr(md5(z.legal_country_iso || '|' || z.tzid), 1, 16))::ubigint as zone_key
from zones as z
inner join classed as c on c.merchant_id = z.merchant_id
left join {{ ref('world_demand_classes') }} as d on d.demand_class = coalesce(c.demand_class, 'consumer_daytime')
order by z.merchant_id, z.legal_country_iso, z.tzid
