-- A payment at a site is charged in the site's country's currency; a virtual merchant's in its own.
with flows as (
    select f.flow_id, f.currency_code, f.currency_minor_units, e.is_virtual, e.legal_country_iso, f.merchant_id
    from {{ ref('s2_flow_anchor_baseline') }} as f
    inner join {{ ref('s1_arrival_entities') }} as e using (arrival_id)
),

expected as (
    select
        f.flow_id,
        f.currency_code,
        f.currency_minor_units,
        if(f.is_virtual, m.currency_code, c.currency_code) as expected_code,
        if(f.is_virtual, m.currency_minor_units, c.currency_minor_units) as expected_minor_units
    from flows as f
    inner join {{ ref('world_merchants') }} as m using (merchant_id)
    inner join {{ ref('world_countries') }} as c on c.country_iso = f.legal_country_iso
)

select flow_id, currency_code, expected_code
from expected
where currency_code is distinct from expected_code
    or currency_minor_units is distinct from expected_minor_units
