-- Every S3 flow has a truth label (one join per test: at `large` each needs its own memory).
select flow_id, 'S3 flow without a truth label' as problem
from {{ ref('s3_flow_anchor_with_fraud') }} anti join {{ ref('s4_flow_truth_labels') }} using (flow_id)
