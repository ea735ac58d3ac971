-- Legal settlement clock of each virtual merchant: the home country's primary zone, or with a
-- keyed coin an offshore hub among those present in the preset.
with virtual_merchants as (
    select v.merchant_id, m.home_country_iso,
        {{ stream('world_virtual_settlement.offshore', 'v.merchant_id') }} as s
    from {{ ref('world_virtual_classification') }} as v
    inner join {{ ref('world_merchants') }} as m on m.merchant_id = v.merchant_id
    where v.is_virtual
),

hubs as (
    -- policy order of the hub list, restricted to the preset's countries
    select
        p.text_value as country_iso,
        row_number() over (order by length(p.key), p.key) - 1 as hub_idx,
        count(*) over () as n_hubs
    from {{ ref('world_policy_params') }} as p
    inner join {{ ref('world_preset_countries') }} as c on c.country_iso = p.text_value
    where starts_with(p.key, 'world.virtual.offshore_hubs[')
),

settled as (
    select
        v.merchant_id,
        coalesce(h.country_iso, v.home_country_iso) as settlement_country_iso,
        h.country_iso is not null as is_offshore
    from virtual_merchants as v
    left join hubs as h
        on rng_u01(v.s, 0) < {{ pval('world.virtual.p_offshore_settlement') }}
        and h.hub_idx = floor(rng_u01(v.s, 1) * h.n_hubs)
),

primary_zones as (
    select country_iso, tzid from {{ ref('world_country_tzids') }} where is_primary
),

main_anchors as (
    select tzid, lat_deg, lon_deg
    from {{ ref('world_tz_anchors') }}
    qualify row_number() over (partition by tzid order by weight desc, city) = 1
)

select
    s.merchant_id,
    s.settlement_country_iso,
    z.tzid as tzid_settlement,
    a.lat_deg,
    a.lon_deg,
    s.is_offshore
from settled as s
inner join primary_zones as z on z.country_iso = s.settlement_country_iso
inner join main_anchors as a on a.tzid = z.tzid
order by s.merchant_id
