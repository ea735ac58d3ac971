{#
  One row per realised campaign instance: the plan (type, window, targets, tactic
  parameters) with what the instance actually took from the flows.
#}
with realised as (
    select
        campaign_id,
        count(*) as flows_taken,
        count(distinct party_id) as parties_hit,
        count(distinct account_id) as accounts_hit,
        count(distinct instrument_id) as instruments_hit,
        count(distinct merchant_id) as merchants_hit,
        count(distinct legal_country_iso) as countries_hit,
        count_if(auth_outcome = 'DECLINED')::bigint as flows_declined,  -- count_if is a hugeint
        {{ exact_sum('amount_usd') }} as amount_usd_taken,  -- exact: a float sum depends on scan order
        min(ts_utc) as first_flow_utc,
        max(ts_utc) as last_flow_utc
    from {{ ref('s3_flow_anchor_with_fraud') }}
    where campaign_id is not null
    group by campaign_id
),

scenario_flows as (
    select scenario_id, count(*) as scenario_flows
    from {{ ref('s3_flow_anchor_with_fraud') }}
    group by scenario_id
)

select
    p.*,
    coalesce(r.flows_taken, 0) as flows_taken,
    coalesce(r.flows_taken, 0) / s.scenario_flows as prevalence,
    coalesce(r.parties_hit, 0) as parties_hit,
    coalesce(r.accounts_hit, 0) as accounts_hit,
    coalesce(r.instruments_hit, 0) as instruments_hit,
    coalesce(r.merchants_hit, 0) as merchants_hit,
    coalesce(r.countries_hit, 0) as countries_hit,
    coalesce(r.flows_declined, 0) as flows_declined,
    coalesce(r.amount_usd_taken, 0) as amount_usd_taken,
    r.first_flow_utc,
    r.last_flow_utc
from {{ ref('int_s3_campaign_plan') }} as p
join scenario_flows as s using (scenario_id)
left join realised as r using (campaign_id)
