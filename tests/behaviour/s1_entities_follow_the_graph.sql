-- Every attached entity exists and is linked as the 6A graph says: the account is the
-- party's, the instrument draws on the account, the device is the party's own (owner or
-- household co-user) or a household member's paying with the party's card or a terminal of the arrival's site, the IP is linked to the device, or is
-- another address of the carrier of one of the device's mobile IPs (carrier churn), or a hotel
-- or public network (a traveller's session, abroad or on a domestic trip: attachment.yaml
-- trips.local_ip_types; who is on a trip is not published, the kernel tests check the rule).
with e as (
    select * from {{ ref('s1_arrival_entities') }}
),

party_devices as (
    select distinct device_id, party_id
    from {{ ref('s4_device_links_6A') }}
    where link_role in ('PRIMARY_OWNER', 'SECONDARY_USER', 'HOUSEHOLD_CARD_USER')
),

terminals as (
    select device_id, site_id from {{ ref('s4_device_base_6A') }} where site_id is not null
),

device_ips as (
    select distinct device_id, ip_id from {{ ref('s4_ip_links_6A') }} where device_id is not null
),

ips as (
    select ip_id, ip_type, country_iso from {{ ref('s4_ip_base_6A') }}
),

device_carriers as (
    select distinct di.device_id, i.country_iso
    from device_ips as di join ips as i using (ip_id)
    where i.ip_type = 'MOBILE'
)

select e.arrival_id, 'account not owned by the party' as problem
from e left join {{ ref('s2_account_base_6A') }} as a on a.account_id = e.account_id and a.owner_party_id = e.party_id
where a.account_id is null
union all
select e.arrival_id, 'instrument not on the account'
from e left join {{ ref('s3_instrument_base_6A') }} as i on i.instrument_id = e.instrument_id and i.account_id = e.account_id
where i.instrument_id is null
union all
select e.arrival_id, 'device neither the party''s nor a terminal of the site'
from e
left join party_devices as pd on pd.device_id = e.device_id and pd.party_id = e.party_id
left join terminals as t on t.device_id = e.device_id and t.site_id = e.site_id
where pd.device_id is null and t.device_id is null
union all
select e.arrival_id, 'IP neither linked to the device, nor its carrier''s, nor a traveller''s network'
from e
join ips as i on i.ip_id = e.ip_id
left join device_ips as di on di.device_id = e.device_id and di.ip_id = e.ip_id
left join device_carriers as dc on dc.device_id = e.device_id and dc.country_iso = i.country_iso and i.ip_type = 'MOBILE'
where di.device_id is null and dc.device_id is null
    and i.ip_type not in ('HOTEL_TRAVEL', 'PUBLIC_WIFI')
union all
select e.arrival_id, 'IP unknown'
from e left join ips as i on i.ip_id = e.ip_id
where i.ip_id is null
