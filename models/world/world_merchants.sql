-- The merchant universe: one row per merchant with its category, channel, home country,
-- currency and physical footprint (sites and countries).
with draws as (
    select * from {{ ref('int_world_merchant_draws') }}
),

footprint as (
    select merchant_id, count(*) as n_countries
    from {{ ref('int_world_merchant_countries') }}
    group by merchant_id
),

countries as (
    select country_iso, currency_code, currency_minor_units
    from {{ ref('world_preset_countries') }}
)

select
    d.merchant_id,
    d.mcc,
    d.mcc_sector,
    d.amount_group,
    d.channel,
    d.home_country_iso,
    c.currency_code,
    c.currency_minor_units,
    d.n_sites,
    f.n_countries,
    d.size_tier
from draws as d
inner join footprint as f on f.merchant_id = d.merchant_id
inner join countries as c on c.country_iso = d.home_country_iso
order by d.merchant_id
