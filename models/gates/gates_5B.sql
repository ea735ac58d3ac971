{#
  5B realism gates over the full arrival data (no sampling): civil time against the DuckDB ICU
  oracle, DST-window hour parity, S3/S4 conservation, routing integrity, tz concentration,
  virtual share, and context rows for the weekly rhythm, dispersion and the latent field; R1 the
  Jensen-Shannon divergence of each demand class's hour-of-week shape from the 5A surface.
  Float aggregates go through exact_sum so the values do not depend on threads or row order.
#}
{%- set bucket_seconds = pval('arrivals.time_grid.bucket_seconds') -%}

with arrivals as (
    select * from {{ ref('s4_arrival_events') }}
),

bucket_counts as (
    select * from {{ ref('s3_bucket_counts') }}
),

horizons as (
    select scenario_id, horizon_start_utc, horizon_end_utc, is_baseline from {{ ref('scenario_manifest_5A') }}
),

tz_intervals as (
    select tzid, valid_from_utc, valid_to_utc, offset_minutes from {{ ref('world_tz_transitions') }}
),

-- ICU is independent of the pinned-tzdata transition table the arrivals were localised with.
civil_time as (
    select
        scenario_id,
        tzid_primary,
        ts_utc,
        ts_local_primary,
        timezone(tzid_primary, timezone('UTC', ts_utc)) as expected_local,
        epoch_us(ts_local_primary) - epoch_us(expected_local) as delta_us
    from arrivals
),

civil_time_metrics as (
    select
        count(*) as n,
        count(*) filter (
            where delta_us is null
               or abs(delta_us) > {{ gate_param('5B.T1', 'tolerance_seconds') }} * 1e6
        ) as mismatched,
        count(*) filter (
            where abs(abs(delta_us) - {{ gate_param('5B.T2', 'shift_seconds') }} * 1e6)
                  <= {{ gate_param('5B.T2', 'tolerance_seconds') }} * 1e6
        ) as hour_shifted
    from civil_time
),

-- A transition is an interval whose offset differs from the previous one of the same zone.
transitions as (
    select tzid, valid_from_utc as transition_utc
    from (
        select
            tzid,
            valid_from_utc,
            offset_minutes - lag(offset_minutes) over (partition by tzid order by valid_from_utc) as shift_minutes
        from tz_intervals
    )
    where shift_minutes <> 0
),

dst_windows as (
    select
        h.scenario_id,
        t.tzid,
        t.transition_utc,
        h.scenario_id || '#' || t.tzid || '#' || strftime(t.transition_utc, '%Y-%m-%dT%H:%M:%S') as window_id
    from transitions as t
    inner join horizons as h
        on t.transition_utc >= h.horizon_start_utc and t.transition_utc < h.horizon_end_utc
),

window_arrivals as (
    select w.window_id, hour(c.ts_local_primary) as observed_hour, hour(c.expected_local) as expected_hour
    from dst_windows as w
    inner join civil_time as c
        on c.scenario_id = w.scenario_id
       and c.tzid_primary = w.tzid
       and c.ts_utc >= w.transition_utc - to_hours({{ gate_param('5B.T3', 'window_hours') }}::bigint)
       and c.ts_utc < w.transition_utc + to_hours({{ gate_param('5B.T3', 'window_hours') }}::bigint)
),

observed_hours as (
    select window_id, observed_hour as local_hour, count(*) as n_observed
    from window_arrivals
    group by all
),

expected_hours as (
    select window_id, expected_hour as local_hour, count(*) as n_expected
    from window_arrivals
    group by all
),

-- MAE over the 24 local hours of the window, in percentage points of the window's support.
window_mae as (
    select
        window_id,
        sum(coalesce(n_observed, 0)) as support,
        sum(abs(coalesce(n_observed, 0) - coalesce(n_expected, 0))) / sum(coalesce(n_observed, 0)) / 24 * 100 as mae_pp
    from observed_hours
    full outer join expected_hours using (window_id, local_hour)
    group by window_id
),

dst_window_metrics as (
    select
        count(*) as n_windows,
        count(*) filter (where support >= {{ gate_param('5B.T3', 'min_window_support') }}) as n_material,
        coalesce(sum(support) filter (where support >= {{ gate_param('5B.T3', 'min_window_support') }}), 0) as material_support,
        {{ exact_sum("case when support >= " ~ gate_param('5B.T3', 'min_window_support') ~ " then mae_pp end") }}
            / nullif(n_material, 0) as mean_mae_pp
    from window_mae
),

-- S3 series are keyed by the counted zone; arrivals keep it as zone_tzid.
counted as (
    select scenario_id, merchant_id, tzid, channel_group, bucket_index, sum(count_n) as n_counted
    from bucket_counts
    group by all
    having sum(count_n) > 0
),

realised as (
    select scenario_id, merchant_id, zone_tzid as tzid, channel_group, bucket_index, count(*) as n_realised
    from arrivals
    group by all
),

conservation_metrics as (
    select
        count(*) filter (where coalesce(n_counted, 0) <> coalesce(n_realised, 0)) as mismatched_keys,
        coalesce(sum(n_counted), 0) - coalesce(sum(n_realised), 0) as residual,
        count(*) as n_keys
    from counted
    full outer join realised using (scenario_id, merchant_id, tzid, channel_group, bucket_index)
),

arrival_metrics as (
    select
        count(*) as n,
        count(*) filter (
            where is_virtual is null
               or (not is_virtual and (site_id is null or edge_id is not null))
               or (is_virtual and (edge_id is null or site_id is not null))
        ) as routing_violations,
        count(*) filter (where is_virtual) as n_virtual,
        count(*) filter (where isodow(ts_local_primary) in (6, 7)) as n_local_weekend
    from arrivals
),

tz_ranked as (
    select tzid_primary, n, row_number() over (order by n desc, tzid_primary) as tz_rank
    from (select tzid_primary, count(*) as n from arrivals group by tzid_primary)
),

tz_concentration as (
    select
        sum(n) filter (where tz_rank <= {{ gate_param('5B.T6', 'top_n') }}) / sum(n) as top_share,
        count(*) as n_tzids,
        string_agg(tzid_primary, ',' order by tz_rank) filter (where tz_rank <= 3) as leaders
    from tz_ranked
),

-- Expected weekend share: lambda of buckets whose midpoint falls on a local Saturday/Sunday.
bucket_weekend as (
    select
        b.lambda_realised,
        isodow(timezone(b.tzid, timezone('UTC',
            h.horizon_start_utc + to_seconds((b.bucket_index * {{ bucket_seconds }} + {{ bucket_seconds }} / 2)::bigint)
        ))) in (6, 7) as is_weekend
    from bucket_counts as b
    inner join horizons as h using (scenario_id)
),

weekend_metrics as (
    select
        {{ exact_sum("case when is_weekend then lambda_realised else 0 end") }}
            / nullif({{ exact_sum("lambda_realised") }}, 0) as expected_share
    from bucket_weekend
),

-- R1: each demand class's local hour-of-week shape, baseline arrivals (S3 counts) against the 5A
-- surface (lambda_baseline), in the series' time zone at the bucket midpoint. Both sides are
-- summed per (class, tzid, bucket) first, so the join is over that small grid, not per series.
class_clock as (
    select
        scenario_id, tzid, bucket_index,
        (isodow(l) - 1) * 24 + hour(l) as hour_of_week
    from (
        select distinct
            b.scenario_id, b.tzid, b.bucket_index,
            timezone(b.tzid, timezone('UTC', h.horizon_start_utc
                + to_seconds((b.bucket_index * {{ bucket_seconds }} + {{ bucket_seconds }} / 2)::bigint))) as l
        from bucket_counts as b
        inner join horizons as h using (scenario_id)
        where h.is_baseline
    )
),

class_counts as (
    select b.scenario_id, g.demand_class, b.tzid, b.bucket_index, sum(b.count_n)::double as n_arrivals
    from bucket_counts as b
    inner join {{ ref('s1_grouping') }} as g using (scenario_id, merchant_id, tzid, channel_group)
    group by all
),

class_surface as (
    select scenario_id, demand_class, tzid, bucket_index, {{ exact_sum('lambda_baseline') }} as lambda_baseline
    from {{ ref('s1_series_intensity') }}
    group by all
),

class_shape as (
    select s.demand_class as grp, k.hour_of_week as bin,
           sum(coalesce(c.n_arrivals, 0)) as p, {{ exact_sum('s.lambda_baseline') }} as q
    from class_surface as s
    inner join class_clock as k using (scenario_id, tzid, bucket_index)
    left join class_counts as c using (scenario_id, demand_class, tzid, bucket_index)
    group by all
),

shape_jsd as (
    {{ jsd_by_group('class_shape') }}
),

shape_metrics as (
    select w.*, (select count(*) from shape_jsd) as n_all_classes
    from ({{ worst_row('shape_jsd', 'jsd', 'grp', 'n_p', gate_param('5B.R1', 'min_class_arrivals')) }}) as w
),

-- The residual sd is sqrt(1 + mu/kappa) under NB2, so it depends on the bucket's mean: the band
-- is only comparable across presets inside one window of means (tens of arrivals, as in the
-- reference), and only for the baseline scenario (a stress scenario is overdispersed by design).
standardised as (
    select
        (b.count_n - b.lambda_realised) / sqrt(b.lambda_realised) as r,
        b.lambda_realised / b.kappa as excess
    from bucket_counts as b
    inner join horizons as h using (scenario_id)
    where h.is_baseline
      and b.lambda_realised >= {{ gate_param('5B.T9', 'min_mu') }}
      and b.lambda_realised < {{ gate_param('5B.T9', 'max_mu') }}
),

dispersion_metrics as (
    select
        count(*) as n,
        sqrt(greatest({{ exact_sum("r * r") }} / n - pow({{ exact_sum("r") }} / n, 2), 0)) as residual_sd,
        -- NB2 implies var(r) = 1 + mu / kappa: what the sampler should reproduce
        sqrt(1 + {{ exact_sum("excess") }} / n) as implied_sd
    from standardised
),

-- The latent factor is shared by every series of a group, so take one value per group and bucket.
latent as (
    select distinct
        scenario_id, group_id, bucket_index,
        lambda_random_component as factor,
        exp(-{{ bucket_seconds }} / 3600.0 / length_scale_hours) as phi
    from {{ ref('s2_realised_intensity') }}
),

latent_lagged as (
    select
        scenario_id, group_id, phi,
        ln(factor) as z,
        lead(ln(factor)) over (partition by scenario_id, group_id order by bucket_index) as z_next,
        avg(ln(factor)) over (partition by scenario_id, group_id) as z_mean
    from latent
),

latent_groups as (
    select
        scenario_id, group_id,
        any_value(phi) as phi,
        count(*) as n,
        {{ exact_sum("(z - z_mean) * (z_next - z_mean)") }} / nullif({{ exact_sum("(z - z_mean) * (z - z_mean)") }}, 0) as lag1
    from latent_lagged
    group by scenario_id, group_id
),

latent_metrics as (
    select
        (select count(*) from latent) as n_factors,
        (select {{ exact_sum("factor") }} / count(*) from latent) as mean_factor,
        count(lag1) as n_groups,
        sum(n) filter (where lag1 is not null) as n_used,
        {{ exact_sum("lag1") }} / nullif(count(lag1), 0) as mean_lag1,
        {{ exact_sum("case when lag1 is not null then phi end") }} / nullif(count(lag1), 0) as mean_phi
    from latent_groups
),

active_zones as (
    select distinct tzid_primary as tzid from arrivals
    union
    select distinct zone_tzid from arrivals
),

zone_coverage as (
    select
        count(*) as n_active,
        count(*) filter (
            where c.first_from is null
               or c.first_from > (select min(horizon_start_utc) from horizons)
               or c.last_to < (select max(horizon_end_utc) from horizons)
        ) as n_uncovered
    from active_zones as z
    left join (
        select tzid, min(valid_from_utc) as first_from, max(valid_to_utc) as last_to
        from tz_intervals
        group by tzid
    ) as c using (tzid)
),

metrics as (
    select '5B.T1' as gate_id, mismatched / n as value, n as evidence_n, false as underpowered,
           format('{} of {} arrivals differ from ICU', mismatched, n) as detail
    from civil_time_metrics
    union all
    select '5B.T2', hour_shifted / n, n, false,
           format('{} of {} arrivals off by one hour', hour_shifted, n)
    from civil_time_metrics
    union all
    select '5B.T3', mean_mae_pp, material_support,
           n_material < {{ gate_param('5B.T3', 'min_windows') }},
           format('{} material of {} DST windows, support {}', n_material, n_windows, material_support)
    from dst_window_metrics
    union all
    select '5B.T4', mismatched_keys + abs(residual), (select n from arrival_metrics), false,
           format('{} mismatched of {} keys, residual {}', mismatched_keys, n_keys, residual)
    from conservation_metrics
    union all
    select '5B.T5', routing_violations, n, false,
           format('{} violations in {} arrivals', routing_violations, n)
    from arrival_metrics
    union all
    select '5B.T6', top_share, (select n from arrival_metrics), false,
           format('{} tzids; leaders {}', n_tzids, leaders)
    from tz_concentration
    union all
    select '5B.T7', n_virtual / n, n, false,
           format('{} virtual of {} arrivals', n_virtual, n)
    from arrival_metrics
    union all
    select '5B.T8', abs(a.n_local_weekend / a.n - w.expected_share) * 100, a.n, false,
           printf('observed %.6f, expected %.6f', a.n_local_weekend / a.n, w.expected_share)
    from arrival_metrics as a, weekend_metrics as w
    union all
    select '5B.T9', residual_sd, n, false,
           printf('%d baseline buckets with mu in [%s, %s); NB2-implied sd %.4f', n,
                  '{{ gate_param('5B.T9', 'min_mu') }}', '{{ gate_param('5B.T9', 'max_mu') }}', implied_sd)
    from dispersion_metrics
    union all
    select '5B.T11', n_uncovered, n_active, false,
           format('{} of {} active tzids not covered by the transition table', n_uncovered, n_active)
    from zone_coverage
    union all
    select '5B.R1', worst, n_evidence::bigint, false,
           printf('worst %s; %d of %d classes with >= %d baseline arrivals', worst_key, n_rows, n_all_classes,
                  {{ gate_param('5B.R1', 'min_class_arrivals') }}::bigint)
    from shape_metrics
    union all
    select '5B.L1', mean_factor, n_factors, false,
           format('{} (group, bucket) factors', n_factors)
    from latent_metrics
    union all
    select '5B.L2', abs(mean_lag1 - mean_phi), n_used, false,
           printf('lag-1 %.4f vs AR(1) coefficient %.4f over %d groups', mean_lag1, mean_phi, n_groups)
    from latent_metrics
),

{{ gate_table('metrics', gate_ids('5B')) }}
