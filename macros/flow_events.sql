{#
  The events of each flow of `flows` (a relation with the s2_flow_anchor_baseline columns),
  unpivoted from the flow's event instants: the auth request, the step-up challenge and
  completion, the auth response, then clearing and a refund, or a reversal. The kernels
  make each of these strictly later than the one before, so event_seq follows from which
  events the flow has (a test checks the order in time). `carry` names extra flow columns
  copied onto every event.
#}
{% macro flow_events(flows, carry=[]) -%}
{%- set lineage = (['currency_code', 'currency_minor_units', 'scenario_id', 'session_id', 'arrival_id', 'merchant_id'] + carry) | join(', ') -%}
-- not materialized: each branch below reads only the columns and rows it needs (materialised,
-- the CTE would hold every column of every flow in memory, 126M flows at `large`)
with flows as not materialized (
    select
        *,
        case when has_step_up then 3 else 1 end as response_seq
    from {{ flows }}
),

events as (
    select flow_id, 0 as event_seq, 'AUTH_REQUEST' as event_type, ts_utc, amount_minor,
           null::varchar as response_code, {{ lineage }}
    from flows
    union all
    select flow_id, 1, 'STEP_UP_CHALLENGE', ts_step_up_challenge, null, null, {{ lineage }}
    from flows where has_step_up
    union all
    select flow_id, 2, 'STEP_UP_COMPLETE', ts_step_up_complete, null,
           case when decline_reason = 'STEP_UP_FAILED' then 'FAILED' else 'PASSED' end, {{ lineage }}
    from flows where has_step_up
    union all
    select flow_id, response_seq, 'AUTH_RESPONSE', ts_auth_response, amount_minor,
           case when auth_outcome = 'APPROVED' then 'APPROVED' else decline_reason end, {{ lineage }}
    from flows
    union all
    select flow_id, response_seq + 1, 'CLEARING', ts_clearing, clearing_amount_minor, null, {{ lineage }}
    from flows where ts_clearing is not null
    union all
    select flow_id, response_seq + 2, 'REFUND', ts_refund, -refund_amount_minor, null, {{ lineage }}
    from flows where ts_refund is not null
    union all
    select flow_id, response_seq + 1, 'REVERSAL', ts_reversal, -amount_minor, null, {{ lineage }}
    from flows where ts_reversal is not null
)

select
    flow_id,
    event_seq::integer as event_seq,
    event_type,
    ts_utc,
    amount_minor,
    amount_minor / pow(10, currency_minor_units) as amount,
    currency_code,
    response_code,
    session_id,
    arrival_id,
    merchant_id{% for c in carry %},
    {{ c }}{% endfor %},
    -- last, where a scenario dataset read back from its partitioned Parquet has it
    scenario_id
from events
{%- endmacro %}
