{#
  One row per event of a baseline flow, unpivoted from the flow's event instants: the auth
  request, the step-up challenge and completion, the auth response, then clearing and a
  refund, or a reversal. event_seq is the event's rank in time within the flow (the kernel
  makes every later event strictly later, so the order is unique).
#}
with flows as (
    select * from {{ ref('s2_flow_anchor_baseline') }}
),

events as (
    select flow_id, 'AUTH_REQUEST' as event_type, ts_utc, amount_minor, null::varchar as response_code from flows
    union all
    select flow_id, 'STEP_UP_CHALLENGE', ts_step_up_challenge, null, null from flows where has_step_up
    union all
    select flow_id, 'STEP_UP_COMPLETE', ts_step_up_complete, null,
           case when decline_reason = 'STEP_UP_FAILED' then 'FAILED' else 'PASSED' end
    from flows where has_step_up
    union all
    select flow_id, 'AUTH_RESPONSE', ts_auth_response, amount_minor,
           case when auth_outcome = 'APPROVED' then 'APPROVED' else decline_reason end
    from flows
    union all
    select flow_id, 'CLEARING', ts_clearing, clearing_amount_minor, null from flows where ts_clearing is not null
    union all
    select flow_id, 'REFUND', ts_refund, -refund_amount_minor, null from flows where ts_refund is not null
    union all
    select flow_id, 'REVERSAL', ts_reversal, -amount_minor, null from flows where ts_reversal is not null
)

select
    e.flow_id,
    (row_number() over (partition by e.flow_id order by e.ts_utc) - 1)::integer as event_seq,
    e.event_type,
    e.ts_utc,
    e.amount_minor,
    e.amount_minor / pow(10, f.currency_minor_units) as amount,
    f.currency_code,
    e.response_code,
    f.scenario_id,
    f.session_id,
    f.arrival_id,
    f.merchant_id
from events as e
join flows as f using (flow_id)
