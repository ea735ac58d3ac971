{#
  Policy values in SQL. The value is read from `world_policy_params` (built by the
  validated Python loader) and inlined as a literal at execution time, so a misspelt
  key fails the model instead of silently yielding null.
#}
{% macro pval(key) -%}
{%- set rel = ref('world_policy_params') -%}
{%- if execute -%}
  {%- set res = run_query("select num_value, text_value from " ~ rel ~ " where key = '" ~ key ~ "'") -%}
  {%- if res.rows | length != 1 -%}
    {{ exceptions.raise_compiler_error("unknown policy key '" ~ key ~ "' (see world_policy_params for the keys)") }}
  {%- endif -%}
  {%- set row = res.rows[0] -%}
  {%- if row[0] is not none -%}{{ row[0] }}{%- else -%}'{{ row[1] | replace("'", "''") }}'{%- endif -%}
{%- else -%}
  null
{%- endif -%}
{%- endmacro %}

{# The numbers of a policy list `key` (flattened as key[0], key[1], ...), comma-separated in order. #}
{% macro pval_list(key) -%}
{%- set rel = ref('world_policy_params') -%}
{%- if execute -%}
  {%- set res = run_query("select num_value from " ~ rel ~ " where starts_with(key, '" ~ key ~ "[')"
                          ~ " order by try_cast(regexp_extract(key, '\\[([0-9]+)\\]$', 1) as integer)") -%}
  {%- if res.rows | length == 0 -%}
    {{ exceptions.raise_compiler_error("unknown policy list '" ~ key ~ "' (see world_policy_params for the keys)") }}
  {%- endif -%}
  {{ res.rows | map(attribute=0) | join(', ') }}
{%- else -%}
  null
{%- endif -%}
{%- endmacro %}
