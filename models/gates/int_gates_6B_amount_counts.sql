{#
  6B gates T11-T13 input: how many baseline flows carry each amount, per currency. Distinct
  amounts, exact quantiles and price-point shares all follow from these counts, so the gate
  query reads a table of distinct amounts instead of grouping and sorting every flow.
#}
select currency_code, amount, count(*) as n_flows
from {{ ref('s2_flow_anchor_baseline') }}
group by all
