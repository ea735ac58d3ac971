-- The one factor that turns reference demand units into expected arrivals: the baseline
-- scenario's expected total E (weekly volume × local-week shape × overlays over the horizon)
-- is brought to the preset's arrivals_target. E is summed exactly (order-independent).
with groups as (
    select
        demand_class,
        channel_group,
        legal_country_iso,
        tzid,
        sum(weekly_volume_expected order by merchant_id) as weekly_total
    from {{ ref('merchant_zone_profile_5A') }}
    group by all
),

baseline as (
    select scenario_id from {{ ref('scenario_manifest_5A') }} where is_baseline
),

unscaled as (
    select
        {{ lambda_unscaled('g.weekly_total') }} as lambda_unscaled
    from groups as g
    inner join {{ ref('int_tz_bucket_local_5A') }} as c on c.tzid = g.tzid
    inner join baseline as b on b.scenario_id = c.scenario_id
    {{ lambda_joins('g', 'c') }}
),

total as (
    select {{ exact_sum_at('lambda_unscaled', 1000000000000) }} as expected_unscaled
    from unscaled
)

select
    expected_unscaled,
    {{ pval('preset.arrivals_target') }}::double as arrivals_target,
    {{ pval('preset.arrivals_target') }}::double / expected_unscaled as arrivals_scale
from total
