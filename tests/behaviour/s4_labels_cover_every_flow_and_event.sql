-- Truth and bank view hold exactly the S3 flows, and event labels exactly the S3 events.
select flow_id, null as event_seq, 'S3 flow without a truth label' as problem
from {{ ref('s3_flow_anchor_with_fraud') }} anti join {{ ref('s4_flow_truth_labels') }} using (flow_id)
union all
select flow_id, null, 'S3 flow without a bank view'
from {{ ref('s3_flow_anchor_with_fraud') }} anti join {{ ref('s4_flow_bank_view') }} using (flow_id)
union all
select flow_id, event_seq, 'S3 event without an event label'
from {{ ref('s3_event_stream_with_fraud') }} anti join {{ ref('s4_event_labels') }} using (flow_id, event_seq)
union all
select flow_id, event_seq, 'event label without an S3 event'
from {{ ref('s4_event_labels') }} anti join {{ ref('s3_event_stream_with_fraud') }} using (flow_id, event_seq)
