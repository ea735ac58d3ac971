-- Static fraud posture of every merchant: score from footprint and MCC risk class, tier, role
-- from the (MCC class, tier) priors; money-services merchants are MSBs; collusion clusters by
-- (home country, class); COLLUSIVE and HIGH_RISK_MCC capped, HIGH_RISK_MCC floored.
{% set roles = ['NORMAL', 'HIGH_RISK_MCC', 'MSB', 'COLLUSIVE'] %}
{% set classes = ['MONEY_SERVICES', 'DIGITAL_GOODS', 'HIGH_CHARGEBACK_RISK', 'TRAVEL', 'HOSPITALITY', 'GENERAL_RETAIL'] %}

with merchants as (
    select * from {{ ref('world_merchants') }}
),

mccs as (
    select mcc, risk_mcc_class from {{ ref('world_mccs') }}
),

features as (
    select
        m.merchant_id,
        m.home_country_iso,
        c.risk_mcc_class as entity_group,
        (m.n_countries > 1)::integer as cross_border,
        least(ln(greatest(m.n_sites, 1)) / ln(100), 1.0) as log_sites,
        case c.risk_mcc_class
            {%- for cls in classes %}
            when '{{ cls }}' then {{ pval('graph.roles.merchant.class_risk.' ~ cls) }}
            {%- endfor %}
        end as class_risk,
        {{ stream('s5_merchant_fraud_roles_6A.score', 'm.merchant_id') }} as score_stream,
        {{ stream('s5_merchant_fraud_roles_6A.role', 'm.merchant_id') }} as role_stream
    from merchants as m
    join mccs as c using (mcc)
),

{{ graph_drawn_roles('features', 'merchant', {'cross_border': 'cross_border', 'log_sites': 'log_sites', 'class_risk': 'class_risk'}, roles, as_column='role_prior', cte='prior_drawn') }},

drawn as (
    select
        *,
        case
            -- a money-services business is an MSB unless it colludes
            when entity_group = 'MONEY_SERVICES' and role_prior <> 'COLLUSIVE' then 'MSB'
            else role_prior
        end as role_drawn
    from prior_drawn
),

capped_to_normal as (
    {{ graph_apply_caps('drawn', 'merchant_id', 'merchant', ['COLLUSIVE', 'HIGH_RISK_MCC'], 'NORMAL') }}
),

-- a money-services colluder over the cap is still an MSB, not a NORMAL merchant
capped as (
    select * replace (
        case when role_capped = 'NORMAL' and entity_group = 'MONEY_SERVICES' then 'MSB' else role_capped end as role_capped
    )
    from capped_to_normal
),

floored as (
    -- lift the riskiest NORMAL merchants (risky classes first) until HIGH_RISK_MCC reaches its floor
    select
        *,
        role_capped = 'NORMAL' and row_number() over (
            partition by role_capped
            order by entity_group in ('DIGITAL_GOODS', 'HIGH_CHARGEBACK_RISK', 'TRAVEL') desc, risk_score desc, merchant_id
        ) <= ceil({{ pval('graph.roles.merchant.high_risk_mcc_floor') }} * n_total)
             - count(*) filter (where role_capped = 'HIGH_RISK_MCC') over () as promote
    from capped
)

select
    merchant_id,
    case when promote then 'HIGH_RISK_MCC' else role_capped end as fraud_role_merchant,
    risk_score,
    risk_tier,
    entity_group as risk_mcc_class,
    case when role_capped = 'COLLUSIVE' then home_country_iso || ':' || entity_group end as collusion_cluster,
    role_capped <> role_drawn as is_capped
from floored
order by merchant_id
