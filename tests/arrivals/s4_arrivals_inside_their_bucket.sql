-- Every arrival lies in [bucket_start, bucket_end) of its bucket.
select a.arrival_id
from {{ ref('s4_arrival_events') }} as a
inner join {{ ref('s1_time_grid') }} as g using (scenario_id, bucket_index)
where a.ts_utc < g.bucket_start_utc or a.ts_utc >= g.bucket_end_utc
