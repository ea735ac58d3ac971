-- Overlay factor per (scenario, country, tzid, class, hourly bucket) wherever some event is
-- active (1.0 elsewhere). Within a type the most specific events win (MIN for HOLIDAY and
-- OUTAGE, MAX for the others); an outage caps payday, campaign and stress at 1, stress caps
-- campaigns at 1; the product over types is clamped to [factor_min, factor_max].
with events as (
    select
        *,
        (scope_country_iso is not null)::integer
            + (scope_tzid is not null)::integer
            + (scope_demand_class is not null)::integer as specificity
    from {{ ref('scenario_calendar_5A') }}
),

overlay_keys as (
    select distinct legal_country_iso, tzid, demand_class
    from {{ ref('merchant_zone_profile_5A') }}
),

-- the UTC grid of each scenario (Etc/UTC is in the tz bucket map like any zone)
grid as (
    select scenario_id, bucket_index, bucket_start_utc
    from {{ ref('int_tz_bucket_local_5A') }}
    where tzid = 'Etc/UTC'
),

event_keys as (
    select
        e.scenario_id,
        e.event_type,
        e.specificity,
        e.start_utc,
        e.end_utc,
        e.amplitude,
        e.ramp_in_buckets,
        e.ramp_out_buckets,
        k.legal_country_iso,
        k.tzid,
        k.demand_class
    from events as e
    inner join overlay_keys as k
        on (e.scope_country_iso is null or e.scope_country_iso = k.legal_country_iso)
        and (e.scope_tzid is null or e.scope_tzid = k.tzid)
        and (e.scope_demand_class is null or e.scope_demand_class = k.demand_class)
),

event_buckets as (
    select
        ek.*,
        g.bucket_index,
        epoch(g.bucket_start_utc - ek.start_utc) / 3600.0 as hours_in,
        epoch(ek.end_utc - ek.start_utc) / 3600.0 as hours_total
    from event_keys as ek
    inner join grid as g
        on g.scenario_id = ek.scenario_id
        and g.bucket_start_utc >= ek.start_utc
        and g.bucket_start_utc < ek.end_utc
),

factored as (
    select
        *,
        -- linear ramps measured at the bucket midpoint
        1.0 + (amplitude - 1.0) * greatest(0.0, least(
            1.0,
            case when ramp_in_buckets > 0 then (hours_in + 0.5) / ramp_in_buckets else 1.0 end,
            case when ramp_out_buckets > 0 then (hours_total - hours_in - 0.5) / ramp_out_buckets else 1.0 end
        )) as factor,
        max(specificity) over (
            partition by scenario_id, legal_country_iso, tzid, demand_class, bucket_index, event_type
        ) as top_specificity
    from event_buckets
),

per_type as (
    select
        scenario_id,
        legal_country_iso,
        tzid,
        demand_class,
        bucket_index,
        count(*) as n_events,
        min(factor) filter (where event_type = 'HOLIDAY') as holiday_factor,
        max(factor) filter (where event_type = 'PAYDAY') as payday_factor,
        max(factor) filter (where event_type = 'CAMPAIGN') as campaign_factor,
        min(factor) filter (where event_type = 'OUTAGE') as outage_factor,
        max(factor) filter (where event_type = 'STRESS') as stress_factor
    from factored
    where specificity = top_specificity
    group by all
),

masked as (
    select
        scenario_id,
        legal_country_iso,
        tzid,
        demand_class,
        bucket_index,
        n_events,
        coalesce(holiday_factor, 1.0) as holiday_factor,
        case when outage_factor is not null then least(coalesce(payday_factor, 1.0), 1.0)
             else coalesce(payday_factor, 1.0) end as payday_factor,
        case when outage_factor is not null or stress_factor is not null then least(coalesce(campaign_factor, 1.0), 1.0)
             else coalesce(campaign_factor, 1.0) end as campaign_factor,
        coalesce(outage_factor, 1.0) as outage_factor,
        case when outage_factor is not null then least(coalesce(stress_factor, 1.0), 1.0)
             else coalesce(stress_factor, 1.0) end as stress_factor
    from per_type
)

select
    *,
    greatest({{ pval('intensity.overlays.factor_min') }}, least({{ pval('intensity.overlays.factor_max') }},
        holiday_factor * payday_factor * campaign_factor * outage_factor * stress_factor)) as overlay_factor_total
from masked
order by scenario_id, legal_country_iso, tzid, demand_class, bucket_index
