{#
  6B gate R9 input: each sector's arrivals by channel, realised against what the policy implies
  for the same merchants. A merchant's expected mix follows from its world attributes alone: a
  VIRTUAL_ONLY merchant's arrivals are virtual, a HYBRID merchant's with arrivals.routing
  p_virtual_hybrid (5B), and a virtual or card-not-present arrival is a bank transfer with its
  sector's attachment.channels p_bank_rail_by_sector, else ECOM (6B S1); a physical arrival of
  a HYBRID merchant is HYBRID, of a card-present one ATM at an ATM category, else POS. So the
  surface holds 5B's virtual routing and S1's channel coin against the policy, not against the
  routing the arrivals took.
#}
with by_merchant as (
    select merchant_id, channel, count(*) as n
    from {{ ref('s1_arrival_entities') }}
    group by all
),

rail as (
    select replace(key, 'attachment.channels.p_bank_rail_by_sector.', '') as mcc_sector, num_value as p_rail
    from {{ ref('world_policy_params') }}
    where starts_with(key, 'attachment.channels.p_bank_rail_by_sector.')
),

merchants as (
    select
        m.merchant_id,
        m.mcc_sector,
        v.channel_group,
        c.is_atm,
        r.p_rail,
        case v.virtual_mode
            when 'VIRTUAL_ONLY' then 1.0
            when 'HYBRID' then {{ pval('arrivals.routing.p_virtual_hybrid') }}
            else 0.0
        end as p_virtual
    from {{ ref('world_merchants') }} as m
    inner join {{ ref('world_virtual_classification') }} as v using (merchant_id)
    inner join {{ ref('world_mccs') }} as c on c.mcc = m.mcc
    inner join rail as r on r.mcc_sector = m.mcc_sector
),

merchant_totals as (
    select b.merchant_id, sum(b.n) as n, any_value(m.mcc_sector) as mcc_sector,
           -- share of the merchant's arrivals that are remote (virtual, or at a card-not-present merchant)
           any_value(m.p_virtual + (1 - m.p_virtual) * (m.channel_group = 'card_not_present')::int) as p_remote,
           any_value((1 - m.p_virtual) * (m.channel_group = 'mixed')::int) as p_hybrid,
           any_value((1 - m.p_virtual) * (m.channel_group = 'card_present' and m.is_atm)::int) as p_atm,
           any_value((1 - m.p_virtual) * (m.channel_group = 'card_present' and not m.is_atm)::int) as p_pos,
           any_value(m.p_rail) as p_rail
    from by_merchant as b
    inner join merchants as m using (merchant_id)
    group by b.merchant_id
),

expected as (
    select mcc_sector, channel, sum(n * p) as q
    from (
        select mcc_sector, n, 'ECOM' as channel, p_remote * (1 - p_rail) as p from merchant_totals
        union all select mcc_sector, n, 'BANK_RAIL', p_remote * p_rail from merchant_totals
        union all select mcc_sector, n, 'HYBRID', p_hybrid from merchant_totals
        union all select mcc_sector, n, 'ATM', p_atm from merchant_totals
        union all select mcc_sector, n, 'POS', p_pos from merchant_totals
    )
    group by all
),

realised as (
    select m.mcc_sector, b.channel, sum(b.n) as p
    from by_merchant as b
    inner join merchants as m using (merchant_id)
    group by all
),

cells as (
    select coalesce(r.mcc_sector, e.mcc_sector) as grp, coalesce(r.channel, e.channel) as bin,
           coalesce(r.p, 0) as p, coalesce(e.q, 0) as q
    from realised as r
    full outer join expected as e using (mcc_sector, channel)
),

final as (
    {{ jsd_by_group('cells') }}
)

select grp as mcc_sector, n_p as n_arrivals, jsd
from final
order by mcc_sector
