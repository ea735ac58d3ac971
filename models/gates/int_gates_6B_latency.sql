{#
  6B gates T14-T16 input: request -> response of flows without a step-up, from the event stream
  exact to the microsecond. One row. Its own model because the group by flow over every event
  is the largest aggregate of the 6B gates: beside the other gate queries it outgrew memory and
  spill disk at `large`; alone it spills within bounds.
#}
with latencies as (
    select (epoch_us(max(ts_utc) filter (where event_type = 'AUTH_RESPONSE'))
            - epoch_us(max(ts_utc) filter (where event_type = 'AUTH_REQUEST'))) / 1e6 as latency_s
    from {{ ref('s2_event_stream_baseline') }}
    -- only these three event types decide the latency; the rest of the stream need not be grouped
    where event_type in ('AUTH_REQUEST', 'AUTH_RESPONSE', 'STEP_UP_CHALLENGE')
    group by flow_id
    having count(*) filter (where event_type = 'STEP_UP_CHALLENGE') = 0
)

select
    count(*) as n_flows,
    quantile_cont(latency_s, 0.50) as p50,
    quantile_cont(latency_s, 0.99) as p99,
    count(*) filter (where latency_s = 0) / count(*) as zero_share
from latencies
