{#
  The keyed sample of flows the ranking gates read (6B.T23, R4, R5): every flow of
  int_gates_6B_flows whose coin, draw flow_id of stream (seed, 6B.gates.sample), falls under
  gates.sampling.max_units / flows; every flow when there are no more than that. A flow is in or
  out whatever the threads or chunking, and the same flows in every rebuild of the run. The share
  is kept on each row for the finite-population factor of the gates' standard errors.
#}
with flows as (
    select * from {{ ref('int_gates_6B_flows') }}
),

share as (
    select least(1.0, {{ pval('gates.sampling.max_units') }} / greatest(count(*), 1)) as sample_share from flows
),

final as (
    select f.*, s.sample_share
    from flows as f
    cross join share as s
    -- the flow is the counter of the domain's one stream: one mix per flow, not three
    where rng_u01({{ stream('6B.gates.sample', '0') }}, f.flow_id) < s.sample_share
)

select * from final
