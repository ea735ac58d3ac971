{#
  Sum of a DOUBLE expression that does not depend on thread scheduling: each value is rounded
  to 1/scale and summed as an exact 128-bit integer, so the result is the same whatever the order.
#}
{% macro exact_sum_at(expr, scale) -%}
(sum(round(({{ expr }}) * {{ scale }})::hugeint)::double / {{ scale }})
{%- endmacro %}

{#
  The 5A surface before scaling, for zones `zone` (demand_class, channel_group,
  legal_country_iso, tzid) at the buckets of `clock` (int_tz_bucket_local_5A):
  `volume` x the class shape at the zone's local week bucket x the overlay factor (1 without one).
  `lambda_unscaled` reads the aliases s and o that `lambda_joins` sets up.
#}
{% macro lambda_joins(zone, clock) -%}
inner join {{ ref('class_zone_shape_5A') }} as s
        on s.demand_class = {{ zone }}.demand_class
        and s.channel_group = {{ zone }}.channel_group
        and s.legal_country_iso = {{ zone }}.legal_country_iso
        and s.tzid = {{ zone }}.tzid
        and s.bucket_index = {{ clock }}.week_bucket
    left join {{ ref('int_overlay_factors_5A') }} as o
        on o.scenario_id = {{ clock }}.scenario_id
        and o.legal_country_iso = {{ zone }}.legal_country_iso
        and o.tzid = {{ zone }}.tzid
        and o.demand_class = {{ zone }}.demand_class
        and o.bucket_index = {{ clock }}.bucket_index
{%- endmacro %}

{% macro lambda_unscaled(volume) -%}
{{ volume }} * s.shape_value * coalesce(o.overlay_factor_total, 1.0)
{%- endmacro %}
