-- 1:1 between 5B arrivals and 6B attachments: none lost, none invented.
select a.arrival_id, 'arrival not attached' as problem
from {{ ref('s4_arrival_events') }} as a
anti join {{ ref('s1_arrival_entities') }} as e using (arrival_id)
union all
select e.arrival_id, 'attachment without an arrival'
from {{ ref('s1_arrival_entities') }} as e
anti join {{ ref('s4_arrival_events') }} as a using (arrival_id)
