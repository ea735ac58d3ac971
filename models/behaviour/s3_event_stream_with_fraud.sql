{#
  One row per event of a flow after the fraud overlay: the same unpivot as the baseline
  stream, over the mutated flows, so inserted step-ups, campaign declines and abusive
  refunds appear as events and every event stays in time order.
#}
{{ flow_events(ref('s3_flow_anchor_with_fraud'), ['fraud_flag', 'campaign_id']) }}
