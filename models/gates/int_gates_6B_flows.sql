{#
  Every flow with the columns the 6B gates read: truth and bank labels, merchant class, and for
  the leakage gate (T23) a keyed fold and the merchant's fraud rate in the other fold. Stored
  once, so each gate query scans only its own columns of a compressed table (as a CTE shared
  by a dozen gates it had to be held whole in memory or spill, which outgrew both at `large`).
  The labels are made here from the truth rules and s4_bank_actions, as their views make them,
  so the overlaid flows are read once, not once per view and rate.
#}
with rule_keys as (
    {{ truth_rule_keys() }}
),

-- not materialized: the rates and the labelled rows each read only the columns they need
flows as not materialized (
    select
        f.flow_id, f.arrival_id, f.session_id, f.merchant_id, f.party_id, f.account_id, f.instrument_id,
        f.device_id, f.ip_id, f.currency_code, f.ts_utc, f.amount, f.amount_minor, f.amount_usd,
        f.auth_latency_seconds, f.campaign_id, f.campaign_type,
        {{ truth_fraud_label('int_gates_6B_flows', 'k', 'f.flow_id', truth_match_type('f.campaign_type')) }} as fraud_label,
        k.fraud_label <> 'LEGIT' as is_fraud_truth,
        rng_u01({{ stream('6B.gates.auc_fold', 'f.flow_id') }}, 0) < 0.5 as fold
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    left join rule_keys as k on k.campaign_type = {{ truth_match_type('f.campaign_type') }}
),

fold_rates as (
    select merchant_id, fold, avg(is_fraud_truth::int) as rate
    from flows
    group by all
),

overall as (
    select avg(is_fraud_truth::int) as rate from flows
),

labelled as (
    select
        f.* exclude (fold),
        {{ bank_label('a') }} as bank_label,
        {{ bank_fraud_flag('a') }} as is_fraud_bank_view,
        coalesce(c.primary_demand_class, '__UNK__') as demand_class,
        f.fold
    from flows as f
    left join {{ ref('s4_bank_actions') }} as a using (flow_id)
    left join {{ ref('merchant_class_profile_5A') }} as c on c.merchant_id = f.merchant_id
),

final as (
    select l.* exclude (fold), coalesce(r.rate, (select rate from overall)) as merchant_rate_oof
    from labelled as l
    left join fold_rates as r on r.merchant_id = l.merchant_id and r.fold <> l.fold
)

select * from final
