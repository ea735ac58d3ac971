-- Static fraud posture of every account: score from the owner's score and the product, tier,
-- role from the (account group, tier) priors; MULE owners' accounts lean to MULE_ACCOUNT; caps.
{% set roles = ['CLEAN_ACCOUNT', 'HIGH_RISK_ACCOUNT', 'MULE_ACCOUNT', 'DORMANT_RISKY'] %}

with accounts as (
    select * from {{ ref('s2_account_base_6A') }}
),

party_roles as (
    select * from {{ ref('s5_party_fraud_roles_6A') }}
),

features as (
    select
        a.account_id,
        a.account_group as entity_group,
        r.risk_score - 0.5 as owner_score,
        (a.ledger_class <> 'DEPOSIT')::integer as credit_line,
        r.fraud_role_party = 'MULE' as owner_is_mule,
        {{ stream('s5_account_fraud_roles_6A.score', 'a.account_id') }} as score_stream,
        {{ stream('s5_account_fraud_roles_6A.role', 'a.account_id') }} as role_stream
    from accounts as a
    join party_roles as r on r.party_id = a.owner_party_id
),

{{ graph_drawn_roles('features', 'account', {'owner_score': 'owner_score', 'credit_line': 'credit_line'}, roles, [
    'p.p_clean_account', 'p.p_high_risk_account',
    "p.p_mule_account * case when t.owner_is_mule then " ~ pval('graph.roles.account.mule_owner_multiplier') ~ " else 1.0 end",
    'p.p_dormant_risky']) }},

capped as (
    {{ graph_apply_caps('drawn', 'account_id', 'account', ['MULE_ACCOUNT', 'HIGH_RISK_ACCOUNT', 'DORMANT_RISKY'], 'CLEAN_ACCOUNT') }}
)

select
    {{ graph_role_columns('account_id', 'fraud_role_account') }}
from capped
order by account_id
