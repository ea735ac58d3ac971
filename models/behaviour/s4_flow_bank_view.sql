{#
  One row per flow: the bank's view of it. A flow the bank acted on (s4_bank_actions: detected
  or disputed, so a case was opened) has its process as written there; every other flow was
  never detected and opened no case, so it is NOT_DETECTED and NO_CASE_OPENED with no instant.
  A view: S4 writes only the flows the bank acted on (about 5% of them).
#}
with flows as (
    select flow_id, arrival_id, account_id, merchant_id, campaign_id, auth_outcome, scenario_id
    from {{ ref('s3_flow_anchor_with_fraud') }}
),

truth as (
    select flow_id, fraud_label, truth_subtype
    from {{ ref('s4_flow_truth_labels') }}
),

acted as (
    select * from {{ ref('s4_bank_actions') }}
),

final as (
    select
        f.flow_id,
        f.arrival_id,
        f.account_id,
        f.merchant_id,
        f.campaign_id,
        t.fraud_label,
        t.truth_subtype,
        f.auth_outcome,
        coalesce(a.detection_outcome, 'NOT_DETECTED') as detection_outcome,
        a.detection_utc,
        a.dispute_utc,
        a.chargeback_utc,
        a.chargeback_outcome,
        a.chargeback_decision_utc,
        a.investigation_confirmed_fraud,
        {{ bank_label('a') }} as bank_label,
        {{ bank_fraud_flag('a') }} as is_fraud_bank_view,
        a.case_id,
        a.case_opened_utc,
        a.case_closed_utc,
        a.bank_label_utc,
        -- last, where a scenario dataset read back from its partitioned Parquet has it
        f.scenario_id
    from flows as f
    join truth as t using (flow_id)
    left join acted as a using (flow_id)
)

select * from final
