-- Static fraud posture of every device: score from the owner's score and sharing, tier, role
-- from the (device group, tier) priors; devices of risky owners lean HIGH_RISK, devices used
-- by many parties lean REUSED; caps.
{% set roles = ['CLEAN_DEVICE', 'HIGH_RISK_DEVICE', 'REUSED_DEVICE'] %}

with devices as (
    select * from {{ ref('s4_device_base_6A') }}
),

users as (
    select device_id, count(distinct party_id) as n_users
    from {{ ref('s4_device_links_6A') }}
    where link_role in ('PRIMARY_OWNER', 'SECONDARY_USER')
    group by device_id
),

party_roles as (
    select * from {{ ref('s5_party_fraud_roles_6A') }}
),

features as (
    select
        d.device_id,
        d.device_group as entity_group,
        coalesce(r.risk_score, 0.5) - 0.5 as owner_score,
        (coalesce(u.n_users, 0) >= 2)::integer as shared_users,
        coalesce(u.n_users, 0) >= {{ pval('graph.roles.device.reused_min_users') }} as many_users,
        coalesce(r.fraud_role_party in ('MULE', 'SYNTHETIC_ID', 'ORGANISER'), false) as risky_owner,
        {{ stream('s5_device_fraud_roles_6A.score', 'd.device_id') }} as score_stream,
        {{ stream('s5_device_fraud_roles_6A.role', 'd.device_id') }} as role_stream
    from devices as d
    left join users as u using (device_id)
    left join party_roles as r on r.party_id = d.primary_party_id
),

{{ graph_drawn_roles('features', 'device', {'owner_score': 'owner_score', 'shared_users': 'shared_users'}, roles, [
    'p.p_clean_device',
    "p.p_high_risk_device * case when t.risky_owner then " ~ pval('graph.roles.device.risky_owner_multiplier') ~ " else 1.0 end",
    "p.p_reused_device * case when t.many_users then " ~ pval('graph.roles.device.reused_multiplier') ~ " else 1.0 end"]) }},

capped as (
    {{ graph_apply_caps('drawn', 'device_id', 'device', ['HIGH_RISK_DEVICE', 'REUSED_DEVICE'], 'CLEAN_DEVICE') }}
)

select
    {{ graph_role_columns('device_id', 'fraud_role_device') }}
from capped
order by device_id
