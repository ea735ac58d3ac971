-- A virtual arrival is routed to an edge of its own merchant.
select a.arrival_id
from {{ ref('s4_arrival_events') }} as a
inner join {{ ref('world_edges') }} as e using (edge_id)
where a.is_virtual and e.merchant_id <> a.merchant_id
