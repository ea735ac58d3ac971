-- Device -> IP edges (and merchant endpoint IPs); IP attributes live in s4_ip_base_6A.
with links as (
    select * from {{ ref('int_graph_ip_links_6A') }}
)

select
    ip_id,
    device_id,
    party_id,
    merchant_id,
    link_role
from links
order by ip_id, device_id nulls first, merchant_id
