{#
  One row per case event: CASE_OPENED at the first trigger, then each grouped flow's
  detection, dispute, chargeback and chargeback decision in time order, then CASE_CLOSED.
  case_event_seq numbers the events 0, 1, 2, ... in (time, stage, flow) order, so it is
  contiguous and monotone in time by construction (tests check both).
#}
with cases as (
    select * from {{ ref('s4_bank_actions') }}
),

steps as (
    select case_id, case_id as flow_id, 'CASE_OPENED' as case_event_type, 0 as stage, min(case_opened_utc) as ts_utc,
           scenario_id
    from cases group by case_id, scenario_id
    union all
    select case_id, flow_id, 'DETECTION_EVENT_ATTACHED', 1, detection_utc, scenario_id from cases where detection_utc is not null
    union all
    select case_id, flow_id, 'CUSTOMER_DISPUTE_FILED', 2, dispute_utc, scenario_id from cases where dispute_utc is not null
    union all
    select case_id, flow_id, 'CHARGEBACK_INITIATED', 3, chargeback_utc, scenario_id from cases where chargeback_utc is not null
    union all
    select case_id, flow_id, 'CHARGEBACK_DECISION', 4, chargeback_decision_utc, scenario_id
    from cases where chargeback_decision_utc is not null
    union all
    select case_id, case_id, 'CASE_CLOSED', 5, min(case_closed_utc), scenario_id
    from cases group by case_id, scenario_id
)

select
    case_id,
    (row_number() over (partition by case_id order by ts_utc, stage, flow_id) - 1)::integer as case_event_seq,
    flow_id,
    case_event_type,
    ts_utc,
    scenario_id
from steps
