-- Every case runs CASE_OPENED first and CASE_CLOSED last, once each, along a contiguous
-- case_event_seq from 0 that never goes back in time (microseconds); every case of the bank
-- view has a timeline and every timeline a case; a case opens no earlier than its first flow
-- and ends within the policy's horizon after opening (grouping window, longest clearing,
-- chargeback window, longest scheme decision and closing delay).
{%- set horizon_seconds -%}
({{ pval('bank_view.cases.group_window_seconds') }} + {{ pval('flows.timing.clearing.max_seconds') }}
 + {{ pval('bank_view.process.chargeback_window_days') }} * 86400
 + {{ pval('bank_view.delays.chargeback_decision.max_seconds') }} + {{ pval('bank_view.delays.case_close.max_seconds') }})
{%- endset %}
with e as (
    select *, lag(ts_utc) over (partition by case_id order by case_event_seq) as prev_ts
    from {{ ref('s4_case_timeline') }}
),

per_case as (
    select
        case_id,
        count(*) as n,
        max(case_event_seq) as last_seq,
        min(case_event_seq) as first_seq,
        count(*) filter (where case_event_type = 'CASE_OPENED') as n_opened,
        count(*) filter (where case_event_type = 'CASE_CLOSED') as n_closed,
        arg_min(case_event_type, case_event_seq) as first_type,
        arg_max(case_event_type, case_event_seq) as last_type,
        min(ts_utc) as opened_ts,
        max(ts_utc) as last_ts
    from e
    group by case_id
),

bank_cases as (
    select case_id, min(ts_utc) as first_flow_ts
    from {{ ref('s4_bank_actions') }} as b
    join {{ ref('s2_flow_anchor_baseline') }} as f using (flow_id)
    group by case_id
)

select case_id, 'event earlier than the one before it' as problem from e where ts_utc < prev_ts
union all
select case_id, 'case_event_seq not contiguous from 0, or not OPENED ... CLOSED once each'
from per_case
where first_seq <> 0 or last_seq <> n - 1 or n_opened <> 1 or n_closed <> 1
   or first_type <> 'CASE_OPENED' or last_type <> 'CASE_CLOSED'
union all
select case_id, 'bank-view case without a timeline' from bank_cases anti join per_case using (case_id)
union all
select case_id, 'timeline without a bank-view case' from per_case anti join bank_cases using (case_id)
union all
select case_id, 'case opens before its first flow or outlives the policy horizon'
from per_case join bank_cases using (case_id)
where opened_ts < first_flow_ts or epoch_us(last_ts) - epoch_us(opened_ts) > {{ horizon_seconds }} * 1e6
