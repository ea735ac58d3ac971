{#
  on-run-start: tests selected without the models they read (`dbt test --select tag:critical`
  after a partial build) would each fail with a Catalog Error; instead the command stops with one
  line naming the models to build first. A model the same `dbt build` builds counts as present.
#}
{% macro require_tested_models() %}
{%- if execute and flags.WHICH in ('test', 'build') -%}
  {%- set missing = [] -%}
  {%- for uid in selected_resources if uid.startswith('test.') -%}
    {%- for parent_id in graph.nodes[uid].depends_on.nodes
          if parent_id not in selected_resources and parent_id in graph.nodes -%}
      {%- set parent = graph.nodes[parent_id] -%}
      {%- if parent.name not in missing and parent.config.materialized != 'ephemeral'
            and adapter.get_relation(parent.database, parent.schema, parent.alias) is none -%}
        {%- do missing.append(parent.name) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if missing -%}
    {{ exceptions.raise_compiler_error(
        "the selected tests read " ~ (missing | sort | join(', ')) ~ ", which " ~ target.path
        ~ " does not hold yet: build them first with `dbt build --select +" ~ (missing | sort | join(' +'))
        ~ "` (with the same --vars), then test again") }}
  {%- endif -%}
{%- endif -%}
{% endmacro %}
