{#
  One row per flow: what it really was. The ordered truth rules of policies/truth.yaml are
  matched on the flow's campaign type (NONE without a campaign); a flow matching no rule or
  several stops the build with an error naming the flow, so a label never comes from an
  ambiguous or missing rule. A view: the labels follow from the overlaid flows and the rules,
  so they are computed where they are read (the bank view reads every flow's, so the build
  meets any such error).
#}
with rule_keys as (
    select
        campaign_type,
        count(*) as rule_match_count,
        arg_min(rule_id, rule_order) as rule_id,
        arg_min(fraud_label, rule_order) as fraud_label,
        arg_min(truth_subtype, rule_order) as truth_subtype
    from {{ ref('int_s4_truth_rules') }}
    group by campaign_type
),

flows as (
    select
        flow_id,
        scenario_id,
        arrival_id,
        campaign_id,
        coalesce(campaign_type, 'NONE') as match_type
    from {{ ref('s3_flow_anchor_with_fraud') }}
),

matched as (
    select
        f.*,
        coalesce(k.rule_match_count, 0) as rule_match_count,
        k.rule_id,
        k.fraud_label,
        k.truth_subtype
    from flows as f
    left join rule_keys as k on k.campaign_type = f.match_type
)

select
    flow_id,
    arrival_id,
    campaign_id,
    case when rule_match_count = 1 then fraud_label
         else error('s4_flow_truth_labels: flow ' || flow_id || ' (campaign type ' || match_type || ') matches '
                    || rule_match_count || ' truth rules of policies/truth.yaml; every flow must match exactly one')
    end as fraud_label,
    truth_subtype,
    fraud_label <> 'LEGIT' as is_fraud_truth,
    rule_id,
    rule_match_count,
    case when campaign_id is null then 'NONE' else 'CAMPAIGN' end as pattern_source,
    -- last, where a scenario dataset read back from its partitioned Parquet has it
    scenario_id
from matched
