-- Overlay factors (per key and as applied to λ) stay finite and inside the policy clamp.
with factors as (
    select 'int_overlay_factors_5A' as source, overlay_factor_total
    from {{ ref('int_overlay_factors_5A') }}
    union all
    select 'merchant_zone_scenario_local_5A', overlay_factor_total
    from {{ ref('merchant_zone_scenario_local_5A') }}
)

select source, overlay_factor_total
from factors
where not isfinite(overlay_factor_total)
   or overlay_factor_total < {{ pval('intensity.overlays.factor_min') }}
   or overlay_factor_total > {{ pval('intensity.overlays.factor_max') }}
