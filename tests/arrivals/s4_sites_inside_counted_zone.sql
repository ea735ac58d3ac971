-- A physical arrival is routed to a site of its merchant inside the zone it was counted in.
select a.arrival_id
from {{ ref('s4_arrival_events') }} as a
inner join {{ ref('world_sites') }} as s using (site_id)
where not a.is_virtual
  and (s.merchant_id <> a.merchant_id or s.tzid <> a.zone_tzid or s.tzid <> a.tzid_primary)
