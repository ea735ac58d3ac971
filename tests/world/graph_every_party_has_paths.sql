-- Every party can be attached by 6B: it holds an account with an instrument and owns or
-- uses a device with an IP (required for 100% of parties, not just the 95% realism band).
with instrumented_parties as (
    select distinct a.owner_party_id as party_id
    from {{ ref('s2_account_base_6A') }} as a
    join {{ ref('s3_account_instrument_links_6A') }} as l using (account_id)
),

connected_parties as (
    select distinct dl.party_id
    from {{ ref('s4_device_links_6A') }} as dl
    join {{ ref('s4_ip_links_6A') }} as il using (device_id)
    where dl.link_role in ('PRIMARY_OWNER', 'SECONDARY_USER')
)

select p.party_id
from {{ ref('s1_party_base_6A') }} as p
where p.party_id not in (select party_id from instrumented_parties)
   or p.party_id not in (select party_id from connected_parties)
