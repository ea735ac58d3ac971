-- Per-merchant draws that need no kernel: home country, MCC, channel and physical site count
-- (upstream recipe §5.5.1). Each merchant index owns one stream; counters: 0 home, 1 MCC,
-- 2 channel, 3 single-site coin, 4-5 the lognormal size. With cover_every_country the first
-- merchants take the active countries as home, one each, instead of drawing. The published
-- merchant_id is opaque: 1000001 + the index's rank in a keyed order (python_kernels/core/ids.py
-- does the same for the graph's entities), so an id says nothing of how the merchant was drawn.
with merchants as (
    select
        i as merchant_idx,
        {{ stream('int_world_merchant_draws.merchant', 'i') }} as s,
        row_number() over (order by rng_bits({{ stream('world.ids.merchant', 'i') }}, 0), i) - 1 as opaque_rank
    from range({{ pval('preset.n_merchants') }}::bigint) as t(i)
),

country_bounds as (
    {{ weighted_bounds(ref('world_preset_countries'), 'country_iso', 'merchant_weight', ['country_iso', 'country_idx']) }}
),

mcc_bounds as (
    {{ weighted_bounds(ref('world_mccs'), 'mcc', 'merchant_weight', ['mcc', 'mcc_sector', 'amount_group', 'p_cnp']) }}
),

drawn as (
    select
        m.merchant_idx,
        m.opaque_rank,
        c.country_iso as home_country_iso,
        k.mcc,
        k.mcc_sector,
        k.amount_group,
        case when rng_u01(m.s, 2) < k.p_cnp then 'card_not_present' else 'card_present' end as channel,
        case
            when rng_u01(m.s, 3) < {{ pval('preset.p_single_site') }} then 1
            else least(
                {{ pval('preset.multisite_cap') }}::bigint,
                2 + floor(exp(ln({{ pval('preset.multisite_median_extra') }}) + {{ pval('preset.multisite_sigma') }} * rng_normal(m.s, 4)))::bigint
            )
        end as n_sites
    from merchants as m
    inner join country_bounds as c
        on case
            when {{ pval('world.merchants.cover_every_country') }} = 1
                and m.merchant_idx < (select count(*) from country_bounds)
                then c.country_idx = m.merchant_idx
            else rng_u01(m.s, 0) >= c.cum_lo and rng_u01(m.s, 0) < c.cum_hi
        end
    inner join mcc_bounds as k
        on rng_u01(m.s, 1) >= k.cum_lo and rng_u01(m.s, 1) < k.cum_hi
)

select
    1000001 + opaque_rank as merchant_id,
    mcc,
    mcc_sector,
    amount_group,
    channel,
    home_country_iso,
    n_sites,
    case
        when n_sites >= {{ pval('world.merchants.large_min_sites') }} then 'large'
        when n_sites >= {{ pval('world.merchants.mid_min_sites') }} then 'mid'
        else 'small'
    end as size_tier,
    percent_rank() over (order by n_sites) as size_pct_rank
from drawn
order by merchant_id
