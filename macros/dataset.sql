{#
  `dataset`: a published scenario dataset, written once as zstd Parquet split by scenario_id
  (the layout SPEC §4 publishes) and read back through a view of the same name.

  A table materialisation would write every row into the DuckDB file and publishing would
  write it again as Parquet; at `large` the two copies do not fit on the disk. Here the
  model's rows go straight to <FDE_DATASETS_DIR>/<model>/scenario_id=<sid>/part-<i>.parquet
  and publishing hard-links those files into data/. `overwrite` unlinks the previous files
  rather than truncating them, so a rebuild never changes what an earlier publish linked.
  An empty result still gets one (empty) file, so the view has a schema to read.
#}
{% macro dataset_location() -%}
{{ env_var('FDE_DATASETS_DIR', 'runs/dbt-default-datasets') }}/{{ this.identifier }}
{%- endmacro %}

{% macro dataset_copy_options() -%}
format parquet, compression zstd, row_group_size 1000000, partition_by (scenario_id),
filename_pattern 'part-{i}', overwrite true
{%- endmacro %}

{% macro dataset_files_query(location) -%}
select count(*) from glob('{{ location }}/*/*.parquet')
{%- endmacro %}

{#- DuckDB makes a folder only in a partitioned write: a placeholder row creates
    scenario_id=none/part-0.parquet, which the empty result then overwrites -#}
{% macro dataset_empty_file(location, rows) -%}
copy (select 'none' as scenario_id, 0 as placeholder) to '{{ location }}'
    (format parquet, partition_by (scenario_id), filename_pattern 'part-{i}', overwrite true);
copy (select * exclude (scenario_id) from {{ rows }} limit 0)
    to '{{ location }}/scenario_id=none/part-0.parquet' (format parquet)
{%- endmacro %}

{% materialization dataset, adapter="duckdb", supported_languages=["sql", "python"] %}
  {%- set location = dataset_location() -%}
  {%- set language = model["language"] -%}
  {%- set target_relation = this.incorporate(type="view") -%}
  {%- set existing_relation = load_cached_relation(this) -%}

  {{ run_hooks(pre_hooks) }}

  {% if language == "python" %}
    {% call statement("main", language="python") -%}
{{ compiled_code }}

def materialize(df, con):
    from python_kernels.dbt_io import Stage

    try:
        if isinstance(df, Stage):  # written chunk by chunk already: move, do not write again
            df.move_to("{{ location }}")
        else:
            con.register("dataset_rows", df)
            # fetchall: DuckDB keeps a connection busy until a statement's result is read
            con.execute("""copy (select * from dataset_rows) to '{{ location }}' ({{ dataset_copy_options() }})""").fetchall()
            if not con.execute("""{{ dataset_files_query(location) }}""").fetchall()[0][0]:
                con.execute("""{{ dataset_empty_file(location, "dataset_rows") }}""").fetchall()
            con.unregister("dataset_rows")
    finally:
        Stage.release("{{ this.identifier }}")
        # a model's own temp tables would otherwise keep their rows in DuckDB's memory and spill
        # folder until the garbage collector closes the cursor dbt-duckdb opened for the model
        for (name,) in con.execute("select table_name from duckdb_tables() where temporary").fetchall():
            con.execute(f'drop table "{name}"').fetchall()
    {%- endcall %}
  {% else %}
    {% call statement("main") -%}
      copy ({{ compiled_code }}) to '{{ location }}' ({{ dataset_copy_options() }})
    {%- endcall %}
    {% if run_query(dataset_files_query(location))[0][0] == 0 %}
      {% call statement("empty") -%}
        {{ dataset_empty_file(location, "(" ~ compiled_code ~ ")") }}
      {%- endcall %}
    {% endif %}
  {% endif %}

  {#- an earlier engine version may have left a table of this name -#}
  {% if existing_relation is not none and existing_relation.type != "view" %}
    {{ adapter.drop_relation(existing_relation) }}
  {% endif %}
  {% call statement("view") -%}
    create or replace view {{ target_relation }} as
    select * from read_parquet('{{ location }}/*/*.parquet', hive_partitioning = true,
                               hive_types = {'scenario_id': varchar})
  {%- endcall %}

  {{ run_hooks(post_hooks) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ return({"relations": [target_relation]}) }}
{% endmaterialization %}
