-- Realism of the expected baseline surface, one row per metric with its policy band
-- (intensity.realism). Shares use exact sums, so the figures never move between runs.
with baseline as (
    select l.*, p.demand_class, p.virtual_mode, c.weekend_days
    from {{ ref('merchant_zone_scenario_local_5A') }} as l
    inner join {{ ref('scenario_manifest_5A') }} as m on m.scenario_id = l.scenario_id and m.is_baseline
    inner join {{ ref('merchant_zone_profile_5A') }} as p using (merchant_id, legal_country_iso, tzid)
    inner join {{ ref('world_countries') }} as c on c.country_iso = l.legal_country_iso
),

total as (
    select {{ exact_sum_at('lambda_local_scenario', 1000000000) }} as lam from baseline
),

weekend as (
    select {{ exact_sum_at('lambda_local_scenario', 1000000000) }} as lam
    from baseline
    where list_contains(string_split(weekend_days, ',')::integer[], local_dow)
),

by_class as (
    select demand_class, {{ exact_sum_at('lambda_local_scenario', 1000000000) }} / (select lam from total) as share
    from baseline
    group by all
),

by_tzid as (
    select tzid, {{ exact_sum_at('lambda_local_scenario', 1000000000) }} / (select lam from total) as share
    from baseline
    group by all
),

by_mode as (
    select virtual_mode, {{ exact_sum_at('lambda_local_scenario', 1000000000) }} / (select lam from total) as share
    from baseline
    group by all
),

metrics as (
    select 'expected_total_over_target' as metric,
        (select lam from total) / {{ pval('preset.arrivals_target') }} as value,
        1 - 1e-9 as lo, 1 + 1e-9 as hi
    union all
    select 'weekend_share', (select lam from weekend) / (select lam from total),
        {{ pval('intensity.realism.weekend_share[0]') }}, {{ pval('intensity.realism.weekend_share[1]') }}
    union all
    select 'class_max_share', (select max(share) from by_class), 0, {{ pval('intensity.realism.class_max_share') }}
    union all
    select 'classes_at_2pct', (select count(*) from by_class where share >= 0.02),
        {{ pval('intensity.realism.min_classes_at_2pct') }}, 10
    union all
    select 'top10_tzid_share',
        (select sum(share order by share desc) from (select share from by_tzid order by share desc, tzid limit 10)),
        0, {{ pval('intensity.realism.top10_tzid_share_max') }}
    union all
    select 'virtual_share',
        coalesce((select share from by_mode where virtual_mode = 'VIRTUAL_ONLY'), 0)
            + {{ pval('arrivals.routing.p_virtual_hybrid') }} * coalesce((select share from by_mode where virtual_mode = 'HYBRID'), 0),
        {{ pval('intensity.realism.virtual_share[0]') }}, {{ pval('intensity.realism.virtual_share[1]') }}
)

select metric, value, lo, hi, value between lo and hi as within_band
from metrics
order by metric
