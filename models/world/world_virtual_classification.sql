-- Which merchants route to CDN edges (upstream recipe §5.5.6): the MCC's virtual rule applies
-- to card-not-present merchants; large card-present retailers go HYBRID on a keyed coin.
with merchants as (
    select merchant_id, mcc, mcc_sector, channel, size_tier
    from {{ ref('world_merchants') }}
),

mccs as (
    select mcc, virtual_rule from {{ ref('world_mccs') }}
),

hybrid_sectors as (
    select text_value as mcc_sector
    from {{ ref('world_policy_params') }}
    where starts_with(key, 'world.virtual.hybrid_large_cp_sectors[')
),

decided as (
    select
        m.merchant_id,
        m.channel,
        case
            when m.channel = 'card_not_present' and r.virtual_rule = 'VIRTUAL_IF_CNP' then 'MCC_VIRTUAL_IF_CNP'
            when m.channel = 'card_not_present' and r.virtual_rule = 'HYBRID_IF_CNP' then 'MCC_HYBRID_IF_CNP'
            when m.channel = 'card_present'
                and m.size_tier = 'large'
                and m.mcc_sector in (select mcc_sector from hybrid_sectors)
                and rng_u01({{ stream('world_virtual_classification.large_cp_hybrid', 'm.merchant_id') }}, 0)
                    < {{ pval('world.virtual.p_hybrid_large_cp') }}
                then 'LARGE_CP_RETAIL_COIN'
            else 'PHYSICAL_ONLY'
        end as decision_reason
    from merchants as m
    inner join mccs as r on r.mcc = m.mcc
),

moded as (
    select
        merchant_id,
        channel,
        decision_reason,
        case decision_reason
            when 'MCC_VIRTUAL_IF_CNP' then 'VIRTUAL_ONLY'
            when 'PHYSICAL_ONLY' then 'NON_VIRTUAL'
            else 'HYBRID'
        end as virtual_mode
    from decided
)

select
    merchant_id,
    virtual_mode,
    virtual_mode <> 'NON_VIRTUAL' as is_virtual,
    case
        when virtual_mode = 'HYBRID' then 'mixed'
        when channel = 'card_not_present' then 'card_not_present'
        else 'card_present'
    end as channel_group,
    decision_reason
from moded
order by merchant_id
