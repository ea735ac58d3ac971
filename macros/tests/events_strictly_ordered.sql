{#
  Events of a flow are strictly increasing in time along a contiguous event_seq from 0, start
  with the auth request, every flow has exactly one request and one response, and every flow
  of `flows` has events.
#}
{% test events_strictly_ordered(model, flows) %}
with e as (
    select
        flow_id,
        event_seq,
        event_type,
        ts_utc,
        lag(ts_utc) over (partition by flow_id order by event_seq) as prev_ts
    from {{ model }}
),

per_flow as (
    select
        flow_id,
        count(*) filter (where event_type = 'AUTH_REQUEST') as n_request,
        count(*) filter (where event_type = 'AUTH_RESPONSE') as n_response,
        min(event_seq) filter (where event_type = 'AUTH_REQUEST') as request_seq,
        count(*) as n_events,
        max(event_seq) as last_seq
    from e
    group by flow_id
)

select flow_id, 'event not after the previous one' as problem from e where prev_ts is not null and ts_utc <= prev_ts
union all
select flow_id, 'not exactly one request and one response, request first'
from per_flow where n_request <> 1 or n_response <> 1 or request_seq <> 0 or last_seq <> n_events - 1
union all
select f.flow_id, 'flow without events'
from {{ flows }} as f anti join per_flow as p using (flow_id)
{% endtest %}
