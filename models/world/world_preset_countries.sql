-- Countries of the active preset (all 44, or the 12 `in_tiny` ones) with weights renormalised
-- over them; `country_idx` is the dense index Python kernels use.
with countries as (
    select * from {{ ref('world_countries') }}
),

active as (
    select *
    from countries
    where {{ pval('preset.countries') }} = 'all' or in_tiny
),

totals as (
    -- ordered aggregates: the float sums never depend on thread scheduling
    select
        sum(merchant_weight order by country_iso) as merchant_total,
        sum(population_weight order by country_iso) as population_total
    from active
)

select
    a.country_iso,
    (row_number() over (order by a.country_iso) - 1)::integer as country_idx,
    a.iso3,
    a.name,
    a.region_id,
    a.currency_code,
    a.currency_minor_units,
    a.merchant_weight / t.merchant_total as merchant_weight,
    a.population_weight / t.population_total as population_weight,
    a.weekend_days,
    a.payday_rule
from active as a
cross join totals as t
order by a.country_iso
