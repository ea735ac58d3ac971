-- Device -> party / account / merchant edges: owners, household co-users, household members paying
-- with the party's card, banking access, terminals.
with devices as (
    select * from {{ ref('s4_device_base_6A') }}
),

parties as (
    select party_id, household_id from {{ ref('s1_party_base_6A') }}
),

accounts as (
    select account_id, owner_party_id from {{ ref('s2_account_base_6A') }}
),

device_types as (
    select * from {{ ref('graph_device_types') }}
),

owners as (
    select device_id, primary_party_id as party_id, null::bigint as account_id,
           'PRIMARY_OWNER' as link_role, null::bigint as merchant_id
    from devices
    where primary_party_id is not null
),

household_users as (
    -- a shared desktop or tablet is used by every other member of the owner's household
    select d.device_id, p.party_id, null::bigint as account_id,
           'SECONDARY_USER' as link_role, null::bigint as merchant_id
    from devices as d
    join parties as p on p.household_id = d.household_id and p.party_id <> d.primary_party_id
    where d.is_household_shared
),

household_card_users as (
    -- a household member pays with the party's card from their own phone or computer: every such
    -- device of the other members of a card-sharing household (party stream, P
    -- graph.devices.p_household_card_sharing)
    select d.device_id, p.party_id, null::bigint as account_id,
           'HOUSEHOLD_CARD_USER' as link_role, null::bigint as merchant_id
    from parties as p
    join devices as d on d.household_id = p.household_id and d.primary_party_id <> p.party_id
    join device_types as t on t.device_type = d.device_type
    where not d.is_household_shared
      and t.device_group in ('CONSUMER_MOBILE', 'CONSUMER_COMPUTER')
      and rng_u01({{ stream('s4_device_links_6A.card_sharing', 'p.party_id') }}, 0)
          < {{ pval('graph.devices.p_household_card_sharing') }}
),

account_access as (
    -- banking apps and browsers: each of the owner's accounts is reachable from a personal
    -- mobile or computer with p_account_access (device stream, account_id as the counter)
    select d.device_id, a.owner_party_id as party_id, a.account_id,
           'ASSOCIATED_ACCOUNT_ACCESS' as link_role, null::bigint as merchant_id
    from devices as d
    join device_types as t on t.device_type = d.device_type
    join accounts as a on a.owner_party_id = d.primary_party_id
    where t.device_group in ('CONSUMER_MOBILE', 'CONSUMER_COMPUTER', 'CONSUMER_SHARED')
      and rng_u01({{ stream('s4_device_links_6A.account_access', 'd.device_id') }}, a.account_id)
          < {{ pval('graph.devices.p_account_access') }}
),

terminals as (
    select device_id, null::bigint as party_id, null::bigint as account_id,
           'MERCHANT_TERMINAL' as link_role, merchant_id
    from devices
    where merchant_id is not null
)

select * from owners
union all
select * from household_users
union all
select * from household_card_users
union all
select * from account_access
union all
select * from terminals
order by device_id, link_role, party_id, account_id
