{#
  Sum of a DOUBLE expression that does not depend on thread scheduling: each value is rounded
  to 1/scale and summed as an exact 128-bit integer, so the result is the same whatever the order.
#}
{% macro exact_sum_at(expr, scale) -%}
(sum(round(({{ expr }}) * {{ scale }})::hugeint)::double / {{ scale }})
{%- endmacro %}
