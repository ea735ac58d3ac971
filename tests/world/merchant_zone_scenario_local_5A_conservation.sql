-- The surface is dense (every zone × every bucket of every scenario) and the baseline's
-- expected total equals preset.arrivals_target to 1e-9 (exact integer-domain sum).
with baseline_total as (
    select {{ exact_sum_at('l.lambda_local_scenario', 1000000000000) }} as total
    from {{ ref('merchant_zone_scenario_local_5A') }} as l
    inner join {{ ref('scenario_manifest_5A') }} as m on m.scenario_id = l.scenario_id
    where m.is_baseline
),

row_counts as (
    select
        (select count(*) from {{ ref('merchant_zone_scenario_local_5A') }}) as n_rows,
        (select count(*) from {{ ref('merchant_zone_profile_5A') }})
            * (select sum(n_buckets) from {{ ref('scenario_manifest_5A') }}) as n_expected
)

select b.total, r.n_rows, r.n_expected
from baseline_total as b
cross join row_counts as r
where abs(b.total - {{ pval('preset.arrivals_target') }}) / {{ pval('preset.arrivals_target') }} >= 1e-9
   or r.n_rows <> r.n_expected
