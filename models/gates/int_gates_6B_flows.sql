{#
  Every flow with the columns the 6B gates read: truth and bank labels, merchant class, and for
  the leakage gate (T23) a keyed fold and the merchant's fraud rate in the other fold. Stored
  once, so each gate query scans only its own columns of a compressed table (as a CTE shared
  by a dozen gates it had to be held whole in memory or spill, which outgrew both at `large`).
#}
with fold_rates as (
    -- every flow has a truth row, so the rates need only flows and truth
    select f.merchant_id, rng_u01({{ stream('6B.gates.auc_fold', 'f.flow_id') }}, 0) < 0.5 as fold,
           avg(t.is_fraud_truth::int) as rate
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    join {{ ref('s4_flow_truth_labels') }} as t using (flow_id)
    group by all
),

overall as (
    select avg(is_fraud_truth::int) as rate from {{ ref('s4_flow_truth_labels') }}
),

labelled as (
    select f.flow_id, f.arrival_id, f.session_id, f.merchant_id, f.party_id, f.account_id, f.instrument_id,
           f.device_id, f.ip_id, f.currency_code, f.ts_utc, f.amount, f.amount_minor, f.amount_usd,
           f.auth_latency_seconds, f.campaign_id, f.campaign_type, t.fraud_label, t.is_fraud_truth,
           b.bank_label, b.is_fraud_bank_view,
           coalesce(c.primary_demand_class, '__UNK__') as demand_class,
           rng_u01({{ stream('6B.gates.auc_fold', 'f.flow_id') }}, 0) < 0.5 as fold
    from {{ ref('s3_flow_anchor_with_fraud') }} as f
    join {{ ref('s4_flow_truth_labels') }} as t using (flow_id)
    join {{ ref('s4_flow_bank_view') }} as b using (flow_id)
    left join {{ ref('merchant_class_profile_5A') }} as c on c.merchant_id = f.merchant_id
)

select l.* exclude (fold), coalesce(r.rate, (select rate from overall)) as merchant_rate_oof
from labelled as l
left join fold_rates as r on r.merchant_id = l.merchant_id and r.fold <> l.fold
