-- Every S3 flow has a bank view (one join per test: at `large` each needs its own memory).
select flow_id, 'S3 flow without a bank view' as problem
from {{ ref('s3_flow_anchor_with_fraud') }} anti join {{ ref('s4_flow_bank_view') }} using (flow_id)
