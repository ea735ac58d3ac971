-- Every merchant's primary demand class: the class of its largest weekly volume (class name
-- breaks ties), with its footprint and expected weekly arrivals.
with zones as (
    select * from {{ ref('merchant_zone_profile_5A') }}
),

by_class as (
    select
        merchant_id,
        demand_class,
        sum(weekly_volume_expected order by legal_country_iso, tzid) as class_volume
    from zones
    group by all
),

ranked as (
    select
        *,
        row_number() over (partition by merchant_id order by class_volume desc, demand_class) as class_rank
    from by_class
),

totals as (
    select
        merchant_id,
        count(*) as n_zones,
        count(distinct legal_country_iso) as n_countries,
        count(distinct demand_class) as classes_seen,
        sum(weekly_volume_expected order by legal_country_iso, tzid) as weekly_volume_total
    from zones
    group by all
)

select
    m.merchant_id,
    r.demand_class as primary_demand_class,
    t.classes_seen,
    t.n_zones,
    t.n_countries,
    t.weekly_volume_total,
    t.weekly_volume_total * k.arrivals_scale as weekly_arrivals_expected
from {{ ref('world_merchants') }} as m
left join ranked as r on r.merchant_id = m.merchant_id and r.class_rank = 1
left join totals as t on t.merchant_id = m.merchant_id
cross join {{ ref('intensity_scale_5A') }} as k
order by m.merchant_id
