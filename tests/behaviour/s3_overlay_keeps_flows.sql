-- The overlay keeps the baseline's flows one for one, and a flow no campaign took is
-- exactly the baseline flow (amount, entities, outcome and every event instant). One join
-- answers both: as two branches of a union they ran at once and outgrew memory at `large`.
select b.flow_id,
       case when f.flow_id is null then 'baseline flow missing after the overlay'
            else 'untouched flow differs from the baseline' end as problem
from {{ ref('s2_flow_anchor_baseline') }} as b
left join {{ ref('s3_flow_anchor_with_fraud') }} as f using (flow_id)
where f.flow_id is null
   or (not f.fraud_flag
       and (f.amount_minor, f.device_id, f.ip_id, f.auth_outcome, f.has_step_up, f.ts_auth_response,
            f.ts_clearing, f.ts_refund, f.ts_reversal)
           is distinct from
           (b.amount_minor, b.device_id, b.ip_id, b.auth_outcome, b.has_step_up, b.ts_auth_response,
            b.ts_clearing, b.ts_refund, b.ts_reversal))
union all
select f.flow_id, 'campaign flow outside its campaign window'
from {{ ref('s3_flow_anchor_with_fraud') }} as f
join {{ ref('s3_campaign_catalogue') }} as c using (campaign_id)
where f.ts_utc < c.window_start_utc or f.ts_utc >= c.window_end_utc or f.scenario_id <> c.scenario_id
