{#
  One row per flow: what it really was. The ordered truth rules of policies/truth.yaml are
  matched on the flow's campaign type (NONE without a campaign); a flow matching no rule or
  several stops the build with an error naming the flow, so a label never comes from an
  ambiguous or missing rule. A view: the labels follow from the overlaid flows and the rules,
  so they are computed where they are read (the fraud_label tests and the 6B gates read every
  flow's, so the build meets any such error).
#}
with rule_keys as (
    {{ truth_rule_keys() }}
),

flows as (
    select
        flow_id,
        scenario_id,
        arrival_id,
        campaign_id,
        {{ truth_match_type('campaign_type') }} as match_type
    from {{ ref('s3_flow_anchor_with_fraud') }}
),

final as (
    select
        f.flow_id,
        f.arrival_id,
        f.campaign_id,
        {{ truth_fraud_label('s4_flow_truth_labels', 'k', 'f.flow_id', 'f.match_type') }} as fraud_label,
        k.truth_subtype,
        k.fraud_label <> 'LEGIT' as is_fraud_truth,
        k.rule_id,
        coalesce(k.rule_match_count, 0) as rule_match_count,
        case when f.campaign_id is null then 'NONE' else 'CAMPAIGN' end as pattern_source,
        -- last, where a scenario dataset read back from its partitioned Parquet has it
        f.scenario_id
    from flows as f
    left join rule_keys as k on k.campaign_type = f.match_type
)

select * from final
