-- Static fraud posture of every IP: score from how many devices use it and how many of them
-- are high-risk, tier, role from the (IP group, tier) priors; HIGH_RISK_IP capped.
{% set roles = ['CLEAN_IP', 'SHARED_IP', 'HIGH_RISK_IP'] %}

with ips as (
    select * from {{ ref('s4_ip_base_6A') }}
),

risky_share as (
    select
        l.ip_id,
        avg((d.fraud_role_device = 'HIGH_RISK_DEVICE')::integer) as risky_device_share
    from {{ ref('s4_ip_links_6A') }} as l
    join {{ ref('s5_device_fraud_roles_6A') }} as d using (device_id)
    group by l.ip_id
),

features as (
    select
        i.ip_id,
        i.ip_group as entity_group,
        ln(1 + i.n_devices) as log_devices,
        coalesce(r.risky_device_share, 0.0) as risky_device_share,
        {{ stream('s5_ip_fraud_roles_6A.score', 'i.ip_id') }} as score_stream,
        {{ stream('s5_ip_fraud_roles_6A.role', 'i.ip_id') }} as role_stream
    from ips as i
    left join risky_share as r using (ip_id)
),

{{ graph_drawn_roles('features', 'ip', {'log_devices': 'log_devices', 'risky_device_share': 'risky_device_share'}, roles) }},

capped as (
    {{ graph_apply_caps('drawn', 'ip_id', 'ip', ['HIGH_RISK_IP'], 'CLEAN_IP') }}
)

select
    {{ graph_role_columns('ip_id', 'fraud_role_ip') }}
from capped
order by ip_id
