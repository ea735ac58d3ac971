{#
  One row per event of s3_event_stream_with_fraud: the flow's truth and bank view on each
  event, the event's role in the fraud (the refund of refund abuse, the auth request of the
  other campaign types, the flow's other events supporting it) and whether the bank had
  already detected the flow when the event happened.
#}
select
    e.flow_id,
    e.event_seq,
    e.event_type,
    e.ts_utc,
    t.fraud_label,
    t.truth_subtype,
    t.is_fraud_truth,
    case
        when not t.is_fraud_truth then 'LEGIT_CONTEXT'
        when e.event_type = case when t.truth_subtype = 'REFUND_ABUSE' then 'REFUND' else 'AUTH_REQUEST' end
            then 'PRIMARY_FRAUD_ACTION'
        else 'SUPPORTING_EVENT'
    end as truth_event_role,
    b.bank_label,
    b.is_fraud_bank_view,
    coalesce(b.detection_utc <= e.ts_utc, false) as detected_by_event,
    e.scenario_id
from {{ ref('s3_event_stream_with_fraud') }} as e
join {{ ref('s4_flow_truth_labels') }} as t using (flow_id)
join {{ ref('s4_flow_bank_view') }} as b using (flow_id)
