-- Static fraud posture of every party: risk score from segment profile and graph features,
-- tier, role drawn from the (party type, tier) priors, then the world caps.
{% set roles = ['CLEAN', 'MULE', 'SYNTHETIC_ID', 'ASSOCIATE', 'ORGANISER'] %}

with parties as (
    select * from {{ ref('s1_party_base_6A') }}
),

segments as (
    select * from {{ ref('graph_party_segments') }}
),

anonymized as (
    select distinct party_id
    from {{ ref('s4_ip_links_6A') }} as l
    join {{ ref('s4_ip_base_6A') }} as i using (ip_id)
    where i.ip_group = 'ANONYMIZER_PROXY' and l.party_id is not null
),

credit_holders as (
    select distinct owner_party_id as party_id
    from {{ ref('s2_account_base_6A') }}
    where ledger_class = 'CREDIT_REVOLVING'
),

device_counts as (
    select primary_party_id as party_id, count(*) as n_devices
    from {{ ref('s4_device_base_6A') }}
    where primary_party_id is not null
    group by primary_party_id
),

features as (
    select
        p.party_id,
        p.party_type as entity_group,
        s.credit_appetite - 0.5 as credit_appetite,
        s.cross_border_propensity - 0.5 as cross_border_propensity,
        s.digital_affinity - 0.5 as digital_affinity,
        (a.party_id is not null)::integer as anonymizer_ip,
        (c.party_id is not null)::integer as credit_instrument,
        least(coalesce(d.n_devices, 0), 5) / 5.0 as n_devices,
        {{ stream('s5_party_fraud_roles_6A.score', 'p.party_id') }} as score_stream,
        {{ stream('s5_party_fraud_roles_6A.role', 'p.party_id') }} as role_stream
    from parties as p
    join segments as s using (segment_id)
    left join anonymized as a using (party_id)
    left join credit_holders as c using (party_id)
    left join device_counts as d using (party_id)
),

{{ graph_drawn_roles('features', 'party', {
            'credit_appetite': 'credit_appetite', 'cross_border_propensity': 'cross_border_propensity',
            'digital_affinity': 'digital_affinity', 'anonymizer_ip': 'anonymizer_ip',
            'credit_instrument': 'credit_instrument', 'n_devices': 'n_devices'}, roles) }},

capped as (
    {{ graph_apply_caps('drawn', 'party_id', 'party', ['ORGANISER', 'ASSOCIATE', 'MULE', 'SYNTHETIC_ID'], 'CLEAN') }}
)

select
    {{ graph_role_columns('party_id', 'fraud_role_party') }}
from capped
order by party_id
