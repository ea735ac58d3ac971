-- IP endpoints: one row per IP used by at least one link, with how many devices use it.
with links as (
    select * from {{ ref('int_graph_ip_links_6A') }}
)

select
    ip_id,
    ip_type,
    ip_group,
    asn_class,
    ip_country_iso as country_iso,
    count(device_id)::integer as n_devices,
    count(distinct party_id)::integer as n_parties
from links
group by ip_id, ip_type, ip_group, asn_class, ip_country_iso
order by ip_id
